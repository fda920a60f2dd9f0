"""The compiled path: trace a graph once, then replay it on NumPy arrays.

``tape`` records a graph as a flat tape and replays it (``jangrad.compile``); ``kernels`` runs the op table's
rules on arrays; ``training`` is ``fit``'s compiled training step.
"""

from .tape import GraphChangedError, Tape, compile

__all__ = ["compile", "Tape", "GraphChangedError"]
