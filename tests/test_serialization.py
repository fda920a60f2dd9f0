"""model.save / nn.load: exact round trips, atomic writes, and a clear error for every kind of damaged file."""

import json
import os
import threading

import pytest

import jangrad
from jangrad import nn
from jangrad.io.modelfile import ModelFileError


@pytest.fixture
def model():
    return nn.MLP(3, [4, 2, 1], activation="relu", output_activation="sigmoid", seed=11)


@pytest.fixture
def saved(tmp_path, model):
    path = tmp_path / "model.json"
    model.save(str(path))
    return path


def test_round_trip_gives_identical_weights_and_outputs(model, saved):
    loaded = nn.load(str(saved))
    assert isinstance(loaded, nn.MLP)
    assert loaded.config() == model.config()
    assert loaded.state_dict() == model.state_dict()  # every float bit for bit
    for x in ([0.1, -2.0, 3.3], [1e-8, 7.0, -0.5]):
        assert loaded(x).data == model(x).data


def test_file_is_readable_json_with_architecture_weights_and_version(model, saved):
    document = json.loads(saved.read_text())
    assert document["format"] == "jangrad-model" and document["jangrad_version"] == jangrad.__version__
    assert document["architecture"] == {
        "type": "MLP",
        "nin": 3,
        "nouts": [4, 2, 1],
        "activation": "relu",
        "output_activation": "sigmoid",
        "init": "uniform",
    }
    assert document["layers"][1]["weight"][0] == [w.data for w in model.layers[1].neurons[0].w]
    assert document["layers"][2]["bias"] == [model.layers[2].neurons[0].b.data]


def test_save_accepts_path_objects_and_leaves_no_temporary_files(model, tmp_path):
    model.save(tmp_path / "m.json")
    assert os.listdir(tmp_path) == ["m.json"]
    assert nn.load(tmp_path / "m.json").state_dict() == model.state_dict()


def test_failed_save_keeps_the_old_file(model, saved, tmp_path):
    before = saved.read_bytes()
    model.parameters()[0].data = float("nan")
    with pytest.raises(ValueError, match="layers.0.neurons.0.w.0 is nan"):
        model.save(str(saved))
    assert saved.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_only_an_mlp_is_saved(tmp_path):
    with pytest.raises(TypeError, match="only an MLP"):
        nn.Neuron(2, seed=0).save(str(tmp_path / "n.json"))


def _damage(saved, edit):
    """Edit the file as a person might, dropping the checksum (as in a file written before it existed) so that the
    edit reaches the schema checks."""
    document = json.loads(saved.read_text())
    del document["checksum"]
    edit(document)
    saved.write_text(json.dumps(document))


def _set(path, value):
    def edit(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set(["format"], "pickle"), "not a jangrad model"),
        (_set(["format"], KeyError), "not a jangrad model"),
        (_set(["format_version"], 99), "format version 99"),
        (_set(["format_version"], "1"), "format_version"),
        (_set(["architecture"], KeyError), "missing the key 'architecture'"),
        (_set(["architecture", "type"], "CNN"), "'CNN'"),
        (_set(["architecture", "nin"], KeyError), "missing the key 'nin'"),
        (_set(["architecture", "nin"], 0), "impossible sizes"),
        (_set(["architecture", "nouts"], [4, -2, 1]), "impossible sizes"),
        (_set(["architecture", "nouts"], "4,2,1"), "wrong type"),
        (_set(["architecture", "activation"], "swish"), "activation 'swish' is unknown"),
        (_set(["architecture", "init"], "zeros"), "init 'zeros'"),
        (_set(["layers"], KeyError), "missing the key 'layers'"),
        (_set(["layers", 2], KeyError), "weights for 2 layer"),
        (_set(["layers", 0], [1, 2]), "layers\\[0\\] must be an object"),
        (_set(["layers", 1, "bias"], KeyError), "layers\\[1\\] is missing the key 'bias'"),
        (_set(["layers", 1, "bias"], [0.1]), "layers\\[1\\].bias has 1 numbers, the architecture needs 2"),
        (_set(["layers", 1, "weight"], [[0.1] * 4]), "layers\\[1\\].weight has 1 rows"),
        (_set(["layers", 1, "weight", 0], [0.1] * 3), "layers\\[1\\].weight\\[0\\] has 3 numbers.*needs 4"),
        (_set(["layers", 0, "weight", 2, 1], "0.5"), "layers\\[0\\].weight\\[2\\]\\[1\\] is '0.5', not a number"),
        (_set(["layers", 0, "bias", 0], True), "layers\\[0\\].bias\\[0\\] is True"),
        (_set(["layers", 0, "bias", 0], None), "not a number"),
    ],
)
def test_wrong_schema_or_shapes_are_named(saved, edit, message):
    _damage(saved, edit)
    with pytest.raises(ModelFileError, match=message) as info:
        nn.load(str(saved))
    assert str(saved) in str(info.value)


