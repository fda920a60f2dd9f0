"""Looking inside a learner's graph, where the class is micrograd-style: each node lists the nodes it was made from
in ``_prev`` (or ``_children``) and keeps its own local rule, a function of no arguments, in ``_backward``.

That lets the checker tell a wrong rule from a wrong walk. ``run_rules`` runs the learner's rules itself, one by one
from the output back in an order known to be right, without calling the learner's ``backward()``. ``rule_id`` names
each rule by the code that made it (the ``_backward`` closure of ``__mul__``), which says which ops are built on
which: the lecture's ``a - b`` is ``a + (-b)``, and ``-b`` is ``b * -1``. ``record_walk`` watches the order in which
the learner's own ``backward()`` calls the rules, and ``walk_problem`` says what is wrong with that order.

Runs in the worker, on the learner's objects; what it returns is plain data. Where the class is not built this
way (no ``_prev``, rules kept elsewhere) ``collect`` raises ``NotInspectable`` and the checker judges the numbers
``backward()`` gives, as for any engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "NotInspectable",
    "Graph",
    "collect",
    "rule_id",
    "RuleRaised",
    "run_rules",
    "record_walk",
    "WalkProblem",
    "walk_problem",
]

CHILD_ATTRIBUTES = ("_prev", "_children")


class NotInspectable(Exception):
    """The learner's graph cannot be looked inside: no list of children, or a node without its own rule."""


@dataclass
class Graph:
    """Every node of a learner's graph, children before the nodes made from them, the output last.

    ``program_index[i]`` is the program node that node ``i`` is (None for a node made inside one step, such as the
    ``-b`` inside the lecture's ``a - b``, or the ``Value(2)`` that ``a + 2`` wraps its number in); ``step_of[i]``
    is the step that made such an inner node."""

    nodes: list
    children: list[tuple[int, ...]]
    rules: list[Callable[[], object] | None]  # each node's _backward (None for a leaf)
    program_index: list[int | None]
    step_of: list[int | None]

    def is_rule_node(self, i: int) -> bool:
        return bool(self.children[i])

    def rule(self, i: int) -> Callable[[], object]:
        """Node ``i``'s ``_backward`` (``collect`` refuses a node made by an op that holds none)."""
        rule = self.rules[i]
        if rule is None:
            raise NotInspectable(f"node {i} is a leaf: it has no _backward")
        return rule

    def consumers(self, i: int) -> list[int]:
        return [j for j in range(len(self.nodes)) if i in self.children[j]]

    def where(self, i: int) -> tuple[int | None, int | None]:
        """(program node, step) to name node ``i`` by."""
        return self.program_index[i], self.step_of[i]


def _children_of(node: object) -> tuple[list, bool]:
    """The node's children and whether their order is arbitrary (a set, as micrograd's ``_prev`` is)."""
    for name in CHILD_ATTRIBUTES:
        try:
            children = getattr(node, name)
        except AttributeError:
            continue
        except Exception as error:
            raise NotInspectable(f"reading .{name} raised {type(error).__name__}") from None
        try:
            return list(children), isinstance(children, (set, frozenset))
        except TypeError:
            raise NotInspectable(f".{name} is not a collection of nodes") from None
    raise NotInspectable("the nodes have no _prev listing the nodes they were made from")


def _own_rule(node: object) -> Callable[[], object] | None:
    """The node's ``_backward`` when the node itself holds it (as micrograd's closures are), else None."""
    held = getattr(node, "__dict__", {}).get("_backward")
    if held is None and not hasattr(node, "__dict__"):  # a class with __slots__ keeps it in a slot
        held = getattr(node, "_backward", None)
    return held if callable(held) else None


def _order_key(node: Any, known: dict[int, int]) -> tuple:
    """Sorts a set of children the same way every run (a set of objects iterates in address order): program nodes
    by their place in the program, other nodes by what they hold."""
    if id(node) in known:
        return (0, known[id(node)], 0.0, "")
    try:
        data = float(node.data)
    except Exception:
        data = math.nan
    return (1, 0, data if data == data else math.inf, str(getattr(node, "_op", "")))


def collect(program_nodes: list, leaf_count: int) -> Graph:
    """The whole graph behind a program's nodes (the learner's objects: leaves first, then each step's output)."""
    index: dict[int, int] = {}
    graph = Graph([], [], [], [], [])
    known = {id(node): i for i, node in enumerate(program_nodes)}

    def add(node: object, children: tuple[int, ...], step: int | None) -> None:
        index[id(node)] = len(graph.nodes)
        graph.nodes.append(node)
        graph.children.append(children)
        rule = _own_rule(node) if children else None
        if children and rule is None:
            raise NotInspectable("a node made by an op holds no _backward of its own")
        graph.rules.append(rule)
        graph.program_index.append(known.get(id(node)))
        graph.step_of.append(None if id(node) in known else step)

    for leaf in program_nodes[:leaf_count]:
        if id(leaf) not in index:
            add(leaf, (), None)
    for step, output in enumerate(program_nodes[leaf_count:]):
        stack: list[tuple[object, bool]] = [(output, False)]
        while stack:  # an iterative post-order walk: every node after its children
            node, expanded = stack.pop()
            if id(node) in index:
                continue
            children, unordered = _children_of(node)
            if unordered:
                children.sort(key=lambda child: _order_key(child, known))
            if expanded:
                add(node, tuple(index[id(child)] for child in children), step)
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children) if id(child) not in index)
    return graph


