"""jangrad.check_engine on engines written like a learner's: the correct one passes, each one with a classic
mistake fails with that mistake named by the first FAIL line (an op built on a broken one "fails because" of it,
a wrong walk is told apart from wrong rules), micrograd 0.1.0's own engine passes with its depth limit as a note;
and engines that hang, raise, return nonsense or cannot be loaded each get one clear line."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

from jangrad.check import CheckLine, EngineError, Report, check_engine
from jangrad.check.blame import diagnose, explain_single
from jangrad.check.probes import accumulation_program, order_program
from jangrad.check.program import Program, Step, run_learner

ENGINES = Path(__file__).resolve().parent / "fixtures" / "engines"
sys.path.insert(0, str(ENGINES))  # the fixtures import correct.py, as a learner's neighbouring file

EXAMPLES = 60  # random graphs per check: every fixture's mistake shows within a few dozen


@functools.cache
def report_for(name: str) -> Report:
    # a generous time limit: these engines never hang, and a loaded machine must not make a check time out
    return check_engine(str(ENGINES / f"{name}.py"), examples=EXAMPLES, timeout=60.0)


def failing(report: Report) -> dict[str, CheckLine]:
    return {line.name: line for line in report.failures}


def test_the_correct_engine_passes_every_check():
    report = check_engine(str(ENGINES / "correct.py"))  # the full check, as `jangrad check` runs it
    assert report.passed and report.exit_code == 0, report.text()
    names = [line.name for line in report.lines]
    assert {
        "a + b",
        "2 - a",
        "a ** 2",
        "a.tanh()",
        "a.exp()",
        "a.log()",
        "a.relu()",
        "a.sigmoid()",
        "a leaf used twice",
        "backward()",
        "random graphs",
    } <= set(names)
    # an op whose graph is one rule of its own comes before the ops built on it, and says what they are built on
    assert names.index("a * b") < names.index("a - b") and names.index("a ** 2") < names.index("a / b")
    summaries = {line.name: line.summary for line in report.lines}
    assert summaries["a - b"] == "4 points, built on a + b, a * b"
    assert summaries["a / b"] == "4 points, built on a * b, a ** 2"
    assert summaries["a * b"] == "4 points"
    assert "a.sqrt()" in [form for form, _ in report.unsupported]  # listed, never counted as a failure
    assert "random graphs" in names and "200 graphs" in report.lines[names.index("random graphs")].summary
    assert "backward() handled a chain 20000 nodes deep" in report.notes
    assert any(note.startswith("exp(1000) raises OverflowError") for note in report.notes)


def test_assigning_instead_of_adding_is_named():
    failures = failing(report_for("assign_instead_of_add"))
    line = failures["a leaf used twice"]
    assert "(+=), not overwrite it (=)" in line.explanation
    assert line.explanation.startswith(
        "b is used 2 times (d = b + b twice), so its grad is the sum of 2 shares, "
        "4 + 4 = 8; yours is 4, the share of d = b + b alone"
    )
    assert line.case.yours_grad[1] == 4.0 and line.case.right_grad[1] == 8.0
    assert "(+=), not overwrite it (=)" in failures["random graphs"].explanation
    assert set(failures) == {"a leaf used twice", "random graphs"}  # the walk itself is right


@pytest.mark.parametrize(
    "fixture, form, rule, example",
    [
        (
            "wrong_tanh",
            "a.tanh()",
            "d(tanh x)/dx = 1 - tanh(x)^2",
            "your x.tanh() backward gives -1.25 for x = -1.5, but the right gradient is 0.1807",
        ),
        (
            "wrong_exp",
            "a.exp()",
            "d(e^x)/dx = e^x",
            "your x.exp() backward gives -2 for x = -2, but the right gradient is 0.1353",
        ),
        (
            "wrong_pow",
            "a ** 2",
            "k x^(k-1)",
            "your x ** 2 backward gives d/dx 8 for x = 2, but the right gradient is 4",
        ),
    ],
)
def test_a_wrong_local_rule_is_named_with_its_numbers(fixture, form, rule, example):
    failures = failing(report_for(fixture))
    assert form in failures
    assert failures[form].explanation.startswith(example)
    assert rule in failures[form].explanation
    graphs = {"a leaf used twice", "backward()", "random graphs"}
    assert not graphs & set(failures), "graphs use only the ops that passed alone"


def test_the_issue_example_sentence_for_tanh_at_half():
    sys.modules.pop("wrong_tanh", None)
    from wrong_tanh import Value

    case = run_learner(Value, Program((0.5,), (Step("tanh", (0,)),)))
    assert explain_single(case, "tanh") == (
        "your x.tanh() backward gives 0.75 for x = 0.5, but the right gradient "
        "is 0.7864: d(tanh x)/dx = 1 - tanh(x)^2 = 1 - out^2"
    )


# ---- the first FAIL names the culprit ----------------------------------------------------------------------------
CULPRITS = [
    # fixture, the first FAIL line's check, how its explanation starts, the other failures, all "because" of it
    (
        "mul_own_data",
        "a * b",
        "your x * y backward gives d/dx 2 for x = 2, y = -3, but the right gradient is -3: d(xy)/dx = y",
        {"a - b", "a / b", "2 - a", "a * 3", "3 * a", "a / 4", "2 / a", "-a"},
    ),
    (
        "flipped_sub",
        "a - b",
        "your x - y backward gives d/dy 1 for x = 2, y = -3, but the right gradient is -1: d(x-y)/dx = 1 and "
        "d(x-y)/dy = -1",
        set(),
    ),
    (
        "wrong_exp",
        "a.exp()",
        "your x.exp() backward gives -2 for x = -2, but the right gradient is 0.1353: d(e^x)/dx = e^x",
        set(),
    ),
    (
        "wrong_pow",
        "a ** 2",
        "your x ** 2 backward gives d/dx 8 for x = 2, but the right gradient is 4: d(x^k)/dx = k x^(k-1)",
        {"a / b", "2 / a"},
    ),
    (
        "topological_walk",
        "backward()",
        "Your rules are right (called one by one from the output back, they give every right grad), but backward() "
        "runs them in topological order, from the inputs forward: the rule of c = a * b ran before the rule of "
        "d = c + a, which uses it, so c.grad was still 0 when it was passed on. Run the rules in reverse",
        set(),  # random graphs run through the rules alone once backward() is known to be wrong, and pass
    ),
    (
        "preorder_walk",
        "backward()",
        "Your rules are right (called one by one from the output back, they give every right grad), but backward() "
        "ran the rule of d = a * b before the rule of k = i * d, which uses it, so d.grad was -0.75 when it was "
        "passed on, not yet its full -5. backward() must run the rules in reverse topological order",
        set(),
    ),
]


@pytest.mark.parametrize("fixture, culprit, explanation, following", CULPRITS, ids=[c[0] for c in CULPRITS])
def test_the_first_fail_line_names_the_culprit(fixture, culprit, explanation, following):
    report = report_for(fixture)
    first = report.failures[0]
    assert first.name == culprit and first.cause is None, report.text()
    assert first.explanation.startswith(explanation)
    fail_lines = [row for row in report.text().splitlines() if row.startswith("FAIL")]
    assert fail_lines[0].split("  ")[1] == culprit  # the printed report too
    rest = report.failures[1:]
    assert {line.name for line in rest} == following
    for line in rest:
        assert line.cause == culprit and line.summary == f"fails because {culprit} fails", line


def test_an_op_built_on_a_broken_one_says_so_instead_of_blaming_its_own_rule():
    failures = failing(report_for("mul_own_data"))
    assert failures["a - b"].explanation == "a - b is built on a + b and a * b and runs their rules: fix a * b first"
    assert failures["a * 3"].explanation == "a * 3 runs the rule of a * b: fix that one first"
    assert failures["a - b"].case is None  # no table or drawing: a * b's own line has them
    text = report_for("mul_own_data").text()
    assert "22 checks, 9 failed, 8 of them only because another did" in text


def test_a_walk_in_topological_order_passes_every_op_and_a_leaf_used_twice():
    report = report_for("topological_walk")
    passed = {line.name for line in report.lines if line.passed}
    assert {"a - b", "a / b", "2 - a", "2 / a", "a leaf used twice", "random graphs"} <= passed  # rules right
    random = next(line for line in report.lines if line.name == "random graphs")
    assert random.summary.endswith(
        "graphs of the 19 ops that passed alone, through your rules alone (backward() fails)"
    )
    walk = failing(report)["backward()"]
    assert walk.explanation.endswith(
        "Run the rules in reverse, from the output back: for node in reversed(topo): node._backward()"
    )
    assert walk.culprit == 2 and walk.case.program.lines() == [
        "a = Value(2)",
        "b = Value(-3)",
        "c = a * b",
        "d = c + a",
    ]


def test_a_pre_order_walk_is_blamed_on_the_order():
    failures = failing(report_for("preorder_walk"))
    line = failures["backward()"]
    assert "depth first, is not enough when a node is used at different depths" in line.explanation
    assert "+=" not in line.explanation
    assert line.culprit == 3 and line.case.program.size == 12


def test_a_broken_rsub_is_named_by_its_forward():
    failures = failing(report_for("broken_rsub"))
    assert set(failures) == {"2 - a"}
    assert failures["2 - a"].explanation == "your 2 - y gives -3.5 for y = -1.5, but it should be 3.5"


def test_a_recursive_sort_passes_with_its_depth_limit_as_a_note():
    report = report_for("recursive_sort")
    assert report.passed, report.text()
    depth = [note for note in report.notes if note.startswith("backward() works on a chain")]
    assert depth and "RecursionError" in depth[0] and "recursion limit" in depth[0]


def test_micrograd_0_1_0_passes_with_its_depth_limit_as_a_note():
    engine = pytest.importorskip("micrograd.engine")
    report = check_engine(engine.Value, examples=EXAMPLES)
    assert report.passed, report.text()
    assert "a.tanh()" in [form for form, _ in report.unsupported]
    assert "a ** b" in [form for form, _ in report.unsupported]
    assert any("RecursionError" in note for note in report.notes)
    from_file = check_engine(engine.__file__, examples=EXAMPLES)
    assert from_file.passed and [line.name for line in from_file.lines] == [line.name for line in report.lines]


def test_the_same_engine_gives_the_same_report():
    first = check_engine(str(ENGINES / "preorder_walk.py"), examples=EXAMPLES)
    second = report_for("preorder_walk")
    assert first.text().rsplit("(", 1)[0] == second.text().rsplit("(", 1)[0]  # all but the seconds taken


# ---- other walks and rules, written inline -------------------------------------------------------------------
SORTED_TOPO = """
    def _topo(self):
        topo, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        return topo