def test_truncated_file(saved):
    text = saved.read_text()
    saved.write_text(text[: len(text) // 2])
    with pytest.raises(ModelFileError, match="not valid JSON \\(the file looks truncated\\)") as info:
        nn.load(str(saved))
    assert str(saved) in str(info.value)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"hello world", "not valid JSON"),
        (b"\x80\x04\x95pickle", "not UTF-8"),
        (b"[1, 2, 3]", "top level is a list"),
        (b'{"format": "jangrad-model", "format_version": 1, "x": NaN}', "NaN is not allowed"),
    ],
)
def test_not_a_model_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message) as info:
        nn.load(str(path))
    assert str(path) in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ModelFileError, match="absent.json: no such file"):
        nn.load(str(tmp_path / "absent.json"))
    with pytest.raises(ModelFileError, match="directory"):
        nn.load(str(tmp_path))


def test_a_dangling_link_names_where_it_points(tmp_path):
    link = tmp_path / "model.json"
    link.symlink_to(tmp_path / "gone.json")
    with pytest.raises(ModelFileError, match="model.json: is a symbolic link to .*gone.json.*does not exist"):
        nn.load(link)


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_error_of(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "loading a FIFO waited for a writer"
    assert "model.json: is not a regular file" in outcome[0]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_before_reading():
    with pytest.raises(ModelFileError, match="/dev/zero: is not a regular file"):
        nn.load("/dev/zero")


def test_a_file_larger_than_the_limit_is_not_read(tmp_path, monkeypatch):
    from jangrad.io import modelfile

    path = tmp_path / "model.json"
    path.write_bytes(b" " * 2000)
    monkeypatch.setattr(modelfile, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ModelFileError, match="model.json: is larger than 1000 bytes, the most a model file may be"):
        nn.load(path)


def test_deeply_nested_json_is_a_model_file_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="model.json: .*nested too deeply"):
        nn.load(path)


def test_a_path_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="path must be a file name"):
        nn.load(3)


def _error_of(path) -> str:
    try:
        nn.load(path)
    except ModelFileError as error:
        return str(error)
    return "loaded"


@pytest.mark.parametrize("where, key", [([], "comment"), (["architecture"], "dropout"), (["layers", 0], "scale")])
def test_unknown_keys_are_refused(saved, where, key):
    _damage(saved, _set(where + [key], 1))
    with pytest.raises(ModelFileError, match=f"unknown key '{key}'"):
        nn.load(saved)


@pytest.mark.parametrize("key, value", [("format_version", 1), ("nin", 3)])
def test_a_key_given_twice_is_refused(saved, key, value):
    once = f'"{key}": {value}'
    text = json.dumps(json.loads(saved.read_text()))  # one line, with json's default ", " and ": "
    assert once in text
    saved.write_text(text.replace(once, f"{once}, {once}", 1))
    with pytest.raises(ModelFileError, match=f"the key '{key}' is given twice"):
        nn.load(saved)


def test_a_changed_weight_fails_the_checksum(saved):
    document = json.loads(saved.read_text())
    document["layers"][1]["weight"][0][2] += 2**-40
    saved.write_text(json.dumps(document, indent=1))
    with pytest.raises(ModelFileError, match="model.json: its checksum does not match its contents"):
        nn.load(saved)


def test_the_checksum_ignores_spacing(model, saved):
    saved.write_text(json.dumps(json.loads(saved.read_text())))  # one line instead of indented
    assert nn.load(saved).state_dict() == model.state_dict()


def test_a_file_written_before_the_checksum_loads_unchecked(model, saved):
    _damage(saved, lambda document: None)
    assert "checksum" not in saved.read_text()
    assert nn.load(saved).state_dict() == model.state_dict()


def test_every_single_byte_flip_is_refused_or_loads_the_same_model(tmp_path):
    """A damaged file never loads as different weights: flip each byte of a small model file in turn."""
    model = nn.MLP(2, [3, 1], seed=5)
    path = tmp_path / "model.json"
    model.save(path)
    original = path.read_bytes()
    changed = []
    for position in range(len(original)):
        for mask in (0x01, 0x10):
            damaged = bytearray(original)
            damaged[position] ^= mask
            path.write_bytes(bytes(damaged))
            try:
                loaded = nn.load(path)
            except ModelFileError:
                continue
            if loaded.config() != model.config() or loaded.state_dict() != model.state_dict():
                changed.append((position, mask))
    assert changed == []
