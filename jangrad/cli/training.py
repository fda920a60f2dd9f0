"""The training commands: ``jangrad demo``, ``jangrad train`` and ``jangrad sweep``.

``demo`` is the lecture in one run: a neuron's expression drawn with its gradients, then ``MLP(3, [4, 4, 1])``
trained on the 4-sample set, its loss curve, its saved weights and its predictions next to the targets.
``train`` and ``sweep`` train an MLP on a named data set or a CSV file; labels are converted to what the loss
needs (-1/+1 for hinge and squared errors, 0/1 for bce, class indices for ce).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

from .. import data
from ..engine import Value
from ..nn import MLP
from ..recipe import Problem, Recipe, build
from ..train import History, TrainingDiverged, TrainingInterrupted, accuracy_of, fit
from .errors import UsageError
from .flag_errors import check_applicable, reworded
from .outputs import check_folder, made_folder

__all__ = ["run", "recipe_from_arguments"]


@contextlib.contextmanager
def _output_folder(text: str) -> Iterator[Path]:
    """The --out folder, made (with its parents) for the command; removed again if the command fails having
    written nothing in it."""
    with made_folder(check_folder(text)) as folder:
        yield folder


# What a laptop can do with a scalar engine, and why: each weight and each input number is a Python object, and
# every step builds (or replays) a graph of a few nodes per weight per sample in the batch.
MAX_SAMPLES = 100_000
MAX_STEPS = 10_000_000
MAX_PARAMETERS = 1_000_000
MAX_NODES_PER_STEP = 50_000_000  # about 7 GB of graph at ~140 bytes a node
SLOW_NODES = 20_000_000_000  # steps x nodes per step past which a run takes hours: warned about


def _check_size(recipe: Recipe, nin: int | None = None, samples: int | None = None) -> None:
    """Refuse, before any work, a run too big for one machine, saying the limit and why; with ``nin`` and the
    sample count known, also the memory of one step's graph, and warn of a run that will take hours."""
    if recipe.samples is not None and recipe.samples > MAX_SAMPLES:
        raise UsageError(
            f"--samples {recipe.samples} is over the limit of {MAX_SAMPLES:,}: every number is a "
            f"Python object here, so larger sets take hours a step (PyTorch is the tool for them)"
        )
    if recipe.steps > MAX_STEPS:
        raise UsageError(
            f"--steps {recipe.steps} is over the limit of {MAX_STEPS:,}: at even 1 ms a step that would run for days"
        )
    widths = [nin or 1, *recipe.hidden, 1]
    parameters = sum((a + 1) * b for a, b in pairwise(widths))
    if parameters > MAX_PARAMETERS:
        raise UsageError(
            f"--hidden {','.join(map(str, recipe.hidden))} makes at least {parameters:,} parameters, "
            f"over the limit of {MAX_PARAMETERS:,}: each weight is a Python object of about 140 bytes "
            f"and each step builds several nodes per weight and sample"
        )
    if samples is None:
        return
    batch = min(recipe.batch_size or samples, samples)
    nodes = 2 * parameters * batch
    if nodes > MAX_NODES_PER_STEP:
        raise UsageError(
            f"one step would build a graph of about {nodes:,} nodes ({batch} samples x {parameters:,} "
            f"parameters x 2), about {nodes * 140 / 1e9:.0f} GB: use a smaller --batch-size or "
            f"smaller --hidden layers"
        )
    if nodes * recipe.steps > SLOW_NODES:
        sys.stderr.write(
            f"jangrad train: warning: {recipe.steps:,} steps of about {nodes:,} nodes each may take "
            f"hours; Ctrl-C stops the run and keeps what it has done so far\n"
        )


# The optimizer and learning rate when the command line does not say. The 4-sample set's summed squared error with
# 16,16 relu units blows up under SGD at 0.1 (loss 1.2 to 5e21 in five steps); Adam at 0.01 converges from every
# seed tried. The other sets converge with SGD at 0.1.
_DEFAULT_OPTIMIZER = {"seed4": ("adam", 0.01)}


