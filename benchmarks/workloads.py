"""The five workloads W1-W5, each written for every engine that can run it.

Every function returns ``{engine: {"seconds": ..., ...}}`` (or ``{"error": "..."}`` when that engine cannot run
the workload, e.g. micrograd's recursive topological sort on a deep graph). Engines: ``micrograd`` (0.1.0 from
PyPI), ``eager`` (jangrad's Value), ``compiled`` (``jangrad.compile``) and ``torch`` (PyTorch eager, CPU,
float64, one thread, batched tensor maths as a PyTorch user would write it).

A "step" is what a training loop does before the optimizer moves: zero the gradients, compute the loss, backward.
For micrograd and jangrad eager that includes building the graph; the compiled tape re-reads the leaves instead
(its one-off compile time is reported separately).
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from typing import Callable

from models import MLP, hinge_l2_loss

W1_X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
W1_Y = [1.0, -1.0, -1.0, 1.0]


def timed(step: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """The median wall time of ``step()`` over ``repeats`` runs, after ``warmup`` runs (garbage collector on)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _guard(fn: Callable[[], dict]) -> dict:
    try:
        return fn()
    except RecursionError:
        return {"error": "RecursionError (recursive topological sort)"}
    except MemoryError:
        return {"error": "MemoryError"}


def _value_classes():
    from micrograd.engine import Value as MicrogradValue

    from jangrad import Value
    return {"micrograd": MicrogradValue, "eager": Value}


# ---- W1 and W2: micrograd's own model code on each engine -------------------------------------------------------
def _sse_loss(model, inputs, targets):
    return sum((model(x) - t) ** 2 for x, t in zip(inputs, targets))


