"""What a worker runs: one engine's side of each workload W1-W7 (``workloads.py`` decides sizes and repeats).

A worker serves one engine: ``micrograd`` (0.1.0 from PyPI), ``eager`` (jangrad's Value), ``compiled``
(``jangrad.compile``) or ``torch`` (PyTorch eager, CPU, float64, one thread, batched tensor maths as a PyTorch user
would write it). Every engine's modules are imported inside the functions here, so a worker imports its own engine
and nothing else; data comes in as plain lists.

``SETUPS[workload](engine, **args)`` returns ``(job, info)``. For W1/W2 the job is one step, which the worker
times in blocks; for W3-W5 it is one measurement returning ``{"seconds": ..., ...}``.

A "step" is what a training loop does before the optimizer moves: zero the gradients, compute the loss, backward.
For micrograd and jangrad eager that includes building the graph; the compiled tape re-reads the leaves instead
(its one-off compile time is reported separately).
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from itertools import pairwise

from models import MLP, hinge_l2_loss

Job = Callable[[], object]


def timed(step: Job, repeats: int, warmup: int = 1) -> float:
    """The median wall time of ``step()`` over ``repeats`` runs, after ``warmup`` runs (garbage collector on)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def value_class(engine: str) -> type:
    """The scalar Value class of a graph-building engine (micrograd or jangrad eager)."""
    if engine == "micrograd":
        from micrograd.engine import Value as MicrogradValue

        return MicrogradValue
    from jangrad import Value

    return Value


def _torch():
    """PyTorch on one thread; ImportError (reported as "torch not installed") without it."""
    import torch

    torch.set_num_threads(1)
    return torch


# ---- W1 and W2: micrograd's own model code on each engine -------------------------------------------------------
def _sse_loss(model, inputs, targets):
    return sum((model(x) - t) ** 2 for x, t in zip(inputs, targets, strict=True))


LOSSES = {"sse": _sse_loss, "hinge": hinge_l2_loss}


def mlp(engine: str, X: list, y: list, sizes: list[int], loss: str) -> tuple[Job, dict]:
    """One training step of micrograd's MLP on ``(X, y)``; for the compiled engine, also its compile figures."""
    if engine == "torch":
        return _torch_mlp(X, y, sizes, loss), {}
    loss_fn = LOSSES[loss]
    if engine == "compiled":
        import jangrad

        model = MLP(jangrad.Value, len(X[0]), sizes)
        inputs = [[jangrad.Value(v) for v in row] for row in X]
        start = time.perf_counter()
        tape = jangrad.compile(loss_fn(model, inputs, y), inputs=model.parameters())
        info = {"compile_seconds": time.perf_counter() - start, "nodes": tape.size, "kernels": tape.depth}

        def compiled_step():
            tape.forward()
            model.zero_grad()
            tape.backward()

        return compiled_step, info

    value_cls = value_class(engine)
    model = MLP(value_cls, len(X[0]), sizes)

    def step():
        inputs = [[value_cls(v) for v in row] for row in X]  # as micrograd's demo does, every step
        total = loss_fn(model, inputs, y)
        model.zero_grad()
        total.backward()

    return step, {}


def _torch_mlp(X, y, sizes, loss: str) -> Job:
    """The same step in PyTorch (batched tensors)."""
    torch = _torch()
    generator = torch.Generator().manual_seed(0)
    dims = [len(X[0])] + list(sizes)
    params = []
    for fan_in, fan_out in pairwise(dims):
        params.append((torch.rand(fan_out, fan_in, dtype=torch.float64, generator=generator) * 2 - 1).requires_grad_())
        params.append(torch.zeros(fan_out, dtype=torch.float64, requires_grad=True))
    xs = torch.tensor(X, dtype=torch.float64)
    ys = torch.tensor(y, dtype=torch.float64)

    def step():
        for p in params:
            p.grad = None
        h = xs
        for k in range(0, len(params), 2):
            h = h @ params[k].T + params[k + 1]
            if k + 2 < len(params):
                h = torch.relu(h)
        scores = h.squeeze(1)
        if loss == "sse":
            total = ((scores - ys) ** 2).sum()
        else:
            total = torch.relu(1 - ys * scores).mean() + 1e-4 * sum((p * p).sum() for p in params)
        total.backward()

    return step


# ---- W3: a long chain ----------------------------------------------------------------------------------------------
def _chain(value_cls, n: int):
    """n ops in a line: y = y * c, then y = y + x, alternately (c and x are leaves, so no constants are made)."""
    x, c = value_cls(0.5), value_cls(0.999)
    y = x
    for i in range(n):
        y = y * c if i % 2 == 0 else y + x
    return y


