"""The plain-Python twins of scikit-learn's data functions (for a page running jangrad in Pyodide, or an install
without scikit-learn) give scikit-learn's numbers: NumPy's legacy generator draw for draw, the moons and the circles
to 1e-12 (bit for bit on this machine, as a rule), the split and the scaling, and ``jangrad.data`` takes them when
scikit-learn cannot be imported."""

from __future__ import annotations

import math
import random
import sys

import numpy as np
import pytest

from jangrad import data, sklearn_twins
from jangrad.legacy_random import MAX_SEED, LegacyRandomState

sklearn = pytest.importorskip("sklearn", reason="the twins are held against scikit-learn itself")
from sklearn.datasets import make_circles, make_moons  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

SEEDS = [0, 1, 7, 42, 2**31 - 1, MAX_SEED]
SIZES = [2, 3, 5, 100, 101, 2000]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_legacy_generator_draws_numpys_numbers(seed):
    ours, numpys = LegacyRandomState(seed), np.random.RandomState(seed)
    assert [ours.random_sample() for _ in range(7)] == numpys.random_sample(7).tolist()
    assert [ours.normal(0.0, 0.3) for _ in range(101)] == numpys.normal(scale=0.3, size=101).tolist()
    assert ours.permutation(1000) == numpys.permutation(1000).tolist()
    for bound in (1, 2, 3, 1000, 2**20, 2**31):
        assert ours.interval(bound) == numpys.randint(0, bound + 1)
    assert ours.random_sample() == numpys.random_sample(), "both generators are at the same place afterwards"


def test_the_legacy_generator_refuses_a_seed_numpy_refuses():
    for seed in (-1, MAX_SEED + 1, 1.5, True):
        with pytest.raises(ValueError, match="seed must be a whole number from 0 to 4294967295"):
            LegacyRandomState(seed)


def _largest_difference(ours, theirs) -> float:
    return float(np.abs(np.asarray(ours) - theirs).max())


@pytest.mark.parametrize("n", SIZES)
def test_moons_and_circles_are_scikit_learns(n):
    exact = 0
    for seed in SEEDS:
        for noise in (0.0, 0.1, 0.3):
            for ours, (X, y) in (
                (sklearn_twins.make_moons(n, noise, seed), make_moons(n_samples=n, noise=noise, random_state=seed)),
                (
                    sklearn_twins.make_circles(n, noise, 0.5, seed),
                    make_circles(n_samples=n, noise=noise, factor=0.5, random_state=seed),
                ),
            ):
                assert ours[1] == y.tolist(), "the same labels in the same order"
                assert _largest_difference(ours[0], X) <= 1e-12
                exact += ours[0] == X.tolist()
    print(f"n={n}: {exact} of {len(SEEDS) * 6} data sets equal scikit-learn's bit for bit")


def test_the_split_holds_out_the_rows_scikit_learn_holds_out():
    for n in (4, 10, 100, 333):
        for test_size in (0.1, 0.25, 0.5, 0.7):
            for seed in (0, 3, 99, MAX_SEED):
                train, test = train_test_split(list(range(n)), test_size=test_size, random_state=seed)
                assert sklearn_twins.split_indices(n, test_size, seed) == (train, test)
    with pytest.raises(ValueError, match="leaves no training samples"):
        sklearn_twins.split_indices(4, 0.9, 0)


def test_the_scaler_measures_scikit_learns_mean_and_scale():
    rng = random.Random(0)
    for k in range(60):
        rows = [[rng.gauss(3.0, 2.0) for _ in range(3)] for _ in range(rng.randint(2, 300))]
        if k % 10 == 0:
            for row in rows:
                row[1] = 5.5  # a constant column keeps its values (scale 1)
        scaler = StandardScaler().fit(rows)
        means, scales = sklearn_twins.standard_scaler(rows)
        assert _largest_difference(means, scaler.mean_) <= 1e-12
        assert _largest_difference(scales, scaler.scale_) <= 1e-12
        if k % 10 == 0:
            assert scales[1] == 1.0


def test_without_scikit_learn_the_data_module_gives_the_same_numbers(monkeypatch):
    with_sklearn = {
        "moons": data.moons(n=120, noise=0.2, seed=3, signed=True),
        "circles": data.circles(n=50, seed=9),
        "split": data.train_test_split(*data.moons(n=40, seed=1), test_size=0.25, seed=5),
        "scaled": data.standardize([[1.0, 2.0], [3.0, 5.0], [4.0, -1.0]], [[0.5, 0.5]]),
    }
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` now raises
    without = {
        "moons": data.moons(n=120, noise=0.2, seed=3, signed=True),
        "circles": data.circles(n=50, seed=9),
        "split": data.train_test_split(*data.moons(n=40, seed=1), test_size=0.25, seed=5),
        "scaled": data.standardize([[1.0, 2.0], [3.0, 5.0], [4.0, -1.0]], [[0.5, 0.5]]),
    }
    for name, theirs in with_sklearn.items():
        flat_ours, flat_theirs = np.asarray(without[name][0]), np.asarray(theirs[0])
        assert flat_ours.shape == flat_theirs.shape, name
        assert _largest_difference(flat_ours, flat_theirs) <= 1e-12, name
    assert without["moons"][1] == with_sklearn["moons"][1] and without["split"][2:] == with_sklearn["split"][2:]
    with pytest.raises(ImportError, match=r"stratified train_test_split needs scikit-learn"):
        data.train_test_split(*data.moons(n=40), stratify=True)
    with pytest.raises(ValueError, match="seed must be at most 4294967295"):
        data.moons(seed=2**32)
    assert math.isclose(sum(x for x, _ in without["moons"][0]) / 120, 0.5, abs_tol=0.1)
