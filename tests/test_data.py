"""Data sets, CSV loading, splitting and scaling: shapes, determinism, labels and errors that point at the problem."""

import math

import pytest

from jangrad import data


def _is_plain(X, y):
    return (
        isinstance(X, list)
        and all(isinstance(row, list) for row in X)
        and all(type(v) is float for row in X for v in row)
        and isinstance(y, list)
    )


def test_seed4_is_the_lecture_data():
    X, y = data.seed4()
    assert X == [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    assert y == [1.0, -1.0, -1.0, 1.0]


def test_xor_truth_table():
    X, y = data.xor()
    assert [int(a) ^ int(b) for a, b in X] == y
    assert data.xor(signed=True)[1] == [-1.0, 1.0, 1.0, -1.0]


def test_spiral_shape_determinism_and_arms():
    X, y = data.spiral(50, 3, seed=1)
    assert len(X) == 150 and y == [0] * 50 + [1] * 50 + [2] * 50 and _is_plain(X, y)
    assert data.spiral(50, 3, seed=1) == (X, y)
    assert data.spiral(50, 3, seed=2)[0] != X
    assert all(math.hypot(*p) <= 1.0 + 1e-12 for p in X)


@pytest.mark.parametrize(
    "make, n",
    [
        (lambda **kw: data.moons(60, **kw), 60),
        (lambda **kw: data.circles(60, **kw), 60),
        (lambda **kw: data.blobs(60, **kw), 60),
        (lambda **kw: data.digits(n=40, **kw), 40),
        (lambda **kw: data.iris(**kw), 150),
    ],
)
def test_sklearn_sets_are_plain_lists_and_repeat_by_seed(make, n):
    X, y = make()
    assert len(X) == len(y) == n and _is_plain(X, y)
    assert make() == (X, y)
    assert make(seed=5) != (X, y)


def test_binary_sets_can_be_signed_and_multiclass_sets_give_indices():
    _, y01 = data.moons(40)
    _, ypm = data.moons(40, signed=True)
    assert set(y01) == {0, 1} and ypm == [2.0 * t - 1.0 for t in y01]
    assert set(data.circles(40, signed=True)[1]) == {-1.0, 1.0}
    assert set(data.iris()[1]) == {0, 1, 2}
    X, y = data.digits(n=200, classes=3)
    assert set(y) == {0, 1, 2} and len(X[0]) == 64


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: data.moons(0), ValueError),
        (lambda: data.moons(10, noise=-1), ValueError),
        (lambda: data.moons(10, seed=-1), ValueError),
        (lambda: data.moons(10, seed="a"), TypeError),
        (lambda: data.spiral(1), ValueError),
        (lambda: data.spiral(10, classes=1), ValueError),
        (lambda: data.spiral(10.5), TypeError),
        (lambda: data.circles(10, factor=1.5), ValueError),
        (lambda: data.blobs(10, std=0), ValueError),
        (lambda: data.digits(classes=1), ValueError),
    ],
)
def test_generators_reject_bad_arguments(call, error):
    with pytest.raises(error):
        call()