"""

WALKS = {
    "forgets to seed the output's grad": (
        "from correct import Value as Base\n\nclass Value(Base):"
        + SORTED_TOPO
        + """
    def backward(self):
        for node in reversed(self._topo()):
            node._backward()
""",
        "Your rules are right (called one by one from the output back, they give every right grad), but backward() "
        "ran the rule of the output, d = c + a, while d.grad was 0: it must first set the output's grad to 1 "
        "(d out / d out = 1)",
    ),
    "visits a node once per path (no visited set)": (
        """from correct import Value as Base

class Value(Base):
    def backward(self):
        topo = []
        def build(node):
            for child in node._prev:
                build(child)
            topo.append(node)
        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
""",
        "Your rules are right (called one by one from the output back, they give every right grad), but backward() "
        "ran the rule of d = a * b 2 times, so its share reached the nodes it was made from 2 times: run each "
        "node's rule once (keep a set of visited nodes)",
    ),
    "skips the output's own rule": (
        "from correct import Value as Base\n\nclass Value(Base):"
        + SORTED_TOPO
        + """
    def backward(self):
        self.grad = 1.0
        for node in reversed(self._topo()[:-1]):
            node._backward()
""",
        "Your rules are right (called one by one from the output back, they give every right grad), but backward() "
        "never ran the rule of d = c + a (its _backward), so its grad was never passed on to the nodes it was made "
        "from: backward() must visit every node of the graph",
    ),
}


WALK_SUMMARIES = {
    "forgets to seed the output's grad": "does not set the output's grad to 1 first (on c = a * b; d = c + a)",
    "visits a node once per path (no visited set)": "runs a node's rule more than once (on nodes used at different "
    "depths)",
    "skips the output's own rule": "never runs one node's rule (on c = a * b; d = c + a)",
}


@pytest.mark.parametrize("mistake", list(WALKS))
def test_each_walk_mistake_is_named_by_the_first_fail(tmp_path, mistake):
    text, explanation = WALKS[mistake]
    report = check_engine(str(_engine_file(tmp_path, text)), examples=20)
    first = report.failures[0]
    assert first.name == "backward()", report.text()
    assert first.summary == WALK_SUMMARIES[mistake]
    assert first.explanation == explanation


def test_a_rule_that_ignores_out_grad_is_caught_alone(tmp_path):
    text = """from correct import Value as Base

