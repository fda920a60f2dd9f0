"""A batch tape: one sample's graph, traced once, replayed over a whole batch at a time.

``fit`` builds the same model graph for every sample of every batch; only the inputs change. A ``BatchTape``
traces the graph of ONE sample (input leaves in, the model's outputs out), schedules it like ``jangrad.compile``
(``tape._schedule``: fused sums and products, groups of like nodes) and replays it with every node holding a row
of numbers, one per sample (``batch_kernels``). The parameters are shared by every sample: they live in one
array, and their gradient is the sum over the batch of the samples' gradients. So tracing and memory depend on
the model, not on the batch size, and a layer is one matrix product over the batch. (``from_listing`` takes a
graph listed without tracing it: ``mlp_listing``'s, for the built-in MLP.)

What it assumes, as ``jangrad.compile`` does: the model's graph has the same structure for every sample (no
Python ``if`` on a Value's ``.data`` inside the model). The built-in modules (``nn.Neuron``, ``Layer``, ``MLP``)
qualify. Leaves that are neither inputs nor parameters (constants written into the model's code) are read once,
when the tape is built.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..engine import Value
from .batch_kernels import BatchGather, BatchScatter, Stores, lower
from .kernels import NUMPY_MATH, FloatArray, IndexArray, plan_gradients
from .tape import _schedule, _Traced

__all__ = ["BatchTape"]


class BatchTape:
    """The graph from ``inputs`` (leaves, one sample's) to ``outputs``, replayed over batches of samples.

    ``forward(X, theta)`` takes the batch as a ``(B, len(inputs))`` array and the parameters' values as an array
    in ``params`` order, and returns the outputs as a ``(B, len(outputs))`` array; ``backward(dZ)`` takes the
    gradient of the batch's loss with respect to those outputs and returns the parameters' gradients (summed
    over the batch), as an array in ``params`` order.
    """

    def __init__(self, inputs: Sequence[Value], outputs: Sequence[Value], params: Sequence[Value]) -> None:
        outputs = list(outputs)
        root = outputs[0]
        for extra in outputs[1:]:
            root = root + extra  # one node that reaches every output; its own kernel is dropped below
        # Node indices found for all the outputs, inputs and parameters at once (-1: a Value the outputs do not
        # depend on, such as an input no output reads).
        self._build(_Traced(root, find=[*outputs, *inputs, *params]), len(outputs), len(inputs), len(params))

    @classmethod
    def from_listing(cls, traced: _Traced, n_outputs: int, n_inputs: int, n_params: int) -> BatchTape:
        """The tape of a graph listed without tracing it (``mlp_listing``): ``traced`` as ``_Traced(root,
        find=[*outputs, *inputs, *params])`` gives it, ``root`` the outputs' sum as ``__init__`` makes it."""
        tape = cls.__new__(cls)
        tape._build(traced, n_outputs, n_inputs, n_params)
        return tape

    def _build(self, traced: _Traced, n_outputs: int, n_inputs: int, n_params: int) -> None:
        output_node, input_node, param_node = np.split(traced.found, [n_outputs, n_outputs + n_inputs])
        kept = set(output_node.tolist())
        batched = input_node[input_node >= 0]
        leaves, kernels, slot, size = _schedule(traced, kept, batched, param_node[param_node >= 0])
        self.n_shared = n_shared = len(leaves) - len(set(batched.tolist()))  # (an input listed twice is one leaf)
        if n_outputs > 1:
            root_slot = int(slot[-1])
            if kernels and kernels[-1].out == slice(root_slot, root_slot + 1):
                kernels = kernels[:-1]
        self.nodes = len(traced.nodes)

        # Where each parameter lives in the shared store (whole arrays: a model has tens of thousands of them).
        param_slot = np.where(param_node >= 0, slot[param_node], n_shared)
        self.param_index = np.flatnonzero(param_slot < n_shared)  # one the outputs do not depend on has no slot
        self.param_slots = param_slot[self.param_index]
        self.n_params = n_params
        self.every_param = self.param_index.size == self.n_params  # then theta maps to the slots as it is
        # When every parameter is in the graph they fill the first slots (``_schedule``): ``params_view`` is then
        # that part of the store, in slot order, and ``param_order[i]`` the parameter in slot i. A caller that
        # moves ``params_view`` in place (``forward(X)`` without theta) copies no parameter in or out.
        self.params_view: FloatArray | None = None
        self.param_order: IndexArray | None = None
        if self.every_param and np.array_equal(np.sort(self.param_slots), np.arange(self.n_params)):
            self.param_order = np.argsort(self.param_slots)

        # Only the parameters' gradients are wanted: a kernel adds a gradient only to slots that lead back to a
        # parameter (so none to the batch's inputs, which would cost the first layer a matrix product).
        needs_grad = np.zeros(size, dtype=bool)
        needs_grad[self.param_slots] = True
        for kernel in kernels:
            if any(needs_grad[index].any() for index in kernel.reads()):
                needs_grad[kernel.out] = True
        self.kernels = [lower(kernel, n_shared, needs_grad) for kernel in kernels]
        self.shared = np.zeros(n_shared)
        self.shared_grad = np.zeros(n_shared)
        if self.param_order is not None:
            self.params_view = self.shared[: self.n_params]
        is_constant = np.ones(n_shared, dtype=bool)
        is_constant[self.param_slots] = False
        for s in np.flatnonzero(is_constant).tolist():
            self.shared[s] = leaves[s].data  # a constant of the model's code

        input_rows, input_columns = [], []
        for column, i in enumerate(input_node.tolist()):
            if i >= 0:  # an input no output depends on is never read
                input_rows.append(int(slot[i]) - n_shared)
                input_columns.append(column)
        self.input_rows = np.array(input_rows, dtype=np.intp)
        self.input_columns = np.array(input_columns, dtype=np.intp)
        # The usual layout, every input read and in consecutive rows: the batch goes in as one transposed copy.
        self.input_window: slice | None = None
        if (
            input_rows
            and input_columns == list(range(n_inputs))
            and input_rows == list(range(input_rows[0], input_rows[-1] + 1))
        ):
            self.input_window = slice(input_rows[0], input_rows[-1] + 1)
        out_slots = slot[output_node]
        self.out_read = BatchGather(out_slots, n_shared)
        self.out_write = BatchScatter(out_slots, n_shared)
        self.n_batch_rows = size - n_shared
        # Each gradient slot is written by its first contribution (as in the scalar tape, kernels.plan_gradients):
        # only slots whose first contribution is shared with slots written earlier start each pass from zero.
        zero_first = plan_gradients(self.kernels + [_Writes([self.out_write])], size, None)  # run in reverse
        self.zero_shared = zero_first[zero_first < n_shared]
        self.zero_rows = zero_first[zero_first >= n_shared] - n_shared
        self._stores: dict[int, Stores] = {}
        self._current: Stores  # the stores of the last forward (its batch size), which backward continues

    def _stores_for(self, batch_size: int) -> Stores:
        stores = self._stores.get(batch_size)
        if stores is None:
            stores = Stores(self.shared, self.shared_grad, self.n_batch_rows, batch_size)
            self._stores[batch_size] = stores
        return stores

    def forward(self, X: FloatArray, theta: FloatArray | None) -> FloatArray:
        """The outputs for every sample of ``X`` (rows) with the parameters ``theta`` (in ``params`` order; None:
        as they stand in ``params_view``): a ``(B, outputs)`` array."""
        stores = self._current = self._stores_for(X.shape[0])
        if theta is not None:
            self.shared[self.param_slots] = theta if self.every_param else theta[self.param_index]
        if self.input_window is not None:
            stores.batch[self.input_window] = X.T
        else:
            stores.batch[self.input_rows] = X.T[self.input_columns]
        with np.errstate(all="ignore"):
            for kernel in self.kernels:
                kernel.forward(stores, NUMPY_MATH)
        out = self.out_read(stores)
        return np.broadcast_to(out, out.shape[:1] + (stores.batch_size,)).T

    def backward(self, d_outputs: FloatArray, in_slot_order: bool = False) -> FloatArray:
        """The gradient of the parameters (summed over the batch), given d loss / d outputs from the last
        ``forward``: in ``params`` order, or with ``in_slot_order`` in the order of ``params_view`` (a view of the
        tape's own gradient store, rewritten by the next pass)."""
        stores = self._current
        stores.shared_grad[self.zero_shared] = 0.0
        stores.batch_grad[self.zero_rows] = 0.0
        self.out_write.add(stores, d_outputs.T)
        with np.errstate(all="ignore"):
            for kernel in reversed(self.kernels):
                kernel.backward(stores, NUMPY_MATH)
        if in_slot_order:
            return stores.shared_grad[: self.n_params]
        if self.every_param:
            return stores.shared_grad[self.param_slots]
        grad = np.zeros(self.n_params)
        grad[self.param_index] = stores.shared_grad[self.param_slots]
        return grad


class _Writes:
    """The output's gradient, written before any kernel runs backward, seen by ``plan_gradients`` as a kernel."""

    def __init__(self, scatters: list[BatchScatter]) -> None:
        self._scatters = scatters

    def scatters(self) -> list[BatchScatter]:
        return self._scatters
