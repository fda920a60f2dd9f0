"""The graph an ``nn.MLP`` builds for one sample, listed from the model's shape instead of traced.

``fit``'s compiled run needs one sample's graph as arrays (``tape._Traced``: the nodes in topological order, each
node's op and its operands' positions). For any model it gets them by running the model on one sample and walking
the graph it built. For the built-in ``nn.MLP`` that graph is known in advance, node for node: each neuron builds
``w0 x0``, then ``+ wi xi`` for each further input, then ``+ b``, then its activation, and a layer's neurons are
built one after the other. So ``list_mlp`` writes the very arrays the trace and its walk would give (the same
nodes in the same order, the same ops and operands), from the layer widths, with a few whole-array operations per
layer: tracing W6's model made 52,000 Values, and making and walking them took most of fit's first step.

The order is the engine's post-order from the root (``engine.topological_order``). Walking a neuron's chain
places ``w0``, then whatever ``x0`` needs that is not placed yet, then ``w0 x0``, then ``w1``, ``x1``'s part,
``w1 x1`` and ``+``, and so on, then ``b``, the ``+ b`` node and the activation (after leaky_relu's constant). The
first neuron of a layer is the first to read each of the layer's inputs, so the whole of the previous layer (or
the input leaves) is placed inside its chain, each block right after the weight it is multiplied by; the other
neurons find their inputs placed. With several outputs, the root is ``o0 + o1 + ...``, placed output by output.

``tests/test_mlp_listing.py`` holds these arrays to the traced ones, array for array, for many shapes and every
activation. A model that is not exactly the built-in ``MLP`` (a subclass, a method or an activation patched since
this module was imported, a weight shared or computed from other Values, a neuron with an activation of its own)
gets None and is traced, and so does every model under ``no_grad`` or ``detect_anomaly``.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, TypeGuard

import numpy as np

from .. import nn, switches
from ..engine import Value
from ..ops import LEAKY_SLOPE
from .tape import _Traced

if TYPE_CHECKING:
    from .kernels import IndexArray

__all__ = ["list_mlp"]

# The op each activation puts after a neuron's ``+ b`` node (None: none). An activation added to nn.ACTIVATIONS
# and not here is traced.
_ACTIVATION_OPS = {
    "tanh": "tanh",
    "relu": "relu",
    "sigmoid": "sigmoid",
    "gelu": "gelu",
    "leaky_relu": "leaky_relu",
    "linear": None,
}
_BUILT_IN = (nn.MLP.__call__, nn.Layer._forward, nn.Neuron._forward, dict(nn.ACTIVATIONS))
_operand = operator.attrgetter("_x")


def _plain_mlp(model: object) -> TypeGuard[nn.MLP]:
    """Whether ``model`` builds exactly the graph this module lists: the built-in classes and code throughout."""
    call, layer_forward, neuron_forward, activations = _BUILT_IN
    if type(model) is not nn.MLP or switches.state.unusual:  # (no_grad or detect_anomaly change what ops record)
        return False
    if (nn.MLP.__call__, nn.Layer._forward, nn.Neuron._forward) != (call, layer_forward, neuron_forward):
        return False
    if any(nn.ACTIVATIONS.get(name) is not function for name, function in activations.items()):
        return False
    width = model.nin
    for layer in model.layers:
        if type(layer) is not nn.Layer or "_forward" in layer.__dict__ or layer.nin != width or not layer.neurons:
            return False
        activation = layer.neurons[0].activation
        for neuron in layer.neurons:
            if type(neuron) is not nn.Neuron or "_forward" in neuron.__dict__ or len(neuron.w) != width:
                return False
            if neuron.activation != activation or activation not in activations or activation not in _ACTIVATION_OPS:
                return False
        width = len(layer.neurons)
    return True


def list_mlp(model: object, params: list[Value]) -> tuple[_Traced, list[Value], int] | None:
    """The listing of ``model``'s graph for one sample, as ``tape._Traced(root, find=[*outputs, *inputs,
    *params])`` would give it after tracing (``root`` the outputs' sum, as ``BatchTape`` makes it), with the input
    leaves it reads and its number of outputs; or None when the model must be traced (see the module docstring).
    ``params`` is ``model.parameters()``."""
    if not _plain_mlp(model):
        return None
    if set(map(type, params)) != {Value} or set(map(_operand, params)) != {None} or _repeats(params):
        return None  # a weight that is an expression, or one Value in two places, changes the graph
    layers = model.layers
    widths = [model.nin] + [len(layer.neurons) for layer in layers]
    return _Listing(layers, widths).result(params)


class _Listing:
    """Writes the arrays of one MLP's listing (see the module docstring for the order), a layer at a time: all the
    neurons of a layer but its first have the same block, so their nodes are placed with one array operation."""

    def __init__(self, layers: list[nn.Layer], widths: list[int]) -> None:
        self.widths = widths
        self.ops = [_ACTIVATION_OPS[layer.neurons[0].activation] for layer in layers]  # None: linear
        # A neuron's block: 3 nodes per input (w, w x, +; the first input has no +), b, + b, its activation.
        self.plain = [3 * widths[k] + 1 + _extra(op) for k, op in enumerate(self.ops)]
        # A layer's first neuron holds the blocks of the whole previous layer (the first layer's: the inputs).
        self.first_block = [self.plain[0] + widths[0]]
        for k in range(1, len(layers)):
            self.first_block.append(self.plain[k] + self.first_block[k - 1] + (widths[k] - 1) * self.plain[k - 1])
        size = self.first_block[-1] + (widths[-1] - 1) * (self.plain[-1] + 1)  # and the root's + per output
        self.first = np.full(size, -1, dtype=np.intp)
        self.second = np.full(size, -1, dtype=np.intp)
        # The op names in order of first appearance, as a traced listing numbers them: the first node is a leaf, the
        # first computed ones the first layer's products and sums, and each layer's activation comes before the next's.
        self.names = list(dict.fromkeys(["", "mul", "add"] + [op for op in self.ops if op is not None]))
        self.op = np.zeros(size, dtype=np.intp)  # into self.names (0: a leaf)

    def result(self, params: list[Value]) -> tuple[_Traced, list[Value], int]:
        widths, last = self.widths, len(self.ops) - 1
        # Where each neuron's block starts: the last layer's one after the other (each but the first followed by
        # the root's +), every other layer's inside its next layer's first neuron, each right after a weight.
        starts: list[IndexArray] = [np.zeros(0, dtype=np.intp)] * len(self.ops)
        starts[last] = np.r_[0, self.first_block[last] + (self.plain[last] + 1) * np.arange(widths[-1] - 1)]
        weights: list[IndexArray] = [np.zeros(0, dtype=np.intp)] * len(self.ops)
        for k in range(last, -1, -1):
            weights[k] = self._weights(k, starts[k])
            if k:
                starts[k - 1] = weights[k][0] + 1
        inputs_at = weights[0][0] + 1  # the first neuron places the input leaves, each after its weight
        outputs, params_at, constants_at = [], [], []
        x = inputs_at
        for k in range(last + 1):
            x, layer_params, layer_constants = self._layer(k, weights[k], x)
            outputs.append(x)
            params_at.append(layer_params)
            constants_at.append(layer_constants)
        if widths[-1] > 1:  # the root: ((o0 + o1) + o2) + ..., each + right after its second output's block
            roots = outputs[last][1:] + 1
            self._node(roots, "add", np.r_[outputs[last][0], roots[:-1]], outputs[last][1:])
        inputs = [Value(0.0) for _ in range(widths[0])]
        leaf_at = np.concatenate([inputs_at, *params_at, *constants_at])
        leaves = [*inputs, *params] + [Value(LEAKY_SLOPE)] * (leaf_at.size - len(inputs) - len(params))
        nodes = np.empty(self.first.size, dtype=object)  # None but at the leaves
        nodes[leaf_at] = np.fromiter(leaves, dtype=object, count=len(leaves))
        found = np.concatenate([outputs[last], inputs_at, *params_at])
        return _Traced.of(nodes.tolist(), self.first, self.second, self.names, self.op, found), inputs, widths[-1]

    def _weights(self, k: int, starts: IndexArray) -> IndexArray:
        """The positions of layer ``k``'s weights, a row per neuron, its blocks starting at ``starts``."""
        step = 3 * np.arange(self.widths[k]) - 1  # w_i follows w_0 and w_0 x_0, then 3 nodes a term (w, w x, +)
        step[0] = 0
        w = starts[:, None] + step
        inside = self._inside_first(k)
        w[0] += np.cumsum(inside) - inside
        return w

    def _layer(self, k: int, w: IndexArray, x: IndexArray) -> tuple[IndexArray, IndexArray, IndexArray]:
        """Write layer ``k``'s nodes, given its weights' positions (a row per neuron) and its inputs' positions;
        return the positions of its outputs, of its parameters (each neuron's weights and bias, in parameters()
        order) and of its constants (leaky_relu's)."""
        n_in = w.shape[1]
        product = w + 1
        product[0] += self._inside_first(k)
        self._node(product, "mul", w, x)
        chain_end = product[:, 0]
        if n_in > 1:
            total = product + 1
            self._node(total[:, 1:], "add", np.concatenate((product[:, :1], total[:, 1:-1]), axis=1), product[:, 1:])
            chain_end = total[:, -1]
        b = chain_end + 1
        out = b + 1
        self._node(out, "add", chain_end, b)
        params_at = np.concatenate((w, b[:, None]), axis=1).ravel()
        constants_at = np.zeros(0, dtype=np.intp)
        op = self.ops[k]
        if op == "leaky_relu":
            constants_at = out + 1
            self._node(out + 2, op, out, constants_at)
            out = out + 2
        elif op is not None:
            self._node(out + 1, op, out)
            out = out + 1
        return out, params_at, constants_at

    def _inside_first(self, k: int) -> IndexArray:
        """The nodes placed between each weight of layer ``k``'s first neuron and its product."""
        inside = np.full(self.widths[k], 1 if k == 0 else self.plain[k - 1], dtype=np.intp)
        if k:
            inside[0] = self.first_block[k - 1]
        return inside

    def _node(self, at: IndexArray, op: str, first: IndexArray, second: IndexArray | int = -1) -> None:
        self.op[at] = self.names.index(op)
        self.first[at] = first
        self.second[at] = second


def _repeats(values: list[Value]) -> bool:
    """Whether a Value appears twice in ``values`` (compared by identity, at C speed)."""
    ids = np.sort(np.fromiter(map(id, values), dtype=np.uint64, count=len(values)))
    return bool((ids[1:] == ids[:-1]).any())


def _extra(op: str | None) -> int:
    """Nodes after a neuron's ``+ b``: none (linear), the activation, or leaky_relu's constant and the activation."""
    return 0 if op is None else 2 if op == "leaky_relu" else 1