def recipe_from_arguments(args: argparse.Namespace, *, lr: float | None = None, steps: int | None = None) -> Recipe:
    """The run ``jangrad train`` (or one run of ``sweep``) describes, from its parsed arguments; ``lr`` and
    ``steps``, when given, replace the flags' (``sweep`` gives one of its learning rates and step counts)."""
    optimizer, default_lr = _DEFAULT_OPTIMIZER.get(args.data, ("sgd", 0.1))
    if lr is None:
        lr = args.lr if args.lr is not None else default_lr
    return Recipe(
        data=args.data,
        target=args.target,
        samples=args.samples,
        noise=args.noise,
        test_split=getattr(args, "test_split", None),
        hidden=tuple(args.hidden),
        activation=args.activation,
        output_activation=args.output_activation,
        loss=args.loss,
        optimizer=args.optimizer or optimizer,
        lr=lr,
        schedule=args.schedule,
        steps=args.steps if steps is None else steps,
        batch_size=args.batch_size,
        seed=args.seed,
    )


def _recipe(args: argparse.Namespace, *, lr: float | None = None, steps: int | None = None) -> Recipe:
    """The run the flags describe, refused naming the flag when one does not fit."""
    check_applicable(args)
    try:
        return recipe_from_arguments(args, lr=lr, steps=steps)
    except ValueError as error:
        raise reworded(error, args) from None


def _build(recipe: Recipe, args: argparse.Namespace) -> Problem:
    """The run's data and model; a value the library refuses while building them is reported naming its flag."""
    try:
        return build(recipe)
    except ValueError as error:
        raise reworded(error, args) from None


def _fit(problem: Problem, recipe: Recipe, args: argparse.Namespace) -> History:
    return fit(
        problem.model, problem.X, problem.y, loss=problem.loss, progress=not args.no_progress, **recipe.fit_options()
    )


def _summary(history: History) -> str:
    accuracy = f", accuracy {history.accuracy[-1]:.1%}" if history.accuracy else ""
    return f"final loss {history.loss[-1]:.6g}{accuracy} after {len(history)} steps ({history.seconds:.1f} s)"


def _train(args: argparse.Namespace) -> int:
    from ..viz import plots

    recipe = _recipe(args)
    _check_size(recipe)
    problem = _build(recipe, args)
    model, X, y, loss = problem.model, problem.X, problem.y, problem.loss
    if args.export_torch:
        return _export_torch(recipe, loss, Path(args.export_torch))
    _check_size(recipe, model.nin, len(X))
    with _output_folder(args.out) as out:
        held_out = f", {len(problem.X_test)} held out for testing" if problem.X_test else ""
        print(
            f"training {model.nin} -> {model.nouts} ({model.num_parameters()} parameters) on {args.data} "
            f"({len(X)} samples{held_out}), loss {loss}, {recipe.optimizer} lr {recipe.lr:g}"
        )
        try:
            history = _fit(problem, recipe, args)
        except (TrainingDiverged, TrainingInterrupted) as stopped:
            # What was done so far is what the learner needs to see the blow-up, or to keep a long run's work.
            stopped.history.to_csv(str(out / "history.csv"))
            written = ["history.csv"]
            if stopped.history.loss:
                plots.loss_curves(stopped.history, path=out / "loss.png", title=f"{args.data}: {loss} loss")
                written.append("loss.png")
            if isinstance(stopped, TrainingInterrupted):
                model.save(str(out / "model.json"))
                print(
                    f"interrupted after {len(stopped.history)} steps: wrote model.json, {', '.join(written)} in {out}"
                )
                return 130
            sys.stderr.write(
                f"jangrad train: {' '.join(str(stopped).split())} (wrote {', '.join(written)} up to "
                f"that step in {out})\n"
            )
            return 1
        model.save(str(out / "model.json"))
        history.to_csv(str(out / "history.csv"))
        plots.loss_curves(history, path=out / "loss.png", title=f"{args.data}: {loss} loss")
        written = ["model.json", "history.csv", "loss.png"]
        if len(X[0]) == 2:
            # plots' own default (0 for -1/+1 labels, 0.5 for 0..1 targets) fits every loss but bce, whose output
            # is a logit: its boundary is at 0 although its labels are 0/1.
            threshold = 0.0 if loss == "bce" else None
            plots.decision_boundary(
                model,
                X,
                y,
                path=out / "boundary.png",
                resolution=30,
                threshold=threshold,
                title=f"{args.data}: decision boundary",
            )
            written.append("boundary.png")
    print(_summary(history))
    if problem.X_test:
        print(_test_summary(model, problem.X_test, problem.y_test, loss))
    print(f"wrote {', '.join(written)} in {out}")
    return 0


