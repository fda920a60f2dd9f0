"""fit and History: same numbers as a hand-written loop, micrograd's moons demo, batches, schedules, divergence."""

import csv
import json
import math

import pytest

import jangrad
from jangrad import History, TrainingDiverged, data, losses, nn, optim
from jangrad.schedules import LinearSchedule


def test_fit_equals_the_hand_written_loop():
    X, y = data.seed4()
    by_hand = nn.MLP(3, [4, 4, 1], seed=1)
    opt = optim.SGD(by_hand.parameters(), lr=0.05)
    hand_losses = []
    for _ in range(20):
        loss = losses.sse([by_hand(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        hand_losses.append(loss.data)
    model = nn.MLP(3, [4, 4, 1], seed=1)
    history = jangrad.fit(
        model, X, y, loss="sse", optimizer=optim.SGD(model.parameters(), lr=0.05), steps=20, progress=False
    )
    assert history.loss == pytest.approx(hand_losses, rel=1e-12)
    assert model.state_dict() == pytest.approx(by_hand.state_dict(), rel=1e-12)
    assert history.step == list(range(20)) and history.lr == [0.05] * 20
    assert len(history.accuracy) == 20 and 0.0 <= history.accuracy[-1] <= 1.0


def test_micrograds_moons_demo_reaches_full_training_accuracy():
    X, y = data.moons(100, noise=0.1, signed=True)
    model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=0)
    history = jangrad.fit(
        model,
        X,
        y,
        loss="hinge",
        l2=1e-4,
        optimizer=optim.SGD(model.parameters(), lr=1.0),
        steps=100,
        schedule=LinearSchedule(1.0, 0.1, 100),
        progress=False,
    )
    assert history.lr[0] == 1.0 and history.lr[-1] == pytest.approx(0.109)
    assert history.loss[-1] < history.loss[0]
    with jangrad.no_grad():
        right = sum((model(x).data > 0) == (t > 0) for x, t in zip(X, y, strict=True))
    assert right == 100


def test_mini_batches_are_shuffled_by_the_seed_and_epochs_count_batches():
    X, y = data.xor(signed=True)

    def run(seed):
        model = nn.MLP(2, [2, 1], seed=0)
        history = jangrad.fit(
            model, X, y, loss="mse", optimizer="sgd", lr=0.1, epochs=3, batch_size=3, seed=seed, progress=False
        )
        return history.loss, model.state_dict()

    losses_4, weights_4 = run(4)
    assert len(losses_4) == 3 * 2  # ceil(4 / 3) = 2 batches per epoch
    assert run(4) == (losses_4, weights_4)
    assert any(run(s)[1] != weights_4 for s in (5, 6, 7))


def test_every_step_records_loss_lr_and_accuracy():
    X, y = data.xor(signed=True)
    history = jangrad.fit(nn.MLP(2, [2, 1], seed=0), X, y, loss="mse", optimizer="adam", steps=4, progress=False)
    assert len(history.loss) == len(history.lr) == len(history.accuracy) == len(history) == 4
    assert "4 steps" in repr(history)


def test_schedule_by_name_sets_the_optimizer_lr_each_step():
    X, y = data.seed4()
    model = nn.MLP(3, [2, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.2)
    history = jangrad.fit(model, X, y, optimizer=opt, steps=10, schedule="linear", progress=False)
    assert history.lr == pytest.approx([0.2 - 0.18 * k / 10 for k in range(10)])
    assert opt.lr == history.lr[-1]
    history = jangrad.fit(model, X, y, optimizer=opt, steps=3, schedule=lambda k: 0.01 * (k + 1), progress=False)
    assert history.lr == pytest.approx([0.01, 0.02, 0.03])


def _first_step_accuracy(model, X, y, **kwargs):
    """The accuracy fit records for step 0 (measured before the first update)."""
    return jangrad.fit(model, X, y, steps=1, progress=False, **kwargs).accuracy[0]


def test_accuracy_rules_for_signs_logits_and_classes():
    X, y = data.moons(20, seed=1, signed=True)
    model = nn.MLP(2, [3, 1], output_activation="linear", seed=0)
    expected = sum((model(x).data > 0) == (t > 0) for x, t in zip(X, y, strict=True)) / len(y)
    assert _first_step_accuracy(model, X, y, loss="hinge") == expected

    X, y = data.moons(20, seed=1)  # labels 0/1 with logits: the threshold is 0
    model = nn.MLP(2, [3, 1], output_activation="linear", seed=2)
    expected = sum((model(x).data > 0) == (t == 1) for x, t in zip(X, y, strict=True)) / len(y)
    assert _first_step_accuracy(model, X, y, loss="bce") == expected

    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=3)  # 0/1 with probabilities: threshold 0.5
    expected = sum((model(x).data > 0.5) == (t == 1) for x, t in zip(X, y, strict=True)) / len(y)
    assert _first_step_accuracy(model, X, y, loss="mse") == expected

    X, y = data.blobs(15, centers=3, seed=0)
    model = nn.MLP(2, [4, 3], output_activation="linear", seed=0)
    scores = [[v.data for v in model(x)] for x in X]
    expected = sum(s.index(max(s)) == t for s, t in zip(scores, y, strict=True)) / len(y)
    assert 0 < _first_step_accuracy(model, X, y, loss="ce") == expected < 1

    regression = jangrad.fit(nn.MLP(1, [1], seed=0), [[0.5], [1.5]], [0.25, 2.25], steps=2, progress=False)
    assert regression.accuracy == []  # accuracy has no meaning for real-valued targets


def test_custom_loss_function_and_metrics_choice():
    X, y = data.seed4()
    model = nn.MLP(3, [2, 1], seed=0)
    history = jangrad.fit(
        model, X, y, loss=lambda p, t: losses.mse(p, t) * 2.0, steps=2, metrics=("loss",), progress=False
    )
    assert history.accuracy == [] and len(history.loss) == 2


def test_divergence_stops_with_step_loss_and_learning_rate():
    X, y = data.seed4()
    model = nn.MLP(3, [4, 1], output_activation="linear", seed=0)
    with pytest.raises(TrainingDiverged) as info:
        jangrad.fit(
            model,
            X,
            y,
            loss="sse",
            optimizer=optim.SGD(model.parameters(), lr=10.0),
            steps=200,
            progress=False,
            max_loss_growth=None,
        )
    error = info.value
    message = str(error)
    assert f"step {error.step}" in message and "learning rate 10.0" in message
    assert "too high" in message and repr(error.loss) in message
    assert not math.isfinite(error.loss) and error.lr == 10.0 and error.start_loss is None
    assert len(error.history) == error.step and 0 < error.step < 200


def _old_seed4_defaults():
    """jangrad train's defaults on seed4 when the issue was filed: relu 16,16, linear output, sse, SGD at 0.1."""
    X, y = data.seed4()
    model = nn.MLP(3, [16, 16, 1], activation="relu", output_activation="linear", seed=0)
    return dict(model=model, X=X, y=y, loss="sse", optimizer="sgd", lr=0.1, steps=100, progress=False)


def test_a_finite_blow_up_stops_the_run():
    """The loss went from 1.18 to 4.9e21 in five steps, then settled at 4 (the relus died) and the run reported
    success: it must stop as a divergence, with the same message."""
    with pytest.raises(TrainingDiverged) as info:
        jangrad.fit(**_old_seed4_defaults())
    error = info.value
    assert math.isfinite(error.loss) and error.loss > 1000 * error.history.loss[0]
    assert error.start_loss == error.history.loss[0] and error.step == len(error.history) == 1
    message = str(error)
    assert f"times the starting loss {error.history.loss[0]:.6g}; the limit is 1000 times" in message
    assert "learning rate 0.1" in message and "try a smaller one (such as 0.01)" in message
    # without the growth check the run goes on to the finite loss of the issue
    history = jangrad.fit(**_old_seed4_defaults(), max_loss_growth=None)
    assert history.loss[-1] == 4.0 and max(history.loss) > 1e21


def test_the_growth_check_waits_for_the_first_batches_and_compares_with_their_largest_loss():
    """With batches of one sample the first batch's loss may be 0 and the next one's thousands: no blow-up."""
    model = nn.MLP(1, [1], output_activation="linear", seed=0)
    X, y = [[0.0]] * 4, [model([0.0]).data, 60.0, -50.0, 80.0]
    history = jangrad.fit(
        model, X, y, loss="sse", optimizer="sgd", lr=1e-6, steps=12, batch_size=1, seed=5, progress=False
    )
    assert history.loss[0] == 0.0 and max(history.loss) > 3000
    assert len(history) == 12


@pytest.mark.parametrize("growth", [1.0, 0, -5, float("inf"), "10", True])
def test_max_loss_growth_is_checked(growth):
    X, y = data.seed4()
    with pytest.raises(ValueError, match="max_loss_growth must be a finite number above 1, or None"):
        jangrad.fit(nn.MLP(3, [1], seed=0), X, y, steps=1, progress=False, max_loss_growth=growth)


def test_history_files(tmp_path):
    X, y = data.seed4()
    history = jangrad.fit(nn.MLP(3, [2, 1], seed=0), X, y, steps=3, progress=False)
    history.to_csv(str(tmp_path / "h.csv"))
    rows = list(csv.reader((tmp_path / "h.csv").read_text().splitlines()))
    assert rows[0] == ["step", "loss", "lr", "accuracy"]
    assert [float(v) for v in rows[2][:3]] == [1.0, history.loss[1], history.lr[1]]
    history.to_json(str(tmp_path / "h.json"))
    document = json.loads((tmp_path / "h.json").read_text())
    assert document["loss"] == history.loss and document["step"] == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.csv", "h.json"]


def test_progress_bar_only_on_a_terminal(capsys, monkeypatch):
    X, y = data.seed4()
    jangrad.fit(nn.MLP(3, [2, 1], seed=0), X, y, steps=2, progress=True)
    assert capsys.readouterr().err == ""  # pytest's captured stderr is not a terminal
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    jangrad.fit(nn.MLP(3, [2, 1], seed=0), X, y, steps=2, progress=True)
    shown = capsys.readouterr().err
    assert "training" in shown and "loss=" in shown and "2/2" in shown
    jangrad.fit(nn.MLP(3, [2, 1], seed=0), X, y, steps=2, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(), ValueError, "steps= .* or epochs="),
        (dict(steps=2, epochs=2), ValueError, "exactly one"),
        (dict(steps=0), ValueError, "steps must be at least 1"),
        (dict(steps=2.5), TypeError, "steps"),
        (dict(steps=2, batch_size=0), ValueError, "batch_size"),
        (dict(steps=2, loss="l1"), ValueError, "unknown loss"),
        (dict(steps=2, optimizer="rmsprop"), ValueError, "unknown optimizer"),
        (dict(steps=2, optimizer=3), TypeError, "optimizer"),
        (dict(steps=2, schedule="exp"), ValueError, "unknown schedule"),
        (dict(steps=2, schedule=3), TypeError, "schedule"),
        (dict(steps=2, metrics=("f1",)), ValueError, "metrics"),
        (dict(steps=2, seed="x"), TypeError, "seed"),
        (dict(steps=2, l2=-1), ValueError, "l2"),
        (dict(steps=2, progress="yes"), TypeError, "progress"),
        (dict(steps=2, loss=lambda p, t: 1.0), TypeError, "must return a Value"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    X, y = data.seed4()
    with pytest.raises(error, match=message):
        jangrad.fit(nn.MLP(3, [2, 1], seed=0), X, y, **kwargs)


def test_bad_data_and_model():
    X, y = data.seed4()
    model = nn.MLP(3, [2, 1], seed=0)
    with pytest.raises(ValueError, match="X has 4 samples but y has 3"):
        jangrad.fit(model, X, y[:3], steps=1)
    with pytest.raises(ValueError, match="X\\[1\\] has 2 numbers, expected 3"):
        jangrad.fit(model, [X[0], [1.0, 2.0]], y[:2], steps=1)
    with pytest.raises(TypeError, match="X\\[0\\]\\[1\\]"):
        jangrad.fit(model, [[1.0, "2", 3.0]], [1.0], steps=1)
    with pytest.raises(ValueError, match="empty"):
        jangrad.fit(model, [], [], steps=1)
    with pytest.raises(TypeError, match="model"):
        jangrad.fit("model", X, y, steps=1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="lr either"):
        jangrad.fit(model, X, y, optimizer=opt, lr=0.2, steps=1)


def test_history_starts_empty():
    assert len(History()) == 0 and repr(History()) == "History(no steps)"


@pytest.mark.parametrize("far", [1000.0, -1000.0])
def test_compiled_cross_entropy_matches_eager_with_logits_far_from_zero(far):
    """The compiled loss shifts each sample's logits by its largest one; logits of +-1000 at the first step (no
    previous step to take the shift from), with samples far apart, must not overflow where the eager loss does not."""
    X, y = [[0.5, -1.0], [-2.0, 0.3], [1.0, 1.0]], [0, 2, 1]
    histories = []
    for compiled in (False, True):
        model = nn.MLP(2, [3], output_activation="linear", seed=0)
        first_class = model.layers[0].neurons[0]
        first_class.b.data = far
        first_class.w[0].data = far  # so that the samples' largest logits differ by thousands
        histories.append(jangrad.fit(model, X, y, loss="ce", steps=3, lr=1e-4, progress=False, compiled=compiled))
    eager, compiled = histories
    assert all(math.isfinite(v) for v in eager.loss)
    assert compiled.loss == pytest.approx(eager.loss, rel=1e-9)


@pytest.mark.parametrize(
    "loss, y, error",
    [
        ("ce", [0.5, 1, 2], TypeError),
        ("ce", [0, 3, 1], ValueError),
        ("bce", [None, 1, 0], TypeError),
        ("bce", [0, 2, 1], ValueError),
        ("hinge", [1, 0, -1], ValueError),
    ],
)
def test_compiled_losses_refuse_bad_targets_as_the_eager_ones_do(loss, y, error):
    X = [[0.5, -1.0], [-2.0, 0.3], [1.0, 1.0]]
    width = 3 if loss == "ce" else 1
    messages = []
    for compiled in (False, True):
        with pytest.raises(error) as info:
            jangrad.fit(
                nn.MLP(2, [width], seed=0),
                X,
                y,
                loss=loss,
                steps=1,
                metrics=("loss",),
                progress=False,
                compiled=compiled,
            )
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_on_step_sees_every_step_after_its_update_and_can_end_the_run():
    X, y = data.seed4()
    model = nn.MLP(3, [4, 1], seed=0)
    seen = []

    def on_step(step, history):
        seen.append((step, len(history), model.parameters()[0].data))
        if step == 4:
            raise KeyboardInterrupt

    first_weight = model.parameters()[0].data
    with pytest.raises(KeyboardInterrupt):
        jangrad.fit(model, X, y, steps=50, lr=0.05, progress=False, on_step=on_step)
    assert [(step, length) for step, length, _ in seen] == [(i, i + 1) for i in range(5)]
    assert seen[0][2] != first_weight  # called after the optimizer moved the weights
    with pytest.raises(TypeError, match="on_step must be a function"):
        jangrad.fit(model, X, y, steps=1, progress=False, on_step="print")
