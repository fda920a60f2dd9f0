"""The training commands: ``jangrad demo``, ``jangrad train`` and ``jangrad sweep``.

``demo`` is the lecture in one run: a neuron's expression drawn with its gradients, then ``MLP(3, [4, 4, 1])``
trained on the 4-sample set, its loss curve, its saved weights and its predictions next to the targets.
``train`` and ``sweep`` train an MLP on a named data set or a CSV file; labels are converted to what the loss
needs (-1/+1 for hinge and squared errors, 0/1 for bce, class indices for ce).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .. import data
from .main import DATASETS, UsageError
from ..engine import Value
from ..nn import MLP
from ..train import History, TrainingDiverged, accuracy_of, fit

__all__ = ["run", "load_dataset", "prepare_labels"]


def _out_dir(text: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {text!r} is a file, not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


# The generated sets' sizes and noise when the command line does not say (small, so scalar training stays quick).
GENERATED = {"moons": (100, 0.1), "circles": (100, 0.05), "spiral": (40, 0.2)}


def load_dataset(name: str, target: str | None, seed: int, samples: int | None = None,
                 noise: float | None = None) -> tuple[list[list[float]], list]:
    """A named data set or a CSV file's numbers. ``samples`` and ``noise`` apply to the generated sets only
    (``GENERATED``: moons, circles, spiral; spiral counts samples per class)."""
    if name in GENERATED:
        default_samples, default_noise = GENERATED[name]
        make = {"moons": data.moons, "circles": data.circles, "spiral": data.spiral}[name]
        return make(n=samples or default_samples, noise=default_noise if noise is None else noise, seed=seed)
    if samples is not None or noise is not None:
        raise UsageError(f"--samples and --noise apply to {', '.join(GENERATED)}, not to --data {name}")
    if name == "seed4":
        return data.seed4()
    if name == "xor":
        return data.xor()
    if name == "digits":
        X, y = data.digits(n=200, seed=seed)
        return data.standardize(X), y  # pixel counts 0..16 would saturate tanh and slow SGD
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"--data {name!r} is neither a data set ({', '.join(DATASETS)}) nor an existing CSV file")
    column: int | str = -1
    if target is not None:
        column = int(target) if target.lstrip("-").isdigit() else target
    X, y = data.load_csv(str(path), target=column)
    return data.standardize(X), y


# The lecture trains its 4 samples with the sum of squared errors; elsewhere the default follows the labels.
_DEFAULT_LOSS = {"seed4": "sse"}


def prepare_labels(y: list, loss: str | None) -> tuple[list, str, int]:
    """Choose the loss (if not given) and the number of outputs, and recode the labels for that loss."""
    is_class = all(float(t).is_integer() for t in y)
    classes = sorted(set(float(t) for t in y)) if is_class else []
    if not is_class or len(classes) > 20:  # a regression target
        loss = loss or "mse"
        if loss not in ("mse", "sse"):
            raise UsageError(f"--loss {loss}: the targets are not class labels; use --loss mse or sse")
        return [float(t) for t in y], loss, 1
    if len(classes) < 2:
        raise UsageError("the targets hold a single class: there is nothing to separate")
    index = {c: k for k, c in enumerate(classes)}
    if len(classes) > 2:
        loss = loss or "ce"
        if loss != "ce":
            raise UsageError(f"--loss {loss}: the data has {len(classes)} classes; use --loss ce")
        return [index[float(t)] for t in y], loss, len(classes)
    loss = loss or "hinge"
    if loss == "ce":
        return [index[float(t)] for t in y], loss, 2
    if loss == "bce":
        return [float(index[float(t)]) for t in y], loss, 1
    return [2.0 * index[float(t)] - 1.0 for t in y], loss, 1  # -1/+1 for hinge, sse and mse


def _model(args: argparse.Namespace, nin: int, nout: int) -> MLP:
    return MLP(nin, list(args.hidden) + [nout], activation=args.activation,
               output_activation=args.output_activation, seed=args.seed)


def _fit(model: MLP, X: list, y: list, loss: str, args: argparse.Namespace, lr: float, steps: int) -> History:
    return fit(model, X, y, loss=loss, optimizer=args.optimizer, lr=lr, steps=steps, batch_size=args.batch_size,
               schedule=None if args.schedule == "none" else args.schedule, seed=args.seed,
               progress=not args.no_progress)


def _summary(history: History) -> str:
    accuracy = f", accuracy {history.accuracy[-1]:.1%}" if history.accuracy else ""
    return f"final loss {history.loss[-1]:.6g}{accuracy} after {len(history)} steps ({history.seconds:.1f} s)"


def _train(args: argparse.Namespace) -> int:
    from ..viz import plots

    out = _out_dir(args.out)
    X, raw_y = load_dataset(args.data, args.target, args.seed, args.samples, args.noise)
    y, loss, nout = prepare_labels(raw_y, args.loss or _DEFAULT_LOSS.get(args.data))
    X_test, y_test = [], []
    if args.test_split is not None:
        if not 1 <= round(len(X) * args.test_split) < len(X):
            raise UsageError(f"--test-split {args.test_split:g} of {len(X)} samples leaves no test or no "
                             f"training samples")
        X, X_test, y, y_test = data.train_test_split(X, y, test_size=args.test_split, seed=args.seed)
    model = _model(args, len(X[0]), nout)
    held_out = f", {len(X_test)} held out for testing" if X_test else ""
    print(f"training {model.nin} -> {model.nouts} ({model.num_parameters()} parameters) on {args.data} "
          f"({len(X)} samples{held_out}), loss {loss}, {args.optimizer} lr {args.lr:g}")
    history = _fit(model, X, y, loss, args, args.lr, args.steps)
    model.save(str(out / "model.json"))
    history.to_csv(str(out / "history.csv"))
    plots.loss_curves(history, path=out / "loss.png", title=f"{args.data}: {loss} loss")
    written = ["model.json", "history.csv", "loss.png"]
    if len(X[0]) == 2:
        # plots' own default (0 for -1/+1 labels, 0.5 for 0..1 targets) fits every loss but bce, whose output is
        # a logit: its boundary is at 0 although its labels are 0/1.
        threshold = 0.0 if loss == "bce" else None
        plots.decision_boundary(model, X, y, path=out / "boundary.png", resolution=30, threshold=threshold,
                                title=f"{args.data}: decision boundary")
        written.append("boundary.png")
    print(_summary(history))
    if X_test:
        print(_test_summary(model, X_test, y_test, loss))
    print(f"wrote {', '.join(written)} in {out}")
    return 0


def _test_summary(model: MLP, X_test: list, y_test: list, loss: str) -> str:
    """The trained model's loss (and accuracy, for class labels) on the held-out samples, as fit measures them."""
    from .. import losses
    from ..engine import no_grad
    with no_grad():
        predictions = [model(x) for x in X_test]
        test_loss = losses.get(loss)(predictions, y_test).data
    text = f"test loss {test_loss:.6g} on {len(X_test)} held-out samples"
    accuracy = accuracy_of(predictions, y_test, loss)
    if accuracy is not None:
        text += f", test accuracy {accuracy:.1%}"
    return text


