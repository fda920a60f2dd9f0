"""Plots: loss curves (one run or several, linear or log), a decision boundary, jangrad beside PyTorch."""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

import jangrad
from jangrad import data, nn
from jangrad.viz import plots

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained():
    X, y = data.xor(signed=True)
    model = nn.MLP(2, [4, 1], seed=3)
    history = jangrad.fit(model, X, y, loss="sse", optimizer="sgd", lr=0.1, steps=20, progress=False)
    return model, X, y, history


def test_one_history_linear_and_log(trained, tmp_path):
    _, _, _, history = trained
    figure = plots.loss_curves(history, path=tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes().startswith(PNG)
    (line,) = figure.axes[0].lines
    assert list(line.get_ydata()) == history.loss
    assert figure.axes[0].get_yscale() == "linear"
    log = plots.loss_curves(history.loss, scale="log")
    assert log.axes[0].get_yscale() == "log"


def test_several_runs_on_one_figure(tmp_path):
    runs = {"lr 0.1, 50 steps": [3.0, 1.0, 2.0, 0.5] * 12, "lr 0.005, 1000 steps": [3.0 - i / 500 for i in range(1000)]}
    figure = plots.loss_curves(runs, path=tmp_path / "sweep.png")
    ax = figure.axes[0]
    assert [line.get_label() for line in ax.lines] == list(runs)
    assert [len(line.get_xdata()) for line in ax.lines] == [48, 1000]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(runs)
    with pytest.raises(ValueError):
        plots.loss_curves(runs, scale="cubic")
    with pytest.raises(TypeError):
        plots.loss_curves({"bad": ["x"]})


def test_decision_boundary_matches_the_model_and_records_no_graph(trained, tmp_path):
    model, X, y, _ = trained
    before = [p.grad for p in model.parameters()]
    figure = plots.decision_boundary(model, X, y, path=tmp_path / "boundary.png", resolution=12)
    assert (tmp_path / "boundary.png").read_bytes().startswith(PNG)
    assert [p.grad for p in model.parameters()] == before
    assert jangrad.is_grad_enabled()
    points = figure.axes[0].collections[-1]
    assert [list(p) for p in points.get_offsets()] == X
    # each point's colour is its label's: red for +1, blue for -1
    colours = [tuple(c[:3]) for c in points.get_facecolors()]
    assert len({colours[i] for i in range(4) if y[i] > 0}) == 1 and colours[0] != colours[1]
    with pytest.raises(ValueError):
        plots.decision_boundary(model, [[1.0, 2.0, 3.0]], [1])


def test_decision_boundary_for_several_classes(tmp_path):
    X, y = data.spiral(n=5, classes=3, seed=0)
    model = nn.MLP(2, [3], seed=0)
    plots.decision_boundary(model, X, y, path=tmp_path / "b.png", resolution=8)
    assert (tmp_path / "b.png").read_bytes().startswith(PNG)


def test_pytorch_trains_the_same_network_to_the_same_curve(tmp_path):
    pytest.importorskip("torch")
    X, y = data.seed4()
    model = nn.MLP(3, [4, 4, 1], seed=1)
    figure, ours, theirs = plots.torch_comparison(
        model, X, y, loss="sse", lr=0.05, steps=15, path=tmp_path / "torch.png"
    )
    assert len(ours) == len(theirs) == 15
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)
    assert ours[-1] < ours[0]
    assert [line.get_label() for line in figure.axes[0].lines] == ["jangrad", "PyTorch"]
    assert (tmp_path / "torch.png").read_bytes().startswith(PNG)


def test_auto_scale_turns_log_when_losses_span_orders_of_magnitude():
    # the sweep of lr 0.1 vs 0.005: one run falls from 3 to 0.001, which a linear axis squashes flat
    steep = [3.0 * 0.9**i for i in range(80)]
    assert max(steep) / min(steep) > plots.LOG_SCALE_SPAN
    assert (
        plots.loss_curves({"lr 0.1": steep, "lr 0.005": [3.0 - i / 500 for i in range(1000)]}).axes[0].get_yscale()
        == "log"
    )
    assert plots.loss_curves([3.0, 2.0, 1.0, 0.5]).axes[0].get_yscale() == "linear"  # under 100x: linear
    assert plots.loss_curves([3.0, 1.0, 0.0]).axes[0].get_yscale() == "linear"  # a log axis cannot show 0
    assert plots.loss_curves([3.0, 0.01, float("nan")]).axes[0].get_yscale() == "log"  # a blow-up is ignored
    assert plots.loss_curves(steep, scale="linear").axes[0].get_yscale() == "linear"  # asked for: kept
    assert "log scale" in plots.loss_curves(steep).axes[0].get_ylabel()


