"""The terminal tree: one line per node, operands below their node, shared sub-graphs printed once."""

import io

import pytest

import jangrad
from jangrad import Value


def test_a_tree_without_sharing_prints_every_node_once_in_operand_order():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    d.backward()
    lines = jangrad.ascii(d).splitlines()
    assert lines == [
        f"d  add  data={d.data:.4g}  grad={d.grad:.4g}",
        f"├── e  mul  data={e.data:.4g}  grad={e.grad:.4g}",
        f"│   ├── a  data={a.data:.4g}  grad={a.grad:.4g}",
        f"│   └── b  data={b.data:.4g}  grad={b.grad:.4g}",
        f"└── c  data={c.data:.4g}  grad={c.grad:.4g}",
    ]


def test_shared_sub_graphs_are_printed_once_and_referenced_after():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    c.label = "c"
    out = (c + a) * c.tanh() + c
    text = jangrad.ascii(out)
    expanded = [line for line in text.splitlines() if "c  mul" in line]
    references = [line for line in text.splitlines() if line.rstrip().endswith("c [#1] see above")]
    assert len(expanded) == 1 and expanded[0].endswith("[#1]")
    assert len(references) == 2  # c has three consumers
    assert sum(1 for line in text.splitlines() if "b  data" in line) == 1  # b lives under c: shown once
    assert text.count("a  data") == 1 and text.count("[#2] see above") >= 1  # a is shared too


def test_a_long_chain_needs_no_recursion():
    x = Value(0.0, label="x")
    for _ in range(1500):  # deeper than Python's default recursion limit
        x = x + 1.0
    lines = jangrad.ascii(x).splitlines()
    assert len(lines) == 1 + 2 * 1500  # each add node and its constant, plus the leaf x
    # depth first, first operand first: the innermost add's first operand, x, comes right after 1500 adds
    assert lines[1500].lstrip(" │├└─").startswith("x  data=0")
    assert len(lines[1500]) - len(lines[1500].lstrip(" │├└─")) == 4 * 1500


def test_max_depth_and_print_tree(capsys):
    a = Value(1.0, label="a")
    out = ((a * 2).exp() + 1).log()
    cut = jangrad.ascii(out, max_depth=1).splitlines()
    assert len(cut) == 3 and cut[1].startswith("└── v3  add") and "2 operand(s) not shown" in cut[2]
    jangrad.print_tree(out)
    assert capsys.readouterr().out == jangrad.ascii(out) + "\n"
    buffer = io.StringIO()
    jangrad.print_tree(out, file=buffer)
    assert buffer.getvalue().startswith("v4  log  data=")
    with pytest.raises(TypeError):
        jangrad.ascii(1.0)
    with pytest.raises(ValueError):
        jangrad.ascii(out, max_depth=-1)


def test_every_node_is_named_as_in_every_view_and_only_wrapped_numbers_are_constants():
    from jangrad.viz.names import NodeNames

    a, b = Value(2.0), Value(3.0)  # the learner's unlabelled Values: variables v1 and v2
    e = a * b + a + 2
    lines = jangrad.ascii(e).splitlines()
    assert lines == [
        "v5  add  data=10  grad=0",
        "├── v4  add  data=8  grad=0",
        "│   ├── v3  mul  data=6  grad=0",
        "│   │   ├── v1  data=2  grad=0 [#1]",
        "│   │   └── v2  data=3  grad=0",
        "│   └── v1 [#1] see above",
        "└── 2.0  constant  data=2  grad=0",
    ]
    names = NodeNames(e)
    assert [names[n] for n in names.order] == ["v1", "v2", "v3", "v4", "2.0", "v5"]


def test_a_notebook_shows_the_tree_not_a_quoted_string():
    pretty = pytest.importorskip("IPython.lib.pretty")
    a = Value(1.0, label="a")
    tree = jangrad.ascii(a * 2)
    assert (
        isinstance(tree, str)
        and tree == "v1  mul  data=2  grad=0\n├── a  data=1  grad=0\n└── 2.0  constant  data=2  grad=0"
    )
    assert pretty.pretty(tree) == str(tree)  # what Jupyter prints as Out[...]: the tree itself
