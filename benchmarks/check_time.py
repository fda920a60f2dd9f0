"""How long `jangrad check` takes: under 10 seconds for the full check of an engine that passes, and under 60
seconds for an engine whose backward() never returns, at the default limits (10 s per check, 200 random graphs).

Not part of ``run.py``'s workloads: this times the checker, not an engine. Run from the repository root:
``python benchmarks/check_time.py [REPEATS]``. It checks the correct fixture engine and micrograd 0.1.0's own
``Value`` (the peer a learner compares with; skipped if it is not installed), and prints the median of the repeats
for each, beside the target; then it checks the fixture whose backward() never returns once (each run waits out a
10 s time limit), printing its time and how many checks waited for their time limit.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ROOT / "tests" / "fixtures" / "engines"
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0
HANG_TARGET_SECONDS = 60.0


def time_check(engine, repeats: int) -> tuple[float, bool]:
    from jangrad.check import check_engine

    seconds, passed = [], True
    for _ in range(repeats):
        start = time.perf_counter()
        report = check_engine(engine)
        seconds.append(time.perf_counter() - start)
        passed = passed and report.passed
    return statistics.median(seconds), passed


def time_hanging_check() -> None:
    from jangrad.check import check_engine

    start = time.perf_counter()
    report = check_engine(str(ENGINES / "never_returns.py"))
    seconds = time.perf_counter() - start
    print(f"a backward() that never returns, default limits; target under {HANG_TARGET_SECONDS:g} s")
    waited = f"{len(report.waited)} waited out the limit: {', '.join(report.waited)}"
    print(f"  {'never_returns.py':24s} {seconds:5.2f} s  ({waited}; first FAIL: {report.failures[0].name})")


def main(argv: list[str]) -> int:
    repeats = int(argv[0]) if argv else 3
    engines = [("correct fixture engine", str(ENGINES / "correct.py"))]
    try:
        import micrograd.engine

        engines.append(("micrograd 0.1.0 Value", micrograd.engine.Value))
    except ImportError:
        print("micrograd is not installed (pip install micrograd==0.1.0): timing the fixture only")
    print(f"full check, median of {repeats}; target under {TARGET_SECONDS:g} s")
    for name, engine in engines:
        median, passed = time_check(engine, repeats)
        print(f"  {name:24s} {median:5.2f} s  ({'passed' if passed else 'FAILED'})")
    time_hanging_check()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
