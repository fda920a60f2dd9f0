"""A bad value of a training flag that only the library can judge (a set too small, a column not in the file, a flag
that does not apply to the data) is reported in one line that names the flag, with exit status 2."""

from __future__ import annotations

import pytest

from jangrad.cli import main

CSV = "a,b,label\n1,2,0\n2,3,1\n3,1,0\n4,4,1\n"
ONE_CLASS = "a,label\n1,0\n2,0\n"

CASES = [
    (["--data", "moons", "--samples", "1"], "--samples must be at least 2, got 1"),
    (["--data", "circles", "--samples", "1"], "--samples must be at least 2, got 1"),
    (["--data", "spiral", "--samples", "1"], "--samples must be at least 2, got 1"),
    (["--data", "seed4", "--samples", "10"], "--samples applies only to moons, circles, spiral, not to --data seed4"),
    (["--data", "xor", "--noise", "0.1"], "--noise applies only to moons, circles, spiral, not to --data xor"),
    (["--data", "d.csv", "--samples", "3", "--noise", "0.1"], "--samples and --noise apply only to"),
    (["--data", "seed4", "--target", "x"], "--target applies only to a CSV file, not to --data seed4"),
    (["--data", "d.csv", "--target", "nope"], "--target nope: d.csv: no column named 'nope'"),
    (["--data", "d.csv", "--target", "7"], "--target 7: d.csv: target column 7 does not exist"),
    (["--data", "seed4", "--test-split", "0.9"], "--test-split 0.9 of 4 samples leaves no training samples"),
    (["--data", "spiral", "--loss", "hinge"], "--loss hinge: the data has 3 classes; use --loss ce"),
    (["--data", "bogus"], "--data 'bogus' is neither a data set"),
    (["--data", "one.csv"], "--data one.csv: the targets hold a single class"),
    (["--seed", "-1"], "argument --seed: expected a whole number from 0 to 4294967295, got '-1'"),
    (["--data", "moons", "--seed", "99999999999"], "argument --seed: expected a whole number from 0 to 4294967295"),
]


RUNS = [("train", args, words) for args, words in CASES] + [
    ("sweep", args, words)
    for args, words in CASES
    if "--test-split" not in args  # sweep has no test split
]


@pytest.mark.parametrize("command, args, words", RUNS, ids=lambda a: " ".join(a) if isinstance(a, list) else a[:5])
def test_the_message_names_the_flag(command, args, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text(CSV)
    (tmp_path / "one.csv").write_text(ONE_CLASS)
    extra = ["--lr", "0.1"] if command == "sweep" else []
    assert main([command, *args, *extra, "--steps", "1", "--out", "run", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(f"jangrad {command}: error: ")
    assert words in err
    assert not (tmp_path / "run").exists()


def test_a_flag_that_fits_still_trains(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text(CSV)
    assert main(["train", "--data", "d.csv", "--target", "label", "--steps", "1", "--no-progress"]) == 0
    assert main(["train", "--data", "moons", "--samples", "2", "--seed", "4294967295", "--steps", "1"]) == 0


@pytest.mark.parametrize(
    "args, words",
    [
        (["gradcheck", "a", "--set", "a=nan"], "--set: variable 'a' must be a finite real number, got nan"),
        (["graph", "a", "--set", "1a=2"], "--set: variable name '1a' must be an identifier"),
        (["explain", "tanh", "--set", "tanh=2"], "--set: variable name 'tanh' is the name of a function"),
        (["graph", "a", "--set", "a=x"], "--set a: 'x' is not a number"),
    ],
)
def test_a_bad_set_value_names_set(args, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and words in err