# ---- CSV -------------------------------------------------------------------------------------------------------------
def _write(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_load_csv_with_header_and_target_by_name_or_index(tmp_path):
    path = _write(tmp_path, "a,b,label\n1,2,0\n3.5,-4,1\n\n5,6e-1,1\n")
    X, y = data.load_csv(path, target="label")
    assert X == [[1.0, 2.0], [3.5, -4.0], [5.0, 0.6]] and y == [0.0, 1.0, 1.0]
    X, y = data.load_csv(path, target=0)
    assert X == [[2.0, 0.0], [-4.0, 1.0], [0.6, 1.0]] and y == [1.0, 3.5, 5.0]
    assert data.load_csv(path) == data.load_csv(path, target="label")


def test_load_csv_without_header_and_with_named_classes(tmp_path):
    X, y = data.load_csv(_write(tmp_path, "1,2,3\n4,5,6\n"))
    assert X == [[1.0, 2.0], [4.0, 5.0]] and y == [3.0, 6.0]
    X, y = data.load_csv(_write(tmp_path, "x,species\n1,versicolor\n2,setosa\n3,versicolor\n", "iris.csv"))
    assert y == [1, 0, 1]


@pytest.mark.parametrize(
    "text, target, message",
    [
        ("a,b\n1,2\n3,x\n", -1, r"line 3, column 2 \('b'\): the target 'x' .*mixed numbers and names"),
        ("a,b,c\n1,2,3\n4,zz,6\n", -1, r"line 3, column 2 \('b'\): 'zz' is not a number"),
        ("a,b,c\n1,2,3\n4,5\n", -1, "line 3 has 2 columns, expected 3"),
        ("a,b,c\n1,,3\n", -1, r"line 2, column 2 \('b'\): '' is not a number"),
        ("a,b,c\n1,nan,3\n", -1, "line 2, column 2.*not a finite number"),
        ("a,b\n1,2\n", "c", "no column named 'c'"),
        ("a,b\n1,2\n", 5, "target column 5 does not exist"),
        ("", -1, "no rows"),
        ("a,b\n", -1, "no data rows"),
        ("a\n1\n", -1, "at least one input"),
    ],
)
def test_load_csv_errors_name_file_line_and_column(tmp_path, text, target, message):
    path = _write(tmp_path, text)
    with pytest.raises(data.CSVError, match=message) as info:
        data.load_csv(path, target=target)
    assert path in str(info.value)


def test_load_csv_missing_file_and_bad_target_type(tmp_path):
    with pytest.raises(FileNotFoundError):
        data.load_csv(str(tmp_path / "nope.csv"))
    with pytest.raises(TypeError):
        data.load_csv(_write(tmp_path, "1,2\n"), target=1.5)


def test_load_csv_rejects_binary_garbage(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(data.CSVError, match=str(path)):
        data.load_csv(str(path))


# ---- split and scale -------------------------------------------------------------------------------------------------
def test_train_test_split_is_deterministic_and_complete():
    X, y = data.moons(40)
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=3)
    assert len(X_te) == 10 and len(X_tr) == 30
    assert sorted(map(tuple, X_tr + X_te)) == sorted(map(tuple, X))
    assert data.train_test_split(X, y, test_size=0.25, seed=3) == (X_tr, X_te, y_tr, y_te)
    pairs = dict(zip(map(tuple, X), y, strict=True))
    assert all(pairs[tuple(x)] == t for x, t in zip(X_te, y_te, strict=True))
    _, _, _, y_strat = data.train_test_split(X, y, test_size=0.5, seed=0, stratify=True)
    assert sum(y_strat) == 10


def test_standardize_uses_training_statistics():
    train = [[1.0, 10.0], [3.0, 30.0], [5.0, 50.0]]
    scaled = data.standardize(train)
    for j in range(2):
        column = [row[j] for row in scaled]
        assert sum(column) == pytest.approx(0.0, abs=1e-12)
        assert sum(v * v for v in column) / 3 == pytest.approx(1.0)
    scaled_train, scaled_test = data.standardize(train, [[3.0, 50.0]])
    assert scaled_train == scaled
    assert scaled_test[0][0] == pytest.approx(0.0) and scaled_test[0][1] == pytest.approx(scaled[2][1])


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: data.train_test_split([[1.0]], [1, 2]), ValueError),
        (lambda: data.train_test_split([[1.0], [2.0]], [1, 2], test_size=1.5), ValueError),
        (lambda: data.train_test_split("abc", [1, 2, 3]), TypeError),
        (lambda: data.standardize([[1.0, 2.0], [1.0]]), ValueError),
        (lambda: data.standardize([[1.0, "a"]]), TypeError),
        (lambda: data.standardize([[1.0, 2.0]], [[1.0]]), ValueError),
        (lambda: data.standardize([]), ValueError),
    ],
)
def test_split_and_scale_reject_bad_input(call, error):
    with pytest.raises(error):
        call()


@pytest.mark.parametrize(
    "text, target, inputs",
    [
        ("a,b,label\n1,2,0\n3,4,1\n", "label", ["a", "b"]),
        ("label, a ,b\n0,1,2\n1,3,4\n", "label", ["a", "b"]),  # stripped, as load_csv reads them
        ("1,2,0\n3,4,1\n", "-1", ["x0", "x1"]),  # no header: the lab's own names
        ("a,b,c\n1,2,0\n3,4,1\n", "0", ["b", "c"]),  # a target given by its index
    ],
)
def test_a_csv_runs_inputs_carry_the_headers_names_in_the_lab(tmp_path, text, target, inputs):
    from jangrad.playground.config import parse_config
    from jangrad.playground.problem import build_problem

    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    assert data.csv_header_names(str(path)) == (
        [] if text[0].isdigit() else [c.strip() for c in text.split("\n")[0].split(",")]
    )
    lab = build_problem(parse_config({"data": "csv", "csv": text, "target": target, "samples": 4}))
    assert lab.columns == inputs
