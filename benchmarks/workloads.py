"""The workloads W1-W7: which engines run each, at which sizes and how often, each engine in its own worker.

Every function takes a ``pool.Pool`` and returns ``{engine: {"seconds": ..., ...}}`` (or ``{"error": "..."}`` when
that engine cannot run the workload, e.g. micrograd's recursive topological sort on a deep graph). What an engine
does in its worker is in ``engines.py``; data sets that need scikit-learn are made here, in the parent, and sent
as plain lists, so no worker imports scikit-learn.
"""

from __future__ import annotations

import statistics

from pool import Pool, Worker

ENGINES = ("micrograd", "eager", "compiled", "torch")
W1_X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
W1_Y = [1.0, -1.0, -1.0, 1.0]


# ---- W1 and W2: micrograd's own model code on each engine -------------------------------------------------------
def timed_interleaved(workers: dict[str, tuple[Worker, int]], rounds: int) -> dict[str, dict]:
    """Per-call median times of several engines measured round by round, each round running every engine.

    On a shared machine the load changes from second to second; interleaving makes every engine see the same
    conditions, so the ratios between them hold even when the absolute times drift. ``workers`` maps an engine to
    (its worker, calls per round): fast engines make many calls per round, so each round times them well. Each
    block continues the training loop in the engine's own worker (``worker.run_block``).
    """
    for worker, calls in workers.values():  # warm-up
        worker.request(op="run", calls=min(calls, 5))
    samples: dict[str, list[float]] = {name: [] for name in workers}
    failed: dict[str, dict] = {}
    for _ in range(rounds):
        for name, (worker, calls) in workers.items():
            if name not in failed:
                reply = worker.request(op="run", calls=calls)
                if "error" in reply:
                    failed[name] = reply
                else:
                    samples[name].append(reply["seconds"])
    return {name: failed.get(name) or {"seconds": statistics.median(samples[name])} for name in workers}


def _mlp_workload(pool: Pool, name: str, X, y, sizes, loss: str, calls: dict, rounds: int) -> dict:
    results, workers = {}, {}
    try:
        for engine in ENGINES:
            worker, reply = pool.start(engine, name, name, X=X, y=y, sizes=sizes, loss=loss)
            results[engine] = reply  # the compiled engine's compile time, nodes and kernels; an error
            if worker is not None:
                workers[engine] = (worker, calls[engine])
        for engine, outcome in timed_interleaved(workers, rounds).items():
            results[engine].update(outcome)
    finally:
        for worker, _ in workers.values():
            pool.stop(worker)
    return results


def w1(pool: Pool, quick: bool) -> dict:
    """The lecture's 4-sample step: MLP(3, [4, 4, 1]) (ReLU hidden, linear output), sum of squared errors."""
    calls = {"micrograd": 20, "eager": 20, "compiled": 100, "torch": 100}
    return _mlp_workload(pool, "W1", W1_X, W1_Y, [4, 4, 1], "sse", calls, 10 if quick else 30)


