"""``jangrad check``: test a learner's own micrograd-style ``Value`` class and say, in plain words, which rule is
wrong.

``check_engine(Value)`` (or ``jangrad check my_engine.py`` on the command line) finds which ops the class supports,
checks each alone against jangrad's op table and central differences, then graphs where rules must cooperate (a
leaf used twice, nodes used at different depths, generated graphs shrunk with hypothesis to the smallest failing
one), and notes the limits (how deep a graph backward() handles, a second backward(), exp(1000)). Every node's data
and grad is compared, not only the inputs'. The learner's code runs in a worker process with a time limit per check.

Files: ``forms.py`` (the ways a Value is used), ``program.py`` (a graph as data, its right numbers, running it on
the learner's class), ``probes.py`` (what the worker runs), ``session.py`` (the worker process), ``loading.py``
(importing the learner's file), ``blame.py`` (which rule is wrong, in words), ``report.py`` (the report card),
``drawing.py`` (the failing graph drawn), ``runner.py`` (``check_engine``).
"""

from .loading import EngineError
from .report import CheckLine, Report
from .runner import check_engine

__all__ = ["check_engine", "Report", "CheckLine", "EngineError"]