def timed_interleaved(steps: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Per-call median times of several engines measured round by round, each round running every engine.

    On a shared machine the load changes from second to second; interleaving makes every engine see the same
    conditions, so the ratios between them hold even when the absolute times drift. ``steps`` maps an engine to
    (step function, calls per round): fast engines make many calls per round, so each round times them well.
    """
    for step, calls in steps.values():  # warm-up
        for _ in range(min(calls, 5)):
            step()
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, (step, calls) in steps.items():
            # Each block starts from a collected heap, so no engine pays for another's garbage (micrograd leaves
            # reference cycles behind); within a block, later calls pay for earlier ones, as in a training loop.
            gc.collect()
            start = time.perf_counter()
            for _ in range(calls):
                step()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(times) for name, times in samples.items()}


def _mlp_workload(X, y, sizes, loss_fn, calls: dict, rounds: int, torch_loss: str) -> dict:
    import jangrad

    steps, results = {}, {}
    for engine, value_cls in _value_classes().items():
        model = MLP(value_cls, len(X[0]), sizes)

        def step(model=model, value_cls=value_cls):
            inputs = [[value_cls(v) for v in row] for row in X]  # as micrograd's demo does, every step
            loss = loss_fn(model, inputs, y)
            model.zero_grad()
            loss.backward()

        steps[engine] = (step, calls[engine])

    model = MLP(jangrad.Value, len(X[0]), sizes)
    inputs = [[jangrad.Value(v) for v in row] for row in X]
    loss = loss_fn(model, inputs, y)
    start = time.perf_counter()
    tape = jangrad.compile(loss, inputs=model.parameters())
    results["compiled"] = {"compile_seconds": time.perf_counter() - start, "nodes": tape.size,
                           "kernels": tape.depth}

    def compiled_step():
        tape.forward()
        model.zero_grad()
        tape.backward()

    steps["compiled"] = (compiled_step, calls["compiled"])
    torch_step = _torch_mlp(X, y, sizes, torch_loss)
    if torch_step is None:
        results["torch"] = {"error": "torch not installed"}
    else:
        steps["torch"] = (torch_step, calls["torch"])
    for engine, seconds in timed_interleaved(steps, rounds).items():
        results.setdefault(engine, {})["seconds"] = seconds
    return results


def _torch_mlp(X, y, sizes, loss: str) -> Callable[[], None] | None:
    """The same step in PyTorch (batched tensors), or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    dims = [len(X[0])] + list(sizes)
    params = []
    for fan_in, fan_out in zip(dims, dims[1:]):
        params.append((torch.rand(fan_out, fan_in, dtype=torch.float64, generator=generator) * 2 - 1)
                      .requires_grad_())
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


def w1(quick: bool) -> dict:
    """The lecture's 4-sample step: MLP(3, [4, 4, 1]) (ReLU hidden, linear output), sum of squared errors."""
    calls = {"micrograd": 20, "eager": 20, "compiled": 100, "torch": 100}
    return _mlp_workload(W1_X, W1_Y, [4, 4, 1], _sse_loss, calls, 10 if quick else 30, "sse")


def w2(quick: bool) -> dict:
    """micrograd's moons demo step: 100 samples, MLP(2, [16, 16, 1]), hinge loss + 1e-4 L2."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    X, y = X.tolist(), (y * 2 - 1).astype(float).tolist()
    calls = {"micrograd": 2, "eager": 2, "compiled": 100, "torch": 100}
    return _mlp_workload(X, y, [16, 16, 1], hinge_l2_loss, calls, 2 if quick else 5, "hinge")


# ---- W3: a long chain ----------------------------------------------------------------------------------------------
def _chain(value_cls, n: int):
    """n ops in a line: y = y * c, then y = y + x, alternately (c and x are leaves, so no constants are made)."""
    x, c = value_cls(0.5), value_cls(0.999)
    y = x
    for i in range(n):
        y = y * c if i % 2 == 0 else y + x
    return y


def _chain_engine(value_cls, n: int) -> dict:
    """Median over several runs for small n (a 10^3 chain takes a millisecond: one run is mostly noise)."""
    runs = []
    for _ in range(max(1, min(15, 100000 // n))):
        gc.collect()
        start = time.perf_counter()
        y = _chain(value_cls, n)
        built = time.perf_counter()
        y.backward()
        done = time.perf_counter()
        del y
        runs.append((done - start, built - start, done - built))
    total, forward, backward = sorted(runs)[len(runs) // 2]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    y = _chain(value_cls, n)
    graph_bytes = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del y
    return {"seconds": total, "us_per_node": total / n * 1e6, "forward_us_per_node": forward / n * 1e6,
            "backward_us_per_node": backward / n * 1e6, "bytes_per_node": graph_bytes / n, "runs": len(runs)}


def _chain_torch(n: int) -> dict:
    try:
        import torch
    except ImportError:
        return {"error": "torch not installed"}
    torch.set_num_threads(1)
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    c = torch.tensor(0.999, dtype=torch.float64, requires_grad=True)
    start = time.perf_counter()
    y = x
    for i in range(n):
        y = y * c if i % 2 == 0 else y + x
    built = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    return {"seconds": done - start, "us_per_node": (done - start) / n * 1e6,
            "forward_us_per_node": (built - start) / n * 1e6, "backward_us_per_node": (done - built) / n * 1e6}


def w3(quick: bool) -> dict:
    """A chain of 10^3 .. 10^6 ops, forward (graph building) plus backward, per node; graph bytes per node."""
    sizes = [1000, 10000, 100000] if quick else [1000, 10000, 100000, 1000000]
    classes = _value_classes()
    results = {}
    for n in sizes:
        row = {"micrograd": _guard(lambda: _chain_engine(classes["micrograd"], n)) if n <= 1000
               else {"error": "not run (fails at 10^3 already)"},
               "eager": _guard(lambda: _chain_engine(classes["eager"], n)),
               "compiled": {"error": "not run: a chain is one node per level, nothing to vectorise"},
               "torch": _chain_torch(n) if n <= 100000 else {"error": "not run (minutes at 10^6)"}}
        results[f"n={n}"] = row
    return results


# ---- W4: a long sum of products -----------------------------------------------------------------------------------
def _dot_graph(value_cls, n: int):
    a = [value_cls(0.001 * (i % 1000)) for i in range(n)]
    b = [value_cls(1.0 - 0.0005 * (i % 1000)) for i in range(n)]
    return a, b, sum(ai * bi for ai, bi in zip(a, b))


def _dot_eager(value_cls, n: int) -> dict:
    def step():
        _, _, out = _dot_graph(value_cls, n)
        out.backward()
    return {"seconds": timed(step, 1, warmup=0)}


def _dot_compiled(n: int) -> dict:
    import jangrad

    a, b, out = _dot_graph(jangrad.Value, n)
    start = time.perf_counter()
    tape = jangrad.compile(out)
    compile_seconds = time.perf_counter() - start

    def step():
        tape.forward()
        tape.backward()
    return {"seconds": timed(step, 20), "compile_seconds": compile_seconds, "kernels": tape.depth}


def _dot_torch(n: int) -> dict:
    try:
        import torch
    except ImportError:
        return {"error": "torch not installed"}
    torch.set_num_threads(1)
    idx = torch.arange(n, dtype=torch.float64) % 1000
    a = (0.001 * idx).requires_grad_()
    b = (1.0 - 0.0005 * idx).requires_grad_()

    def step():
        a.grad = b.grad = None
        (a * b).sum().backward()
    return {"seconds": timed(step, 50, warmup=5)}


def w4(quick: bool) -> dict:
    """sum(a_i * b_i) over 10^5 and 10^6 pairs: a graph that is one wide level once flattened."""
    sizes = [100000] if quick else [100000, 1000000]
    classes = _value_classes()
    return {f"n={n}": {"micrograd": _guard(lambda: _dot_eager(classes["micrograd"], n)) if n <= 100000
                       else {"error": "not run (fails at 10^5 already)"},
                       "eager": _guard(lambda: _dot_eager(classes["eager"], n)),
                       "compiled": _dot_compiled(n), "torch": _dot_torch(n)}
            for n in sizes}


# ---- W5: digits ------------------------------------------------------------------------------------------------------
def _digits_data():
    from jangrad import data

    X, y = data.digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=0)
    X_train, X_test = data.standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test


W5_EPOCHS, W5_BATCH, W5_LR = 10, 32, 0.01


def _digits_jangrad(compiled: bool, epochs: int) -> dict:
    import jangrad
    from jangrad import nn

    X_train, X_test, y_train, y_test = _digits_data()
    model = nn.MLP(64, [32, 10], activation="relu", output_activation="linear", init="kaiming", seed=0)
    history = jangrad.fit(model, X_train, y_train, loss="ce", optimizer="adam", lr=W5_LR, epochs=epochs,
                          batch_size=W5_BATCH, seed=0, progress=False, compiled=compiled)
    with jangrad.no_grad():
        outputs = [model(x) for x in X_test]
    right = sum(max(range(10), key=lambda k: out[k].data) == t for out, t in zip(outputs, y_test))
    return {"seconds": history.seconds, "test_accuracy": right / len(y_test), "steps": len(history),
            "epochs": epochs}


def _digits_torch(epochs: int) -> dict:
    try:
        import torch
    except ImportError:
        return {"error": "torch not installed"}
    import random

    torch.set_num_threads(1)
    torch.manual_seed(0)
    X_train, X_test, y_train, y_test = _digits_data()
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)).double()
    opt = torch.optim.Adam(model.parameters(), lr=W5_LR)
    xs, ys = torch.tensor(X_train, dtype=torch.float64), torch.tensor(y_train)
    order = list(range(len(xs)))
    rng = random.Random(0)
    start = time.perf_counter()
    for _ in range(epochs):
        rng.shuffle(order)
        for k in range(0, len(order), W5_BATCH):
            batch = torch.tensor(order[k:k + W5_BATCH])
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predicted = model(torch.tensor(X_test, dtype=torch.float64)).argmax(1)
    accuracy = float((predicted == torch.tensor(y_test)).double().mean())
    return {"seconds": seconds, "test_accuracy": accuracy, "epochs": epochs}


def w5(quick: bool) -> dict:
    """digits: MLP(64, [32, 10]), softmax cross-entropy, Adam, 80/20 split, standardised, batches of 32."""
    epochs = 3 if quick else W5_EPOCHS
    eager_epochs = 1  # eager takes about 40 s per epoch: time one and scale it
    eager = _digits_jangrad(False, eager_epochs)
    eager["note"] = f"{eager_epochs} epoch only; seconds scaled to {epochs} epochs"
    eager["seconds"] *= epochs / eager_epochs
    return {f"{epochs} epochs": {"micrograd": {"error": "not run (no softmax cross-entropy; hours)"},
                                 "eager": eager, "compiled": _digits_jangrad(True, epochs),
                                 "torch": _digits_torch(epochs)}}


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5}