def w2(pool: Pool, quick: bool) -> dict:
    """micrograd's moons demo step: 100 samples, MLP(2, [16, 16, 1]), hinge loss + 1e-4 L2."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    X, y = X.tolist(), (y * 2 - 1).astype(float).tolist()
    calls = {"micrograd": 2, "eager": 2, "compiled": 100, "torch": 100}
    return _mlp_workload(pool, "W2", X, y, [16, 16, 1], "hinge", calls, 2 if quick else 5)


# ---- W3: a long chain ----------------------------------------------------------------------------------------------
def w3(pool: Pool, quick: bool) -> dict:
    """A chain of 10^3 .. 10^6 ops, forward (graph building) plus backward, per node; graph bytes per node.

    Every (engine, size) runs in a fresh worker, so a 10^6 graph's memory never affects the next measurement.
    """
    sizes = [1000, 10000, 100000] if quick else [1000, 10000, 100000, 1000000]
    results = {}
    for n in sizes:
        label = f"n={n}"

        def measure(engine: str, label: str = label, n: int = n) -> dict:
            return pool.measure(engine, f"W3 {label}", "W3", n=n)

        results[label] = {
            "micrograd": measure("micrograd") if n <= 1000 else {"error": "not run (fails at 10^3 already)"},
            "eager": measure("eager"),
            "compiled": {"error": "not run: a chain is one node per level, nothing to vectorise"},
            "torch": measure("torch") if n <= 100000 else {"error": "not run (minutes at 10^6)"},
        }
    return results


# ---- W4: a long sum of products -----------------------------------------------------------------------------------
def w4(pool: Pool, quick: bool) -> dict:
    """sum(a_i * b_i) over 10^5 and 10^6 pairs: a graph that is one wide level once flattened."""
    sizes = [100000] if quick else [100000, 1000000]
    results = {}
    for n in sizes:
        label = f"n={n}"
        results[label] = {
            engine: pool.measure(engine, f"W4 {label}", "W4", n=n)
            if engine != "micrograd" or n <= 100000
            else {"error": "not run (fails at 10^5 already)"}
            for engine in ENGINES
        }
    return results


# ---- W5: digits ------------------------------------------------------------------------------------------------------
W5_EPOCHS = 10


def _digits_data() -> list[list]:
    """X_train, X_test, y_train, y_test: 80/20 split, standardised on the training set (scikit-learn, so here)."""
    from jangrad import data

    X, y = data.digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=0)
    X_train, X_test = data.standardize(X_train, X_test)
    return [X_train, X_test, y_train, y_test]


def w5(pool: Pool, quick: bool) -> dict:
    """digits: MLP(64, [32, 10]), softmax cross-entropy, Adam, 80/20 split, standardised, batches of 32."""
    epochs = 3 if quick else W5_EPOCHS
    eager_epochs = 1  # eager takes about 40 s per epoch: time one and scale it
    digits = _digits_data()
    eager = pool.measure("eager", "W5", "W5", epochs=eager_epochs, data=digits)
    if "seconds" in eager:
        eager["note"] = f"{eager_epochs} epoch only; seconds scaled to {epochs} epochs"
        eager["seconds"] *= epochs / eager_epochs
    return {
        f"{epochs} epochs": {
            "micrograd": {"error": "not run (no softmax cross-entropy; hours)"},
            "eager": eager,
            "compiled": pool.measure("compiled", "W5", "W5", epochs=epochs, data=digits),
            "torch": pool.measure("torch", "W5", "W5", epochs=epochs, data=digits),
        }
    }


# ---- W6: digits through a wider network ----------------------------------------------------------------------------
W6_ROUNDS, W6_STEPS, W6_FIRST_STEPS = 3, 200, 5


def w6(pool: Pool, quick: bool) -> dict:
    """digits: MLP(64, [128, 128, 10]) relu, softmax cross-entropy, Adam lr 1e-3, batches of 128, via fit.

    The first step is taken at each worker's setup, in ``W6_FIRST_STEPS`` fresh workers per engine (a first step
    happens once per process, so each sample needs a process of its own); its figures are the medians, and the
    samples are kept. Then rounds of ``W6_STEPS`` steps (for jangrad one fit call, whose clock leaves out building
    its tape) in the first of those workers, jangrad's and PyTorch's in turn as W1/W2 take theirs, so both see the
    same load on a shared machine; the step time is the median over the rounds.
    """
    X_train, _, y_train, _ = _digits_data()
    rounds, block, firsts = (2, 50, 2) if quick else (W6_ROUNDS, W6_STEPS, W6_FIRST_STEPS)
    not_run = {"error": "not run (about 10 s a step: a graph of some 7 million nodes per batch)"}
    results: dict[str, dict] = {"micrograd": {"error": "not run (no softmax cross-entropy)"}, "eager": not_run}
    workers: dict[str, Worker] = {}
    data = [X_train, y_train]
    try:
        for engine in ("compiled", "torch"):
            worker, results[engine] = pool.start(engine, "W6", "W6", block=block, data=data)
            if worker is None:
                continue
            workers[engine] = worker
            samples = {key: [results[engine][key]] for key in ("first_step_seconds", "first_step_cpu_seconds")}
            for _ in range(firsts - 1):
                extra, reply = pool.start(engine, "W6", "W6", block=block, data=data)
                if extra is not None:
                    pool.stop(extra)
                    for key, values in samples.items():
                        values.append(reply[key])
            for key, values in samples.items():
                results[engine][key] = statistics.median(values)
                results[engine][key.replace("seconds", "samples")] = values
        samples_of: dict[str, list[float]] = {engine: [] for engine in workers}
        for _ in range(rounds):
            for engine, worker in list(workers.items()):
                reply = worker.request(op="measure")
                if "error" in reply:
                    results[engine] = reply
                    pool.stop(workers.pop(engine))
                    continue
                samples_of[engine].append(reply.pop("seconds"))
                results[engine].update(reply)  # the loss and the peak memory after this block
        for engine in workers:
            results[engine].update(seconds=statistics.median(samples_of[engine]), steps=rounds * block)
    finally:
        for worker in workers.values():
            pool.stop(worker)
    return {f"{rounds * block} steps": results}


# ---- W7: compiling a user's 10^6-node graph ------------------------------------------------------------------------
def w7(pool: Pool, quick: bool) -> dict:
    """jangrad.compile on micrograd's moons model over 1,500 samples (about 10^6 nodes): time and memory."""
    samples = 150 if quick else 1500
    return {f"{samples} samples": {"compiled": pool.measure("compiled", "W7", "W7", samples=samples)}}


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7}