def _chain_runs(value_cls, n: int, collector: bool) -> list[tuple[float, float]]:
    """(forward, backward) seconds of several runs, after unmeasured warm-up runs (at least one, and 0.2 s: a fresh
    worker's first milliseconds ran a 10^3 chain at half speed, and its first run also grows the heap). Small
    chains repeat until 0.5 s is measured (at least 5 runs, at most 200), so no figure rests on a few
    sub-millisecond timings; a 10^6 chain runs 3 times. ``collector=False`` turns the garbage collector off while
    the learner's code builds the chain (back on for the backward pass), as a learner may.

    Times are the process's CPU time (``time.process_time``, user and system): a cost per node that other
    processes on a shared machine cannot inflate (on a quiet one it is the wall time)."""
    runs: list[tuple[float, float]] = []
    warm_until = time.perf_counter() + 0.2
    warming, measured = True, 0.0
    while True:
        gc.collect()
        if not collector:
            gc.disable()
        try:
            start = time.process_time()
            y = _chain(value_cls, n)
            built = time.process_time()
        finally:
            gc.enable()
        y.backward()
        done = time.process_time()
        del y
        if warming:
            warming = time.perf_counter() < warm_until
            continue
        runs.append((built - start, done - built))
        measured += done - start
        if len(runs) >= 200 or (len(runs) >= (3 if n >= 10**6 else 5) and measured >= 0.5):
            return runs


def _chain_engine(value_cls, n: int) -> dict:
    """Per node: building the chain (the learner's code, with the garbage collector on as users run it, and off),
    and backward() (jangrad's own work: the sort and the reverse pass); medians over the runs; bytes per node."""
    runs = _chain_runs(value_cls, n, collector=True)
    forward = statistics.median(f for f, _ in runs)
    backward = statistics.median(b for _, b in runs)
    forward_off = statistics.median(f for f, _ in _chain_runs(value_cls, n, collector=False))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    y = _chain(value_cls, n)
    graph_bytes = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del y
    return {
        "seconds": forward + backward,
        "us_per_node": (forward + backward) / n * 1e6,
        "forward_us_per_node": forward / n * 1e6,
        "forward_collector_off_us_per_node": forward_off / n * 1e6,
        "backward_us_per_node": backward / n * 1e6,
        "bytes_per_node": graph_bytes / n,
        "runs": len(runs),
    }


def _chain_torch(torch, n: int) -> dict:
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    c = torch.tensor(0.999, dtype=torch.float64, requires_grad=True)
    start = time.process_time()  # CPU time, as jangrad's chain is timed
    y = x
    for i in range(n):
        y = y * c if i % 2 == 0 else y + x
    built = time.process_time()
    y.backward()
    done = time.process_time()
    return {
        "seconds": done - start,
        "us_per_node": (done - start) / n * 1e6,
        "forward_us_per_node": (built - start) / n * 1e6,
        "backward_us_per_node": (done - built) / n * 1e6,
    }


def chain(engine: str, n: int) -> tuple[Job, dict]:
    """A chain of n ops, forward (graph building) plus backward, per node; graph bytes per node for Value engines."""
    if engine == "torch":
        torch = _torch()
        return lambda: _chain_torch(torch, n), {}
    value_cls = value_class(engine)
    return lambda: _chain_engine(value_cls, n), {}


# ---- W4: a long sum of products -----------------------------------------------------------------------------------
def _dot_graph(value_cls, n: int):
    a = [value_cls(0.001 * (i % 1000)) for i in range(n)]
    b = [value_cls(1.0 - 0.0005 * (i % 1000)) for i in range(n)]
    return a, b, sum(ai * bi for ai, bi in zip(a, b, strict=True))


def _dot_eager(value_cls, n: int) -> dict:
    def step():
        _, _, out = _dot_graph(value_cls, n)
        out.backward()

    return {"seconds": timed(step, 1, warmup=0)}


def _dot_compiled(n: int) -> dict:
    """The step with the numbers in arrays, as PyTorch's tensors hold theirs: the tape's own leaf array
    (``tape.leaf_data()``, read in place by ``tape.forward(values)``) and ``tape.leaf_grads()``.
    ``copied_values_seconds`` is the same step from an array of the caller's (copied in at every forward);
    ``values_seconds`` the step that reads every leaf's ``.data`` and writes its ``.grad``."""
    import numpy

    import jangrad

    a, b, out = _dot_graph(jangrad.Value, n)
    start = time.perf_counter()
    tape = jangrad.compile(out)
    compile_seconds = time.perf_counter() - start
    values = tape.leaf_data()
    values[:] = [leaf.data for leaf in tape.leaves]
    own_array = numpy.array(values)

    def array_step(values=values):
        tape.forward(values)
        tape.backward(write_grads=False)
        return tape.leaf_grads()

    def values_step():
        tape.forward()
        tape.backward()

    return {
        "seconds": timed(array_step, 20),
        "copied_values_seconds": timed(lambda: array_step(own_array), 20),
        "values_seconds": timed(values_step, 3),
        "compile_seconds": compile_seconds,
        "kernels": tape.depth,
    }


