"""Optimizers and schedules: update rules (against hand calculation and PyTorch), state, and bad input."""

import math

import pytest

from jangrad import Value, optim
from jangrad.schedules import CosineSchedule, LinearSchedule, StepSchedule, make_schedule


def _quadratic_grads(params, centres):
    """Gradient of sum (p - c)^2 written straight into .grad."""
    for p, c in zip(params, centres, strict=True):
        p.grad = 2 * (p.data - c)


def test_plain_sgd_step_and_zero_grad():
    p = Value(1.0)
    opt = optim.SGD([p], lr=0.1)
    p.grad = 4.0
    opt.step()
    assert p.data == pytest.approx(0.6)
    opt.zero_grad()
    assert p.grad == 0.0
    opt.lr = 0.5  # a plain attribute a loop may set
    p.grad = 1.0
    opt.step()
    assert p.data == pytest.approx(0.1)


def test_sgd_uses_the_number_of_a_value_gradient():
    p = Value(1.0)
    p.grad = Value(2.0)  # what backward(create_graph=True) leaves behind
    optim.SGD([p], lr=0.5).step()
    assert p.data == 0.0


def _run_ours_and_torch(make_ours, make_torch, steps=5):
    torch = pytest.importorskip("torch")
    start = [0.5, -1.5, 2.0]
    centres = [1.0, 0.3, -0.7]
    ours = [Value(v) for v in start]
    opt = make_ours(ours)
    theirs = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    topt = make_torch([theirs])
    target = torch.tensor(centres, dtype=torch.float64)
    for _ in range(steps):
        _quadratic_grads(ours, centres)
        opt.step()
        topt.zero_grad()
        ((theirs - target) ** 2).sum().backward()
        topt.step()
    return [p.data for p in ours], theirs.detach().tolist()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1),
        dict(lr=0.1, momentum=0.9),
        dict(lr=0.1, momentum=0.9, nesterov=True),
        dict(lr=0.05, momentum=0.5, weight_decay=0.1),
    ],
)
def test_sgd_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = _run_ours_and_torch(lambda ps: optim.SGD(ps, **kwargs), lambda ps: torch.optim.SGD(ps, **kwargs))
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("Adam", dict(lr=0.1)),
        ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
        ("AdamW", dict(lr=0.1)),
        ("AdamW", dict(lr=0.05, weight_decay=0.3)),
    ],
)
def test_adam_and_adamw_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = _run_ours_and_torch(
        lambda ps: getattr(optim, name)(ps, **kwargs), lambda ps: getattr(torch.optim, name)(ps, **kwargs)
    )
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-14)


def test_state_dict_round_trip_continues_identically():
    def run(opt_params, opt, steps):
        for _ in range(steps):
            _quadratic_grads(opt_params, [1.0, -1.0])
            opt.step()

    a = [Value(0.0), Value(0.0)]
    opt_a = optim.Adam(a, lr=0.1)
    run(a, opt_a, 3)
    state = opt_a.state_dict()
    assert state["type"] == "Adam" and state["steps"] == 3 and len(state["buffers"]["m"]) == 2
    b = [Value(p.data) for p in a]
    opt_b = optim.Adam(b, lr=0.1)
    opt_b.load_state_dict(state)
    run(a, opt_a, 2)
    run(b, opt_b, 2)
    assert [p.data for p in a] == [p.data for p in b]
    with pytest.raises(ValueError, match="not a SGD state"):
        optim.SGD(b, lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match="buffer"):
        optim.Adam([Value(0.0)], lr=0.1).load_state_dict(state)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: optim.SGD([], lr=0.1), ValueError),
        (lambda: optim.SGD([1.0], lr=0.1), TypeError),
        (lambda: optim.SGD(Value(1.0), lr=0.1), TypeError),
        (lambda: optim.SGD([Value(1.0)], lr=-0.1), ValueError),
        (lambda: optim.SGD([Value(1.0)], lr=math.nan), ValueError),
        (lambda: optim.SGD([Value(1.0)], lr="0.1"), TypeError),
        (lambda: optim.SGD([Value(1.0)], lr=0.1, momentum=1.5), ValueError),
        (lambda: optim.SGD([Value(1.0)], lr=0.1, nesterov=True), ValueError),
        (lambda: optim.SGD([Value(1.0)], lr=0.1, weight_decay=-1), ValueError),
        (lambda: optim.Adam([Value(1.0)], betas=(0.9,)), TypeError),
        (lambda: optim.Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError),
        (lambda: optim.AdamW([Value(1.0)], eps=-1.0), ValueError),
        (lambda: optim.make_optimizer("rmsprop", [Value(1.0)], 0.1), ValueError),
    ],
)
def test_bad_optimizer_arguments(call, error):
    with pytest.raises(error):
        call()


def test_duplicate_parameters_and_passing_a_model_are_refused():
    p = Value(1.0)
    with pytest.raises(ValueError, match="twice"):
        optim.SGD([p, p], lr=0.1)
    from jangrad import nn

    with pytest.raises(TypeError, match="model.parameters()"):
        optim.SGD(nn.MLP(1, [1], seed=0), lr=0.1)


def test_lr_set_to_garbage_is_caught_at_step():
    opt = optim.SGD([Value(1.0)], lr=0.1)
    opt.lr = "fast"
    with pytest.raises(TypeError, match="lr"):
        opt.step()


# ---- schedules -------------------------------------------------------------------------------------------------------
def test_linear_schedule_is_micrograds():
    schedule = LinearSchedule(1.0, 0.1, 100)
    assert [schedule(k) for k in range(100)] == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)])
    assert schedule(100) == pytest.approx(0.1) and schedule(500) == pytest.approx(0.1)


def test_step_and_cosine_schedules():
    step = StepSchedule(1.0, 10, gamma=0.5)
    assert [step(k) for k in (0, 9, 10, 25)] == [1.0, 1.0, 0.5, 0.25]
    cosine = CosineSchedule(1.0, 10, min_lr=0.1)
    assert cosine(0) == 1.0 and cosine(10) == pytest.approx(0.1) and cosine(5) == pytest.approx(0.55)
    assert all(cosine(k) >= cosine(k + 1) for k in range(12))


def test_make_schedule_by_name():
    assert make_schedule("linear", 1.0, 100)(99) == pytest.approx(0.109)
    assert make_schedule("constant", 0.3, 10)(7) == 0.3
    assert make_schedule("step", 1.0, 30)(10) == pytest.approx(0.1)
    assert make_schedule("cosine", 1.0, 10)(10) == pytest.approx(0.0)
    assert optim.make_schedule is make_schedule
    with pytest.raises(ValueError, match="unknown schedule 'exp'"):
        make_schedule("exp", 1.0, 10)
    with pytest.raises(ValueError):
        LinearSchedule(1.0, 0.1, 0)
    with pytest.raises(TypeError):
        StepSchedule(1.0, 2.5)
    with pytest.raises(ValueError):
        CosineSchedule(-1.0, 10)
    with pytest.raises(ValueError, match="step number"):
        LinearSchedule(1.0, 0.1, 10)(-1)
