"""The compiled tape's third interpreter: the op table's rules run on NumPy arrays, one group of nodes at a time.

``NUMPY_MATH`` is the maths namespace that ``ops.OPS`` rules receive here (the float and Value ones live in
``ops.py`` and ``engine.py``): IEEE float64 semantics, element by element, with the same branches as
``ops.FloatMath`` so that a tape gives the eager engine's numbers. Callers run it under
``np.errstate(all="ignore")``: inf and nan are results, never warnings.

The kernels are what ``compile.py`` schedules. Each owns one group of nodes that sit at the same depth of the
graph and do the same thing, so one NumPy call does the work of many scalar nodes:

* ``OpKernel``: any op of the table, running its own ``forward``/``backward`` rule on arrays;
* ``SumKernel``: a flattened chain of ``+``/``-`` (an n-ary signed sum), whose terms may be products taken
  straight from ``mul`` nodes; when the products of a group form a full outer product of distinct weight rows and
  distinct input rows (a layer applied to a batch) it runs as one matrix product;
* ``ProdKernel``: a flattened chain of ``*`` (an n-ary product).

Every node's value and gradient live in two flat float64 arrays indexed by "slot"; kernels read their operands
with ``Gather``s and add gradient contributions with ``Scatter``s, both prepared once at compile time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast

import numpy as np

from ..ops import OPS, Op

if TYPE_CHECKING:
    from numpy.typing import NDArray

FloatArray: TypeAlias = "NDArray[np.float64]"
"""Values, gradients and whatever a rule computes from them: float64, IEEE semantics."""
IndexArray: TypeAlias = "NDArray[np.intp]"
"""Slots (positions in the value and gradient arrays), in any shape."""

__all__ = [
    "NUMPY_MATH",
    "NumpyMath",
    "Gather",
    "Scatter",
    "plan_gradients",
    "OpKernel",
    "SumKernel",
    "ProdKernel",
    "matmul",
    "FloatArray",
    "IndexArray",
    "Kernel",
]

# (Typed for the arrays it is given here; NumPy's stubs also allow a scalar, which would come back a float.)
_erf_object = cast("Callable[[FloatArray], NDArray[np.object_]]", np.frompyfunc(math.erf, 1, 1))


class NumpyMath:
    """IEEE float64 maths on arrays, branch for branch the same as ``ops.FloatMath`` on floats."""

    @staticmethod
    def div(a: FloatArray, b: FloatArray) -> FloatArray:
        return np.divide(a, b)

    @staticmethod
    def pow(a: FloatArray, b: FloatArray) -> FloatArray:
        return np.power(a, b)

    @staticmethod
    def power_rule(x: FloatArray, k: FloatArray) -> FloatArray:
        """k x^(k-1); 0 where k = 0, even at x = 0 (x^0 is constant), as ``FloatMath.power_rule``."""
        return np.where(k == 0.0, 0.0, k * np.power(x, k - 1.0))

    @staticmethod
    def power_grad(g: FloatArray, x: FloatArray, k: FloatArray) -> FloatArray:
        """g k x^(k-1), exactly 0 where k = 0 whatever g is, as ``FloatMath.power_grad``."""
        return np.where(k == 0.0, 0.0, g * NumpyMath.power_rule(x, k))

    @staticmethod
    def exp(a: FloatArray) -> FloatArray:
        return np.exp(a)

    @staticmethod
    def log(a: FloatArray) -> FloatArray:
        return np.log(a)

    @staticmethod
    def sqrt(a: FloatArray) -> FloatArray:
        return np.sqrt(a)

    @staticmethod
    def tanh(a: FloatArray) -> FloatArray:
        return np.tanh(a)

    @staticmethod
    def erf(a: FloatArray) -> FloatArray:
        # NumPy has no erf; math.erf element by element gives exactly the eager engine's numbers.
        return _erf_object(a).astype(np.float64)

    @staticmethod
    def sigmoid(a: FloatArray) -> FloatArray:
        # FloatMath's two branches, both from e = exp(-|a|), so exp never overflows.
        e = np.exp(-np.abs(a))
        return np.where(a >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))

    @staticmethod
    def relu(a: FloatArray) -> FloatArray:
        return np.where(a <= 0.0, 0.0, a)  # nan <= 0 is False: relu(nan) is nan

    @staticmethod
    def leaky_relu(a: FloatArray, slope: FloatArray) -> FloatArray:
        return np.where(a <= 0.0, slope * a, a)

    @staticmethod
    def where_positive(a: FloatArray, g: FloatArray) -> FloatArray:
        """g where a > 0, else 0 (a choice, not a product), as ``FloatMath.where_positive``."""
        return np.where(a > 0.0, g, 0.0)

    @staticmethod
    def step(a: FloatArray) -> FloatArray:
        return np.where(a > 0.0, 1.0, 0.0)

    @staticmethod
    def sign(a: FloatArray) -> FloatArray:
        return np.where(a > 0.0, 1.0, np.where(a < 0.0, -1.0, a * 0.0))  # 0 stays 0, nan stays nan


NUMPY_MATH = NumpyMath()


# ---- rules that write into place ------------------------------------------------------------------------------
# A batch kernel writes an op's result into its rows of the store. For relu, most networks' activation, the rules
# below do so with no new array: a fresh (rows, batch) array per pass and per step, plus its copy into place, cost
# more than the passes themselves (their memory is cold). They give NumpyMath.relu's and where_positive's numbers
# bit for bit: each is a choice between a value and +0.0, made on the bits (a value's bits kept, or all cleared),
# so no arithmetic can touch a nan, an infinity or the sign of a zero.
def _relu_into(x: FloatArray, out: FloatArray) -> None:
    """``out[...] = NumpyMath.relu(x)``: x where not x <= 0 (a nan passes), else +0.0."""
    keep = np.subtract(x <= 0.0, 1, dtype=np.uint64)  # all bits set where x > 0 or x is nan, none elsewhere
    np.bitwise_and(x.view(np.uint64), keep, out=out.view(np.uint64))


def _where_positive_into(x: FloatArray, g: FloatArray, out: FloatArray) -> None:
    """``out[...] = NumpyMath.where_positive(x, g)``: g where x > 0, else +0.0."""
    keep = np.negative(x > 0.0, dtype=np.uint64)  # all bits set where x > 0, none elsewhere
    np.bitwise_and(g.view(np.uint64), keep, out=out.view(np.uint64))


IN_PLACE: dict[
    str, tuple[Callable[[FloatArray, FloatArray], None], Callable[[FloatArray, FloatArray, FloatArray], None]]
] = {"relu": (_relu_into, _where_positive_into)}
"""Rules with a form that writes into given C-contiguous float64 arrays: ``forward(x, out)``, ``backward(x, g,
out)`` (the contribution to x's gradient), bit for bit the op's own rules on NUMPY_MATH."""


# ---- reading operands and adding gradients --------------------------------------------------------------------
def _contiguous_start(index: IndexArray) -> int | None:
    """The first slot if ``index`` (any shape) is a run of consecutive slots in order, else None."""
    flat = index.ravel()
    if flat.size == 0:
        return None
    start = int(flat[0])
    if int(flat[-1]) - start != flat.size - 1:  # the quick rejection that settles most cases
        return None
    if flat.size <= 2 or np.array_equal(flat, np.arange(start, start + flat.size)):
        return start
    return None


class Gather:
    """Reads ``vals`` at an index array of any shape: a slice view when the slots are consecutive."""

    def __init__(self, index: IndexArray) -> None:
        self.index: IndexArray = np.asarray(index, dtype=np.intp)
        self.shape = self.index.shape
        start = _contiguous_start(self.index)
        self.window = None if start is None else slice(start, start + self.index.size)

    def __call__(self, vals: FloatArray) -> FloatArray:
        if self.window is not None:
            return vals[self.window].reshape(self.shape)
        return vals[self.index]


class Scatter:
    """Adds contributions into ``grads`` at an index array, summing repeated slots (a node used twice).

    Chosen once at compile time: a slice when the slots are consecutive, a plain fancy ``+=`` when no slot
    repeats, else ``np.bincount`` over the distinct slots only, so the cost follows the group, not the graph.

    ``assign`` (set by ``plan_gradients``) says that this is the first contribution every one of its slots gets in
    a backward pass: it then writes (``=``) instead of adding, so the gradient array needs no zeroing first, and a
    product can be written straight into place (``add_product``).
    """

    def __init__(self, index: IndexArray) -> None:
        flat: IndexArray = np.asarray(index, dtype=np.intp).ravel()
        self.size = flat.size
        start = _contiguous_start(flat)
        self.window = None if start is None else slice(start, start + flat.size)
        self.targets = flat
        self.local: IndexArray | None = None  # with repeated slots: each entry's place among the distinct ones
        self.assign = False
        if self.window is None and flat.size > 1:
            unique, local = np.unique(flat, return_inverse=True)
            if unique.size < flat.size:
                self.targets = unique
                self.local = local.ravel()
                start = _contiguous_start(unique)
                self.window = None if start is None else slice(start, start + unique.size)

    def slots(self) -> IndexArray:
        """The distinct slots this scatter writes to."""
        if self.window is not None:
            return np.arange(self.window.start, self.window.stop)
        return self.targets

    def add(self, grads: FloatArray, contribution: FloatArray) -> None:
        """``contribution`` holds one number per index entry (any shape with that many elements)."""
        # (Any: NumPy's stubs type bincount's result as ints, even with float weights.)
        c: NDArray[Any] = contribution.reshape(-1)
        if self.local is not None:
            c = np.bincount(self.local, weights=c, minlength=self.targets.size)
        where = self.window if self.window is not None else self.targets
        if self.assign:
            grads[where] = c
        else:
            grads[where] += c

    def add_product(self, grads: FloatArray, values: FloatArray, factor: FloatArray) -> None:
        """``add(grads, values * factor)`` (``factor`` broadcasts to ``values``' shape), multiplied straight into
        ``grads`` when this scatter writes first to a window, with no array in between."""
        if self.assign and self.window is not None and self.local is None:
            np.multiply(values, factor, out=grads[self.window].reshape(values.shape))
        else:
            self.add(grads, values * factor)

    def add_matmul(self, grads: FloatArray, a: FloatArray, b: FloatArray) -> None:
        """``add(grads, matmul(a, b))``, the product written straight into ``grads`` when this scatter writes first
        to a window: a fresh array and its copy into place are two passes more over the gradients than the product
        itself (most of a long dot product's backward)."""
        if self.assign and self.window is not None and self.local is None:
            out = grads[self.window].reshape(a.shape[0], b.shape[1])
            if a.shape[-1] == 1:  # as matmul() below: an outer product, broadcast
                np.multiply(a, b, out=out)
            else:
                np.matmul(a, b, out=out)
        else:
            self.add(grads, matmul(a, b))


class PlannedScatter(Protocol):
    """What ``plan_gradients`` needs of a scatter (``Scatter``, ``batch_kernels.BatchScatter``)."""

    assign: bool

    def slots(self) -> IndexArray: ...


class ScatteringKernel(Protocol):
    """What ``plan_gradients`` needs of a kernel: its scatters, in the order its ``backward`` runs them."""

    def scatters(self) -> Sequence[PlannedScatter]: ...


def plan_gradients(kernels: Sequence[ScatteringKernel], size: int, out_slot: int | None) -> IndexArray:
    """Mark every scatter that gives all its slots their first contribution of a backward pass (in the order the
    kernels run backward) as ``assign``; return the slots that must be zeroed before a pass instead (those whose
    first contribution is shared with slots written before, and those that get none at all).

    A pass then writes each gradient once instead of zeroing the whole array and adding into it.
    """
    written = np.zeros(size, dtype=bool)
    if out_slot is not None:  # the scalar tape's output, seeded before the pass
        written[out_slot] = True
    zero_first = np.zeros(size, dtype=bool)
    for kernel in reversed(kernels):
        for scatter in kernel.scatters():
            slots = scatter.slots()
            done = written[slots]
            if not done.any():
                scatter.assign = True
            elif not done.all():
                zero_first[slots[~done]] = True
            written[slots] = True
    return np.flatnonzero(zero_first | ~written)


_LARGE = 4096  # elements: above this, a sum of products is worth einsum's fixed cost (it parses its subscripts)


def matmul(a: FloatArray, b: FloatArray) -> FloatArray:
    """``a @ b``; as a broadcast product when the inner dimension is 1 (an outer product), which NumPy's matmul
    runs without BLAS, several times slower (a sum of one product each: the same numbers either way)."""
    if a.shape[-1] == 1:
        return a * b
    return a @ b


# ---- kernels ---------------------------------------------------------------------------------------------------
def rules(op: Op) -> tuple[Callable[..., Any], Callable[..., tuple[Any, ...]]]:
    """``op``'s forward and backward rules. Every op of the table has both; ``tape`` refuses an op built by hand
    (which has no forward) before any kernel is made, so the error here is a guard, not a message users meet."""
    if op.forward is None or op.backward is None:
        raise TypeError(f"the op {op.name!r} has no forward and backward rules to run on arrays")
    return op.forward, op.backward


class OpKernel:
    """A group of nodes with the same op: the op table's own rules, run once on arrays."""

    def __init__(self, op: Op, out: slice, operands: list[IndexArray]) -> None:
        self.op = op
        self.forward_rule, self.backward_rule = rules(op)
        self.out = out
        self.gathers = [Gather(index) for index in operands]
        # A constant operand (an exponent, a slope) gets no gradient: its rule returns 0 for it.
        self._scatters: list[Scatter | None] = [Scatter(index) for index in operands]
        if op.constant_operand:
            self._scatters[1] = None
        self.inputs: list[FloatArray] = []

    def reads(self) -> list[IndexArray]:
        return [gather.index for gather in self.gathers]

    def scatters(self) -> list[Scatter]:
        """The scatters in the order ``backward`` runs them (for ``plan_gradients``)."""
        return [scatter for scatter in self._scatters if scatter is not None]

    def forward(self, vals: FloatArray, m: NumpyMath) -> None:
        self.inputs = [gather(vals) for gather in self.gathers]
        vals[self.out] = self.forward_rule(m, *self.inputs)

    def backward(self, vals: FloatArray, grads: FloatArray, m: NumpyMath) -> None:
        contributions = self.backward_rule(m, grads[self.out], vals[self.out], *self.inputs)
        for scatter, c in zip(self._scatters, contributions, strict=True):
            if scatter is not None:
                scatter.add(grads, c if np.ndim(c) else np.full(scatter.size, c))


class SumKernel:
    """Signed n-ary sums ``sum_p s_p t_p + sum_k s_k l_k r_k`` over a group of rows with the same shape.

    ``plain`` (n x P) and ``left``/``right`` (n x K) are slot matrices; ``plain_sign``/``prod_sign`` are +-1 or
    None when all +1. The products use the ``mul`` rule of the op table; the sum hands each term its gradient
    times its sign, which is what the ``add`` and ``sub`` rules do link by link.

    When ``matmul`` is given (``left_rows`` a x K, ``right_rows`` b x K of distinct slot rows) row ``i * a + j``
    of the group is ``right_rows[i] . left_rows[j]`` (plus its plain terms) and the products run as one matrix
    product; plain terms that depend on ``j`` only (a layer's biases) are then added as one broadcast row.
    """

    def __init__(
        self,
        out: slice,
        plain: IndexArray,
        plain_sign: FloatArray | None,
        left: IndexArray,
        right: IndexArray,
        prod_sign: FloatArray | None,
        matmul: tuple[IndexArray, IndexArray] | None,
    ) -> None:
        self.out = out
        self.n = out.stop - out.start
        self.mul_forward, self.mul_backward = rules(OPS["mul"])
        self.grid: tuple[int, int] | None = None
        self.left: Gather | None = None  # None: no product terms (then no right, left_scatter, right_scatter)
        if matmul is not None:
            left_rows, right_rows = matmul
            self.grid = grid = (right_rows.shape[0], left_rows.shape[0])
            self.left, self.right = Gather(left_rows), Gather(right_rows)
            self.left_scatter, self.right_scatter = Scatter(left_rows), Scatter(right_rows)
            plain, plain_sign = self._as_bias(plain, plain_sign, grid)
        elif left.shape[1]:
            self.left, self.right = Gather(left), Gather(right)
            self.left_scatter, self.right_scatter = Scatter(left), Scatter(right)
        self.plain_index = plain
        self.plain = Gather(plain) if plain.shape[1] else None
        self.plain_scatter = Scatter(plain) if plain.shape[1] else None
        self.plain_sign = plain_sign
        self.prod_sign = prod_sign
        # Set by forward for backward: the products' operands.
        self.lv: FloatArray
        self.rv: FloatArray

    def _as_bias(
        self, plain: IndexArray, plain_sign: FloatArray | None, grid: tuple[int, int]
    ) -> tuple[IndexArray, FloatArray | None]:
        """Plain terms identical down every column of the grid (a layer's biases) become one row of ``a`` terms,
        and ``self.bias`` says so; otherwise the terms and signs come back unchanged."""
        self.bias = False
        if not plain.shape[1]:
            return plain, plain_sign
        b, a = grid
        terms = plain.reshape(b, a, -1)
        if not np.all(terms == terms[:1]):
            return plain, plain_sign
        if plain_sign is not None:
            signs = plain_sign.reshape(b, a, -1)
            if not np.all(signs == signs[:1]):
                return plain, plain_sign
            plain_sign = signs[0]
        self.bias = True
        return terms[0], plain_sign

    def reads(self) -> list[IndexArray]:
        indices: list[IndexArray] = [] if self.left is None else [self.left.index, self.right.index]
        return indices + ([self.plain_index] if self.plain is not None else [])

    def scatters(self) -> list[Scatter]:
        """The scatters in the order ``backward`` runs them (for ``plan_gradients``)."""
        products = [self.left_scatter, self.right_scatter] if self.left is not None else []
        plain = [self.plain_scatter] if self.plain_scatter is not None else []
        return products + plain if self.grid is not None else plain + products

    def is_layer(self) -> bool:
        """A matrix product with more than one row each way: its operands deserve consecutive slots."""
        return self.grid is not None and min(self.grid) > 1

    def _plain_total(self, plain: Gather, vals: FloatArray) -> FloatArray:
        terms = plain(vals)
        if self.plain_sign is not None:
            terms = terms * self.plain_sign
        return terms[:, 0] if terms.shape[1] == 1 else terms.sum(axis=1)

    def forward(self, vals: FloatArray, m: NumpyMath) -> None:
        if self.grid is not None:
            self.lv, self.rv = self.left(vals), self.right(vals)  # type: ignore[misc]  # a grid has both operands
            grid = vals[self.out].reshape(self.grid)
            np.matmul(self.rv, self.lv.T, out=grid)
            if self.plain is not None:
                if self.bias:
                    grid += self._plain_total(self.plain, vals)
                else:
                    vals[self.out] += self._plain_total(self.plain, vals)
            return
        total = None if self.plain is None else self._plain_total(self.plain, vals)
        if self.left is not None:
            self.lv, self.rv = self.left(vals), self.right(vals)
            if self.n == 1 and self.prod_sign is None:
                products = np.dot(self.lv[0], self.rv[0])  # one BLAS pass, no array of products
            elif self.prod_sign is None and self.lv.size > _LARGE:
                products = np.einsum("ij,ij->i", self.lv, self.rv)  # each row's products summed in one pass
            else:
                terms = self.mul_forward(m, self.lv, self.rv)
                if self.prod_sign is not None:
                    terms = terms * self.prod_sign
                products = terms[:, 0] if terms.shape[1] == 1 else terms.sum(axis=1)
            total = products if total is None else total + products
        vals[self.out] = total

    def backward(self, vals: FloatArray, grads: FloatArray, m: NumpyMath) -> None:
        g = grads[self.out]
        if self.grid is not None:
            # The mul rule (g * r, g * l) summed over the batch: a matrix product each way.
            grid = g.reshape(self.grid)
            self.left_scatter.add_matmul(grads, grid.T, self.rv)
            self.right_scatter.add_matmul(grads, grid, self.lv)
            if self.bias:
                g = grid.sum(axis=0)
        if self.plain_scatter is not None:  # (exactly when there is a self.plain)
            if self.plain_sign is not None:
                self.plain_scatter.add(grads, g[:, None] * self.plain_sign)
            elif self.plain_index.shape[1] == 1:
                self.plain_scatter.add(grads, g)
            else:
                self.plain_scatter.add(grads, np.repeat(g, self.plain_index.shape[1]))
        if self.left is None or self.grid is not None:
            return
        # The mul rule, (g * right, g * left), each term's g carrying its sign.
        g_terms = g[:, None] if self.prod_sign is None else g[:, None] * self.prod_sign
        self.left_scatter.add_product(grads, self.rv, g_terms)
        self.right_scatter.add_product(grads, self.lv, g_terms)


class ProdKernel:
    """n-ary products ``f_1 f_2 ... f_K`` over a group of rows, multiplied left to right as the chain was.

    The gradient of factor k is g times the product of all the other factors, taken from running products from
    the left and from the right, so a zero factor gives the same numbers as the chain of ``mul`` rules.
    """

    def __init__(self, out: slice, factors: IndexArray) -> None:
        self.out = out
        self.factors = Gather(factors)
        self.scatter = Scatter(factors)
        # Set by forward for backward: the factors and their running products from the left.
        self.fv: FloatArray
        self.running: NDArray[np.floating[Any]]

    def reads(self) -> list[IndexArray]:
        return [self.factors.index]

    def scatters(self) -> list[Scatter]:
        return [self.scatter]

    def forward(self, vals: FloatArray, m: NumpyMath) -> None:
        self.fv = self.factors(vals)
        self.running = np.cumprod(self.fv, axis=1)
        vals[self.out] = self.running[:, -1]

    def backward(self, vals: FloatArray, grads: FloatArray, m: NumpyMath) -> None:
        n, k = self.fv.shape
        before = np.ones((n, k))
        before[:, 1:] = self.running[:, :-1]
        after = np.ones((n, k))
        after[:, :-1] = np.cumprod(self.fv[:, :0:-1], axis=1)[:, ::-1]
        self.scatter.add(grads, grads[self.out][:, None] * before * after)


Kernel: TypeAlias = "OpKernel | SumKernel | ProdKernel"
