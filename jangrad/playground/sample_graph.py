"""The network lab's "click a point": the graph of one sample's loss, drawn grouped by neuron, with its steps.

The graph is built on a copy of the model (same weights), so running backward on it never touches the gradients
of the run that is training. Above ``MAX_SAMPLE_GRAPH_NODES`` nodes it is refused in one line instead.
"""

from __future__ import annotations

from ..engine import topological_order
from .expression import walk_steps
from .graph_svg import svg_text, with_node_ids
from .limits import MAX_SAMPLE_GRAPH_NODES

__all__ = ["sample_graph"]


def sample_graph(run, state: dict, index: int) -> dict:
    from ..nn import MLP
    from ..viz import draw

    model = MLP(**run.problem.model.config())
    model.load_state_dict(state)
    X = run.problem.X + run.problem.X_test
    y = run.problem.y + run.problem.y_test
    loss = run.base_loss([model(X[index])], [y[index]])
    loss.label = "loss"
    order = topological_order(loss)
    if len(order) > MAX_SAMPLE_GRAPH_NODES:
        raise ValueError(
            f"this sample's graph has {len(order)} nodes, more than the {MAX_SAMPLE_GRAPH_NODES} the "
            f"playground draws: try a smaller network"
        )
    steps, _names = walk_steps(loss, order)
    result = {
        "index": index,
        "node_count": len(order),
        "nodes": [],
        "loss": loss.data,
        "steps": steps,
        "note": f"sample {index}: {len(order)} nodes, grouped by neuron; loss {loss.data:.4g}",
    }
    drawing = draw(loss, group=True)
    svg = svg_text(drawing)
    # The steps name nodes n<i>; "boxes" says which SVG group shows each (a neuron's box holds many of them).
    result["svg"], result["boxes"] = (None, {}) if svg is None else (with_node_ids(svg), drawing.boxes)
    if svg is None:
        result["note"] += " (the Graphviz program 'dot' is not installed, so it is not drawn)"
    return result
