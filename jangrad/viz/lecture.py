"""``draw_dot``: the lecture's own drawing function, with the lecture's meaning, for code written against micrograd.

The lecture defines ``draw_dot(root)`` in the notebook: a ``graphviz.Digraph`` with one record per Value
(``label | data %.4f | grad %.4f``) and one small node per op showing the op's symbol, edges operand -> op ->
result, the op node labelled with the node's ``_op``. This is that function, so a learner's cells that call it (or
go on to ``.render()`` or ``.view()`` it) run unchanged, ops built by hand included. It differs from the lecture's
in ways that do not change the picture: node names are ``n<i>``, the node's index in ``topological_order``
(the lecture's ``id()`` numbers change every run; these make the DOT text the same every time); a record without
a label shows the name every view gives it (``v3``, or a constant's number; ``names.py``) where the lecture's is
blank; and a constant exponent or slope is shown inside its op node (``**2``), as micrograd's ``__pow__`` does,
rather than as a box of its own.

The lecture's pasted ``draw_dot`` needs the Graphviz ``dot`` program to show anything. This one does not: what it
returns is a ``graphviz.Digraph`` (a subclass of it), and when ``dot`` is missing its inline picture in Jupyter,
``.pipe()``, ``.render()`` and ``.view()`` draw the same boxes with jangrad's built-in renderer (``scene.py``,
``layout.py``, ``render.py``; SVG and PNG). In a notebook it is sized to the output area (``sizing.py``) and never
raises: a picture that cannot be made is one line saying why. It shows ``.data`` and ``.grad`` as the Values hold
them and changes neither.

``jangrad.draw`` is jangrad's richer drawing (grouping big graphs, highlighting, saving); this one stays small.
"""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine import Value, topological_order
from ..extras import MissingExtraError
from ..ops import OPS
from .names import node_names
from .scene import OP, RECORD, Box, Scene

if TYPE_CHECKING:
    import graphviz

__all__ = ["draw_dot", "lecture_symbol", "BUILTIN_FORMATS"]

BUILTIN_FORMATS = ("svg", "png")  # what the built-in renderer writes when the dot program is missing


def _number_text(x: float) -> str:
    """A constant as micrograd prints it in ``f'**{other}'``: ``2`` for a whole number, else the float."""
    return str(int(x)) if x.is_integer() else repr(x)


def _folds_constant(node: Value) -> bool:
    """Whether the node's second operand is a constant parameter (``x ** 2``, ``leaky_relu(x, 0.01)``)."""
    rule = OPS.get(node.op)
    return rule is not None and rule.constant_operand and len(node.parents) == 2


def lecture_symbol(node: Value) -> str:
    """What the lecture's drawing writes in the op node of ``node``: its ``_op`` (``'+'``, ``'*'``, ``'tanh'``,
    ``'**2'``, ``'ReLU'``, or the symbol an op built by hand was given), and a slope a drawn box does not show.

    ``''`` for a leaf.
    """
    symbol = node._op
    if _folds_constant(node) and not symbol.startswith("**"):  # "**2" names its exponent already
        return f"{symbol} {_number_text(node.parents[1].data)}"
    return symbol


def _escape_record(text: str) -> str:
    """Backslash the characters that structure a DOT record label, so any label draws as plain text."""
    return "".join("\\" + c if c in '\\{}|<>"' else c for c in text)


def draw_dot(root: Value, format: str = "svg", rankdir: str = "LR") -> graphviz.Digraph:
    """The graph that produced ``root`` as a ``graphviz.Digraph``, drawn as in the lecture.

    ``format`` is what ``.render()`` and ``.pipe()`` write ('svg', 'png', ...); ``rankdir`` is 'LR' (inputs on
    the left) or 'TB' (inputs on top). In a notebook the returned object shows itself as a picture. Without the
    Graphviz program, jangrad's built-in renderer draws it ('svg' and 'png').
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot expects a Value, got {root!r} of type {type(root).__name__}")
    if not isinstance(format, str) or not format:
        raise ValueError(f"format must be a Graphviz output format such as 'svg' or 'png', got {format!r}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), got {rankdir!r}")
    digraph_class = _lecture_digraph()

    order = topological_order(root)
    names = node_names(order)
    index = {id(node): i for i, node in enumerate(order)}
    folded = set()  # constants shown inside their op node, when nothing else uses them
    uses: dict[int, int] = {}
    for node in order:
        for key in set(map(id, node.parents)):
            uses[key] = uses.get(key, 0) + 1
    for node in order:
        if _folds_constant(node):
            constant = node.parents[1]
            if not constant.label and constant.is_leaf and uses[id(constant)] == 1:
                folded.add(id(constant))

    dot = digraph_class(format=format, graph_attr={"rankdir": rankdir})
    scene = Scene(rankdir, stack_records=False)  # the same boxes, for the built-in renderer
    edges: dict[tuple[str, str], None] = {}  # the lecture keeps a set of edges; a dict also keeps their order
    for node in order:
        if id(node) in folded:
            continue
        uid = f"n{index[id(node)]}"
        fields = (names[id(node)], f"data {node.data:.4f}", f"grad {_grad_number(node.grad):.4f}")
        dot.node(name=uid, label="{ " + " | ".join(_escape_record(text) for text in fields) + " }", shape="record")
        scene.boxes.append(Box(uid, RECORD, fields))
        if node._op:
            dot.node(name=uid + "op", label=lecture_symbol(node))
            dot.edge(uid + "op", uid)
            scene.boxes.append(Box(uid + "op", OP, (lecture_symbol(node),)))
            scene.edges.append((uid + "op", uid))
        # As in the lecture, operands point at the op node, or at the node itself when its _op is '' (by hand).
        head = uid + "op" if node._op else uid
        for parent in node.parents:
            if id(parent) not in folded:
                edges[(f"n{index[id(parent)]}", head)] = None
    for tail, head in edges:
        dot.edge(tail, head)
    scene.edges += list(edges)
    dot._jangrad_scene = scene
    return dot


def _grad_number(grad: float | Value) -> float:
    """A gradient as a float: after ``backward(create_graph=True)`` it is a Value, whose data is drawn."""
    return grad.data if isinstance(grad, Value) else grad


def _without_dot() -> bool:
    return shutil.which("dot") is None


def _builtin_picture(scene: Scene | None, format: str) -> bytes:
    """The scene drawn by jangrad's renderer, for a Digraph whose ``dot`` program is missing."""
    if scene is None:
        raise RuntimeError(
            "this Digraph was not made by jangrad.draw_dot, so jangrad cannot draw it without the Graphviz program"
        )
    if format not in BUILTIN_FORMATS:
        raise ValueError(
            f"without the Graphviz program jangrad draws 'svg' or 'png', not {format!r}: "
            f"install Graphviz (apt-get install graphviz | brew install graphviz | conda install graphviz) or "
            f"ask for format='svg'"
        )
    from .render import png_bytes, svg_text

    return svg_text(scene).encode("utf-8") if format == "svg" else png_bytes(scene)


