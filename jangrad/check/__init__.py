"""``jangrad check``: test a learner's own micrograd-style ``Value`` class and say, in plain words, which rule is
wrong, the root cause first.

``check_engine(Value)`` (or ``jangrad check my_engine.py`` on the command line) finds which ops the class supports
and checks each alone against jangrad's op table and central differences: where the class keeps its graph as the
lecture's does, by calling the op's rules itself, which tells a wrong rule from a wrong ``backward()`` and shows
which ops are built on which. Then a leaf used twice (``+=``), the walk in ``backward()`` (watching the order it
calls the rules in), generated graphs shrunk with hypothesis to the smallest failing one, and the limits (how deep a
graph backward() handles, a second backward(), exp(1000)). Every node's data and grad is compared, not only the
inputs'. The learner's code runs in a worker process with a time limit per check; a ``backward()`` that never
returns costs it once.

Files: ``forms.py`` (the ways a Value is used), ``program.py`` (a graph as data, its right numbers, running it on
the learner's class), ``introspect.py`` (looking inside the learner's graph: its rules, the walk's order),
``probes.py`` (what the worker runs), ``session.py`` (the worker process and its time limit), ``loading.py``
(importing the learner's file), ``plan.py`` (the checks in order, on any probe runner), ``blame.py`` and
``walk.py`` (which rule, or what in the walk, is wrong, in words), ``report.py`` (the report card), ``drawing.py``
(the failing graph drawn), ``runner.py`` (``check_engine``).
"""

from .loading import EngineError
from .report import CheckLine, Report
from .runner import check_engine

__all__ = ["check_engine", "Report", "CheckLine", "EngineError"]