def rule_id(rule: object) -> str:
    """A name for the code of a rule, the same for every node an op makes: ``Value.__mul__.<locals>._backward
    (engine.py line 34)``."""
    code = getattr(rule, "__code__", None) or getattr(getattr(rule, "__func__", None), "__code__", None)
    if code is None:
        return type(rule).__qualname__
    return f"{code.co_qualname} ({Path(code.co_filename).name} line {code.co_firstlineno})"


class RuleRaised(Exception):
    """A learner's rule raised ``error`` when the checker called it, on the node ``where`` (``Graph.where``)."""

    def __init__(self, where: tuple[int | None, int | None], error: Exception) -> None:
        super().__init__(str(error))
        self.where, self.error = where, error


def run_rules(graph: Graph, seed: float) -> None:
    """Set the output's grad to ``seed`` and call every rule once, from the output back (reverse topological
    order), as a right ``backward()`` does; the learner's ``backward()`` is not called. A rule that raises is
    reported as RuleRaised, naming its node."""
    try:
        graph.nodes[-1].grad = seed
    except Exception as error:
        raise NotInspectable(f"setting .grad raised {type(error).__name__}") from None
    for i in reversed(range(len(graph.nodes))):
        if graph.is_rule_node(i):
            rule = graph.rule(i)
            try:
                rule()
            except Exception as error:
                raise RuleRaised(graph.where(i), error) from None


def _grad(node: Any) -> float | None:
    try:
        return float(node.grad)
    except Exception:
        return None


def record_walk(graph: Graph) -> list[tuple[int, float | None]]:
    """Wrap every rule so that calling it is noted: (node, its grad at that moment). Returns the list the notes
    go to, filled in as the learner's ``backward()`` runs. Raises NotInspectable if a rule cannot be replaced."""
    calls: list[tuple[int, float | None]] = []

    def recorder(i: int, rule: Callable[[], object]) -> Callable[[], object]:
        def recorded() -> object:
            calls.append((i, _grad(graph.nodes[i])))
            return rule()

        return recorded

    for i, node in enumerate(graph.nodes):
        if graph.is_rule_node(i):
            try:
                node._backward = recorder(i, graph.rule(i))
            except Exception as error:
                raise NotInspectable(f"setting ._backward raised {type(error).__name__}") from None
    return calls


@dataclass(frozen=True)
class WalkProblem:
    """What the learner's ``backward()`` did wrong, in terms the checker can word: ``kind`` is "unseeded" (the
    output's rule ran while its grad was not 1), "none" (no rule ran), "missed" (``node``'s rule never ran),
    "repeated" (it ran ``times`` times), "forward" (the rules ran in topological order, from the inputs) or
    "early" (``node``'s rule ran before the rule of ``consumer``, which uses it). Nodes are (program node, step)
    pairs, as ``Graph.where`` gives them; ``grad_then`` is the node's grad when its rule ran."""

    kind: str
    node: tuple[int | None, int | None] | None = None
    consumer: tuple[int | None, int | None] | None = None
    grad_then: float | None = None
    times: int = 0


def walk_problem(graph: Graph, calls: list[tuple[int, float | None]]) -> WalkProblem | None:
    """What is wrong with the order in which the rules were called (None: each ran once, from the output back)."""
    rule_nodes = [i for i in range(len(graph.nodes)) if graph.is_rule_node(i)]
    if not calls:
        return WalkProblem("none")
    first_call: dict[int, int] = {}
    grad_then: dict[int, float | None] = {}
    count: dict[int, int] = {}
    for position, (i, grad) in enumerate(calls):
        first_call.setdefault(i, position)
        grad_then.setdefault(i, grad)
        count[i] = count.get(i, 0) + 1
    output = len(graph.nodes) - 1
    if output in grad_then and grad_then[output] != 1.0:
        return WalkProblem("unseeded", graph.where(output), grad_then=grad_then[output])
    for i in rule_nodes:
        if i not in first_call:
            return WalkProblem("missed", graph.where(i))
    for i in rule_nodes:
        if count[i] > 1:
            return WalkProblem("repeated", graph.where(i), times=count[i])
    early = []
    for i in sorted(rule_nodes, key=first_call.__getitem__):
        waiting = [c for c in graph.consumers(i) if first_call[c] > first_call[i]]
        if waiting:
            early.append((i, waiting[0]))
    if not early:
        return None
    forward = all(
        first_call[child] < first_call[i] for i in rule_nodes for child in graph.children[i] if child in first_call
    )
    i, consumer = early[0]
    return WalkProblem("forward" if forward else "early", graph.where(i), graph.where(consumer), grad_then[i])
