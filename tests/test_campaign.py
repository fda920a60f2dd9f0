"""scripts/campaign.py: the random-graph campaign against PyTorch runs, finds a wrong rule, and stays repeatable.

CI runs it on a few hundred graphs; ``python scripts/campaign.py --graphs 100000`` gives the full figures.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import math
import sys
from pathlib import Path

import pytest

from jangrad import ops

torch = pytest.importorskip("torch", reason="the campaign's reference is PyTorch")

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "campaign.py"
_spec = importlib.util.spec_from_file_location("campaign", _PATH)
campaign = importlib.util.module_from_spec(_spec)
sys.modules["campaign"] = campaign  # dataclasses look their module up there
_spec.loader.exec_module(campaign)


def test_graphs_are_drawn_the_same_on_every_run():
    assert str(campaign.draw_graph(0, 3)) == (
        "n0 = -1.183; n1 = -0.277; n2 = relu(n1); n3 = exp(n1); n4 = powc(n2, -0.5); n5 = log(n3); n6 = relu(n4)"
    )
    assert campaign.draw_graph(7, 11) == campaign.draw_graph(7, 11) != campaign.draw_graph(8, 11)


@pytest.mark.parametrize(
    "ours, theirs, kind",
    [
        (1.0, 1.0 + 1e-12, None),
        (math.nan, math.nan, None),
        (math.inf, math.inf, None),
        (math.nan, 0.0, "nan where the reference is a number"),
        (0.0, math.nan, "a number where the reference is nan"),
        (math.inf, -math.inf, "infinity differs"),
        (1.0, 1.001, "different finite numbers"),
    ],
)
def test_how_two_numbers_differ(ours, theirs, kind):
    assert campaign.how_they_differ(ours, theirs, campaign.FIRST) == kind


def test_a_small_campaign_runs_and_reports_every_class():
    out = io.StringIO()
    report = campaign.run_campaign(300, seed=0, examples=1, out=out)
    text = out.getvalue()
    assert report["graphs"] == 300 and report["second_order"] == 90 and report["compiled"] == 9
    assert text.startswith("jangrad campaign, seed 0: 300 graphs (90 also at second order, 9 replayed")
    for name, count in {**report["findings"], **report["conventions"]}.items():
        assert f"{count:8d}  {name}" in text
    assert "documented conventions (counted apart)" in text


def test_a_wrong_rule_is_found(monkeypatch):
    """tanh's rule off by 10%: the campaign must say so, as different finite gradients."""
    rule = ops.OPS["tanh"].backward
    monkeypatch.setitem(
        ops.OPS,
        "tanh",
        dataclasses.replace(ops.OPS["tanh"], backward=lambda m, g, out, x: tuple(1.1 * r for r in rule(m, g, out, x))),
    )
    report = campaign.run_campaign(200, seed=0, out=io.StringIO())
    assert report["findings"].get("gradient: different finite numbers", 0) >= 10


def test_a_wrong_compiled_kernel_is_found(monkeypatch):
    """The tape's numbers are compared with the eager engine's: a tape that adds 1 to every value is caught."""
    real = campaign.compiled_side

    def off_by_one(graph):
        value, gradient, eager_value, eager_gradient = real(graph)
        return value + 1.0, gradient, eager_value, eager_gradient

    monkeypatch.setattr(campaign, "compiled_side", off_by_one)
    report = campaign.run_campaign(100, seed=0, compiled=1.0, second_order=0.0, out=io.StringIO())
    assert report["findings"].get("compiled value: different finite numbers", 0) >= 50
