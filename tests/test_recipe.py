"""The run recipe: one description of a run that the command line, the playground and "copy CLI command" share."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jangrad import recipe as recipes
from jangrad.cli.main import build_parser, main
from jangrad.cli.training import recipe_from_arguments
from jangrad.playground.config import cli_command, parse_config
from jangrad.recipe import Recipe, RecipeError, build


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("hidden", (16, 0), "hidden must be layer widths of at least 1"),
        ("activation", "swish", "activation must be one of tanh"),
        ("loss", "l1", "loss must be one of hinge"),
        ("lr", 0.0, "lr must be a positive finite number"),
        ("lr", float("nan"), "lr must be a positive finite number"),
        ("steps", 2.5, "steps must be a whole number"),
        ("batch_size", 0, "batch_size must be a whole number of at least 1"),
        ("test_split", 1.0, "test_split must be a fraction"),
        ("seed", True, "seed must be a whole number"),
        ("samples", 10, "samples and noise apply to moons, circles, spiral, not to data seed4"),
    ],
)
def test_a_bad_field_is_named_in_one_line(field, value, words):
    with pytest.raises(RecipeError, match=words) as caught:
        Recipe(**{field: value})
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)  # the server answers 400 to any ValueError of a configuration


recipe_strategy = st.builds(
    Recipe,
    data=st.sampled_from(["seed4", "xor", "moons", "circles", "spiral", "digits", "my data.csv"]),
    hidden=st.lists(st.integers(1, 64), min_size=1, max_size=4).map(tuple),
    activation=st.sampled_from(recipes.ACTIVATIONS),
    output_activation=st.sampled_from(recipes.ACTIVATIONS),
    loss=st.none() | st.sampled_from(recipes.LOSSES),
    optimizer=st.sampled_from(recipes.OPTIMIZERS),
    lr=st.floats(1e-6, 10.0),
    schedule=st.sampled_from(recipes.SCHEDULES),
    steps=st.integers(1, 10_000),
    batch_size=st.none() | st.integers(1, 512),
    seed=st.integers(0, 2**31 - 1),
    test_split=st.none() | st.floats(0.01, 0.99),
).flatmap(
    lambda r: st.builds(
        lambda samples, noise: r.replace(samples=samples, noise=noise),
        st.none() | st.integers(1, 1000) if r.data in recipes.GENERATED else st.none(),
        st.none() | st.floats(0.0, 1.0) if r.data in recipes.GENERATED else st.none(),
    )
)


@settings(max_examples=150, deadline=None)
@given(recipe_strategy)
def test_a_recipes_command_parses_back_into_the_same_recipe(recipe):
    argv = shlex.split(recipe.command())
    assert argv[:2] == ["jangrad", "train"]
    assert recipe_from_arguments(build_parser().parse_args(argv[1:])) == recipe


def test_the_command_line_and_the_page_build_the_same_problem():
    page = parse_config(
        {
            "data": "circles",
            "samples": 60,
            "noise": 0.2,
            "test": 0.25,
            "layers": "5,3",
            "activation": "relu",
            "loss": "hinge",
            "seed": 3,
            "steps": 10,
        }
    )
    command, note = cli_command(page)
    assert note == ""
    from_cli = recipe_from_arguments(build_parser().parse_args(shlex.split(command)[1:]))
    assert from_cli == page.recipe
    one, two = build(page.recipe), build(from_cli)
    assert (one.X, one.y, one.X_test, one.y_test, one.loss) == (two.X, two.y, two.X_test, two.y_test, two.loss)
    assert one.model.state_dict() == two.model.state_dict()


def test_a_recipe_error_is_exit_2_on_the_command_line(capsys):
    assert main(["train", "--data", "seed4", "--samples", "10", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--samples applies only to moons, circles, spiral" in err


def test_build_chooses_the_loss_from_the_labels_and_seeds_the_model():
    seed4 = build(Recipe(data="seed4", hidden=(4,), seed=5))
    assert seed4.loss == "sse" and seed4.y == [1.0, -1.0, -1.0, 1.0]
    spiral = build(Recipe(data="spiral", samples=10, hidden=(4,)))
    assert spiral.loss == "ce" and spiral.classes == 3 and spiral.model.nouts == [4, 3]
    assert build(Recipe(data="seed4", hidden=(4,), seed=5)).model.state_dict() == seed4.model.state_dict()
    assert build(Recipe(data="seed4", hidden=(4,), seed=6)).model.state_dict() != seed4.model.state_dict()