def test_decision_boundary_names_its_axes_and_has_a_class_legend(trained):
    model, X, y, _ = trained
    ax = plots.decision_boundary(model, X, y, resolution=8).axes[0]
    assert ax.get_xlabel() == "x0 (first input)" and ax.get_ylabel() == "x1 (second input)"
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["class -1", "class 1"]
    points = ax.collections[-1].get_facecolors()
    # each legend marker has the colour of the points of its class
    for handle, label in zip(legend.legend_handles, (-1, 1), strict=True):
        colour = tuple(matplotlib.colors.to_rgb(handle.get_markerfacecolor()))
        assert {tuple(points[i][:3]) for i in range(len(y)) if y[i] == label} == {colour}
    X3, y3 = data.spiral(n=5, classes=3, seed=0)
    ax3 = plots.decision_boundary(nn.MLP(2, [3], seed=0), X3, y3, resolution=8).axes[0]
    assert [t.get_text() for t in ax3.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]


def test_scale_both_draws_a_linear_and_a_log_panel_of_the_same_curves(tmp_path):
    runs = {"lr 0.1": [3.0 * 0.9**i for i in range(80)], "lr 0.005": [3.0 - i / 500 for i in range(1000)]}
    figure = plots.loss_curves(runs, scale="both", path=tmp_path / "both.png", title="compared")
    linear, log = figure.axes
    assert (linear.get_yscale(), log.get_yscale()) == ("linear", "log")
    for ax in (linear, log):
        assert [list(line.get_ydata()) for line in ax.lines] == list(runs.values())
    assert figure.get_suptitle() == "compared"
    assert (tmp_path / "both.png").read_bytes().startswith(PNG)
    with pytest.raises(ValueError, match="pass no ax"):
        plots.loss_curves(runs, scale="both", ax=linear)


# ---- pyplot keeps none of them; a notebook shows each once -----------------------------------------------------------
def test_pyplot_keeps_no_figure_and_never_warns_of_too_many(trained, tmp_path):
    """Before: every figure stayed open in pyplot, and the 21st brought matplotlib's "More than 20 figures"."""
    import warnings

    import matplotlib.pyplot as plt

    model, X, y, history = trained
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the 20-figure warning is a RuntimeWarning: it would raise here
        figures = [plots.loss_curves(history) for _ in range(22)]
        figures.append(plots.decision_boundary(model, X, y, resolution=4))
        figures.append(plots.loss_curves(history, scale="both"))
    assert plt.get_fignums() == []
    figures[-1].savefig(tmp_path / "closed.png")  # a closed figure still draws and saves
    assert (tmp_path / "closed.png").read_bytes().startswith(PNG)


def test_a_figure_the_caller_made_is_left_open():
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    try:
        assert plots.loss_curves([3.0, 2.0, 1.0], ax=ax) is figure
        assert figure.number in plt.get_fignums()
    finally:
        plt.close(figure)


def test_an_axes_in_a_subfigure_gives_and_saves_the_whole_figure(trained, tmp_path):
    # found by mypy: Axes.figure is a SubFigure there, which has no savefig (path= raised AttributeError)
    import matplotlib.pyplot as plt

    model, X, y, history = trained
    figure = plt.figure(figsize=(10, 4))
    try:
        left, right = figure.subfigures(1, 2)
        assert plots.loss_curves(history, ax=left.subplots(), path=tmp_path / "loss.png") is figure
        assert plots.decision_boundary(model, X, y, ax=right.subplots(), path=tmp_path / "both.png") is figure
        assert (tmp_path / "loss.png").read_bytes().startswith(PNG)
        assert (tmp_path / "both.png").read_bytes().startswith(PNG)
    finally:
        plt.close(figure)


def test_a_notebook_shows_a_returned_plot_once(tmp_path, monkeypatch):
    """The cell's value is displayed, and pyplot's end-of-cell flush adds no second copy (issue 24)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend, as a learner has it
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from jangrad import data, nn\nfrom jangrad.viz import plots"),
        nbformat.v4.new_code_cell("plots.loss_curves([3.0, 2.0, 1.5, 1.0])"),
        nbformat.v4.new_code_cell("X, y = data.xor(signed=True)\nplots.decision_boundary(nn.MLP(2, [3, 1]), X, y)"),
        nbformat.v4.new_code_cell("figure = plots.loss_curves({'a': [2.0, 1.0], 'b': [3.0, 0.5]}, scale='both')"),
    ]
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    pictures = [[out for out in cell.outputs if "image/png" in out.get("data", {})] for cell in notebook.cells]
    assert [len(shown) for shown in pictures] == [0, 1, 1, 0]  # assigned, not returned: nothing shown
