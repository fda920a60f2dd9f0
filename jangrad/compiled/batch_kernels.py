"""The kernels of a batch tape: ``kernels.py``'s groups of nodes, each node now a row of one number per sample.

A batch tape (``batch_tape.py``) traces one sample's graph and replays it over a whole batch. Its slots live in
two stores:

* ``shared`` (one number per slot): the leaves that every sample sees alike, the model's parameters and the
  constants written into its code;
* ``batch`` (one row of B numbers per slot, B the batch size): the sample's inputs and every computed node.

Slots ``0 .. n_shared - 1`` are shared; slot ``s >= n_shared`` is row ``s - n_shared`` of the batch store. A kernel
here is built from the scalar kernel of the same group (``kernels.OpKernel``, ``SumKernel``, ``ProdKernel``: same
slots, same op rules) and runs its rule on ``(n, B)`` arrays. A shared operand reads as ``(n, 1)`` and broadcasts;
its gradient is summed over the batch, which is what makes the batch gradient the sum of the samples' gradients.
A layer applied to one sample (a group of sums whose products pair every weight row with the input row) runs
as one matrix product over the whole batch: ``W @ X`` forward, ``G @ X.T`` and ``W.T @ G`` backward.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from . import kernels as scalar
from .kernels import FloatArray, IndexArray, NumpyMath, Scatter, matmul

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Stores", "lower", "BatchKernel"]

SlotMarks: TypeAlias = "NDArray[np.bool_]"
"""One flag per slot (``needs_grad``: whether a gradient must reach that slot)."""


class Stores:
    """A batch tape's working arrays: ``shared`` values and gradients (1-D), ``batch`` values and gradients
    (rows of B)."""

    def __init__(self, shared: FloatArray, shared_grad: FloatArray, n_batch: int, batch_size: int) -> None:
        self.shared = shared  # the tape's own, the same for every batch size
        self.shared_grad = shared_grad
        self.batch = np.zeros((n_batch, batch_size))
        self.batch_grad = np.zeros((n_batch, batch_size))

    @property
    def batch_size(self) -> int:
        return self.batch.shape[1]


def _window(index: IndexArray) -> slice | None:
    start = scalar._contiguous_start(index)
    return None if start is None else slice(start, start + index.size)


class BatchGather:
    """Reads slots at an index array of any shape S: ``S + (B,)`` from the batch store, ``S + (1,)`` when every
    slot is shared (it broadcasts), and a filled ``S + (B,)`` array when the index mixes the two."""

    def __init__(self, index: IndexArray, n_shared: int) -> None:
        self.index: IndexArray = np.asarray(index, dtype=np.intp)
        self.shape = self.index.shape
        flat = self.index.ravel()
        self.is_shared = flat < n_shared
        self.kind = "shared" if self.is_shared.all() else "batch" if not self.is_shared.any() else "mixed"
        self.shared_index = flat[self.is_shared]
        self.batch_index = flat[~self.is_shared] - n_shared
        self.shared_window = _window(self.shared_index)
        self.batch_window = _window(self.batch_index)

    def _shared(self, stores: Stores) -> FloatArray:
        if self.shared_window is not None:
            return stores.shared[self.shared_window]
        return stores.shared[self.shared_index]

    def _batch(self, stores: Stores) -> FloatArray:
        if self.batch_window is not None:
            return stores.batch[self.batch_window]
        return stores.batch[self.batch_index]

    def __call__(self, stores: Stores) -> FloatArray:
        if self.kind == "shared":
            return self._shared(stores).reshape(self.shape + (1,))
        if self.kind == "batch":
            return self._batch(stores).reshape(self.shape + (stores.batch_size,))
        out = np.empty((self.index.size, stores.batch_size))
        out[self.is_shared] = self._shared(stores)[:, None]
        out[~self.is_shared] = self._batch(stores)
        return out.reshape(self.shape + (stores.batch_size,))


class _RowScatter:
    """Adds rows of B contributions into the batch gradients, summing rows aimed at the same slot."""

    def __init__(self, rows: IndexArray) -> None:
        self.rows = rows
        self.window = _window(rows)
        self.order: IndexArray | None = None  # with repeated rows: the rows sorted, and where each run starts
        self.starts: IndexArray  # (set with order)
        self.assign = False  # the first contribution to every row of this pass: write, do not add
        if self.window is None and rows.size > 1:
            order = np.argsort(rows, kind="stable")
            sorted_rows = rows[order]
            starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
            if starts.size < rows.size:  # a slot repeats: add its rows together first
                self.order, self.starts = order, starts
                self.rows = sorted_rows[starts]
                self.window = _window(self.rows)

    def add(self, grads: FloatArray, c: FloatArray) -> None:
        if self.order is not None:
            c = np.add.reduceat(c[self.order], self.starts, axis=0)
        where = self.window if self.window is not None else self.rows
        if self.assign:
            grads[where] = c
        else:
            grads[where] += c


class BatchScatter:
    """Adds gradient contributions (one row of B per index entry, or broadcastable to it) at an index array:
    batch slots get their rows, shared slots the sum of their row over the batch."""

    def __init__(self, index: IndexArray, n_shared: int) -> None:
        index = np.asarray(index, dtype=np.intp)
        flat = index.ravel()
        self.shape = index.shape
        self.size = flat.size
        self.is_shared = flat < n_shared
        self.all_shared = bool(self.is_shared.all())
        self.all_batch = not self.is_shared.any()
        self.shared = Scatter(flat[self.is_shared])
        self.batch = _RowScatter(flat[~self.is_shared] - n_shared)
        self.index = flat

    def slots(self) -> IndexArray:
        """The slots it writes to (shared and batch numbered together, as in the scalar tape)."""
        return self.index

    @property
    def assign(self) -> bool:
        return self.shared.assign

    @assign.setter
    def assign(self, first: bool) -> None:
        """Set by ``plan_gradients``: every slot gets its first contribution of the pass here."""
        self.shared.assign = self.batch.assign = first

    def add(self, stores: Stores, contribution: FloatArray | float) -> None:
        b = stores.batch_size
        c = np.broadcast_to(contribution, self.shape + (b,)).reshape(self.size, b)
        if self.all_batch:
            self.batch.add(stores.batch_grad, c)
        elif self.all_shared:
            self.shared.add(stores.shared_grad, c.sum(axis=1))
        else:
            self.shared.add(stores.shared_grad, c[self.is_shared].sum(axis=1))
            self.batch.add(stores.batch_grad, c[~self.is_shared])

    def rows_to_write(self, stores: Stores) -> FloatArray | None:
        """The batch gradient rows this scatter writes, as one view, when its contribution is their first of the pass
        and lands on consecutive rows, once each (then it may be written there directly); else None."""
        rows = self.batch
        if self.all_batch and rows.assign and rows.window is not None and rows.order is None:
            return stores.batch_grad[rows.window]
        return None

    def add_summed(self, stores: Stores, contribution: FloatArray) -> None:
        """For an all-shared index: contributions already summed over the batch (one number per entry)."""
        self.shared.add(stores.shared_grad, contribution)

    # A layer's two gradient products, multiplied straight into the gradient store when this scatter writes first
    # to a window there (no product array, no copy); otherwise as add_summed and add do it.
    def add_summed_product(self, stores: Stores, a: FloatArray, b: FloatArray) -> None:
        """``add_summed(a @ b)`` for an all-shared ``(rows, K)`` index."""
        s = self.shared
        if s.assign and s.window is not None and s.local is None and a.shape[-1] > 1:
            np.matmul(a, b, out=stores.shared_grad[s.window].reshape(a.shape[0], b.shape[1]))
        else:
            self.add_summed(stores, matmul(a, b))

    def add_row_product(self, stores: Stores, a: FloatArray, b: FloatArray) -> None:
        """``add(a @ b)`` for an all-batch index of one row of slots: ``a @ b`` holds their rows of B."""
        rows = self.batch
        if self.all_batch and rows.assign and rows.window is not None and rows.order is None and a.shape[-1] > 1:
            np.matmul(a, b, out=stores.batch_grad[rows.window])
        else:
            self.add(stores, matmul(a, b))


# ---- kernels ---------------------------------------------------------------------------------------------------
def _rows(out: slice, n_shared: int) -> slice:
    return slice(out.start - n_shared, out.stop - n_shared)


def _scatter(index: IndexArray, n_shared: int, needs_grad: SlotMarks) -> BatchScatter | None:
    """The scatter for ``index``, or None when no slot there needs a gradient (a batch's inputs, constants):
    the kernel then skips that contribution altogether."""
    return BatchScatter(index, n_shared) if needs_grad[np.asarray(index).ravel()].any() else None


class BatchOpKernel:
    """A group of nodes with the same op, its rule run on ``(n, B)`` rows."""

    def __init__(self, kernel: scalar.OpKernel, n_shared: int, needs_grad: SlotMarks) -> None:
        self.op = kernel.op
        self.forward_rule, self.backward_rule = kernel.forward_rule, kernel.backward_rule
        self.out = _rows(kernel.out, n_shared)
        self.gathers = [BatchGather(g.index, n_shared) for g in kernel.gathers]
        self._scatters = [_scatter(g.index, n_shared, needs_grad) for g in kernel.gathers]
        if self.op.constant_operand:
            self._scatters[1] = None
        self.inputs: list[FloatArray] = []
        # The op's rules written into place (kernels.IN_PLACE), when its one operand is a window of batch rows.
        operand = self.gathers[0]
        self.in_place = scalar.IN_PLACE.get(self.op.name)
        if len(self.gathers) != 1 or operand.kind != "batch" or operand.batch_window is None:
            self.in_place = None

    def scatters(self) -> list[BatchScatter]:
        return [scatter for scatter in self._scatters if scatter is not None]

    def forward(self, stores: Stores, m: NumpyMath) -> None:
        self.inputs = [gather(stores) for gather in self.gathers]
        if self.in_place is not None:
            self.in_place[0](self.inputs[0], stores.batch[self.out])
            return
        stores.batch[self.out] = self.forward_rule(m, *self.inputs)

    def backward(self, stores: Stores, m: NumpyMath) -> None:
        if not any(self._scatters):
            return
        if self.in_place is not None:
            into = self._scatters[0].rows_to_write(stores)  # type: ignore[union-attr]  # one operand, it needs one
            if into is not None:
                self.in_place[1](self.inputs[0], stores.batch_grad[self.out], into)
                return
        contributions = self.backward_rule(m, stores.batch_grad[self.out], stores.batch[self.out], *self.inputs)
        for scatter, c in zip(self._scatters, contributions, strict=True):
            if scatter is not None:
                scatter.add(stores, c)


class BatchSumKernel:
    """Signed n-ary sums (``kernels.SumKernel``) over rows of B; a layer as one matrix product over the batch."""

    def __init__(self, kernel: scalar.SumKernel, n_shared: int, needs_grad: SlotMarks) -> None:
        self.out = _rows(kernel.out, n_shared)
        self.n = kernel.n
        self.grid = kernel.grid
        self.bias: bool = getattr(kernel, "bias", False)
        # left None: no product terms (and no right); a grid always has both. A scatter is None where no gradient
        # is wanted.
        self.left: BatchGather | None = None
        self.left_scatter: BatchScatter | None = None
        self.right_scatter: BatchScatter | None = None
        self.plain_scatter: BatchScatter | None = None
        if kernel.left is not None:
            self.left = BatchGather(kernel.left.index, n_shared)
            self.right = BatchGather(kernel.right.index, n_shared)
            self.left_scatter = _scatter(kernel.left.index, n_shared, needs_grad)
            self.right_scatter = _scatter(kernel.right.index, n_shared, needs_grad)
        self.plain: BatchGather | None = None
        if kernel.plain is not None:
            self.plain = BatchGather(kernel.plain_index, n_shared)
            self.plain_scatter = _scatter(kernel.plain_index, n_shared, needs_grad)
        self.plain_sign = None if kernel.plain_sign is None else kernel.plain_sign[..., None]
        self.prod_sign = None if kernel.prod_sign is None else kernel.prod_sign[..., None]
        self.mul_forward, self.mul_backward = kernel.mul_forward, kernel.mul_backward
        # Set by forward for backward: the products' operands.
        self.lv: FloatArray
        self.rv: FloatArray

    def scatters(self) -> list[BatchScatter]:
        """The scatters in the order ``backward`` runs them (for ``plan_gradients``)."""
        products = [self.left_scatter, self.right_scatter]
        ordered = products + [self.plain_scatter] if self.grid is not None else [self.plain_scatter] + products
        return [scatter for scatter in ordered if scatter is not None]

    def _plain_total(self, plain: BatchGather, stores: Stores) -> FloatArray:
        terms = plain(stores)
        if self.plain_sign is not None:
            terms = terms * self.plain_sign
        return terms[:, 0] if terms.shape[1] == 1 else terms.sum(axis=1)

    # The grid: out[i, j] = right_rows[i] . left_rows[j]. A layer has shared weights on the left and one row of
    # batched inputs on the right; every combination is handled, the layer's by plain matrix products.
    def _grid_forward(self, stores: Stores, left: BatchGather) -> FloatArray:
        lv, rv = self.lv, self.rv = left(stores), self.right(stores)
        if left.kind == "shared":  # W (a, K) times inputs (b, K, B) -> (b, a, B)
            return matmul(lv[..., 0], rv)
        if self.right.kind == "shared":  # (b, K) times (a, K, B) -> (a, b, B) -> (b, a, B)
            return matmul(rv[..., 0], lv).transpose(1, 0, 2)
        return np.einsum("ikz,jkz->ijz", rv, lv)

    def _grid_backward(self, stores: Stores, grid: FloatArray) -> None:
        lv, rv = self.lv, self.rv
        left, right = self.left_scatter, self.right_scatter  # None where no gradient is wanted (the inputs)
        left_kind: str = self.left.kind  # type: ignore[union-attr]  # a grid has both operands
        if left_kind == "shared" and self.right.kind == "shared":  # no batch axis but the gradient's
            summed = grid.sum(axis=2)
            if left is not None:
                left.add_summed(stores, matmul(summed.T, rv[..., 0]))
            if right is not None:
                right.add_summed(stores, matmul(summed, lv[..., 0]))
        elif left_kind == "shared":
            # d left[j, k] = sum over i and the batch of G[i, j] * right[i, k]: one matrix product.
            b, a, z = grid.shape
            if left is not None:
                if b == 1:  # a layer on one input row: G (a, B) times the inputs' transpose (B, K)
                    left.add_summed_product(stores, grid[0], rv[0].T)
                else:
                    g = grid.transpose(1, 0, 2).reshape(a, b * z)
                    r = rv.transpose(1, 0, 2).reshape(rv.shape[1], b * z)
                    left.add_summed(stores, matmul(g, r.T))
            if right is not None:
                if b == 1:  # the layer's inputs: W's transpose (K, a) times G (a, B)
                    right.add_row_product(stores, lv[..., 0].T, grid[0])
                else:
                    right.add(stores, matmul(lv[..., 0].T, grid))
        elif self.right.kind == "shared":
            if left is not None:
                left.add(stores, np.einsum("ijz,ik->jkz", grid, rv[..., 0]))
            if right is not None:
                right.add_summed(stores, np.einsum("ijz,jkz->ik", grid, lv))
        else:
            if left is not None:
                left.add(stores, np.einsum("ijz,ikz->jkz", grid, rv))
            if right is not None:
                right.add(stores, np.einsum("ijz,jkz->ikz", grid, lv))

    def forward(self, stores: Stores, m: NumpyMath) -> None:
        if self.grid is not None:
            left: BatchGather = self.left  # type: ignore[assignment]  # a grid has both operands
            if self.grid[0] == 1 and left.kind == "shared" and self.right.kind == "batch":
                # A layer on one input row: W (a, K) @ inputs (K, B) straight into the output rows, biases added
                # there.
                self.lv, self.rv = left(stores), self.right(stores)
                out = stores.batch[self.out]
                if self.lv.shape[1] == 1:
                    np.multiply(self.lv[:, :, 0], self.rv[0], out=out)
                else:
                    np.matmul(self.lv[..., 0], self.rv[0], out=out)
                if self.plain is not None:
                    plain_total = self._plain_total(self.plain, stores)
                    out += plain_total if self.bias else plain_total.reshape(out.shape[0], -1)
                return
            grid = self._grid_forward(stores, left)
            if self.plain is not None:
                if self.bias:
                    grid = grid + self._plain_total(self.plain, stores)
                else:
                    grid = grid + self._plain_total(self.plain, stores).reshape(grid.shape[:2] + (-1,))
            stores.batch[self.out] = grid.reshape(self.n, -1)
            return
        total = None if self.plain is None else self._plain_total(self.plain, stores)
        if self.left is not None:
            self.lv, self.rv = self.left(stores), self.right(stores)
            terms = self.mul_forward(m, self.lv, self.rv)
            if self.prod_sign is not None:
                terms = terms * self.prod_sign
            products = terms[:, 0] if terms.shape[1] == 1 else terms.sum(axis=1)
            total = products if total is None else total + products
        stores.batch[self.out] = total

    def backward(self, stores: Stores, m: NumpyMath) -> None:
        if not self.scatters():
            return
        g = stores.batch_grad[self.out]
        if self.grid is not None:
            grid = g.reshape(self.grid + (g.shape[-1],))
            self._grid_backward(stores, grid)
            if self.bias:
                g = grid.sum(axis=0)
        if self.plain_scatter is not None:
            if self.plain_sign is not None:
                self.plain_scatter.add(stores, g[:, None] * self.plain_sign)
            else:
                self.plain_scatter.add(stores, g[:, None])
        if self.left is None or self.grid is not None:
            return
        g_terms = g[:, None] if self.prod_sign is None else g[:, None] * self.prod_sign
        d_left, d_right = self.mul_backward(m, g_terms, None, self.lv, self.rv)
        if self.left_scatter is not None:
            self.left_scatter.add(stores, d_left)
        if self.right_scatter is not None:
            self.right_scatter.add(stores, d_right)


class BatchProdKernel:
    """n-ary products (``kernels.ProdKernel``) over rows of B, with the same running products for the gradient."""

    def __init__(self, kernel: scalar.ProdKernel, n_shared: int, needs_grad: SlotMarks) -> None:
        self.out = _rows(kernel.out, n_shared)
        self.factors = BatchGather(kernel.factors.index, n_shared)
        self.scatter = _scatter(kernel.factors.index, n_shared, needs_grad)
        # Set by forward for backward: the factors and their running products from the left.
        self.fv: FloatArray
        self.running: NDArray[np.floating[Any]]

    def scatters(self) -> list[BatchScatter]:
        return [] if self.scatter is None else [self.scatter]

    def forward(self, stores: Stores, m: NumpyMath) -> None:
        fv = self.factors(stores)
        self.fv = np.broadcast_to(fv, fv.shape[:2] + (stores.batch_size,))
        self.running = np.cumprod(self.fv, axis=1)
        stores.batch[self.out] = self.running[:, -1]

    def backward(self, stores: Stores, m: NumpyMath) -> None:
        if self.scatter is None:
            return
        n, k, z = self.fv.shape
        before = np.ones((n, k, z))
        before[:, 1:] = self.running[:, :-1]
        after = np.ones((n, k, z))
        after[:, :-1] = np.cumprod(self.fv[:, :0:-1], axis=1)[:, ::-1]
        self.scatter.add(stores, stores.batch_grad[self.out][:, None] * before * after)


BatchKernel: TypeAlias = "BatchOpKernel | BatchSumKernel | BatchProdKernel"


def lower(kernel: scalar.Kernel, n_shared: int, needs_grad: SlotMarks) -> BatchKernel:
    """The batch kernel of a scalar kernel (same group, same slots); it adds gradients only to the slots
    ``needs_grad`` marks (a boolean per slot)."""
    if isinstance(kernel, scalar.SumKernel):
        return BatchSumKernel(kernel, n_shared, needs_grad)
    if isinstance(kernel, scalar.ProdKernel):
        return BatchProdKernel(kernel, n_shared, needs_grad)
    return BatchOpKernel(kernel, n_shared, needs_grad)