def _dot_torch(torch, n: int) -> dict:
    idx = torch.arange(n, dtype=torch.float64) % 1000
    a = (0.001 * idx).requires_grad_()
    b = (1.0 - 0.0005 * idx).requires_grad_()

    def step():
        a.grad = b.grad = None
        (a * b).sum().backward()

    return {"seconds": timed(step, 50, warmup=5)}


def dot(engine: str, n: int) -> tuple[Job, dict]:
    """sum(a_i * b_i) over n pairs: one step, forward plus backward."""
    if engine == "torch":
        torch = _torch()
        return lambda: _dot_torch(torch, n), {}
    if engine == "compiled":
        import jangrad  # noqa: F401 (imported at setup, like every other engine, not inside the measurement)

        return lambda: _dot_compiled(n), {}
    value_cls = value_class(engine)
    return lambda: _dot_eager(value_cls, n), {}


# ---- W5: digits ------------------------------------------------------------------------------------------------------
W5_BATCH, W5_LR = 32, 0.01


def _digits_jangrad(compiled: bool, epochs: int, X_train, X_test, y_train, y_test) -> dict:
    import jangrad
    from jangrad import nn

    model = nn.MLP(64, [32, 10], activation="relu", output_activation="linear", init="kaiming", seed=0)
    history = jangrad.fit(
        model,
        X_train,
        y_train,
        loss="ce",
        optimizer="adam",
        lr=W5_LR,
        epochs=epochs,
        batch_size=W5_BATCH,
        seed=0,
        progress=False,
        compiled=compiled,
    )
    with jangrad.no_grad():
        outputs = [model(x) for x in X_test]
    right = sum(max(range(10), key=lambda k: out[k].data) == t for out, t in zip(outputs, y_test, strict=True))
    return {"seconds": history.seconds, "test_accuracy": right / len(y_test), "steps": len(history), "epochs": epochs}


def _digits_torch(torch, epochs: int, X_train, X_test, y_train, y_test) -> dict:
    import random

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)).double()
    opt = torch.optim.Adam(model.parameters(), lr=W5_LR)
    xs, ys = torch.tensor(X_train, dtype=torch.float64), torch.tensor(y_train)
    order = list(range(len(xs)))
    rng = random.Random(0)
    start = time.perf_counter()
    for _ in range(epochs):
        rng.shuffle(order)
        for k in range(0, len(order), W5_BATCH):
            batch = torch.tensor(order[k : k + W5_BATCH])
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predicted = model(torch.tensor(X_test, dtype=torch.float64)).argmax(1)
    accuracy = float((predicted == torch.tensor(y_test)).double().mean())
    return {"seconds": seconds, "test_accuracy": accuracy, "epochs": epochs}


def digits(engine: str, epochs: int, data: list[list]) -> tuple[Job, dict]:
    """Train MLP(64, [32, 10]) on ``data`` (X_train, X_test, y_train, y_test, already split and standardised)."""
    if engine == "torch":
        torch = _torch()
        return lambda: _digits_torch(torch, epochs, *data), {}
    import jangrad  # noqa: F401 (imported at setup, so the heap counted after setup is the one training runs beside)

    return lambda: _digits_jangrad(engine == "compiled", epochs, *data), {}


# ---- W6: digits through a wider network, batches of 128 ----------------------------------------------------------
W6_SIZES, W6_BATCH, W6_LR = [128, 128, 10], 128, 1e-3


def _peak_rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _wide_jangrad(block: int, X_train, y_train) -> tuple[Job, dict]:
    """fit compiled: the first step (one sample's graph, listed from the MLP's shape, the batch tape built from it,
    then one step) timed as a user sees it, here at setup; the job is a block of ``block`` more steps (one fit call,
    timed by fit's own clock, which starts after the tape is built; the optimizer carries on from block to block, as
    PyTorch's does)."""
    import jangrad
    from jangrad import nn, optim

    model = nn.MLP(64, W6_SIZES, activation="relu", output_activation="linear", init="kaiming", seed=0)
    adam = optim.Adam(model.parameters(), lr=W6_LR)
    # metrics=["loss"]: fit records what the PyTorch loop records, the loss only (not each batch's accuracy too).
    options = dict(loss="ce", optimizer=adam, batch_size=W6_BATCH, progress=False, metrics=["loss"])
    start, cpu = time.perf_counter(), time.process_time()
    jangrad.fit(model, X_train, y_train, steps=1, seed=0, **options)
    first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    blocks = iter(range(1, 1 << 30))

    def run_block() -> dict:
        history = jangrad.fit(model, X_train, y_train, steps=block, seed=next(blocks), **options)
        return {"seconds": history.seconds / block, "final_loss": history.loss[-1], "peak_bytes": _peak_rss_bytes()}

    return run_block, {"first_step_seconds": first, "first_step_cpu_seconds": first_cpu}


