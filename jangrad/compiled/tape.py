"""``jangrad.compile``: trace a graph once, then replay its forward and backward passes vectorised with NumPy.

Training a scalar model rebuilds the same graph for every step: only the numbers in the leaves change. A tape
records that graph once and replays it level by level, one NumPy call per group of like nodes instead of one
Python call per node, using the op table's own rules (``tape_kernels.NUMPY_MATH``, the third interpreter).

How the graph becomes a tape:

1. The nodes are listed in topological order (``engine.topological_order``).
2. Chains of ``+``/``-`` whose inner results have one consumer become n-ary signed sums, and products feeding
   only a sum become its product terms (``b + w1 x1 + w2 x2 + ...`` is one node, not a ladder of 2K nodes); chains
   of ``*`` become n-ary products. A sum over 100 samples is one level, not 100.
3. Every remaining node gets a depth (1 + its deepest operand); nodes of one depth and one kind form a group, run
   by one kernel. Each group's outputs get consecutive slots in one flat array, so most operand reads are slices.
   A group of sums whose products pair every row of weights with every row of inputs (a layer applied to a
   batch) runs as one matrix product.
4. Index arrays for reading operands and for adding gradients are built here, once.

What a tape assumes, and what it checks:

* The structure is static. The tape replays the graph it traced: a Python ``if`` on a Value's ``.data``, a
  ``max()`` over Values, a loop whose length depends on data are all frozen as they were at trace time (ops that
  branch inside, such as ``relu`` or ``abs``, are fine: the branch is re-taken on every replay).
* It re-reads every leaf's ``.data`` on each ``forward()`` (inputs and parameters alike) and writes the result to
  ``output.data``. Intermediate nodes keep the ``.data`` and ``.grad`` they had: only leaves get gradients (all
  leaves, or the ``inputs`` given to ``compile``); ``keep=`` nodes can be read back with ``tape.read``.
* A plain number written into the expression (``1 - y * s`` with ``y`` a float) became a hidden constant leaf at
  trace time: to change it between replays, make it a Value leaf you hold and assign its ``.data``.
* ``check(new_output)`` compares a freshly built graph with the traced one (op by op, operand by operand) and
  raises ``GraphChangedError`` if the structure differs; it costs one traversal, so call it when in doubt, not
  every step. ``forward()`` itself only checks, in O(1), that the output node was not rewired.

(``jangrad.compile`` is this module's function; import the module's other names with ``from jangrad.compiled
import Tape, GraphChangedError``.)
"""

from __future__ import annotations

import contextlib
import numbers
import operator
import threading
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from ..checks import as_float
from ..engine import Value, _sorting  # _sorting: the lock of the engine's sorts (_list_graph writes the same marks)
from ..ops import OPS, Op

if TYPE_CHECKING:  # NumPy is imported when a tape is made, never at import (the same for the kernels, which need it)
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

    from .kernels import FloatArray, IndexArray, Kernel, SumKernel

KernelNode: TypeAlias = "tuple[Any, ...]"
"""A node of ``_fuse``'s listing: ``("op", name, operands)``, ``("sum", plain, plain_sign, left, right,
prod_sign)`` or ``("prod", factors)``; its first item says which."""

__all__ = ["compile", "Tape", "GraphChangedError"]

_SUMS = ("add", "sub")
_read_data = operator.attrgetter("data")
_PLAIN_NUMBERS = frozenset((float, int))


def _rule_name(rule: Op | None) -> str:
    """The op-table name a node's rule replays as ('' for a leaf); an op built by hand has no table rule."""
    if rule is None or rule.arity == 0:
        return ""
    if rule.forward is None:
        raise TypeError(
            f"the op {rule.symbol!r} was built by hand (Value(data, children, op) with its own "
            f"_backward): a tape replays only ops from jangrad's table"
        )
    return rule.name


class GraphChangedError(ValueError):
    """A graph handed to a tape does not have the structure the tape was traced from."""


def _listed(values: Iterable[Value], what: str) -> list[Value]:
    """``values`` as a list, refusing a lone Value (``inputs=w`` written for ``inputs=[w]``) with a message."""
    if isinstance(values, Value):
        raise TypeError(f"{what} must be a list of Values, got a single Value ({values!r}): wrap it in a list")
    return list(values)


