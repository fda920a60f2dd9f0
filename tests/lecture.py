"""The lecture's own examples, shared by the tests: its first expression (L = (a*b + c) * f), its neuron (x1=2, x2=0,
w1=-3, w2=1, b=6.8813735870195432, so that o = tanh(n) = 1/sqrt(2)) and its draw_dot, typed out as a learner types
them."""

from __future__ import annotations

from jangrad import Value

B = 6.8813735870195432


def lecture_L() -> Value:
    """The lecture's first expression, every node labelled, before backward (L.backward() gives a.grad = 6)."""
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L


def neuron_nodes() -> dict[str, Value]:
    """Every node of the lecture's neuron by the lecture's name, labelled as the lecture labels them."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(B, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n, o=o)


def lecture_neuron() -> Value:
    """The neuron's output o."""
    return neuron_nodes()["o"]


def lectures_draw_dot(root: Value):
    """The lecture's trace and draw_dot as a learner types them: id() names, ``uid + n._op`` for op nodes."""
    import graphviz

    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
    for n in nodes:
        uid = str(id(n))
        dot.node(name=uid, label="{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad), shape="record")  # noqa: UP031 (the lecture's own line)
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot
