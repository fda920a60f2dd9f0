"""Saying which rule is wrong, in words a learner understands, from a failing ``Case``.

For one op alone the learner's gradients are its local derivatives, so they are compared with the op table's
rule and its one-line derivation ("your x.tanh() backward gives 0.4621 for x = 0.5, but the right gradient is
0.7864: d(tanh x)/dx = 1 - tanh(x)^2 = 1 - out^2.").

In a bigger graph the clue is the first wrong number. A wrong ``.data`` is an op's forward. For gradients, walk
from the output back: the first node with a wrong grad whose consumers all have right grads received a wrong share
from one of them. If the node is used several times and its grad equals some of the shares but not their sum,
the engine overwrote (``=``) instead of adding up (``+=``). If every consumer's op passed alone, its rule was right
but ran too early, before its own grad was complete: the walk order. Otherwise the consumer's rule is wrong.
"""

from __future__ import annotations

from itertools import combinations

from ..ops import OPS
from .forms import FORMS, number_text
from .program import Case, close, local_derivatives, node_names

__all__ = ["explain_single", "diagnose"]

_SLOT_NAMES = "xy"


def _slot_names(form_name: str) -> list[str]:
    """The op table's names for a form's node operands: x (and y), whichever slots the nodes take."""
    form = FORMS[form_name]
    return [_SLOT_NAMES[i] for i, slot in enumerate(form.layout) if slot == "v"]


def _rule_text(form_name: str) -> str:
    return OPS[FORMS[form_name].op].derivation.rstrip(".")


def _values_text(names: list[str], values: list[float]) -> str:
    return ", ".join(f"{n} = {number_text(v)}" for n, v in zip(names, values, strict=True))


def explain_single(case: Case, form_name: str) -> str:
    """One sentence for a form checked alone (leaves, then one step)."""
    if case.problem:
        return case.problem
    form = FORMS[form_name]
    slots = _slot_names(form_name)
    written = form.text(slots, case.program.steps[0].constant)
    inputs = _values_text(slots, list(case.program.leaves))
    out = len(case.right_data) - 1
    if out in case.wrong_data():
        return (
            f"your {written} gives {number_text(case.yours_data[out])} for {inputs}, but it should be "
            f"{number_text(case.right_data[out])}"
        )
    wrong = case.wrong_grads()
    if out in wrong:
        return (
            f"after backward() the output's grad is {number_text(case.yours_grad[out])}, but it must be 1 "
            f"(d out / d out = 1): backward() starts by setting it"
        )
    i = wrong[0]
    with_respect = f" d/d{slots[i]}" if len(slots) > 1 or form.category == "constant" else ""
    if case.seed != 1.0:
        local = case.right_grad[i] / case.seed
        return (
            f"with out.grad = {number_text(case.seed)}, your {written} backward adds "
            f"{number_text(case.yours_grad[i])} to {slots[i]}.grad for {inputs}, but it should add "
            f"{number_text(case.seed)} * {number_text(local)} = {number_text(case.right_grad[i])}: a rule must "
            f"multiply its local derivative by out.grad (the chain rule); yours is right only when out.grad is 1"
        )
    return (
        f"your {written} backward gives{with_respect} {number_text(case.yours_grad[i])} for {inputs}, but the "
        f"right gradient is {number_text(case.right_grad[i])}: {_rule_text(form_name)}"
    )


