"""The compiled path: trace a graph once, then replay it on NumPy arrays.

``tape`` records a graph as a flat tape and replays it (``jangrad.compile``); ``kernels`` runs the op table's
rules on arrays. For ``fit``: ``batch_tape`` replays one sample's graph over a whole batch (``batch_kernels``),
``batch_losses`` computes the built-in losses and their gradients on arrays, and ``training`` runs the steps;
``mlp_listing`` lists the built-in MLP's graph for one sample without tracing it.
"""

from .tape import GraphChangedError, Tape, compile

__all__ = ["compile", "Tape", "GraphChangedError"]
