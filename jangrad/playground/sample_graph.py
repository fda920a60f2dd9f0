"""The graph of one training sample's loss, for the network lab's "click a point": grouped by neuron, or refused."""

from __future__ import annotations

from .limits import MAX_SAMPLE_GRAPH_NODES


def sample_graph(run, state: dict, index: int) -> dict:
    raise ValueError("not yet")
