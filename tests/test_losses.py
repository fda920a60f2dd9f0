"""Loss functions: their values against direct formulas, their gradients, stability at +-1000, and bad input."""

import math

import pytest

import jangrad
from jangrad import Value, losses


def test_sse_and_mse_values():
    preds = [Value(0.5), Value(-0.2), Value(1.5)]
    targets = [1.0, -1.0, 1.0]
    expected = 0.5**2 + 0.8**2 + 0.5**2
    assert losses.sse(preds, targets).data == pytest.approx(expected, rel=1e-15)
    assert losses.mse(preds, targets).data == pytest.approx(expected / 3, rel=1e-15)


def test_sse_with_several_outputs_per_sample():
    preds = [[Value(1.0), Value(2.0)], [Value(0.0), Value(-1.0)]]
    targets = [[0.0, 2.0], [1.0, 1.0]]
    assert losses.sse(preds, targets).data == 1 + 0 + 1 + 4
    assert losses.mse(preds, targets).data == pytest.approx(6 / 4)


def test_hinge_value_and_gradient():
    scores = [Value(2.0), Value(0.5), Value(-0.3)]
    labels = [1, 1, 1]
    loss = losses.hinge(scores, labels)
    assert loss.data == pytest.approx((0 + 0.5 + 1.3) / 3)
    loss.backward()
    assert [s.grad for s in scores] == pytest.approx([0.0, -1 / 3, -1 / 3])
    assert losses.hinge([Value(-2.0)], [-1]).data == 0.0


def test_l2_is_the_sum_of_squares_and_accepts_a_model():
    params = [Value(1.0), Value(-2.0), Value(0.5)]
    loss = losses.l2(params)
    assert loss.data == 1 + 4 + 0.25
    loss.backward()
    assert [p.grad for p in params] == [2.0, -4.0, 1.0]
    model = jangrad.nn.MLP(2, [2], seed=0)
    assert losses.l2(model).data == pytest.approx(sum(p.data**2 for p in model.parameters()))


def _bce_reference(z, t):
    s = 1 / (1 + math.exp(-z))
    return -(t * math.log(s) + (1 - t) * math.log(1 - s))


@pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 0.7, 4.0])
@pytest.mark.parametrize("t", [0.0, 1.0, 0.3])
def test_bce_with_logits_value_and_gradient(z, t):
    logit = Value(z)
    loss = losses.bce_with_logits([logit], [t])
    assert loss.data == pytest.approx(_bce_reference(z, t), rel=1e-12)
    loss.backward()
    assert logit.grad == pytest.approx(1 / (1 + math.exp(-z)) - t, rel=1e-12, abs=1e-15)


def test_bce_with_logits_is_stable_at_extremes():
    for z, t, expected, slope in [
        (1000.0, 1.0, 0.0, 0.0),
        (1000.0, 0.0, 1000.0, 1.0),
        (-1000.0, 0.0, 0.0, 0.0),
        (-1000.0, 1.0, 1000.0, -1.0),
    ]:
        logit = Value(z)
        loss = losses.bce_with_logits([logit], [t])
        loss.backward()
        assert loss.data == pytest.approx(expected) and math.isfinite(loss.data)
        assert logit.grad == pytest.approx(slope)


def test_cross_entropy_value_and_gradient():
    logits = [Value(1.0), Value(2.0), Value(0.5)]
    loss = losses.cross_entropy([logits], [1])
    denominator = sum(math.exp(v) for v in (1.0, 2.0, 0.5))
    assert loss.data == pytest.approx(math.log(denominator) - 2.0, rel=1e-12)
    loss.backward()
    softmax = [math.exp(v) / denominator for v in (1.0, 2.0, 0.5)]
    assert [z.grad for z in logits] == pytest.approx([softmax[0], softmax[1] - 1, softmax[2]], rel=1e-12)


def test_cross_entropy_is_stable_at_extremes():
    logits = [Value(1000.0), Value(-1000.0), Value(0.0)]
    loss = losses.cross_entropy([logits], [1])
    loss.backward()
    assert loss.data == pytest.approx(2000.0)
    assert [z.grad for z in logits] == pytest.approx([1.0, -1.0, 0.0])
    easy = losses.cross_entropy([[Value(1000.0), Value(-1000.0)]], [0])
    assert easy.data == 0.0


def test_losses_gradients_pass_gradcheck():
    def every_loss(a, b, c):
        return (
            losses.mse([a, b], [0.3, -0.2])
            + losses.hinge([a, c], [1, -1])
            + losses.bce_with_logits([b], [1.0])
            + losses.cross_entropy([[a, b, c]], [2])
            + losses.l2([c])
        )

    assert jangrad.gradcheck(every_loss, 0.4, -0.7, 1.3, order=2)


def test_get_maps_names_and_passes_functions_through():
    assert losses.get("sse") is losses.sse and losses.get("mse") is losses.mse
    assert losses.get("hinge") is losses.hinge and losses.get("bce") is losses.bce_with_logits
    assert losses.get("ce") is losses.cross_entropy and losses.get("cross_entropy") is losses.cross_entropy
    mine = lambda p, t: p[0]  # noqa: E731
    assert losses.get(mine) is mine
    with pytest.raises(ValueError, match="unknown loss 'l1'.*sse"):
        losses.get("l1")
    with pytest.raises(ValueError):
        losses.get(3)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: losses.sse([Value(1.0)], [1.0, 2.0]), ValueError, "1 prediction.*2 target"),
        (lambda: losses.sse([], []), ValueError, "empty"),
        (lambda: losses.sse(Value(1.0), [1.0]), TypeError, "list"),
        (lambda: losses.sse(["a"], [1.0]), TypeError, "prediction 0"),
        (lambda: losses.sse([Value(1.0)], ["1"]), TypeError, "target 0"),
        (lambda: losses.sse([[Value(1.0), Value(2.0)]], [1.0]), ValueError, "2 outputs"),
        (lambda: losses.hinge([Value(1.0)], [0]), ValueError, "-1 or \\+1"),
        (lambda: losses.bce_with_logits([Value(1.0)], [2.0]), ValueError, r"\[0, 1\]"),
        (lambda: losses.cross_entropy([[Value(1.0), Value(2.0)]], [2]), ValueError, "outside 0..1"),
        (lambda: losses.cross_entropy([[Value(1.0), Value(2.0)]], [0.5]), TypeError, "class index"),
        (lambda: losses.cross_entropy([Value(1.0)], [0]), TypeError, "list of at least 2"),
        (lambda: losses.l2([1.0]), TypeError, "parameter 0"),
        (lambda: losses.l2([]), ValueError, "no parameters"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