class _Positions:
    """Where each node stands in the topological order, looked up by ``id(node)`` like a dict (``get``, ``in``,
    ``[]``). Kept as a sorted array of ids: building a dict of a million entries was a good part of compile()."""

    def __init__(self, np: ModuleType, nodes: Sequence[Value | None]) -> None:
        ids = np.fromiter(map(id, nodes), dtype=np.uint64, count=len(nodes))
        self._np = np
        self._order = np.argsort(ids, kind="stable")
        self._sorted = ids[self._order]

    def lookup(self, ids: NDArray[np.uint64]) -> IndexArray:
        """The positions of an array of ids, -1 where an id is not a node of the graph."""
        np = self._np
        if not self._sorted.size:
            return np.full(len(ids), -1, dtype=np.intp)
        at = np.minimum(np.searchsorted(self._sorted, ids), self._sorted.size - 1)
        return np.where(self._sorted[at] == ids, self._order[at], -1)

    def get(self, key: int, default: int | None = None) -> int | None:
        found = int(self.lookup(self._np.array([key], dtype=self._np.uint64))[0])
        return default if found < 0 else found

    def __contains__(self, key: int) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: int) -> int:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found


# The marks of the last listing were base .. base + n - 1: a listing's marks are all above any earlier one's.
_next_base = 0


def _list_graph(
    root: Value, find: Sequence[Value]
) -> tuple[list[Value], list[Op | None], list[int], list[int], list[int], int]:
    """The nodes in ``engine.topological_order``, the rules of those that are not leaves, each node's operands as
    marks (see below), and the marks of the Values in ``find``.

    It is the engine's walk (an iterative post-order that follows operands in order, so the very same order),
    except for what it leaves on a node: a placed node's ``_mark`` is its position plus ``base``, an int above every
    mark an earlier listing left. So when a node is placed, its operands' positions are read off the operands
    themselves: looking them up afterwards (by id, in a dict or a sorted array) cost twice the walk. Returns the
    nodes, the rules of the nodes with operands (in order), the nodes' first and second operands' marks (``base -
    1`` for none), the marks of ``find`` (below ``base`` for a Value that is not in the graph) and ``base``: a
    position is a mark minus ``base``. The marks are cleared (None) before it returns.
    """
    global _next_base
    opened = object()  # the node's operands have been pushed
    nodes: list[Value] = []
    rules: list[Op | None] = []
    first: list[int] = []
    second: list[int] = []
    add_node, add_rule, add_first, add_second = nodes.append, rules.append, first.append, second.append
    stack = [root]
    push, pop = stack.append, stack.pop
    with _sorting:  # the engine's lock: a sort in another thread reads and writes the same marks
        base = position = _next_base
        none = base - 1
        try:
            while stack:  # (each branch ends in continue: CPython 3.11 specializes a loop only at a plain jump back)
                node = pop()
                mark = node._mark
                if mark is opened:  # second visit: its operands are placed
                    node._mark = position
                    position += 1
                    add_node(node)
                    add_rule(node._rule)
                    add_first(node._x._mark)  # type: ignore[union-attr, arg-type]  # an opened node has an operand
                    y = node._y
                    add_second(none if y is None else y._mark)  # type: ignore[arg-type]  # placed: an int
                    continue
                if type(mark) is int and mark >= base:
                    continue  # placed already, reached through another consumer
                x = node._x
                if x is None:  # a leaf
                    node._mark = position
                    position += 1
                    add_node(node)
                    add_first(none)
                    add_second(none)
                    continue
                node._mark = opened
                push(node)  # come back to it after its operands
                y = node._y
                if y is not None:  # the second operand first, so that the first one is placed first
                    push(y)
                push(x)
                continue
        finally:  # even after an interruption, no later listing may take a mark left here for one of its own
            _next_base = position
        found = [m if type(m := value._mark) is int and m >= base else none for value in find]
        for node in nodes:
            node._mark = None  # an int per node would otherwise stay on a graph the user keeps (32 bytes a node)
    return nodes, rules, first, second, found, base


