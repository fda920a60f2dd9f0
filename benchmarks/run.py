"""Run the jangrad benchmarks W1-W7 and print, and write as Markdown and JSON, one table of times and ratios.

    python -m pip install -r benchmarks/requirements.txt   # micrograd 0.1.0, the baseline
    python benchmarks/run.py                                # all workloads (a few minutes); --quick for a smoke run
    python benchmarks/run.py W2 --preload torch             # as in a notebook that has PyTorch imported too

Engines, side by side in one run: micrograd 0.1.0, jangrad eager, jangrad compiled (``jangrad.compile``) and
PyTorch eager (CPU, float64, one thread). Each engine runs in a worker process of its own (``worker.py``) that
imports that engine only: CPython's garbage collector periodically rescans every tracked object in a process, so
a pure-Python engine beside PyTorch's heap would pay for PyTorch's objects. ``--preload MODULE`` (repeatable) makes
every worker import MODULE first, to measure that case on purpose. Results go to
``benchmarks/results/results.{md,json}`` (``--out``). These are benchmarks, not tests: numbers vary with the
machine and its load, ratios less so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # the jangrad checkout this file belongs to, before any installed copy

from pool import Pool, WorkerDied  # noqa: E402
from workloads import ENGINES, WORKLOADS  # noqa: E402

from jangrad.io.files import write_text  # noqa: E402

HEADERS = ("micrograd 0.1.0", "jangrad eager", "jangrad compiled", "PyTorch eager")


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def ratio(a: dict, b: dict) -> float | None:
    if "seconds" in a and "seconds" in b and b["seconds"] > 0:
        return a["seconds"] / b["seconds"]
    return None


def fmt_ratio(r: float | None) -> str:
    return "-" if r is None else (f"{r:,.0f}x" if r >= 100 else f"{r:.2f}x")


def cell(result: dict) -> str:
    return fmt_time(result["seconds"]) if "seconds" in result else "n/a"


def step_table(results: dict) -> list[str]:
    """One row per workload size: the time of each engine, then the ratios the targets talk about."""
    lines = [
        "| workload | " + " | ".join(HEADERS) + " | micrograd / eager | micrograd / compiled | compiled / PyTorch |",
        "|---" * (len(HEADERS) + 4) + "|",
    ]
    for name, rows in results.items():
        if name in ("W3", "W7", "meta"):
            continue
        for size, row in rows.items():
            lines.append(
                f"| {name} {size} | " + " | ".join(cell(row[e]) for e in ENGINES) + " | "
                f"{fmt_ratio(ratio(row['micrograd'], row['eager']))} | "
                f"{fmt_ratio(ratio(row['micrograd'], row['compiled']))} | "
                f"{fmt_ratio(ratio(row['compiled'], row['torch']))} |"
            )
    return lines


def chain_table(rows: dict) -> list[str]:
    """W3 per node: backward() (jangrad's own work), building the chain with the collector on and off, memory."""

    def per_node(result: dict, key: str = "us_per_node") -> str:
        return f"{result[key]:.2f}" if key in result else result.get("error", "n/a")

    lines = [
        "| W3 chain (CPU time) | jangrad eager backward µs/node (sort + reverse pass) | "
        "building µs/node (collector on) | building µs/node (collector off) | collector's share of building | "
        "bytes/node | micrograd µs/node | PyTorch µs/node |",
        "|---" * 8 + "|",
    ]
    for size, row in rows.items():
        eager = row["eager"]
        bytes_per_node = f"{eager['bytes_per_node']:.0f}" if "bytes_per_node" in eager else "n/a"
        share = "n/a"
        if "forward_collector_off_us_per_node" in eager:
            share = f"{1 - eager['forward_collector_off_us_per_node'] / eager['forward_us_per_node']:.0%}"
        lines.append(
            f"| {size} | {per_node(eager, 'backward_us_per_node')} | {per_node(eager, 'forward_us_per_node')} | "
            f"{per_node(eager, 'forward_collector_off_us_per_node')} | {share} | {bytes_per_node} | "
            f"{per_node(row['micrograd'])} | {per_node(row['torch'])} |"
        )
    return lines


def _vs_torch(results: dict, workload: str, limit: float, checks: list) -> None:
    """One check per size of ``workload``: compiled / PyTorch at most ``limit``."""
    for size, row in results.get(workload, {}).items():
        vs_torch = ratio(row["compiled"], row["torch"])
        label = f"{workload} {size}" if workload not in ("W1", "W2") else f"{workload} step"
        checks.append(
            (f"{label} compiled / PyTorch <= {limit:g}", vs_torch, vs_torch is not None and vs_torch <= limit)
        )


def targets(results: dict) -> list[str]:
    """The issue's targets (issue 23 and those before it), each with the measured figure and PASS or MISS."""
    checks: list = []
    _vs_torch(results, "W1", 1.0, checks)
    if "W2" in results:
        row = results["W2"]["step"]
        eager, compiled = ratio(row["micrograd"], row["eager"]), ratio(row["micrograd"], row["compiled"])
        checks.append(("W2 eager >= 15x faster than micrograd", eager, eager is not None and eager >= 15))
        checks.append(
            ("W2 compiled >= 1000x faster than micrograd", compiled, compiled is not None and compiled >= 1000)
        )
        _vs_torch(results, "W2", 1.0, checks)
    if "W3" in results:
        rows = [r["eager"] for r in results["W3"].values() if "backward_us_per_node" in r["eager"]]
        if rows:
            last = rows[-1]
            per_node = [r["backward_us_per_node"] for r in rows]
            spread = max(per_node) / min(per_node) - 1.0
            checks.append(
                (
                    f"W3 eager at {list(results['W3'])[-1]}: <= 2 µs/node (building + backward)",
                    last["us_per_node"],
                    last["us_per_node"] <= 2.0,
                )
            )
            checks.append(("W3 eager <= 250 bytes/node", last["bytes_per_node"], last["bytes_per_node"] <= 250))
            checks.append(("W3 eager backward µs/node flat within 30 % (max/min - 1)", spread, spread <= 0.30))
    _vs_torch(results, "W4", 1.5, checks)
    if "W5" in results:
        row = next(iter(results["W5"].values()))
        compiled = row["compiled"]
        checks.append(("W5 digits test accuracy >= 95 %", compiled["test_accuracy"], compiled["test_accuracy"] >= 0.95))
        checks.append(("W5 digits training < 30 s", compiled["seconds"], compiled["seconds"] < 30))
        vs_torch = ratio(compiled, row["torch"])
        checks.append(("W5 compiled / PyTorch <= 1", vs_torch, vs_torch is not None and vs_torch <= 1.0))
    if "W6" in results:
        row = next(iter(results["W6"].values()))
        compiled = row["compiled"]
        if "seconds" in compiled:
            vs_torch = ratio(compiled, row["torch"])
            first = compiled["first_step_cpu_seconds"]  # (a shared machine's load inflates the wall time)
            first_step = "W6 first step, CPU time (one sample's graph, the batch tape, a step) <= 0.1 s"
            checks.append((first_step, first, first <= 0.1))
            checks.append(("W6 peak memory < 1 GB (GB)", compiled["peak_bytes"] / 1e9, compiled["peak_bytes"] < 1e9))
            checks.append(("W6 step compiled / PyTorch <= 1", vs_torch, vs_torch is not None and vs_torch <= 1.0))
    if "W7" in results:
        compiled = next(iter(results["W7"].values()))["compiled"]
        if "seconds" in compiled:
            memory = compiled["compile_peak_bytes"] / compiled["graph_bytes"]
            checks.append(("W7 compile of a 10^6-node graph < 5 s", compiled["seconds"], compiled["seconds"] < 5))
            checks.append(("W7 compile memory / eager graph memory < 4", memory, memory < 4))
    return ["| target | measured | |", "|---|---|---|"] + [
        f"| {name} | {'-' if value is None else f'{value:.4g}'} | {'PASS' if ok else 'MISS'} |"
        for name, value, ok in checks
    ]


def accuracy(result: dict) -> str:
    if "test_accuracy" not in result:
        return "n/a"
    return f"{result['test_accuracy']:.1%}" + (f" (after {result['epochs']} epoch)" if result.get("note") else "")


def digits_table(rows: dict) -> list[str]:
    lines = ["| W5 digits | " + " | ".join(HEADERS) + " |", "|---" * 5 + "|"]
    for size, row in rows.items():
        lines.append(
            f"| {size}: training time | "
            + " | ".join(cell(row[e]) + (" (scaled from 1 epoch)" if row[e].get("note") else "") for e in ENGINES)
            + " |"
        )
        lines.append(f"| {size}: test accuracy | " + " | ".join(accuracy(row[e]) for e in ENGINES) + " |")
    return lines


def wide_table(rows: dict) -> list[str]:
    lines = [
        "| W6 digits, MLP(64, [128, 128, 10]), batches of 128 | jangrad compiled | PyTorch eager | "
        "compiled / PyTorch |",
        "|---|---|---|---|",
    ]
    for size, row in rows.items():
        compiled, torch = row["compiled"], row["torch"]
        for label, key, show in (
            ("first step (median of fresh workers)", "first_step_seconds", fmt_time),
            ("first step, CPU time (median of fresh workers)", "first_step_cpu_seconds", fmt_time),
            ("step (median over rounds, taken in turn)", "seconds", fmt_time),
            ("peak memory (process RSS)", "peak_bytes", lambda b: f"{b / 1e6:,.0f} MB"),
            ("loss after the run", "final_loss", lambda v: f"{v:.4f}"),
        ):
            a, b = compiled.get(key), torch.get(key)
            both = a is not None and b is not None and key != "final_loss" and b > 0
            lines.append(
                f"| {size}: {label} | {show(a) if a is not None else 'n/a'} | "
                f"{show(b) if b is not None else 'n/a'} | {fmt_ratio(a / b) if both else '-'} |"
            )
    return lines


def compile_table(rows: dict) -> list[str]:
    lines = [
        "| W7 jangrad.compile, moons MLP(2, [16, 16, 1]) + hinge | nodes | compile time | eager graph memory | "
        "compile peak memory | memory ratio |",
        "|---|---|---|---|---|---|",
    ]
    for size, row in rows.items():
        c = row["compiled"]
        if "seconds" not in c:
            lines.append(f"| {size} | {c.get('error', 'n/a')} | | | | |")
            continue
        lines.append(
            f"| {size} | {c['nodes']:,} | {fmt_time(c['seconds'])} | {c['graph_bytes'] / 1e6:,.0f} MB | "
            f"{c['compile_peak_bytes'] / 1e6:,.0f} MB | {c['compile_peak_bytes'] / c['graph_bytes']:.2f}x |"
        )
    return lines


def heaps(meta: dict) -> str:
    """The sentence saying what each engine's worker process held: tracked objects after setup, and preloads."""
    counts = []
    for engine, header in zip(ENGINES, HEADERS, strict=True):
        found = meta.get("gc_objects", {}).get(engine, {}).values()
        if found:
            low, high = min(found), max(found)
            counts.append(f"{header} {low:,}" + (f"-{high:,}" if high != low else ""))
    preloaded = meta.get("preload") or []
    imports = "that engine only"
    if preloaded:
        imports = f"{', '.join(preloaded)} (`{' '.join('--preload ' + m for m in preloaded)}`), then {imports}"
    return (
        f"Each engine runs in its own worker process, which imports {imports}; objects the garbage collector "
        f"tracks in a worker after setup (lowest-highest over the workloads): {', '.join(counts)}."
    )


def markdown(results: dict) -> str:
    meta = results["meta"]
    parts = [
        f"# jangrad benchmarks\n\n{meta['date']}, Python {meta['python']}, {meta['machine']}, "
        f"{meta['cpus']} CPUs; micrograd {meta['micrograd']}, PyTorch {meta['torch']} (float64, 1 thread), "
        f"NumPy {meta['numpy']}. Times are per step (median) unless stated; garbage collector on. "
        f"{heaps(meta)}\n",
    ]
    if any(name not in ("W3", "W7", "meta") for name in results):
        parts.append("\n".join(step_table(results)))
    if "W3" in results:
        parts.append("\n".join(chain_table(results["W3"])))
    if "W5" in results:
        parts.append("\n".join(digits_table(results["W5"])))
    if "W6" in results:
        parts.append("\n".join(wide_table(results["W6"])))
    if "W7" in results:
        parts.append("\n".join(compile_table(results["W7"])))
    parts.append("## Targets\n\n" + "\n".join(targets(results)))
    return "\n\n".join(parts) + "\n"


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import numpy

    found = {}
    for name in ("micrograd", "torch"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return {"numpy": numpy.__version__, **found}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a dotted name whose package is missing
        return False


def _interrupt(signum: int, frame: object) -> None:
    """A plain kill (SIGTERM) unwinds like Ctrl-C, so the Pool stops every worker on the way out."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", metavar="W", help="which of W1..W7 to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats: a smoke run")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="directory for results.md/.json")
    parser.add_argument(
        "--preload",
        action="append",
        default=[],
        metavar="MODULE",
        help="a module every worker imports before its engine, e.g. torch (repeatable)",
    )
    args = parser.parse_args(argv)
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}: choose from {', '.join(WORKLOADS)}")
    try:
        import micrograd  # noqa: F401
    except ImportError:
        parser.error("micrograd is missing: python -m pip install -r benchmarks/requirements.txt")
    missing = [m for m in args.preload if not _importable(m)]
    if missing:
        parser.error(f"--preload: no module named {', '.join(missing)}")

    results: dict = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            **_versions(),
            "quick": args.quick,
            "preload": args.preload,
        }
    }
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with Pool(args.preload) as pool:
            for name in args.workloads or list(WORKLOADS):
                started = time.perf_counter()
                print(f"running {name} ...", file=sys.stderr, flush=True)
                outcome = WORKLOADS[name](pool, args.quick)
                results[name] = outcome if name not in ("W1", "W2") else {"step": outcome}
                print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    except WorkerDied as died:
        print(f"benchmark stopped: {died}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; every worker stopped", file=sys.stderr)
        return 130
    results["meta"]["gc_objects"] = pool.gc_objects

    text = markdown(results)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    write_text(os.path.join(args.out, "results.md"), text)
    write_text(os.path.join(args.out, "results.json"), json.dumps(results, indent=1) + "\n")
    print(f"written to {os.path.join(args.out, 'results.md')} and results.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