def _export_torch(recipe: Recipe, loss: str, path: Path) -> int:
    from ..io.files import write_text
    from ..io.torch_export import torch_script

    if path.suffix != ".py":
        raise UsageError(f"--export-torch {str(path)!r}: expected a file name ending in .py")
    write_text(path, torch_script(recipe, loss))
    print(f"wrote {path}: run it with  python {path}  or  torchrun --nproc_per_node=N {path}")
    return 0


def _test_summary(model: MLP, X_test: list, y_test: list, loss: str) -> str:
    """The trained model's loss (and accuracy, for class labels) on the held-out samples, as fit measures them."""
    from .. import losses
    from ..switches import no_grad

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
    recipes = [_recipe(args, lr=lr, steps=n) for lr, n in zip(args.lr, steps, strict=True)]
    for recipe in recipes:
        _check_size(recipe)
    runs: dict[str, list[float]] = {}
    with _output_folder(args.out) as out:
        for recipe in recipes:
            lr, n = recipe.lr, recipe.steps
            problem = _build(recipe, args)  # the same seed: every run starts from the same data and weights
            _check_size(recipe, problem.model.nin, len(problem.X))
            try:
                history = _fit(problem, recipe, args)
                note = _summary(history)
            except TrainingDiverged as diverged:
                history = diverged.history
                note = f"diverged at step {diverged.step}"
            name = f"lr {lr:g}, {n} steps"
            runs[name] = history.loss
            history.to_csv(str(out / f"history_lr{lr:g}.csv"))
            print(f"{name}: {note}")
    # One figure, the curves on a linear axis beside a log one: two files would show the same picture whenever
    # the losses span orders of magnitude (the "auto" scale then picks log for both), as seed4's sweep does.
    plots.loss_curves(runs, scale="both", path=out / "sweep.png", title=f"{args.data}: learning rates compared")
    print(f"wrote sweep.png and {len(runs)} history CSV files in {out}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with _output_folder(args.out) as out:
        _demo_neuron(out)
        _demo_training(out, progress=not args.no_progress)
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


def _demo_neuron(out: Path) -> None:
    from ..viz import draw
    from .expressions import save_drawing

    print("1. One neuron, as in the lecture: o = tanh(x1*w1 + x2*w2 + b)")
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"  # the lecture's name for the neuron's sum, before the bias
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    print(f"   o = {o.data:.4f}; gradients: " + ", ".join(f"{v.label} {v.grad:.4f}" for v in (x1, w1, x2, w2, b)))
    written = save_drawing(draw(o), out / "graph.svg")
    print(f"   drew the graph with its gradients: {written}")


def _demo_training(out: Path, progress: bool) -> None:
    from ..viz import plots

    print("2. MLP(3, [4, 4, 1]) trained on the 4-sample set (sum of squared errors, SGD lr 0.05)")
    X, y = data.seed4()
    model = MLP(3, [4, 4, 1], seed=1)
    history = fit(model, X, y, loss="sse", optimizer="sgd", lr=0.05, steps=1000, seed=0, progress=progress)
    print(f"   loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f} in {len(history)} steps")
    plots.loss_curves(history, path=out / "loss.png", title="MLP(3, [4, 4, 1]) on the 4-sample set")
    model.save(str(out / "model.json"))
    print(f"   wrote {out / 'loss.png'} and {out / 'model.json'}")
    print("3. Predictions next to the targets:")
    print("   target  prediction")
    for target, x in zip(y, X, strict=True):
        prediction = model(x)
        assert isinstance(prediction, Value)  # one output unit: the model gives one Value, not a list
        print(f"   {target:6.1f}  {prediction.data:10.4f}")


def run(args: argparse.Namespace) -> int:
    return {"demo": _demo, "train": _train, "sweep": _sweep}[args.command](args)
