"""Saying what ``backward()``'s walk did wrong, when the rules themselves are right.

The checker knows the rules are right when it has called them itself, one by one from the output back, and got the
right grads (``introspect.run_rules``). If the learner's ``backward()`` then gets other grads on the same graph,
the walk is to blame, and the order in which it called the rules (``introspect.walk_problem``) says how: the
output's grad never set to 1, a rule never run or run twice, the rules run from the inputs forward (topological
order instead of reversed), or a rule run before a node that uses its output had passed back its share.
"""

from __future__ import annotations

from .forms import number_text
from .introspect import WalkProblem
from .program import Case, node_names, node_text

__all__ = ["walk_text", "walk_summary", "hang_text", "HANG_SUMMARY", "REVERSE_ORDER_ADVICE"]

REVERSE_ORDER_ADVICE = (
    "backward() must run the rules in reverse topological order: sort the nodes so that each comes after the "
    "nodes it was made from, then run their rules from the output back"
)

HANG_SUMMARY = "never returns"

_SUMMARIES = {
    None: "gets other grads than your rules run from the output back",
    "none": "runs no node's rule",
    "unseeded": "does not set the output's grad to 1 first",
    "missed": "never runs one node's rule",
    "repeated": "runs a node's rule more than once",
    "forward": "runs the rules from the inputs forward, not from the output back",
    "early": "runs a rule before its node's grad is complete",
}

_RULES_RIGHT = "Your rules are right (called one by one from the output back, they give every right grad), but "


def _name(case: Case, where: tuple[int | None, int | None]) -> tuple[str, str, int | None]:
    """(how to write the node, how to write its grad, the program node to highlight) for a (node, step) pair."""
    program = case.program
    index, step = where
    first = len(program.leaves)
    written = node_text(program, index, step)
    if index is not None:
        return written, f"{node_names(program.size)[index]}.grad", index
    return written, "its grad", None if step is None else first + step


def walk_text(case: Case) -> tuple[int | None, str]:
    """(the node to highlight, one paragraph) for a case whose grads through ``backward()`` are wrong although the
    same rules, called by the checker from the output back, are right."""
    problem: WalkProblem | None = case.walk
    if problem is None:
        wrong = case.wrong_grads()
        i = wrong[-1]
        name = node_names(case.program.size)[i]
        return i, (
            _RULES_RIGHT + f"after backward() {name}.grad is {number_text(case.yours_grad[i])}, not "
            f"{number_text(case.right_grad[i])}, although backward() ran each rule once, from the output back. "
            f"Does it change .grad some other way (reset it, or set it instead of the output's)?"
        )
    if problem.kind == "none":
        return None, (
            _RULES_RIGHT + "backward() called no node's _backward at all, so no gradient moved: it must call each "
            "node's rule, from the output back"
        )
    assert problem.node is not None
    node, grad, culprit = _name(case, problem.node)
    if problem.kind == "unseeded":
        return culprit, (
            _RULES_RIGHT + f"backward() ran the rule of the output, {node}, while {grad} was "
            f"{number_text(problem.grad_then)}: it must first set the output's grad to 1 (d out / d out = 1)"
        )
    if problem.kind == "missed":
        return culprit, (
            _RULES_RIGHT + f"backward() never ran the rule of {node} (its _backward), so its grad was never passed "
            f"on to the nodes it was made from: backward() must visit every node of the graph"
        )
    if problem.kind == "repeated":
        return culprit, (
            _RULES_RIGHT + f"backward() ran the rule of {node} {problem.times} times, so its share reached the nodes "
            f"it was made from {problem.times} times: run each node's rule once (keep a set of visited nodes)"
        )
    assert problem.consumer is not None
    consumer, _, _ = _name(case, problem.consumer)
    then = number_text(problem.grad_then) if problem.grad_then is not None else "?"
    if problem.kind == "forward":
        return culprit, (
            _RULES_RIGHT + f"backward() runs them in topological order, from the inputs forward: the rule of {node} "
            f"ran before the rule of {consumer}, which uses it, so {grad} was still {then} when it was passed on. "
            f"Run the rules in reverse, from the output back: for node in reversed(topo): node._backward()"
        )
    should = ""
    if problem.node[0] is not None:
        should = f", not yet its full {number_text(case.right_grad[problem.node[0]])}"
    return culprit, (
        _RULES_RIGHT + f"backward() ran the rule of {node} before the rule of {consumer}, which uses it, so {grad} "
        f"was {then} when it was passed on{should}. {REVERSE_ORDER_ADVICE}. A walk that runs each rule as soon as "
        f"it reaches a node, depth first, is not enough when a node is used at different depths"
    )


def walk_summary(case: Case, where: str) -> str:
    """What the walk does wrong, in a few words for the report's FAIL line, and on which graph (``where``)."""
    return f"{_SUMMARIES[None if case.walk is None else case.walk.kind]} (on {where})"


def hang_text(where: str, waited: str, rules_known_right: bool) -> str:
    """The sentence for a ``backward()`` that never returned on the graph ``where``."""
    if rules_known_right:
        return (
            f"backward() never returned on {where} ({waited}). Your rules return when called one by one from the "
            f"output back (every op above passes that way), so the loop is in backward() itself: a loop that never "
            f"ends, such as a while loop over a stack or queue that never empties?"
        )
    return (
        f"backward() never returned on {where} ({waited}), although it returned on each op alone: its walk loops "
        f"on a graph of several ops"
    )
