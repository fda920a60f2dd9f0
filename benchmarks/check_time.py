"""How long `jangrad check` takes on a correct engine: the target is under 10 seconds for the full check.

Not part of ``run.py``'s workloads: this times the checker, not an engine. Run from the repository root:
``python benchmarks/check_time.py [REPEATS]``. It checks the correct fixture engine and micrograd 0.1.0's own
``Value`` (the peer a learner compares with; skipped if it is not installed) with the default settings (200 random
graphs, a worker process per session) and prints the median of the repeats for each, beside the target.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0


def time_check(engine, repeats: int) -> tuple[float, bool]:
    from jangrad.check import check_engine

    seconds, passed = [], True
    for _ in range(repeats):
        start = time.perf_counter()
        report = check_engine(engine)
        seconds.append(time.perf_counter() - start)
        passed = passed and report.passed
    return statistics.median(seconds), passed


def main(argv: list[str]) -> int:
    repeats = int(argv[0]) if argv else 3
    engines = [("correct fixture engine", str(ROOT / "tests" / "fixtures" / "engines" / "correct.py"))]
    try:
        import micrograd.engine

        engines.append(("micrograd 0.1.0 Value", micrograd.engine.Value))
    except ImportError:
        print("micrograd is not installed (pip install micrograd==0.1.0): timing the fixture only")
    print(f"full check, median of {repeats}; target under {TARGET_SECONDS:g} s")
    for name, engine in engines:
        median, passed = time_check(engine, repeats)
        print(f"  {name:24s} {median:5.2f} s  ({'passed' if passed else 'FAILED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
