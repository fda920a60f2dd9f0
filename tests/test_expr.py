"""The safe expression reader: what it builds, and every unsafe form it must refuse without running anything."""

import builtins
import math
from types import MappingProxyType

import pytest

import jangrad
from jangrad.io.expr import MAX_NODES, MAX_SOURCE_CHARS, ExpressionError, evaluate, parse_assignments


def test_builds_the_graph_with_labels_and_gradients():
    out, names = evaluate("e = a * b\nd = e + c\ntanh(d)", {"a": 2, "b": -3, "c": 10})
    assert out.data == pytest.approx(math.tanh(2 * -3 + 10))
    assert [names[n].label for n in "abcde"] == list("abcde")
    assert names["e"].data == -6.0 and names["d"].data == 4.0
    out.backward()
    local = 1 - math.tanh(4.0) ** 2
    assert names["a"].grad == pytest.approx(-3 * local)
    assert names["b"].grad == pytest.approx(2 * local)
    assert names["c"].grad == pytest.approx(local)


def test_semicolons_unary_minus_and_every_function():
    out, names = evaluate("x = -a; y = +x ** 2; leaky_relu(-y, 0.1)", {"a": 3})
    assert out.data == pytest.approx(-0.9)
    functions = {
        "tanh": math.tanh,
        "exp": math.exp,
        "log": math.log,
        "sqrt": math.sqrt,
        "abs": abs,
        "erf": math.erf,
        "relu": lambda v: max(v, 0.0),
        "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
        "gelu": lambda v: v * 0.5 * (1 + math.erf(v / math.sqrt(2))),
        "leaky_relu": lambda v: v,
    }
    for name, reference in functions.items():
        out, _ = evaluate(f"{name}(a)", {"a": 0.7})
        assert out.data == pytest.approx(reference(0.7)), name


def test_constants_follow_ieee_and_a_plain_number_gives_a_value():
    assert evaluate("a / 0", {"a": 1.0})[0].data == math.inf
    out, _ = evaluate("2 ** 3 + 1")
    assert isinstance(out, jangrad.Value) and out.data == 9.0


def test_values_as_variables_let_grad_differentiate_an_expression():
    def f(a):
        return evaluate("a * a * a", {"a": a})[0]

    assert jangrad.grad(f)(2.0) == pytest.approx(12.0)
    assert jangrad.grad(jangrad.grad(f))(2.0) == pytest.approx(12.0)


UNSAFE = [
    "a.real",
    "a.__class__",
    "().__class__.__bases__",
    "__import__('os')",
    "__import__",
    "open('x')",
    "eval('1')",
    "exec('1')",
    "print(a)",
    "getattr(a, 'data')",
    "a.tanh()",
    "lambda: 1",
    "(lambda x: x)(a)",
    "a[0]",
    "[1, 2][0]",
    "[x for x in (1, 2)]",
    "{x for x in (1, 2)}",
    "{x: 1 for x in (1,)}",
    "sum(x for x in (1, 2))",
    "'text'",
    "b'bytes'",
    "f'{a}'",
    "[a]",
    "(a, a)",
    "{a}",
    "{1: a}",
    "a if a else 1",
    "a < 1",
    "a and 1",
    "not a",
    "~a",
    "a @ a",
    "a // 2",
    "a % 2",
    "a << 1",
    "1j",
    "True",
    "None",
    "...",
    "(x := 1)",
    "tanh(x=a)",
    "tanh(*[a])",
    "import os",
    "from os import path",
    "def f(): pass",
    "class C: pass",
    "del a",
    "for i in a: pass",
    "while a: pass",
    "with a: pass",
    "global a",
    "a += 1",
    "b: int = 1",
    "x = y = 1",
    "a.b = 1",
    "x, y = 1, 2",
    "_x = 1",
    "tanh = a",
    "a = 1",
    "raise ValueError",
    "assert a",
    "try:\n  a\nexcept Exception:\n  pass",
    "async def f(): pass",
    "yield a",
    "if a: a",
    "pass",
    "tanh(a, a)",
    "leaky_relu(a, a)",
    "unknown",
    "a +",
    "",
]


@pytest.mark.parametrize("source", UNSAFE)
def test_refuses_each_unsafe_form_with_one_line(source, monkeypatch):
    called = []
    monkeypatch.setattr(builtins, "eval", lambda *args: called.append(args))
    monkeypatch.setattr(builtins, "exec", lambda *args: called.append(args))
    with pytest.raises(ExpressionError) as caught:
        evaluate(source, {"a": 1.0})
    message = str(caught.value)
    assert message and "\n" not in message
    assert called == []


def test_size_and_depth_limits():
    with pytest.raises(ExpressionError, match="limit"):
        evaluate("a+" * MAX_SOURCE_CHARS + "a", {"a": 1})
    with pytest.raises(ExpressionError, match="syntax nodes"):
        evaluate("+".join(["a"] * (MAX_NODES // 2)), {"a": 1})
    with pytest.raises(ExpressionError, match="nested"):
        evaluate("tanh(" * 80 + "a" + ")" * 80, {"a": 1})
    with pytest.raises(ExpressionError):
        evaluate("(" * 1000 + "a" + ")" * 1000, {"a": 1})
    with pytest.raises(ExpressionError, match="too large"):
        evaluate("9" * 400)


def test_variable_names_and_values_are_checked():
    for bad in ({"tanh": 1.0}, {"_a": 1.0}, {"a b": 1.0}, {"a": "1"}, {"a": math.nan}, {"a": True}):
        with pytest.raises(ExpressionError):
            evaluate("1", bad)
    with pytest.raises(TypeError):
        evaluate(1, {})


def test_variables_may_be_any_mapping_of_name_to_number():
    # evaluate is typed to take a Mapping (so that a dict[str, float] from parse_assignments type-checks); any
    # read-only mapping works as a dict does, and anything else is refused naming its type.
    out, names = evaluate("a * b", MappingProxyType({"a": 2.0, "b": -3.0}))
    assert out.data == -6.0 and names["a"].label == "a"
    with pytest.raises(TypeError, match="list"):
        evaluate("a", [("a", 1.0)])


def test_parse_assignments():
    assert parse_assignments(["a=2", "b=-3.5", " c = 1e3"]) == {"a": 2.0, "b": -3.5, "c": 1000.0}
    for bad in (["a"], ["=1"], ["a=x"], ["a=1", "a=2"], ["exp=1"], ["a=inf"]):
        with pytest.raises(ExpressionError):
            parse_assignments(bad)


@pytest.mark.parametrize("source", ["", "   ", "# only a comment", "\n# one\n# two\n"])
def test_a_program_that_computes_nothing_is_refused(source):
    with pytest.raises(ExpressionError, match="empty"):
        evaluate(source, {})