def _wide_torch(torch, block: int, X_train, y_train) -> tuple[Job, dict]:
    """The same in PyTorch: the first step at setup, then blocks of ``block`` steps of one training loop."""
    import random

    torch.manual_seed(0)
    layers, sizes = [], [64] + W6_SIZES
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(W6_SIZES) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).double()
    opt = torch.optim.Adam(model.parameters(), lr=W6_LR)
    xs, ys = torch.tensor(X_train, dtype=torch.float64), torch.tensor(y_train)
    order = list(range(len(xs)))
    rng = random.Random(0)

    def batches():
        while True:
            rng.shuffle(order)
            for k in range(0, len(order), W6_BATCH):
                yield torch.tensor(order[k : k + W6_BATCH])

    feed = batches()

    def step():
        batch = next(feed)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch])
        loss.backward()
        opt.step()
        return float(loss)

    start, cpu = time.perf_counter(), time.process_time()
    step()
    first, first_cpu = time.perf_counter() - start, time.process_time() - cpu

    def run_block() -> dict:
        start = time.perf_counter()
        for _ in range(block):
            last = step()
        return {"seconds": (time.perf_counter() - start) / block, "final_loss": last, "peak_bytes": _peak_rss_bytes()}

    return run_block, {"first_step_seconds": first, "first_step_cpu_seconds": first_cpu}


def wide(engine: str, block: int, data: list[list]) -> tuple[Job, dict]:
    """MLP(64, [128, 128, 10]) relu on digits, softmax cross-entropy, Adam, batches of 128: the first step at setup
    (in the setup's reply), then a job that runs ``block`` steps and returns their time per step, the loss and the
    peak memory (``data`` is X_train, y_train, standardised)."""
    if engine == "torch":
        return _wide_torch(_torch(), block, *data)
    # Imported at setup, as the PyTorch worker imports torch: the modules of fit's compiled path and their engine,
    # NumPy (together some 60 ms on first import, otherwise paid once by the first fit of the process).
    import numpy  # noqa: F401

    import jangrad.compiled.batch_losses
    import jangrad.compiled.batch_tape
    import jangrad.compiled.training  # noqa: F401

    return _wide_jangrad(block, *data)


# ---- W7: compiling a user's graph of about 10^6 nodes ---------------------------------------------------------------
def _big_graph(samples: int):
    """micrograd's moons model and hinge loss over ``samples`` samples: the graph a learner builds (973,019 nodes
    at 1,500 samples)."""
    import jangrad

    X = [[((i * 37) % 200) / 100.0 - 1.0, ((i * 91) % 200) / 100.0 - 1.0] for i in range(samples)]
    y = [1.0 if (i * 53) % 2 else -1.0 for i in range(samples)]
    model = MLP(jangrad.Value, 2, [16, 16, 1])
    inputs = [[jangrad.Value(v) for v in row] for row in X]
    return model, hinge_l2_loss(model, inputs, y)


def _compile_big(samples: int) -> dict:
    import jangrad

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    model, loss = _big_graph(samples)
    graph_bytes = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.reset_peak()
    during = tracemalloc.get_traced_memory()[0]
    tape = jangrad.compile(loss, inputs=model.parameters())
    compile_peak = tracemalloc.get_traced_memory()[1] - during
    tracemalloc.stop()
    nodes = tape.size
    del tape
    gc.collect()
    start = time.perf_counter()  # timed again without tracemalloc, which slows Python allocations down
    tape = jangrad.compile(loss, inputs=model.parameters())
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "nodes": nodes,
        "graph_bytes": graph_bytes,
        "compile_peak_bytes": compile_peak,
        "kernels": tape.depth,
    }


def compile_big(engine: str, samples: int) -> tuple[Job, dict]:
    if engine != "compiled":
        raise ValueError("W7 measures jangrad.compile only")
    import jangrad  # noqa: F401

    return lambda: _compile_big(samples), {}


SETUPS: dict[str, Callable[..., tuple[Job, dict]]] = {
    "W1": mlp,
    "W2": mlp,
    "W3": chain,
    "W4": dot,
    "W5": digits,
    "W6": wide,
    "W7": compile_big,
}