class _Traced:
    """The graph as arrays: nodes in topological order (``engine.topological_order``), each node's op as a code
    (``op_codes``, into ``op_names``), and each node's first and second operand as a node index (-1 for none).
    ``found`` gives the node indices of the Values in ``find`` (-1 for a Value not in the graph)."""

    def __init__(self, output: Value, find: Sequence[Value] = ()) -> None:
        import numpy as np

        nodes, rules, first, second, found, base = _list_graph(output, find)
        self.nodes: Sequence[Value | None] = nodes  # (None only in a listing made by ``of``: see there)
        n = len(nodes)
        self.first = np.fromiter(first, dtype=np.intp, count=n)
        self.first -= base
        self.second = np.fromiter(second, dtype=np.intp, count=n)
        self.second -= base
        self.found = np.fromiter(found, dtype=np.intp, count=len(found))
        self.found -= base
        self.op_names, self.op_codes = self._op_codes(np, rules, self.first >= 0)

    @classmethod
    def of(
        cls,
        nodes: list[Value | None],
        first: IndexArray,
        second: IndexArray,
        op_names: list[str],
        op_codes: IndexArray,
        found: IndexArray,
    ) -> _Traced:
        """A listing written elsewhere (``mlp_listing``): the arrays ``__init__`` would make, and ``nodes`` with the
        leaves' Values (the other entries are never read)."""
        traced = cls.__new__(cls)
        traced.nodes, traced.first, traced.second, traced.found = nodes, first, second, found
        traced.op_names, traced.op_codes = op_names, op_codes
        return traced

    @staticmethod
    def _op_codes(np: ModuleType, rules: list[Op | None], computed: NDArray[np.bool_]) -> tuple[list[str], IndexArray]:
        """The distinct op names ('' for a leaf) and each node's code into them, from the rules of the ``computed``
        nodes (a boolean array). The few distinct rules are named once each; codes are numbered in order of first
        appearance, so they follow the graph, not addresses (the first node is always a leaf: '' is code 0)."""
        ids = np.fromiter(map(id, rules), dtype=np.uint64, count=len(rules))
        rule_codes = np.empty(len(rules), dtype=np.intp)
        names = [""]
        unnamed = ids
        while unnamed.size:  # one whole-array pass per distinct rule (a graph has a handful)
            rule_id = unnamed[0]
            is_rule = ids == rule_id
            name = _rule_name(rules[int(np.argmax(is_rule))])
            if name not in names:
                names.append(name)
            rule_codes[is_rule] = names.index(name)
            unnamed = unnamed[unnamed != rule_id]
        codes = np.zeros(computed.size, dtype=np.intp)
        codes[computed] = rule_codes
        return names, codes

    def has_op(self, *names: str) -> NDArray[np.bool_]:
        """A boolean array: which nodes' op is one of ``names``."""
        import numpy as np

        return np.array([name in names for name in self.op_names], dtype=bool)[self.op_codes]

    def signature(self) -> tuple[int, int]:
        """Node count and a hash of every op and operand link: equal for graphs of the same structure."""
        return (
            len(self.nodes),
            hash((tuple(self.op_names), self.op_codes.tobytes(), self.first.tobytes(), self.second.tobytes())),
        )

    def parents_of(self, i: int) -> tuple[int, ...]:
        """Node ``i``'s operands, as node indices."""
        x, y = int(self.first[i]), int(self.second[i])
        return () if x < 0 else (x,) if y < 0 else (x, y)


def _fuse(traced: _Traced, keep: set[int]) -> tuple[list[KernelNode], IndexArray, list[int]]:
    """Turn the traced nodes into kernel nodes: ``("op", name, operands)``, ``("sum", plain, plain_sign, left,
    right, prod_sign)`` (arrays, ``_flatten_sums``) or ``("prod", factors)``; leaves and absorbed nodes are ``()``.
    Returns them with the indices of the leaves (an array) and of the computed nodes that remain (a list), each in
    graph order.

    A node is absorbed when its only consumer is of the same family (a sum into a sum, a product into a product,
    a binary product into a sum as a product term). The output and the nodes in ``keep`` (indices) are never
    absorbed: they must have a slot that ``Tape.read`` can read.
    """
    import numpy as np

    n = len(traced.nodes)
    # Which nodes are absorbed, decided with whole-array operations (one Python step per node is what made
    # compiling a million-node graph slow).
    first, second = traced.first, traced.second
    index = np.arange(n)
    uses = np.bincount(first[first >= 0], minlength=n) + np.bincount(second[second >= 0], minlength=n)
    consumer = np.full(n, -1, dtype=np.intp)
    consumer[first[first >= 0]] = index[first >= 0]
    consumer[second[second >= 0]] = index[second >= 0]
    if keep:
        uses[np.fromiter(keep, dtype=np.intp, count=len(keep))] += 1  # an outside reader is a second consumer
    is_mul = traced.has_op("mul")
    is_sum = traced.has_op(*_SUMS)
    single_use = (uses == 1) & (index != n - 1)  # the root is never absorbed
    into_prod = is_mul & single_use & is_mul[consumer]
    product_of_products = into_prod[first] & (first >= 0) | into_prod[second] & (second >= 0)
    into_sum = single_use & is_sum[consumer] & (is_sum | is_mul & ~product_of_products)

    sums = _flatten_sums(np, first, second, consumer, is_sum, traced.has_op("sub"), into_sum, into_prod)
    if product_of_products.any():  # (as lists for _flatten_prod's Python walk; most graphs have no such chain)
        into_prod_list, first_list, second_list = into_prod.tolist(), first.tolist(), second.tolist()
    names, codes = traced.op_names, traced.op_codes.tolist()
    kernel_nodes: list[KernelNode] = [()] * n
    computed = np.flatnonzero(~(into_sum | into_prod) & (first >= 0)).tolist()
    for i in computed:
        name = names[codes[i]]
        if name in _SUMS:
            kernel_nodes[i] = sums[i]
        elif name == "mul" and product_of_products[i]:
            kernel_nodes[i] = ("prod", _flatten_prod(i, first_list, second_list, into_prod_list))
        else:
            kernel_nodes[i] = ("op", name, traced.parents_of(i))
    return kernel_nodes, np.flatnonzero(first < 0), computed