def diagnose(case: Case, forms_failing_alone: set[str], accumulates: bool | None = None) -> tuple[int | None, str]:
    """(the node to highlight, one paragraph on what is wrong) for a graph of several steps.

    ``accumulates`` is what the leaf-used-twice check found (None: not known yet). When that check passed, a
    node whose grad is only part of its shares is blamed on the order, not on ``=`` instead of ``+=``."""
    if case.problem:
        return None, case.problem
    program = case.program
    names = node_names(program.size)
    first = len(program.leaves)
    wrong_data = case.wrong_data()
    if wrong_data:
        i = wrong_data[0]
        j = i - first
        step = program.steps[j]
        operands = _values_text([names[k] for k in step.operands], [case.right_data[k] for k in step.operands])
        written = FORMS[step.form].text(["a", "b"], step.constant)
        return i, (
            f"{names[i]} = {program.expression(j)} gives {number_text(case.yours_data[i])} for {operands}, "
            f"but it should be {number_text(case.right_data[i])}: the forward of {written} is wrong"
        )
    wrong = case.wrong_grads()
    if not wrong:
        return None, "every number is right"
    i = wrong[-1]  # the wrong node nearest the output: its consumers' grads are all right
    if i == program.size - 1:
        return i, (
            f"after backward() the output's grad is {number_text(case.yours_grad[i])}, but it must be 1: "
            f"backward() starts by setting the output's grad to 1"
        )
    uses = program.consumers(i)
    shares = []
    for j, position in uses:
        g = case.yours_grad[first + j]
        shares.append(local_derivatives(program, j, case.right_data, 0.0 if g is None else g)[position])
    total = sum(shares)
    yours = case.yours_grad[i]
    used_in = [f"{names[first + j]} = {program.expression(j)}" for j, _ in uses]
    counts = {text: used_in.count(text) for text in used_in}  # a * a uses a twice in one step
    listed = "; ".join(text + (" twice" if n == 2 else f" {n} times" if n > 2 else "") for text, n in counts.items())
    if len(uses) >= 2 and accumulates is not True:
        for size in range(1, len(shares)):
            for subset in combinations(range(len(shares)), size):
                if close(yours, sum(shares[k] for k in subset)) and not close(yours, total):
                    kept = " and ".join(used_in[k] for k in subset)
                    parts = " + ".join(number_text(s) for s in shares)
                    return i, (
                        f"{names[i]} is used {len(uses)} times ({listed}), so its grad is the sum "
                        f"of {len(uses)} shares, {parts} = {number_text(total)}; yours is "
                        f"{number_text(yours)}, the share of {kept} alone. A backward rule must add to "
                        f".grad (+=), not overwrite it (=)"
                    )
    consumer_forms = {program.steps[j].form for j, _ in uses}
    blamed = sorted(consumer_forms & forms_failing_alone)
    if not blamed and case.by_rules:
        consumers = ", ".join(dict.fromkeys(names[first + j] for j, _ in uses))
        return i, (
            f"{names[i]}.grad should be {number_text(total)} (the sum of the shares from {consumers}) but your "
            f"rules, called one by one from the output back, give {number_text(yours)}, although each op here "
            f"passes alone: a rule here does more than add its share to the .grad of the nodes it was made from"
        )
    if not blamed:
        early = [names[first + j] for j, _ in uses]
        hubs = [name for name, (j, _) in zip(early, uses, strict=True) if len(program.consumers(first + j)) >= 2]
        suspect = ", ".join(dict.fromkeys(hubs or early))
        consumers = ", ".join(dict.fromkeys(early))
        return i, (
            f"{names[i]}.grad should be {number_text(total)} (the sum of the shares from {consumers}) but "
            f"yours is {number_text(yours)}, although every op here is right alone and the grads of "
            f"{consumers} end up right. So a rule ran too early: "
            f"the backward of {suspect} ran before all of its own consumers had added their share to its "
            f".grad. backward() must visit the nodes in reverse topological order (sort them so each node "
            f"comes after everything it depends on, then run the rules from the output back)"
        )
    form_name = blamed[0]
    j, position = next((j, p) for j, p in uses if program.steps[j].form == form_name)
    step = program.steps[j]
    g = case.yours_grad[first + j]
    slots = _slot_names(form_name)
    inputs = _values_text(slots, [case.right_data[k] for k in step.operands])
    right_local = local_derivatives(program, j, case.right_data)[position]
    text = (
        f"{names[i]}.grad should be {number_text(total)} but yours is {number_text(yours)}: the rule of "
        f"{names[first + j]} = {program.expression(j)} is wrong (it fails alone too). Its local derivative "
        f"d/d{slots[position]} for {inputs} is {number_text(right_local)}: {_rule_text(form_name)}"
    )
    if len(uses) == 1 and g and yours is not None:
        text += f"; yours works out as {number_text(yours / g)}"
    return i, text
