"""The shared names of a graph's nodes (jangrad.viz.names): labels win, constants are numbers, the rest v1, v2, ..."""

from jangrad import Value
from jangrad.engine import constant
from jangrad.viz.names import NodeNames, is_constant, node_names, number_text, term_of


def test_a_learners_unlabelled_value_is_a_variable_and_only_wrapped_numbers_are_constants():
    a, b = Value(2.0), Value(3.0)
    e = a * b + a
    two = (a + 2)._y
    assert not is_constant(a) and not is_constant(b) and not is_constant(e)
    assert is_constant(two) and is_constant((3 * a)._x) and is_constant(constant(1.5))
    assert two.is_leaf and two.op == "" and two._op == ""


def test_names_follow_topological_order_with_labels_winning_and_constants_as_numbers():
    a = Value(2.0)
    b = Value(3.0, label="b")
    e = a * b + 2
    names = NodeNames(e)
    assert [names[n] for n in names.order] == ["v1", "b", "v2", "2.0", "v3"]


def test_a_label_that_looks_generated_is_kept_and_the_counter_skips_it():
    a = Value(1.0, label="v1")
    c = a * Value(4.0)
    assert [node_names([a, c._y, c])[id(n)] for n in (a, c._y, c)] == ["v1", "v2", "v3"]


def test_a_repeated_label_gets_a_number_so_that_every_name_is_one_node():
    x1, x2 = Value(1.0, label="x0"), Value(2.0, label="x0")
    s = x1 + x2
    names = NodeNames(s)
    assert [names[n] for n in names.order] == ["x0", "x0#2", "v1"]


def test_numbers_read_as_the_floats_the_engine_holds():
    assert [number_text(x) for x in (3.0, -2.0, 0.5, 1e-7, 123456.0)] == ["3.0", "-2.0", "0.5", "1e-07", "1.235e+05"]


def test_a_name_stands_in_a_formula_as_one_term():
    assert [term_of(n) for n in ("a", "v12", "x0#2", "-2.0", "1e-05", "w.0")] == [
        "a",
        "v12",
        "x0#2",
        "-2.0",
        "1e-05",
        "w.0",
    ]
    assert [term_of(n) for n in ("x1*w1", "x1*w1 + x2*w2", "a b", "-a+b")] == [
        "(x1*w1)",
        "(x1*w1 + x2*w2)",
        "(a b)",
        "(-a+b)",
    ]