def _sweep(args: argparse.Namespace) -> int:
    from ..viz import plots

    if len(args.steps) not in (1, len(args.lr)):
        raise UsageError(f"--steps takes one number or one per learning rate ({len(args.lr)}), got {len(args.steps)}")
    steps = args.steps * len(args.lr) if len(args.steps) == 1 else args.steps
    out = _out_dir(args.out)
    X, raw_y = load_dataset(args.data, args.target, args.seed, args.samples, args.noise)
    y, loss, nout = prepare_labels(raw_y, args.loss or _DEFAULT_LOSS.get(args.data))
    runs: dict[str, list[float]] = {}
    for lr, n in zip(args.lr, steps):
        model = _model(args, len(X[0]), nout)  # the same seed: every run starts from the same weights
        try:
            history = _fit(model, X, y, loss, args, lr, n)
            note = _summary(history)
        except TrainingDiverged as diverged:
            history = diverged.history
            note = f"diverged at step {diverged.step}"
        name = f"lr {lr:g}, {n} steps"
        runs[name] = history.loss
        history.to_csv(str(out / f"history_lr{lr:g}.csv"))
        print(f"{name}: {note}")
    plots.loss_curves(runs, path=out / "sweep.png", title=f"{args.data}: learning rates compared")
    plots.loss_curves(runs, scale="log", path=out / "sweep_log.png", title=f"{args.data}: learning rates (log)")
    print(f"wrote sweep.png, sweep_log.png and {len(runs)} history CSV files in {out}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .expressions import save_drawing
    from ..viz import draw, plots

    started = time.perf_counter()
    out = _out_dir(args.out)
    print("1. One neuron, as in the lecture: o = tanh(x1*w1 + x2*w2 + b)")
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    print(f"   o = {o.data:.4f}; gradients: " + ", ".join(f"{v.label} {v.grad:.4f}" for v in (x1, w1, x2, w2, b)))
    written, hint = save_drawing(draw(o), out / "graph.svg")
    print(f"   drew the graph with its gradients: {written}")
    if hint:
        print(f"   note: {hint}")

    print("2. MLP(3, [4, 4, 1]) trained on the 4-sample set (sum of squared errors, SGD lr 0.05)")
    X, y = data.seed4()
    model = MLP(3, [4, 4, 1], seed=1)
    history = fit(model, X, y, loss="sse", optimizer="sgd", lr=0.05, steps=1000, seed=0,
                  progress=not args.no_progress)
    print(f"   loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f} in {len(history)} steps")
    plots.loss_curves(history, path=out / "loss.png", title="MLP(3, [4, 4, 1]) on the 4-sample set")
    model.save(str(out / "model.json"))
    print(f"   wrote {out / 'loss.png'} and {out / 'model.json'}")
    print("3. Predictions next to the targets:")
    print("   target  prediction")
    for target, x in zip(y, X):
        print(f"   {target:6.1f}  {model(x).data:10.4f}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


def run(args: argparse.Namespace) -> int:
    return {"demo": _demo, "train": _train, "sweep": _sweep}[args.command](args)
