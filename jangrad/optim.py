"""Optimizers: they read each parameter's ``.grad`` and move its ``.data``, with PyTorch's update rules.

* ``SGD``   p -= lr * g, optionally with momentum (Nesterov's too) and L2 weight decay (g += wd * p).
* ``Adam``  per-parameter steps scaled by running averages of g and g^2, bias-corrected.
* ``AdamW`` Adam with decoupled weight decay (p -= lr * wd * p, apart from the gradient).

``lr`` is a plain attribute: a training loop (or a schedule, see ``jangrad.schedules``) may set it at any step.
``step_arrays(data, grad)`` applies the same rule to NumPy arrays of all the parameters at once (what ``fit``'s
compiled run uses), with the same floating-point operations, so both give the same numbers.
The schedules are re-exported here, so ``optim.make_schedule("linear", 1.0, 100)`` works.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

from .checks import real_number
from .engine import Value
from .schedules import CosineSchedule, LinearSchedule, StepSchedule, make_schedule

if TYPE_CHECKING:  # NumPy is imported where an array step runs, never at import
    import numpy as np
    from numpy.typing import NDArray

Array: TypeAlias = "NDArray[np.float64]"
Permutation: TypeAlias = "NDArray[np.intp]"

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "make_optimizer",
    "LinearSchedule",
    "StepSchedule",
    "CosineSchedule",
    "make_schedule",
]


def _grad_of(p: Value) -> float:
    # After backward(create_graph=True) a gradient is a Value; the update only needs its number.
    g = p.grad
    return g.data if isinstance(g, Value) else float(g)


class Optimizer:
    """What every optimizer shares: the parameter list, ``lr``, ``zero_grad()`` and ``state_dict()``."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError("pass model.parameters(), not the model itself, to the optimizer")
        if isinstance(params, Value) or not hasattr(params, "__iter__"):
            raise TypeError(f"params must be a list of Values such as model.parameters(), got {params!r}")
        self.params: list[Value] = list(params)
        # The common case (Values only, each once) is settled in two passes at C speed; a model may have tens of
        # thousands of parameters. Anything else gets the loop that names the offending entry.
        if set(map(type, self.params)) != {Value} or len(set(map(id, self.params))) != len(self.params):
            seen: set[int] = set()  # ids, only tested for membership, never iterated
            for i, p in enumerate(self.params):
                if not isinstance(p, Value):
                    raise TypeError(f"parameter {i} must be a Value, got {p!r} of type {type(p).__name__}")
                if id(p) in seen:
                    raise ValueError(f"parameter {i} ({p!r}) appears twice in the parameter list")
                seen.add(id(p))
        if not self.params:
            raise ValueError("the optimizer got an empty parameter list")
        self.lr: float = real_number(lr, "lr")
        self.steps: int = 0
        self._arrays: dict[str, Array] | None = None  # the buffers as NumPy arrays while step_arrays() runs them
        self._array_order: Permutation | None = None  # the order step_arrays() keeps them in (None: their own)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 before the next ``backward()`` (gradients add up otherwise)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Move every parameter once, using its current ``.grad``."""
        lr = real_number(self.lr, "lr")  # lr may have been set by a loop since the constructor checked it
        self.sync_arrays()
        self.steps += 1
        self._start_step()
        for i, p in enumerate(self.params):
            p.data = self._update(i, p.data, _grad_of(p), lr)

    # ---- the same rule on arrays (what fit's compiled run uses) ----------------------------------------------------
    def has_array_step(self) -> bool:
        """Whether ``step_arrays`` runs this optimizer's own rule: true for SGD, Adam and AdamW, false for a
        subclass that changes ``_update`` or ``step`` without giving ``_update_arrays`` too."""
        if type(self).step is not Optimizer.step:
            return False
        for klass in type(self).__mro__:
            defines = vars(klass)
            if "_update" in defines or "_update_arrays" in defines:
                return "_update" in defines and "_update_arrays" in defines
        return False

    def step_arrays(self, data: Array, grad: Array, order: Permutation | None = None) -> None:
        """``step()`` on NumPy arrays: ``data[i]`` and ``grad[i]`` are ``self.params[i]``'s value and gradient;
        ``data`` moves in place, by the same rule and the same floating-point operations as ``step()``.

        ``order`` (an index array, a permutation) says that ``data[i]`` is ``self.params[order[i]]`` instead, for a
        caller that keeps the parameters in an order of its own (fit's compiled run keeps them where its tape
        reads them); the buffers then follow that order too. The built-in rules are element by element, so the
        order changes no number.

        The Values are not touched: the caller writes ``data`` back when someone may look. The buffers (momentum,
        Adam's averages) stay in arrays between calls; ``sync_arrays()`` puts them back in their lists, and
        ``step()``, ``state_dict()`` and ``load_state_dict()`` do so first.
        """
        import numpy as np

        lr = real_number(self.lr, "lr")
        if self._arrays is not None and order is not self._array_order:
            self.sync_arrays()  # kept in another order until now
        if self._arrays is None:
            self._arrays = {name: np.array(values, dtype=np.float64) for name, values in self._buffers().items()}
            if order is not None:
                self._arrays = {name: values[order] for name, values in self._arrays.items()}
            self._array_order = order
        self.steps += 1
        self._start_step()
        self._update_arrays(data, grad, lr, self._arrays)

    def sync_arrays(self) -> None:
        """Copy the buffers that ``step_arrays`` keeps in arrays back into their lists (``self.m`` and so on)."""
        arrays = getattr(self, "_arrays", None)
        if arrays is None:
            return
        buffers = self._buffers()
        order = self._array_order
        for name, values in arrays.items():
            if order is not None:  # back to the parameters' own order: slot i holds parameter order[i]
                in_order = values.copy()
                in_order[order] = values
                values = in_order
            buffers[name][:] = values.tolist()
        self._arrays = None

    def _update_arrays(self, data: Array, grad: Array, lr: float, buffers: dict[str, Array]) -> None:
        raise NotImplementedError

    def _start_step(self) -> None:
        """Work that depends only on the step number, done once per step rather than once per parameter."""

    def _update(self, i: int, data: float, g: float, lr: float) -> float:
        raise NotImplementedError

    def _configure(self, *args: Any, **kwargs: Any) -> None:
        """Check and set the hyperparameters other than lr (each optimizer takes its own); the constructor and
        ``load_state_dict`` both use it.

        Every value is checked before any is set, so a bad one leaves the optimizer as it was.
        """

    def _hyperparameters(self) -> dict[str, object]:
        return {"lr": self.lr}

    def _buffers(self) -> dict[str, list[float]]:
        return {}

    def state_dict(self) -> dict[str, object]:
        """Hyperparameters, the step count and the per-parameter buffers (lists of floats, in parameter order)."""
        self.sync_arrays()
        return {
            "type": type(self).__name__,
            **self._hyperparameters(),
            "steps": self.steps,
            "buffers": {name: list(values) for name, values in self._buffers().items()},
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore what ``state_dict()`` returned (same optimizer type, same number of parameters)."""
        if not isinstance(state, dict) or state.get("type") != type(self).__name__:
            raise ValueError(f"not a {type(self).__name__} state: {state!r:.80}")
        self.sync_arrays()
        buffers = state.get("buffers")
        mine = self._buffers()
        if not isinstance(buffers, dict) or sorted(buffers) != sorted(mine):
            raise ValueError(f"{type(self).__name__} state must have buffers {sorted(mine)}, got {buffers!r:.80}")
        for name, values in buffers.items():
            if not isinstance(values, list) or len(values) != len(self.params):
                raise ValueError(f"buffer {name!r} must hold {len(self.params)} numbers")
            for j, v in enumerate(values):
                if isinstance(v, bool) or not isinstance(v, numbers.Real):
                    raise ValueError(f"buffer {name!r}[{j}] must be a number, got {v!r:.60}")
        for key in self._hyperparameters():
            if key not in state:
                raise ValueError(f"{type(self).__name__} state is missing {key!r}")
        steps = state.get("steps")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be a whole number >= 0, got {steps!r}")
        lr = real_number(state["lr"], "lr")
        # The same checks as the constructor's, so a damaged state cannot set momentum=5 or betas="x".
        self._configure(**{key: state[key] for key in self._hyperparameters() if key != "lr"})
        self.lr = lr
        self.steps = steps
        for name, values in buffers.items():
            mine[name][:] = [float(v) for v in values]

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule.

    g = grad + weight_decay * p;  with momentum: buf = momentum * buf + g (buf = g on the first step) and
    g = buf, or g + momentum * buf for Nesterov;  then p -= lr * g.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self._configure(momentum, nesterov, weight_decay)
        self.velocity: list[float] = [0.0] * len(self.params)

    def _configure(self, momentum: float, nesterov: bool, weight_decay: float) -> None:
        momentum = real_number(momentum, "momentum", 0.0, 1.0, high_open=True)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and momentum == 0.0:
            raise ValueError("nesterov=True needs a momentum above 0")
        weight_decay = real_number(weight_decay, "weight_decay")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def _update(self, i: int, data: float, g: float, lr: float) -> float:
        g = g + self.weight_decay * data
        if self.momentum:
            buf = g if self.steps == 1 else self.momentum * self.velocity[i] + g
            self.velocity[i] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        return data - lr * g

    def _update_arrays(self, data: Array, g: Array, lr: float, buffers: dict[str, Array]) -> None:
        g = g + self.weight_decay * data
        if self.momentum:
            velocity = buffers["velocity"]
            if self.steps == 1:
                velocity[:] = g
            else:
                velocity *= self.momentum
                velocity += g
            g = g + self.momentum * velocity if self.nesterov else velocity
        data -= lr * g

    def _hyperparameters(self) -> dict[str, object]:
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov, "weight_decay": self.weight_decay}

    def _buffers(self) -> dict[str, list[float]]:
        return {"velocity": self.velocity}


class Adam(Optimizer):
    """Adam (Kingma and Ba), PyTorch's rule; ``weight_decay`` adds ``wd * p`` to the gradient (L2)."""

    decoupled = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self._configure(betas, eps, weight_decay)
        self.m: list[float] = [0.0] * len(self.params)
        self.v: list[float] = [0.0] * len(self.params)

    def _configure(self, betas: tuple[float, float], eps: float, weight_decay: float) -> None:
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of numbers such as (0.9, 0.999), got {betas!r}")
        betas = (
            real_number(betas[0], "betas[0]", 0.0, 1.0, high_open=True),
            real_number(betas[1], "betas[1]", 0.0, 1.0, high_open=True),
        )
        eps = real_number(eps, "eps")
        weight_decay = real_number(weight_decay, "weight_decay")
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay

    def _start_step(self) -> None:
        beta1, beta2 = self.betas
        self._bias_correction1 = 1.0 - beta1**self.steps
        self._bias_correction2 = 1.0 - beta2**self.steps

    def _update(self, i: int, data: float, g: float, lr: float) -> float:
        beta1, beta2 = self.betas
        if self.decoupled:
            data = data - lr * self.weight_decay * data
        else:
            g = g + self.weight_decay * data
        self.m[i] = beta1 * self.m[i] + (1.0 - beta1) * g
        self.v[i] = beta2 * self.v[i] + (1.0 - beta2) * g * g
        m_hat = self.m[i] / self._bias_correction1
        v_hat = self.v[i] / self._bias_correction2
        return data - lr * m_hat / (math.sqrt(v_hat) + self.eps)

    def _update_arrays(self, data: Array, g: Array, lr: float, buffers: dict[str, Array]) -> None:
        import numpy as np

        # _update's operations in _update's order, each written into one of two scratch arrays instead of a new
        # array per operation (scalar * array is array * scalar, bit for bit).
        t, u = self._scratch(data)
        beta1, beta2 = self.betas
        if self.decoupled:
            np.multiply(data, lr * self.weight_decay, out=t)
            data -= t
        else:
            np.multiply(data, self.weight_decay, out=t)
            g = np.add(g, t, out=t)  # g + weight_decay * data
        m, v = buffers["m"], buffers["v"]
        m *= beta1
        m += np.multiply(g, 1.0 - beta1, out=u)
        v *= beta2
        np.multiply(g, 1.0 - beta2, out=u)
        u *= g
        v += u
        m_hat = np.divide(m, self._bias_correction1, out=u)
        denominator = np.divide(v, self._bias_correction2, out=t)  # v_hat; g is not needed any more
        np.sqrt(denominator, out=denominator)
        denominator += self.eps
        m_hat *= lr
        m_hat /= denominator
        data -= m_hat

    def _scratch(self, like: Array) -> tuple[Array, Array]:
        """Two arrays shaped like ``like`` for _update_arrays to work in, kept between steps."""
        import numpy as np

        scratch = getattr(self, "_scratch_arrays", None)
        if scratch is None or scratch[0].shape != like.shape:
            scratch = self._scratch_arrays = (np.empty_like(like), np.empty_like(like))
        return scratch

    def _hyperparameters(self) -> dict[str, object]:
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}

    def _buffers(self) -> dict[str, list[float]]:
        return {"m": self.m, "v": self.v}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): p -= lr * weight_decay * p, then the Adam step."""

    decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def make_optimizer(name: str, params: Iterable[Value], lr: float, **options: object) -> Optimizer:
    """``make_optimizer("adam", model.parameters(), 0.01)``: an optimizer by name ("sgd", "adam", "adamw")."""
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name.lower()](params, lr, **options)
