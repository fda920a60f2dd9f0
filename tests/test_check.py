"""jangrad.check_engine on engines written like a learner's: the correct one passes, each one with a classic
mistake fails with that mistake named, micrograd 0.1.0's own engine passes with its depth limit as a note; and
engines that hang, raise, return nonsense or cannot be loaded each get one clear line."""

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
    return check_engine(str(ENGINES / f"{name}.py"), examples=EXAMPLES)


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
        "nodes used at different depths",
        "random graphs",
    } <= set(names)
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
    assert set(failures) == {"a leaf used twice", "nodes used at different depths", "random graphs"}


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
    graphs = {"a leaf used twice", "nodes used at different depths", "random graphs"}
    assert not graphs & set(failures), "graphs use only the ops that passed alone"


def test_the_issue_example_sentence_for_tanh_at_half():
    sys.modules.pop("wrong_tanh", None)
    from wrong_tanh import Value

    case = run_learner(Value, Program((0.5,), (Step("tanh", (0,)),)))
    assert explain_single(case, "tanh") == (
        "your x.tanh() backward gives 0.75 for x = 0.5, but the right gradient "
        "is 0.7864: d(tanh x)/dx = 1 - tanh(x)^2 = 1 - out^2"
    )


def test_a_pre_order_walk_is_blamed_on_the_order():
    report = report_for("preorder_walk")
    failures = failing(report)
    assert set(failures) == {"nodes used at different depths", "random graphs"}
    for line in failures.values():
        assert "reverse topological order" in line.explanation
        assert "+=" not in line.explanation
        assert line.culprit is not None and line.case.program.size >= 3


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


def test_a_backward_that_hangs_gets_one_line_and_the_other_checks_still_run(tmp_path):
    report = check_engine(str(_engine_file(tmp_path, HANGS)), timeout=3.0, examples=10)
    failures = failing(report)
    assert set(failures) == {"a.tanh()"}, report.text()
    assert failures["a.tanh()"].status == "timed out"
    assert "no answer within 3 s" in failures["a.tanh()"].explanation
    assert report.lines[-1].name == "random graphs" and report.lines[-1].passed
    assert any(line.name == "a.exp()" and line.passed for line in report.lines)


def test_a_backward_that_raises_returns_nonsense_or_exits_gets_one_line_each(tmp_path):
    report = check_engine(str(_engine_file(tmp_path, MISBEHAVES)), examples=10)
    failures = failing(report)
    assert failures["a.exp()"].explanation == "b.backward() raised ZeroDivisionError: oops"
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
    assert "FAIL  nodes used at different depths" in text
    assert "      the graph:\n" in text and "the smallest failing graph hypothesis found:\n" in text
    assert "c = Value(0.5)  0.5    4.5 (right 0)       <- wrong: look here" in text
    assert "22 checks, 2 failed" in text


def test_jupyter_shows_the_text_and_draws_each_failing_graph(tmp_path):
    report = report_for("preorder_walk")
    dots = report.drawings()
    assert set(dots) == {"nodes-used-at-different-depths", "random-graphs"}
    assert 'label="{ c | data 0.5 | grad yours 4.5, right 0 }"' in dots["nodes-used-at-different-depths"]
    assert 'fillcolor="#ffd6d6"' in dots["nodes-used-at-different-depths"]
    page = report._repr_html_()
    assert page.startswith("<pre>jangrad check:")
    written = report.save(tmp_path / "out")
    assert [p.name for p in written][0] == "report.txt"
    assert (tmp_path / "out" / "report.txt").read_text().startswith("jangrad check:")
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("needs the Graphviz dot program for the SVG part")
    assert page.count("<svg") == 2
    assert sorted(p.name for p in written[1:]) == ["nodes-used-at-different-depths.svg", "random-graphs.svg"]


def test_without_hypothesis_the_other_checks_run_and_a_note_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # `import hypothesis` now raises ImportError
    report = check_engine(str(ENGINES / "wrong_tanh.py"))
    assert (
        "random graphs were not checked: they need hypothesis, which jangrad's [check] extra installs: "
        'pip install "jangrad[check]"'
    ) in report.notes
    assert "random graphs" not in [line.name for line in report.lines]
    assert set(failing(report)) == {"a.tanh()"}
