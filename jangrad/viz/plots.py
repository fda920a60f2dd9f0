"""Plots with matplotlib: loss curves, a model's decision boundary, and jangrad beside PyTorch.

* ``loss_curves(runs, scale="auto" | "linear" | "log")``: one curve per run on one figure, to compare learning
  rates as the jangrad post does (lr 0.1 for 50 steps is spiky, lr 0.005 for 1000 steps is smooth). "auto" uses
  a log axis when the losses span ``LOG_SCALE_SPAN`` or more (a linear axis would squash all but the first steps).
* ``decision_boundary(model, X, y)``: the model's prediction over the plane of 2-D data, with the points, the
  axes named after the inputs and a legend saying which colour is which class.
* ``torch_comparison(model, X, y, ...)``: the same network, from the same starting weights, trained by jangrad
  and by PyTorch with the same loss and plain SGD; both curves on one figure (they should lie on top of each other).

Every function returns a matplotlib ``Figure`` and, given ``path``, writes a PNG. A figure it makes is closed in
pyplot at once: pyplot keeps no reference to it (so a long session or test run never piles up open figures, nor
gets matplotlib's "More than 20 figures" warning), and a notebook shows it exactly once, as the cell's returned
value, rather than once more when pyplot flushes its open figures at the end of the cell. It still draws and saves
(``figure.savefig``); ``display(figure)`` shows it again. A figure passed in through ``ax`` is the caller's, and is
left as it is. matplotlib is imported inside each function, with the non-interactive Agg backend unless a
notebook chose one.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias

from ..engine import Value
from ..extras import MissingExtraError, require
from ..io.files import replace_atomically
from ..switches import no_grad

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..nn import MLP

__all__ = ["loss_curves", "decision_boundary", "torch_comparison", "save_figure", "LOG_SCALE_SPAN"]

LOG_SCALE_SPAN = 100.0
"""``scale="auto"`` plots losses on a log axis when the largest is at least this many times the smallest."""

Curve: TypeAlias = Sequence[float] | object  # a History (anything with a .loss list) or a list of losses
Predictor: TypeAlias = Callable[[list[float]], Value | list[Value] | float]  # an MLP, or any function of one sample
_Colour: TypeAlias = str | tuple[float, float, float, float]  # a colour's name or its RGBA, as matplotlib takes


def _pyplot() -> ModuleType:
    require("matplotlib", "plotting")
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")  # files only, no window; a notebook that already imported pyplot keeps its backend
    import matplotlib.pyplot as plt

    return plt


def _new_figure(figsize: tuple[float, float], panels: int = 1) -> tuple[Figure, Any]:
    """A figure of ``panels`` side-by-side axes, closed in pyplot as soon as it is made (see the module docstring):
    made through pyplot so that it gets the backend's canvas (in a notebook, the inline one that displays it)."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, panels, figsize=figsize)
    plt.close(figure)
    return figure, axes


def _figure_of(ax: Axes) -> Figure:
    """The Figure that ``ax`` is drawn on: for an Axes in a subfigure, the figure that holds the subfigure (a
    SubFigure cannot be saved, and the functions here return a Figure)."""
    from matplotlib.figure import SubFigure

    figure = ax.figure
    return figure.figure if isinstance(figure, SubFigure) else figure