def _flatten_sums(
    np: ModuleType,
    first: IndexArray,
    second: IndexArray,
    consumer: IndexArray,
    is_sum: NDArray[np.bool_],
    is_sub: NDArray[np.bool_],
    into_sum: NDArray[np.bool_],
    into_prod: NDArray[np.bool_],
) -> dict[int, KernelNode]:
    """Every kept sum's signed terms: ``{i: ("sum", plain, plain_sign, left, right, prod_sign)}`` (arrays).

    A kept sum node (the root of a fused chain) owns the terms of every sum node absorbed into it: their operands
    that are not absorbed are its plain terms, the products absorbed into them its product terms. Found for all
    chains at once: each absorbed node follows its consumer to the root by pointer jumping (log2 of the chain's
    length passes over arrays, not one Python step per node), carrying the product of the signs on the way (the
    second operand of a ``-`` flips it). Terms are ordered by the node that holds them and their operand
    position, which is left to right for a chain ``b + w0 x0 + w1 x1 + ...``.
    """
    n = first.size
    index = np.arange(n)
    safe = np.where(into_sum, consumer, 0)
    flip = into_sum & is_sub[safe] & (second[safe] == index)  # the link to the consumer negates (x - this)
    root = np.where(into_sum, consumer, index)
    after = np.empty_like(root)
    while True:  # (the sign kept as a parity of flips, and written in place: no new arrays per pass)
        np.take(root, root, out=after)
        if np.array_equal(after, root):
            break
        flip ^= flip[root]
        root, after = after, root
    sign = np.where(flip, -1.0, 1.0)
    holders = np.flatnonzero(is_sum)  # every sum node, absorbed or kept, holds terms
    columns = []  # (root, holder, position, plain operand or -1, product's left, right, sign)
    for position, operand in ((0, first), (1, second)):
        o = operand[holders]
        plain = ~into_sum[o]
        h = holders[plain]
        term_sign = sign[h] * (np.where(is_sub[h], -1.0, 1.0) if position else 1.0)
        none = np.full(h.size, -1, dtype=np.intp)
        columns.append((root[h], h, np.full(h.size, position), o[plain], none, none, term_sign))
    products = np.flatnonzero(into_sum & ~is_sum)  # absorbed products (mul nodes)
    holder = consumer[products]
    none = np.full(products.size, -1, dtype=np.intp)
    columns.append(
        (
            root[products],
            holder,
            (second[holder] == products).astype(np.intp),
            none,
            first[products],
            second[products],
            sign[products],
        )
    )
    roots, holder, position, plain, left, right, term_sign = (np.concatenate(c) for c in zip(*columns, strict=True))
    # Ordered by root, then holder, then operand position: one sort of a combined key (lexsort's three passes
    # cost ten times as much on a layer's tens of thousands of terms).
    order = np.argsort((roots.astype(np.int64) * n + holder) * 2 + position, kind="stable")
    roots, plain, left, right, term_sign = (x[order] for x in (roots, plain, left, right, term_sign))
    starts = np.flatnonzero(np.r_[True, roots[1:] != roots[:-1]]) if roots.size else np.zeros(0, np.intp)
    ends = np.r_[starts[1:], roots.size] if roots.size else starts
    result: dict[int, KernelNode] = {}
    for r, a, b in zip(roots[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
        is_plain = plain[a:b] >= 0
        result[r] = (
            "sum",
            plain[a:b][is_plain],
            term_sign[a:b][is_plain],
            left[a:b][~is_plain],
            right[a:b][~is_plain],
            term_sign[a:b][~is_plain],
        )
    return result


def _flatten_prod(i: int, first: list[int], second: list[int], into_prod: list[bool]) -> list[int]:
    factors: list[int] = []
    stack = [i]
    while stack:
        j = stack.pop()
        if j != i and not into_prod[j]:
            factors.append(j)
            continue  # (a plain jump back: see _list_graph)
        stack.append(second[j])
        stack.append(first[j])
    return factors


def _operands(node: KernelNode) -> list[int] | IndexArray:
    if node[0] == "op":
        return list(node[2])
    if node[0] == "prod":
        return node[1]
    import numpy as np

    return np.concatenate([node[1], node[3], node[4]])


def _group_key(node: KernelNode, depth: int) -> tuple[Any, ...]:
    if node[0] == "op":
        return (depth, "op", node[1])
    if node[0] == "prod":
        return (depth, "prod", len(node[1]))
    return (depth, "sum", len(node[1]), len(node[3]))


def _schedule(
    traced: _Traced, keep: set[int], batched: IndexArray | Sequence[int] = (), params: IndexArray | Sequence[int] = ()
) -> tuple[list[Value], list[Kernel], IndexArray, int]:
    """Group the kernel nodes by depth and kind; return the leaves, the kernels, the output's slot and the size.

    Built twice: the first build shows in which order the kernels read the leaves; the second gives the leaves
    their slots in that order, so that reading a layer's weights or a batch of inputs is a slice, not a gather.
    For a batch tape, ``params`` (node indices of leaves, an array) come first and ``batched`` ones last, each part
    in that read order: the parameters then fill the first slots, where the optimizer can move them in place.
    """
    import numpy as np

    from . import kernels as tk

    kernel_nodes, leaves, computed = _fuse(traced, keep)
    depth = np.zeros(len(kernel_nodes), dtype=np.intp)
    groups: dict[tuple[Any, ...], list[int]] = {}  # insertion-ordered: the same graph always gives the same schedule
    for i in computed:
        node = kernel_nodes[i]
        depth[i] = 1 + depth[_operands(node)].max()
        groups.setdefault(_group_key(node, int(depth[i])), []).append(i)
    ordered_keys = sorted(groups, key=lambda k: k[0])  # a stable sort: depth first, then first appearance

    first_kernels, first_slot = _build(np, tk, kernel_nodes, groups, ordered_keys, leaves)
    # A layer's weights and inputs first: they are read as whole matrices, so consecutive slots matter most.
    layers = [k for k in first_kernels if isinstance(k, tk.SumKernel) and k.is_layer()]
    others = [k for k in first_kernels if not (isinstance(k, tk.SumKernel) and k.is_layer())]
    reads = [index for kernel in layers + others for index in kernel.reads()]
    read_order = np.concatenate([index.ravel() for index in reads] + [np.arange(len(leaves))])
    read_order = read_order[read_order < len(leaves)]
    _, first_read = np.unique(read_order, return_index=True)
    new_order = np.argsort(first_read, kind="stable")
    if len(batched) or len(params):
        rank = np.ones(len(kernel_nodes), dtype=np.intp)  # parameters 0, other leaves 1, batched leaves 2
        rank[params] = 0
        rank[batched] = 2
        new_order = new_order[np.argsort(rank[leaves[new_order]], kind="stable")]
    if np.array_equal(new_order, np.arange(len(leaves))):
        kernels, slot = first_kernels, first_slot
    else:
        leaves = leaves[new_order]
        kernels, slot = _build(np, tk, kernel_nodes, groups, ordered_keys, leaves)
    size = len(leaves) + sum(len(members) for members in groups.values())
    leaf_values = cast("list[Value]", list(map(traced.nodes.__getitem__, leaves.tolist())))  # a leaf has its Value
    return leaf_values, kernels, slot, size


def _build(
    np: ModuleType,
    tk: ModuleType,
    kernel_nodes: list[KernelNode],
    groups: dict[tuple[Any, ...], list[int]],
    ordered_keys: list[tuple[Any, ...]],
    leaves: IndexArray,
) -> tuple[list[Kernel], IndexArray]:
    """Assign slots (leaves first, in the order given, then group by group) and build one kernel per group."""
    slot = np.full(len(kernel_nodes), -1, dtype=np.intp)
    slot[leaves] = np.arange(len(leaves))
    next_slot = len(leaves)
    kernels: list[Kernel] = []
    for key in ordered_keys:
        members = groups[key]
        kind = key[1]
        if kind == "sum":
            kernel, members = _sum_kernel(np, tk, kernel_nodes, members, slot, next_slot)
        else:
            # Ordering a group by its first operand's slot turns most operand reads into slices.
            members = sorted(members, key=lambda i: slot[_operands(kernel_nodes[i])[0]])
            out = slice(next_slot, next_slot + len(members))
            if kind == "prod":
                factors = np.array([[slot[j] for j in kernel_nodes[i][1]] for i in members], dtype=np.intp)
                kernel = tk.ProdKernel(out, factors)
            else:
                arity = OPS[key[2]].arity
                operands = [
                    np.array([slot[kernel_nodes[i][2][k]] for i in members], dtype=np.intp) for k in range(arity)
                ]
                kernel = tk.OpKernel(OPS[key[2]], out, operands)
        slot[members] = np.arange(next_slot, next_slot + len(members))
        next_slot += len(members)
        kernels.append(kernel)
    return kernels, slot


def _signs(np: ModuleType, signs: FloatArray) -> FloatArray | None:
    """The sign matrix, or None when every sign is +1 (the common case, which then costs nothing)."""
    return None if signs.size == 0 or bool(np.all(signs == 1.0)) else signs


def _distinct_rows(np: ModuleType, matrix: IndexArray) -> tuple[IndexArray, IndexArray]:
    """The distinct rows of an integer matrix, ordered by their first entry, and each row's index among them.

    Rows are compared as raw bytes (much faster than ``np.unique(axis=0)`` on wide rows); ordering them by their
    first slot makes the order follow the slots, which is what lets a layer's weights be read as one slice.
    """
    n = matrix.shape[0]
    if n == 1:
        return matrix, np.zeros(1, dtype=np.intp)
    rows_as_bytes = np.ascontiguousarray(matrix).view(np.dtype((np.void, matrix.dtype.itemsize * matrix.shape[1])))
    _, first, which = np.unique(rows_as_bytes.ravel(), return_index=True, return_inverse=True)
    rows = matrix[first]
    order = np.lexsort((first, rows[:, 0]))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rows[order], rank[which.ravel()]


def _sum_kernel(
    np: ModuleType,
    tk: ModuleType,
    kernel_nodes: list[KernelNode],
    members: list[int],
    slot: IndexArray,
    next_slot: int,
) -> tuple[SumKernel, list[int]]:
    """Build a SumKernel for a group of sums of one shape, as a matrix product when the products allow it."""
    n = len(members)
    sums = [kernel_nodes[i] for i in members]
    # Every member has the same numbers of plain and product terms (the group key says so).
    plain = slot[np.array([node[1] for node in sums], dtype=np.intp).reshape(n, -1)]
    plain_sign = np.array([node[2] for node in sums], dtype=np.float64).reshape(n, -1)
    left = slot[np.array([node[3] for node in sums], dtype=np.intp).reshape(n, -1)]
    right = slot[np.array([node[4] for node in sums], dtype=np.intp).reshape(n, -1)]
    prod_sign = np.array([node[5] for node in sums], dtype=np.float64).reshape(n, -1)
    matmul = None
    order = None
    if left.shape[1] and np.all(prod_sign == 1.0):
        # Products that pair every distinct left row with every distinct right row exactly once are a layer
        # applied to a batch: out[i, j] = right_rows[i] . left_rows[j], one matrix product.
        left_rows, which_left = _distinct_rows(np, left)
        right_rows, which_right = _distinct_rows(np, right)
        a, b = len(left_rows), len(right_rows)
        cell = which_right.ravel() * a + which_left.ravel()
        # (Counted with bincount: a plain np.unique imports numpy.ma, some 20 ms, on its first call.)
        if a * b == n and np.bincount(cell, minlength=n).max() == 1:
            order = np.argsort(cell, kind="stable")
            matmul = (left_rows, right_rows)
    if order is None:
        # Ordering rows by their first operand's slot turns most operand reads into slices.
        order = np.argsort(plain[:, 0] if plain.shape[1] else left[:, 0], kind="stable")
    members = [members[k] for k in order]
    plain, left, right, plain_sign, prod_sign = (x[order] for x in (plain, left, right, plain_sign, prod_sign))
    out = slice(next_slot, next_slot + n)
    kernel = tk.SumKernel(out, plain, _signs(np, plain_sign), left, right, _signs(np, prod_sign), matmul)
    return kernel, members


class Tape:
    """A traced graph that replays with NumPy. Build one with ``jangrad.compile(output)``.

    >>> x = Value(2.0); y = x * x + 3.0 * x
    >>> tape = compile(y)
    >>> x.data = 5.0
    >>> tape.forward()
    40.0
    >>> tape.backward(); x.grad
    13.0

    A tape keeps its working arrays between calls, so one tape must not be replayed by two threads at once (give
    each thread its own ``compile``): a second thread that tries gets a RuntimeError instead of mixed-up values.
    """

    def __init__(self, output: Value, inputs: Iterable[Value] | None = None, keep: Iterable[Value] = ()) -> None:
        import numpy as np

        if not isinstance(output, Value):
            raise TypeError(
                f"compile() needs the Value a graph ends in, got {output!r} of type {type(output).__name__}"
            )
        from .kernels import NUMPY_MATH, plan_gradients

        self._np = np
        self._math = NUMPY_MATH
        self.output = output
        self._root_links = (output.parents, output._rule)
        keep = _listed(keep, "keep")
        for node in keep:
            if not isinstance(node, Value):
                raise ValueError(f"keep must list Values of this graph, got {node!r}")
        traced = _Traced(output, keep)
        for node, i in zip(keep, traced.found.tolist(), strict=True):
            if i < 0:
                raise ValueError(f"keep must list Values of this graph, got {node!r}")
        kept = set(traced.found.tolist())
        self._signature = traced.signature()
        self._nodes = traced.nodes  # for read(), which finds a node's position in them on its first call
        self._index: _Positions | None = None
        self.leaves, self._kernels, self._slot, size = _schedule(traced, kept)
        self._out_slot = int(self._slot[-1])
        self.size = len(traced.nodes)
        self._vals = np.zeros(size)
        self._leaf_data = self._vals[: len(self.leaves)]
        self._read_leaves()  # so that leaf_data() holds the graph's numbers before any forward()
        self._grads = np.zeros(size)
        self._grads_lent = False  # leaf_grads() handed out a view of _grads: the next pass writes a new array
        self._zero_first = plan_gradients(self._kernels, size, self._out_slot)
        self._targets = self._grad_targets(inputs)
        self._ran_forward = False
        self._replaying = threading.Lock()

    @contextlib.contextmanager
    def _replay(self) -> Iterator[None]:
        if not self._replaying.acquire(blocking=False):
            raise RuntimeError("another thread is replaying this tape: give each thread its own compile()")
        try:
            yield
        finally:
            self._replaying.release()

    def _grad_targets(self, inputs: Iterable[Value] | None) -> tuple[list[Value], slice | IndexArray]:
        """The leaves that backward() writes to, and their slots (a slice, or an index array)."""
        if inputs is None:
            return self.leaves, slice(0, len(self.leaves))
        position = {id(leaf): k for k, leaf in enumerate(self.leaves)}
        chosen, slots = [], []
        for x in _listed(inputs, "inputs"):
            if not isinstance(x, Value):
                raise TypeError(f"inputs must be Values, got {x!r} of type {type(x).__name__}")
            if id(x) in position:  # an input the output does not depend on keeps its .grad, as in PyTorch
                chosen.append(x)
                slots.append(position.pop(id(x)))  # popped: a leaf listed twice still gets its gradient once
        return chosen, self._np.array(slots, dtype=self._np.intp)

    @property
    def depth(self) -> int:
        """How many groups run one after another (the sequential length of a replay)."""
        return len(self._kernels)

    def __repr__(self) -> str:
        return (
            f"Tape({self.size} nodes, {len(self.leaves)} leaves, {len(self._kernels)} kernels, "
            f"output={self.output.data!r})"
        )

    def forward(self, values: ArrayLike | None = None) -> float:
        """Re-read every leaf's ``.data``, recompute every node; return the output (also written to its .data).

        ``values``: instead of reading the leaves' ``.data``, take their numbers from this array (one per leaf, in
        ``tape.leaves`` order; the Values are not read). For data that already lives in arrays, this skips a
        Python attribute read per leaf; given ``tape.leaf_data()`` itself, the numbers are not even copied.
        """
        with self._replay():
            return self._forward(values)

    def _forward(self, values: ArrayLike | None = None) -> float:
        np = self._np
        parents, op = self._root_links
        now = self.output.parents
        if (
            op is not self.output._rule
            or len(now) != len(parents)
            or any(a is not b for a, b in zip(now, parents, strict=True))
        ):
            raise GraphChangedError("the output node was rewired after compile(): compile the new graph")
        vals = self._vals
        if values is not None:
            array = np.asarray(values, dtype=np.float64)
            if array.shape != (len(self.leaves),):
                raise ValueError(
                    f"values must hold one number per leaf ({len(self.leaves)}, in tape.leaves "
                    f"order), got an array of shape {array.shape}"
                )
            if array is not self._leaf_data:  # the tape's own leaf array is read in place, with no copy
                vals[: len(self.leaves)] = array
            return self._run_forward()
        self._read_leaves()
        return self._run_forward()

    def _read_leaves(self) -> None:
        """Every leaf's ``.data`` into the tape's leaf array."""
        datas = list(map(_read_data, self.leaves))
        # NumPy would turn None into nan and "1.5" into 1.5: only real numbers may pass (a set of types is cheap).
        if not _PLAIN_NUMBERS.issuperset(map(type, datas)):
            for data in datas:
                if not isinstance(data, numbers.Real):
                    raise TypeError(
                        f"every leaf's .data must be a real number: got {data!r} of type {type(data).__name__}"
                    )
        self._leaf_data[:] = self._np.fromiter(datas, self._np.float64, len(self.leaves))

    def _run_forward(self) -> float:
        np, vals = self._np, self._vals
        with np.errstate(all="ignore"):
            for kernel in self._kernels:
                kernel.forward(vals, self._math)
        result = float(vals[self._out_slot])
        self.output.data = result
        self._ran_forward = True
        return result

    def backward(self, gradient: float = 1.0, write_grads: bool = True) -> None:
        """Add d output / d leaf to every leaf's ``.grad`` (or only the ``inputs`` given to ``compile``).

        Uses the values of the last ``forward()`` (run here first if there was none). ``write_grads=False``
        leaves every ``.grad`` alone: read the gradients as an array with ``leaf_grads()`` instead.
        """
        if not isinstance(write_grads, bool):
            raise TypeError(f"write_grads must be True or False, got {write_grads!r}")
        with self._replay():
            self._backward(gradient, write_grads)

    def leaf_data(self) -> FloatArray:
        """The tape's own array of leaf values, in ``tape.leaves`` order: the numbers the last ``forward()`` used
        (before any, the leaves' ``.data`` when the tape was compiled).

        Write new numbers into it (``tape.leaf_data()[:] = ...``, or in place as an optimizer would) and replay with
        ``tape.forward(tape.leaf_data())``: the tape reads them where they are, as PyTorch reads a tensor's storage,
        instead of copying every number in. ``forward()`` without ``values`` overwrites it with the leaves' ``.data``.
        """
        return self._leaf_data

    def leaf_grads(self) -> FloatArray:
        """d output / d leaf from the last ``backward()``, one per leaf in ``tape.leaves`` order (a NumPy array).

        The array is yours, as a tensor's ``.grad`` is after PyTorch's backward: the next ``backward()`` writes its
        gradients into a new array rather than into this one (so handing it out costs no copy)."""
        self._grads_lent = True
        return self._grads[: len(self.leaves)]

    def _backward(self, gradient: float, write_grads: bool = True) -> None:
        np = self._np
        if not self._ran_forward:
            self._forward()
        seed = as_float(gradient, "gradient")  # the same check as Value.backward's
        if self._grads_lent:
            self._grads = self._np.empty_like(self._grads)
            self._grads_lent = False
        # Most slots are written (not added to) by the first contribution they get (kernels.plan_gradients);
        # only the others start from zero.
        grads = self._grads
        grads[self._zero_first] = 0.0
        grads[self._out_slot] = seed
        vals = self._vals
        with np.errstate(all="ignore"):
            for kernel in reversed(self._kernels):
                kernel.backward(vals, grads, self._math)
        if not write_grads:
            return
        targets, slots = self._targets
        for leaf, g in zip(targets, grads[slots].tolist(), strict=True):
            leaf.grad = leaf.grad + g

    def read(self, nodes: Iterable[Value]) -> list[float]:
        """The values from the last ``forward()`` of nodes of this graph that have a slot: leaves, the output, the
        nodes given as ``keep`` to ``compile``, and any node not merged into a fused sum or product."""
        if self._index is None:
            self._index = _Positions(self._np, self._nodes)
        slots = []
        for node in _listed(nodes, "nodes"):
            i = self._index.get(id(node))
            if i is None or self._slot[i] < 0:
                raise ValueError(f"{node!r} has no value in this tape: pass it in compile(..., keep=[...])")
            slots.append(self._slot[i])
        return self._vals[slots].tolist()

    def check(self, output: Value) -> None:
        """Raise ``GraphChangedError`` unless ``output``'s graph has exactly the traced structure.

        Use it to test whether a tape may stand in for a graph that your code builds anew (one traversal).
        """
        if not isinstance(output, Value):
            raise TypeError(f"check() needs the Value a graph ends in, got {output!r} of type {type(output).__name__}")
        if _Traced(output).signature() != self._signature:
            raise GraphChangedError(
                "this graph's structure differs from the one the tape was compiled from "
                "(data-dependent Python control flow?): compile it again"
            )


def compile(output: Value, inputs: Iterable[Value] | None = None, keep: Iterable[Value] = ()) -> Tape:
    """Trace the graph that produced ``output`` into a ``Tape`` that replays it with NumPy.

    ``inputs``: if given, ``tape.backward()`` adds gradients only to these leaves (like PyTorch's
    ``backward(inputs=...)``), which saves a Python loop over constants and data leaves.
    ``keep``: nodes whose values you want to ``tape.read()`` after each forward (a model's predictions, say); they
    are kept out of fused sums and products.
    """
    return Tape(output, inputs, keep)
