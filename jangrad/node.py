"""What the modules beside the engine may read of a node, as a type: ``engine.Value`` is a ``Node``.

``anomaly``, ``hand_built`` and ``higher_order`` sit below the engine (the engine imports them), so they cannot
name ``Value``; they reach a node only through these attributes, and mypy checks them against this protocol.
"""

from __future__ import annotations

from typing import Any, Protocol

from .ops import Op

__all__ = ["Node"]


class Node(Protocol):
    """A node of a graph: its number, its gradient, its operands and the rule that made it."""

    data: float
    grad: Any  # a float, or a Value under backward(create_graph=True)
    label: str

    @property
    def _x(self) -> Node | None: ...  # first operand (None for a leaf)

    @property
    def _y(self) -> Node | None: ...  # second operand of a binary op

    @property
    def _rule(self) -> Op | None: ...

    @property
    def parents(self) -> tuple[Node, ...]: ...

    @property
    def op(self) -> str: ...