def save_figure(figure: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``figure`` as a PNG to ``path`` (temporary file in the same folder, then renamed)."""
    path = Path(path)
    with replace_atomically(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight")
    return path


def _losses(curve: Curve, name: str) -> list[float]:
    losses = getattr(curve, "loss", curve)
    if isinstance(losses, (str, bytes)) or not isinstance(losses, Sequence):
        raise TypeError(f"run {name!r} must be a History or a list of losses, got {curve!r:.80}")
    for i, v in enumerate(losses):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"run {name!r}: loss {i} must be a number, got {v!r}")
    return [float(v) for v in losses]


def _pairs(runs: object) -> list[tuple[object, Curve]] | None:
    """``runs`` as (name, run) pairs when it is a non-empty sequence of 2-tuples, else None."""
    if not isinstance(runs, Sequence) or not runs:
        return None
    pairs: list[tuple[object, Curve]] = []
    for run in runs:
        if not (isinstance(run, tuple) and len(run) == 2):
            return None
        pairs.append((run[0], run[1]))
    return pairs


def _named_runs(runs: Curve | Mapping[str, Curve] | Sequence[tuple[str, Curve]]) -> list[tuple[str, list[float]]]:
    pairs = list(runs.items()) if isinstance(runs, Mapping) else _pairs(runs) or [("loss", runs)]
    named = [(str(name), _losses(curve, str(name))) for name, curve in pairs]
    if not named or all(not losses for _, losses in named):
        raise ValueError("nothing to plot: every run is empty")
    return named


def _auto_scale(named: list[tuple[str, list[float]]]) -> str:
    """ "log" when every finite loss is positive and they span LOG_SCALE_SPAN or more, else "linear"."""
    finite = [v for _, losses in named for v in losses if math.isfinite(v)]
    if not finite or min(finite) <= 0:
        return "linear"  # a log axis cannot show a loss of 0 (hinge reaches it)
    return "log" if max(finite) / min(finite) >= LOG_SCALE_SPAN else "linear"


def loss_curves(
    runs: Curve | Mapping[str, Curve] | Sequence[tuple[str, Curve]],
    scale: str = "auto",
    path: str | os.PathLike[str] | None = None,
    title: str = "training loss",
    ax: Axes | None = None,
) -> Figure:
    """Plot loss against step for one run (a History or a list) or several (a dict label -> run); return the Figure.

    ``scale="log"`` uses a logarithmic loss axis (losses <= 0 are left out, as a log axis cannot show them);
    ``"auto"`` (the default) chooses log when the losses span ``LOG_SCALE_SPAN`` times or more, else linear;
    ``"both"`` draws the curves twice side by side, on a linear axis and on a log one (a figure of its own, so no
    ``ax``): the linear panel shows the early steps and any spikes as they are, the log one the long tail.
    """
    if scale not in ("auto", "linear", "log", "both"):
        raise ValueError(f"scale must be 'auto', 'linear', 'log' or 'both', got {scale!r}")
    named = _named_runs(runs)
    if scale == "both":
        if ax is not None:
            raise ValueError("scale='both' draws two panels on a figure of its own: pass no ax")
        figure, (linear, log) = _new_figure((11.0, 4.0), panels=2)
        _draw_curves(linear, named, "linear", "linear loss axis")
        _draw_curves(log, named, "log", "log loss axis")
        figure.suptitle(title)
    else:
        if scale == "auto":
            scale = _auto_scale(named)
        figure, ax = _new_figure((6.4, 4.0)) if ax is None else (_figure_of(ax), ax)
        _draw_curves(ax, named, scale, title)
    if path is not None:
        save_figure(figure, path)
    return figure


def _draw_curves(ax: Axes, named: list[tuple[str, list[float]]], scale: str, title: str) -> None:
    for name, losses in named:
        ax.plot(range(len(losses)), losses, label=name, linewidth=1.2)
    ax.set_yscale(scale)
    ax.set_xlabel("step")
    ax.set_ylabel("loss" + (" (log scale)" if scale == "log" else ""))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if len(named) > 1 or named[0][0] != "loss":
        ax.legend()


def _scores(model: Predictor, X: Sequence[Sequence[float]]) -> list[float | list[float]]:
    """The model's outputs as floats (or lists of floats), without recording any graph."""
    with no_grad():
        outputs = [model(list(x)) for x in X]
    return [
        [o.data for o in out] if isinstance(out, list) else float(out.data if isinstance(out, Value) else out)
        for out in outputs
    ]


def decision_boundary(
    model: Predictor,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    path: str | os.PathLike[str] | None = None,
    resolution: int = 60,
    threshold: float | None = None,
    title: str = "decision boundary",
    ax: Axes | None = None,
) -> Figure:
    """Colour the plane of 2-D data by the model's prediction and draw the points coloured by label.

    One output: the boundary is where it crosses ``threshold`` (default 0 when any label is negative, as for
    -1/+1 labels and logits, else 0.5). Several outputs: each region is coloured by the largest output's class.
    ``resolution`` points per side are evaluated under ``no_grad``.
    """
    import numpy as np

    if not X or any(len(x) != 2 for x in X):
        raise ValueError("decision_boundary needs 2-D data: every sample must have exactly 2 inputs")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 2 <= resolution <= 400:
        raise ValueError(f"resolution must be an int between 2 and 400, got {resolution!r}")
    points = np.asarray(X, dtype=float)
    labels = np.asarray(y, dtype=float)
    (x_min, y_min), (x_max, y_max) = points.min(axis=0), points.max(axis=0)
    pad_x, pad_y = 0.15 * (x_max - x_min or 1.0), 0.15 * (y_max - y_min or 1.0)
    xs = np.linspace(x_min - pad_x, x_max + pad_x, resolution)
    ys = np.linspace(y_min - pad_y, y_max + pad_y, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    scores = _scores(model, np.column_stack([grid_x.ravel(), grid_y.ravel()]).tolist())
    from matplotlib import colormaps
    from matplotlib.lines import Line2D

    figure, ax = _new_figure((5.2, 4.6)) if ax is None else (_figure_of(ax), ax)
    point_colours: list[_Colour]
    legend: list[tuple[_Colour, str]]
    if isinstance(scores[0], list):
        count = len(scores[0])
        palette = [colormaps["tab10"](k % 10) for k in range(count)]  # region k and class-k points share a colour
        classes = np.argmax(np.asarray(scores), axis=1).reshape(grid_x.shape)
        ax.contourf(grid_x, grid_y, classes, levels=np.arange(count + 1) - 0.5, colors=palette, alpha=0.25)
        point_colours = [palette[int(t) % count] for t in labels]
        legend = [(palette[k], f"class {k}") for k in range(count) if (labels == k).any()]
    else:
        if threshold is None:
            threshold = 0.0 if (labels < 0).any() else 0.5
        field = np.asarray(scores).reshape(grid_x.shape)
        low, high = "#3b6fd4", "#d43b3b"  # blue for the low label and the region below the threshold, red above
        ax.contourf(
            grid_x, grid_y, (field > threshold).astype(float), levels=[-0.5, 0.5, 1.5], colors=[low, high], alpha=0.2
        )
        if field.min() < threshold < field.max():
            ax.contour(grid_x, grid_y, field, levels=[threshold], colors="k", linewidths=1)
        point_colours = [high if t > threshold else low for t in labels]
        legend = [
            (colour, _side_name(labels[above], threshold, above=is_above))
            for colour, is_above, above in ((low, False, labels <= threshold), (high, True, labels > threshold))
            if above.any()
        ]
    ax.scatter(points[:, 0], points[:, 1], c=point_colours, edgecolors="k", s=28)
    handles = [
        Line2D([], [], marker="o", linestyle="", markerfacecolor=colour, markeredgecolor="k", label=name)
        for colour, name in legend
    ]
    ax.legend(handles=handles, loc="best", fontsize="small", framealpha=0.8)
    ax.set_xlabel("x0 (first input)")
    ax.set_ylabel("x1 (second input)")
    ax.set_title(title)
    if path is not None:
        save_figure(figure, path)
    return figure


def _side_name(labels: Iterable[float], threshold: float, above: bool) -> str:
    """A legend entry for one side of the threshold: the class when its points share one label, else the rule."""
    values = sorted({float(v) for v in labels})
    if len(values) == 1:
        return f"class {values[0]:g}"
    return f"y > {threshold:g}" if above else f"y <= {threshold:g}"


def _torch_loss(torch: Any, name: str, out: Any, target: Any) -> Any:  # torch and its tensors (torch is optional)
    if name == "sse":
        return ((out.squeeze(-1) - target) ** 2).sum() if out.shape[-1] == 1 else ((out - target) ** 2).sum()
    if name == "mse":
        return ((out.squeeze(-1) - target) ** 2).mean() if out.shape[-1] == 1 else ((out - target) ** 2).mean()
    if name == "hinge":
        return torch.relu(1.0 - target * out.squeeze(-1)).mean()
    if name == "bce":
        return torch.nn.functional.binary_cross_entropy_with_logits(out.squeeze(-1), target)
    if name == "ce":
        return torch.nn.functional.cross_entropy(out, target.long())
    raise ValueError(f"loss must be one of sse, mse, hinge, bce, ce for a PyTorch comparison, got {name!r}")


def torch_comparison(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    loss: str = "sse",
    lr: float = 0.05,
    steps: int = 100,
    path: str | os.PathLike[str] | None = None,
    scale: str = "linear",
) -> tuple[Figure, list[float], list[float]]:
    """Train ``model`` with jangrad and a PyTorch copy of it (same weights, same loss, plain full-batch SGD).

    Returns ``(figure, jangrad_losses, torch_losses)``. Needs torch (``pip install torch``). ``model`` is trained
    in place, as ``fit`` would.
    """
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "the PyTorch comparison") from None
    from ..train import fit

    twin = model.to_torch()  # before jangrad trains: both start from the same weights
    history = fit(model, X, y, loss=loss, optimizer="sgd", lr=lr, steps=steps, progress=False)
    inputs = torch.tensor(X, dtype=torch.float64)
    targets = torch.tensor(y, dtype=torch.float64)
    optimizer = torch.optim.SGD(twin.parameters(), lr=lr)
    torch_losses: list[float] = []
    for _ in range(steps):
        optimizer.zero_grad()
        value = _torch_loss(torch, loss, twin(inputs), targets)
        value.backward()
        torch_losses.append(float(value.item()))
        optimizer.step()
    if not all(math.isfinite(v) for v in torch_losses):
        raise ArithmeticError(f"the PyTorch run diverged with lr {lr!r}")
    figure = loss_curves(
        {"jangrad": history.loss, "PyTorch": torch_losses},
        scale=scale,
        title=f"jangrad vs PyTorch ({loss}, SGD lr {lr:g})",
    )
    figure.axes[0].lines[1].set_linestyle("--")
    if path is not None:
        save_figure(figure, path)
    return figure, list(history.loss), torch_losses