class Value(Base):
    def __mul__(self, other):
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other), "*")
        def _backward():
            self.grad += other.data
            other.grad += self.data
        out._backward = _backward
        return out
"""
    report = check_engine(str(_engine_file(tmp_path, text)), examples=20)
    first = report.failures[0]
    assert first.name == "a * b", report.text()
    assert first.explanation == (
        "with out.grad = -2, your x * y backward adds -3 to x.grad for x = 2, y = -3, but it should add -2 * -3 = 6: "
        "a rule must multiply its local derivative by out.grad (the chain rule); yours is right only when out.grad "
        "is 1"
    )


HIDDEN_GRAPH = """from correct import Value as Base

class Value(Base):
    # the children are kept under a name the checker does not look for: it cannot look inside the graph
    def __init__(self, data, _children=(), _op=""):
        super().__init__(data, _children, _op)
        self._inputs = self.__dict__.pop("_prev")

    def backward(self):
        topo, visited = [], set()
        def build(node):
            if node not in visited:
                visited.add(node)
                for child in node._inputs:
                    build(child)
                topo.append(node)
        build(self)
        self.grad = 1.0
        for node in ORDER(topo):
            node._backward()
"""


def test_an_engine_the_checker_cannot_look_inside_is_checked_through_backward(tmp_path):
    right = check_engine(str(_engine_file(tmp_path, HIDDEN_GRAPH.replace("ORDER", "reversed"))), examples=20)
    assert right.passed, right.text()
    assert "built on" not in right.text()  # nothing is known of how the ops are made
    forward = check_engine(str(_engine_file(tmp_path, HIDDEN_GRAPH.replace("ORDER", "list"), "fwd.py")), examples=20)
    assert not forward.passed and "backward()" in {line.name for line in forward.failures}
    assert "reverse topological order" in failing(forward)["backward()"].explanation


def test_the_checks_run_through_any_probe_runner():
    """plan.run_checks knows no processes or time limits: any runner that answers one probe at a time will do (a
    browser's Web Worker, one day). The in-process runner gives the same report as the worker process."""
    from jangrad.check.plan import run_checks
    from jangrad.check.session import InProcess

    sys.modules.pop("mul_own_data", None)
    from mul_own_data import Value

    report = Report("class Value")
    with InProcess(Value) as runner:
        run_checks(runner, report, examples=EXAMPLES, hypothesis=True)
    in_worker = report_for("mul_own_data")
    assert [(line.name, line.status, line.cause) for line in report.lines] == [
        (line.name, line.status, line.cause) for line in in_worker.lines
    ]
    assert report.failures[0].explanation == in_worker.failures[0].explanation


# ---- the diagnosis on graphs built by hand ---------------------------------------------------------------------
def test_accumulation_and_order_graphs_need_only_one_binary_op():
    assert accumulation_program(["neg"]) is None
    program = order_program(["sub"])
    assert program is not None and {step.form for step in program.steps} == {"sub"}


def test_diagnose_blames_the_failing_consumer_rule_in_a_chain():
    sys.modules.pop("wrong_exp", None)
    from wrong_exp import Value

    case = run_learner(Value, Program((0.5,), (Step("exp", (0,)), Step("mul_const", (1,), 3.0))))
    culprit, text = diagnose(case, {"exp"})
    assert culprit == 0
    assert text.startswith("a.grad should be 4.946 but yours is 1.5: the rule of b = a.exp() is wrong")
    assert text.endswith("yours works out as 0.5")


# ---- bad engines ------------------------------------------------------------------------------------------------
HANGS = """
from correct import Value as Base

class Value(Base):
    def tanh(self):
        out = Value(0.0, (self,), "tanh")
        def _backward():
            while True:
                pass
        out._backward = _backward
        return out
"""

MISBEHAVES = """
from correct import Value as Base

class Value(Base):
    def exp(self):
        out = Value(2.0, (self,), "exp")
        def _backward():
            raise ZeroDivisionError("oops")
        out._backward = _backward
        return out

    def relu(self):
        return Value("big", (self,), "relu")

    def sigmoid(self):
        import os
        os._exit(7)
"""


def _engine_file(tmp_path: Path, text: str, name: str = "engine.py") -> Path:
    path = tmp_path / name
    path.write_text(f"import sys\nsys.path.insert(0, {str(ENGINES)!r})\n" + text)
    return path


def test_a_rule_that_hangs_costs_its_time_limit_once_and_the_other_checks_still_run(tmp_path):
    report = check_engine(str(_engine_file(tmp_path, HANGS)), timeout=3.0, examples=10)
    failures = failing(report)
    assert set(failures) == {"a.tanh()"}, report.text()
    assert failures["a.tanh()"].status == "timed out"
    assert failures["a.tanh()"].explanation == (
        "the rule of a.tanh() (its _backward, called directly) never returned (no answer within 3 s, so it was stopped)"
    )
    assert report.waited == ["a.tanh()"]  # backward() on tanh's graph would hang the same way: never run
    assert report.lines[-1].name == "random graphs" and report.lines[-1].passed
    assert any(line.name == "a.exp()" and line.passed for line in report.lines)


def test_a_backward_that_never_returns_costs_its_time_limit_once():
    report = check_engine(str(ENGINES / "never_returns.py"), timeout=4.0, examples=EXAMPLES)
    assert report.waited == ["backward()"], report.text()
    first = report.failures[0]
    assert [line.name for line in report.failures] == ["backward()"]
    assert first.status == "timed out"
    assert first.explanation.startswith(
        "backward() never returned on c = a * b; d = c + a (no answer within 4 s, so it was stopped). Your rules "
        "return when called one by one from the output back"
    )
    assert all(line.passed for line in report.lines[: report.lines.index(first)])  # every op and a leaf used twice
    (skip,) = report.skipped
    assert skip.name == "the depth backward() handles, a second backward()"
    text = report.text()
    assert "skip  the depth backward() handles, a second backward(): they call backward(), which never" in text
    assert "22 checks, 1 failed, 2 not run" in text and report.exit_code == 1
    assert report.lines[-2].name == "random graphs" and report.lines[-2].passed  # through the rules alone


def test_a_backward_that_raises_returns_nonsense_or_exits_gets_one_line_each(tmp_path):
    report = check_engine(str(_engine_file(tmp_path, MISBEHAVES)), examples=10)
    failures = failing(report)
    assert failures["a.exp()"].explanation == (
        "the rule of b = a.exp() (its _backward, called directly) raised ZeroDivisionError: oops"
    )
    assert failures["a.exp()"].summary == "crashed at 5 of 5 points"
    assert failures["a.relu()"].explanation == "b.data is 'big' (a str), expected a number"
    assert failures["a.sigmoid()"].status == "crashed"
    assert "died (exit status 7)" in failures["a.sigmoid()"].explanation
    assert any(line.name == "a.tanh()" and line.passed for line in report.lines)
    assert report.exit_code == 1


@pytest.mark.parametrize(
    "text, target, message",
    [
        (
            "class Value:\n    def __init__(self, data\n",
            "engine.py",
            "engine.py line 4: SyntaxError: '(' was never closed",
        ),
        (
            "class Value:\n    def __init__(self, data, label):\n        self.data = data\n",
            "engine.py",
            "Value(0.5) raised TypeError: Value.__init__() missing 1 required positional argument: 'label'; the "
            "checker makes every input as Value(number), so the constructor must accept a number alone",
        ),
        (
            "class Scalar:\n    pass\n",
            "engine.py",
            "engine.py has no class Value (it defines Scalar: name one with engine.py:Scalar)",
        ),
        (
            "class Value:\n    def __init__(self, data):\n        self.data = data\n        self.grad = 0\n",
            "engine.py",
            "Value has no backward() method: the checker calls backward() on a graph's output",
        ),
        ("raise RuntimeError('no')\n", "engine.py", "importing engine.py raised RuntimeError (line 3): no"),
        (
            "class Value:\n    pass\n",
            "engine.py:1x",
            "expected FILE.py or FILE.py:ClassName, and '1x' is not a Python name",
        ),
    ],
)
def test_an_engine_that_cannot_be_checked_raises_one_clear_error(tmp_path, text, target, message):
    path = _engine_file(tmp_path, text)
    with pytest.raises(EngineError) as raised:
        check_engine(str(path.parent / target))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_file_whose_main_block_would_exit_is_imported_as_a_module(tmp_path):
    text = "from correct import Value\nif __name__ == '__main__':\n    raise SystemExit('ran as a script')\n"
    assert check_engine(str(_engine_file(tmp_path, text)), examples=5).passed


def test_bad_arguments_are_refused():
    with pytest.raises(FileNotFoundError):
        check_engine("no_such_engine.py")
    with pytest.raises(EngineError, match="expected a class like micrograd's Value or a file name, got 3"):
        check_engine(3)
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds, got 0"):
        check_engine(str(ENGINES / "correct.py"), timeout=0)
    with pytest.raises(ValueError, match="examples must be a positive whole number, got 1.5"):
        check_engine(str(ENGINES / "correct.py"), examples=1.5)


# ---- display ----------------------------------------------------------------------------------------------------
def test_the_report_card_text_lists_each_check_and_the_smallest_graph():
    text = report_for("preorder_walk").text()
    assert text.splitlines()[0] == f"jangrad check: class Value from {ENGINES / 'preorder_walk.py'}"
    assert "ok    a + b " in text
    assert (
        "FAIL  backward()         runs a rule before its node's grad is complete (on nodes used at different depths)"
        in text
    )
    assert "      the graph:\n" in text
    assert "d = a * b       -3     -5                  <- look here" in text  # d's own grad ends up right
    assert "22 checks, 1 failed" in text


def test_the_readme_example_is_what_the_check_prints():
    readme = (ENGINES.parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("makes), gets:\n\n```\n", 1)[1].split("\n```", 1)[0]
    report = check_engine(str(ENGINES / "preorder_walk.py"), timeout=60.0)  # the defaults, as the README ran it
    printed = report.text().replace(str(ENGINES / "preorder_walk.py"), "preorder_walk.py")

    def from_first_fail(text: str) -> str:
        body = text[text.index("\nFAIL") :]
        return body[: body.rindex(" (")]  # all but the seconds taken

    assert from_first_fail(example) == from_first_fail(printed)
    assert example.splitlines()[:4] == printed.splitlines()[:4]


def _no_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no Graphviz 'dot' to find
    import shutil

    assert shutil.which("dot") is None


def test_jupyter_shows_the_text_in_pre_then_each_failing_graph_drawn(monkeypatch, tmp_path):
    report = report_for("preorder_walk")
    drawings = report.drawings()
    assert set(drawings) == {"backward"}
    source = drawings["backward"].source
    assert 'label="c | data 0.5 | grad yours 4.5, right 0"' in source
    assert 'fillcolor="#ffd6d6"' in source
    _no_dot(monkeypatch, tmp_path)
    text, caption, picture = report.display_bundles()
    # plain text, which every front end and HTML export shows in a <pre>: no markup for a sanitizer to escape
    assert text == {"text/plain": report.text()}
    assert caption["text/plain"] == (
        "backward(): the graph, your numbers beside the right ones, the node to look at in red (drawn by jangrad's "
        "built-in renderer: the Graphviz 'dot' program is not installed)"
    )
    assert picture["image/svg+xml"].startswith("<?xml") and "yours 4.5, right 0" in picture["image/svg+xml"]
    import base64

    assert base64.b64decode(picture["image/png"]).startswith(b"\x89PNG")


def test_a_graph_that_cannot_be_drawn_gets_a_caption_saying_why(monkeypatch):
    report = report_for("preorder_walk")
    from jangrad.viz.graph import Drawing

    def broken(self, format="svg"):
        raise RuntimeError("no canvas")

    monkeypatch.setattr(Drawing, "pipe", broken)
    bundles = report.display_bundles()
    assert len(bundles) == 2
    assert bundles[1]["text/plain"].endswith(": could not draw it (RuntimeError: no canvas)")


def test_save_writes_the_text_and_an_svg_per_failing_graph_even_without_dot(monkeypatch, tmp_path):
    report = report_for("wrong_tanh")
    _no_dot(monkeypatch, tmp_path)
    written = report.save(tmp_path / "out")
    assert [p.name for p in written] == ["report.txt", "a-tanh.svg"]
    assert (tmp_path / "out" / "report.txt").read_text().startswith("jangrad check:")
    svg = (tmp_path / "out" / "a-tanh.svg").read_text()
    assert svg.startswith("<?xml") and "yours -1.25, right 0.1807" in svg


def test_without_hypothesis_the_other_checks_run_and_a_note_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # `import hypothesis` now raises ImportError
    report = check_engine(str(ENGINES / "wrong_tanh.py"))
    assert (
        "random graphs were not checked: they need hypothesis, which jangrad's [check] extra installs: "
        'pip install "jangrad[check]"'
    ) in report.notes
    assert "random graphs" not in [line.name for line in report.lines]
    assert set(failing(report)) == {"a.tanh()"}


def test_each_check_has_a_file_name_of_its_own():
    """--out writes one drawing per failing check: 'a + b', 'a - b', 'a * b' and '-a' must not overwrite each other."""
    from jangrad.check.report import CheckLine

    names = ["a + b", "a - b", "a * b", "a / b", "a ** 2", "-a", "2 - a", "a.tanh()", "backward()"]
    slugs = [CheckLine(name, "failed").slug for name in names]
    assert len(set(slugs)) == len(names), slugs
    assert slugs[:3] == ["a-plus-b", "a-minus-b", "a-times-b"]