@cache
def _lecture_digraph() -> type:
    """``graphviz.Digraph`` with a fallback to the built-in renderer (made on first use: importing jangrad.viz
    must not import graphviz)."""
    try:
        import graphviz
    except ImportError:
        raise MissingExtraError("graphviz", "draw_dot") from None

    class Digraph(graphviz.Digraph):  # the class's name is the default file name, as graphviz's: Digraph.gv
        """A ``graphviz.Digraph`` that still draws without the Graphviz program (see ``jangrad.viz.lecture``)."""

        _jangrad_scene: Scene | None = None

        def pipe(
            self,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op: bool | int | None = None,
            quiet: bool = False,
            *,
            engine: str | None = None,
            encoding: str | None = None,
        ) -> Any:
            if not _without_dot():
                return super().pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine, encoding=encoding)
            data = _builtin_picture(self._jangrad_scene, format or self.format)
            return data.decode(encoding) if encoding else data

        def render(
            self,
            filename: str | os.PathLike | None = None,
            directory: str | os.PathLike | None = None,
            view: bool = False,
            cleanup: bool = False,
            format: str | None = None,
            renderer: str | None = None,
            formatter: str | None = None,
            neato_no_op: bool | int | None = None,
            quiet: bool = False,
            quiet_view: bool = False,
            *,
            outfile: str | os.PathLike | None = None,
            engine: str | None = None,
            raise_if_result_exists: bool = False,
            overwrite_source: bool = False,
        ) -> str:
            if not _without_dot():
                return super().render(
                    filename,
                    directory,
                    view,
                    cleanup,
                    format,
                    renderer,
                    formatter,
                    neato_no_op,
                    quiet,
                    quiet_view,
                    outfile=outfile,
                    engine=engine,
                    raise_if_result_exists=raise_if_result_exists,
                    overwrite_source=overwrite_source,
                )
            # Graphviz's own naming: the source as <filename> (default <name>.gv), the picture beside it as
            # <filename>.<format>, or at outfile (inside the Digraph's directory unless a directory is given).
            target: Path | None = None
            if outfile is not None:
                format = format or Path(outfile).suffix.lstrip(".").lower() or self.format
                target = Path(outfile) if directory is not None else Path(self.directory, outfile)
                if filename is None:
                    filename = target.with_suffix(".gv").name
            format = format or self.format
            picture = _builtin_picture(self._jangrad_scene, format)  # refuses other formats before writing
            source = self.save(filename, directory=directory)
            target = Path(f"{source}.{format}") if target is None else target
            if raise_if_result_exists and target.exists():
                raise graphviz.FileExistsError(f"output file exists: {os.fspath(target)!r}")
            from ..io.files import write_bytes

            write_bytes(target, picture)
            if cleanup:
                os.remove(source)
            if view or quiet_view:
                graphviz.view(target, quiet=quiet_view)
            return os.fspath(target)

        def copy(self) -> Digraph:
            duplicate = super().copy()
            duplicate._jangrad_scene = self._jangrad_scene
            return duplicate

        def _repr_image_svg_xml(self) -> str:
            return self._repr_mimebundle_().get("image/svg+xml", "")

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, str]:
            from .sizing import fit_svg

            try:
                return {"image/svg+xml": fit_svg(self.pipe(format="svg", encoding="utf-8")), "text/plain": repr(self)}
            except Exception as error:  # a display hook must never raise: Run All would stop at this cell
                reason = " ".join(str(error).split())[:200]
                return {"text/plain": f"draw_dot: no picture here ({type(error).__name__}: {reason})"}

        def __repr__(self) -> str:
            count = sum(1 for box in self._jangrad_scene.boxes if box.kind == RECORD) if self._jangrad_scene else 0
            return (
                f"<jangrad.draw_dot: a graphviz.Digraph of {count} Values; a picture in a trusted notebook, or "
                f".render() to write it>"
            )

    return Digraph
