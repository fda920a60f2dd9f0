"""``jangrad site`` without a browser: the page it writes, the folder's layout and its safe replacement, where the
inputs come from (a tarball or folder passed by hand, the cache), the ``jangrad site`` command, and the Python the
page's workers run (``jangrad.site.worker`` and ``jangrad.site.checking``), here under CPython.

The browser tests (``tests/browser/test_static_site.py``) build the real folder from npm and PyPI and drive it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from importlib import resources
from pathlib import Path

import pytest

from jangrad.check.probes import CALLS_BACKWARD
from jangrad.cli import main
from jangrad.site import SiteError, build_site, inputs
from jangrad.site.build import MANIFEST, package_archive, site_index
from jangrad.site.checking import LOADING, check_source
from jangrad.site.inputs import InputError, NpmPackage, Wheel, npm_package, wheels
from jangrad.site.worker import MAX_REQUEST_CHARS, handle, run

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ROOT / "tests" / "fixtures" / "engines"
PLAYGROUND_PAGE = resources.files("jangrad.playground").joinpath("static", "index.html").read_text(encoding="utf-8")


# ---- the page -----------------------------------------------------------------------------------------------------
def test_the_page_gets_relative_links_a_policy_and_the_sites_hooks():
    page = site_index(PLAYGROUND_PAGE)
    assert 'src="/static/' not in page and 'href="/static/' not in page
    assert '<script type="module" src="static/app.js"></script>' in page
    assert page.index("static/app.js") < page.index("static/site.js"), "site.js runs after app.js"
    policy = page[page.index("Content-Security-Policy") :].split(">")[0]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy and "https:" not in policy
    assert page.index('id="site-needs-server"') > page.index("<body")
    with pytest.raises(SiteError, match="no <head>"):
        site_index("<html><body></body></html>")


def test_the_package_archive_is_the_installed_package_and_always_the_same_bytes():
    first, second = package_archive(), package_archive()
    assert first == second
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert "jangrad/engine.py" in names and "jangrad/site/worker.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


# ---- building from inputs passed by hand ---------------------------------------------------------------------------
@pytest.fixture
def given(tmp_path) -> dict[str, Path]:
    """Stand-ins for Pyodide's and viz.js's npm folders and a wheel folder: the builder copies, it does not run."""
    pyodide = tmp_path / "pyodide-package"
    pyodide.mkdir()
    for name in inputs.PYODIDE.files:
        (pyodide / name).write_text(f"pyodide's {name}")
    viz = tmp_path / "viz" / "package" / "dist"
    viz.mkdir(parents=True)
    (viz / "viz.js").write_text("export function instance() {}")
    wheel_folder = tmp_path / "wheels"
    wheel_folder.mkdir()
    for wheel in inputs.WHEELS:
        (wheel_folder / wheel.filename).write_bytes(f"wheel {wheel.project}".encode())
    return {"pyodide": pyodide, "viz": tmp_path / "viz", "wheel_folder": wheel_folder, "cache": tmp_path / "cache"}


def test_the_folder_holds_the_page_the_runtime_and_the_archives(tmp_path, given):
    summary = build_site(tmp_path / "out", **given)
    out = summary.folder
    assert (out / "static" / "app.js").read_bytes() == resources.files("jangrad.playground").joinpath(
        "static", "app.js"
    ).read_bytes()
    transport = (out / "static" / "transport.js").read_text()
    assert "Web Worker" in transport and "fetch(" not in transport, "the site's transport replaces the server's"
    for name in ("site.js", "check-tab.js", "engine-worker.js", "check-worker.js"):
        assert (out / "static" / name).is_file()
    assert (out / "pyodide" / "pyodide.asm.wasm").read_text() == "pyodide's pyodide.asm.wasm"
    assert (out / "vendor" / "viz.js").is_file()
    manifest = json.loads((out / MANIFEST).read_text())
    assert [a["format"] for a in manifest["python"]] == ["zip"] + ["wheel"] * len(inputs.WHEELS)
    for archive in manifest["python"]:
        data = (out / archive["path"]).read_bytes()
        assert archive["hash"] == hashlib.sha256(data).hexdigest()[:16]
    assert summary.files == len([p for p in out.rglob("*") if p.is_file()])
    assert "pyodide 314" in summary.text()


def test_an_earlier_site_is_replaced_and_any_other_folder_refused(tmp_path, given):
    out = tmp_path / "out"
    build_site(out, **given)
    (out / "stale.txt").write_text("left from before")
    build_site(out, **given)
    assert not (out / "stale.txt").exists()
    other = tmp_path / "thesis"
    other.mkdir()
    (other / "chapter1.tex").write_text("precious")
    with pytest.raises(SiteError, match="not a jangrad site"):
        build_site(other, **given)
    assert (other / "chapter1.tex").read_text() == "precious"
    with pytest.raises(SiteError, match="is a file"):
        build_site(other / "chapter1.tex", **given)


def test_a_failed_build_keeps_the_previous_site(tmp_path, given):
    out = tmp_path / "out"
    build_site(out, **given)
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    (given["pyodide"] / "pyodide.asm.wasm").unlink()
    with pytest.raises(SiteError, match="no pyodide.asm.wasm"):
        build_site(out, **given)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == [], "no half-built folder left"


# ---- inputs -------------------------------------------------------------------------------------------------------
def _tarball(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo("package/link")
            info.type = tarfile.SYMTYPE
            info.linkname = link
            archive.addfile(info)
    return path


def test_a_tarball_given_by_hand_is_unpacked_inside_the_cache_only(tmp_path):
    members = {f"package/{name}": name.encode() for name in inputs.PYODIDE.files}
    members["../escaped.txt"] = b"outside"
    members["package/../../escaped2.txt"] = b"outside"
    tarball = _tarball(tmp_path / "pyodide-314.0.8.tgz", members, link="/etc/passwd")
    folder = npm_package(inputs.PYODIDE, tarball, tmp_path / "cache")
    assert (folder / "pyodide.mjs").read_bytes() == b"pyodide.mjs"
    assert not (folder / "link").exists()
    assert not list(tmp_path.rglob("escaped*.txt"))
    with pytest.raises(InputError, match="no such file"):
        npm_package(inputs.PYODIDE, tmp_path / "nowhere.tgz", tmp_path / "cache")
    (tmp_path / "junk.tgz").write_bytes(b"not a tarball")
    with pytest.raises(InputError, match="not a readable npm tarball"):
        npm_package(inputs.PYODIDE, tmp_path / "junk.tgz", tmp_path / "cache")


def test_a_cached_tarball_is_used_without_npm_and_a_wrong_one_is_not(tmp_path, monkeypatch):
    tarball = _tarball(tmp_path / "fake-1.0.0.tgz", {"package/main.js": b"cached"})
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    package = NpmPackage("fake", "1.0.0", integrity, ("main.js",), "MIT", "--fake")
    cache = tmp_path / "cache"
    cache.mkdir()
    os.replace(tarball, cache / package.tarball_name)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no npm: the cache must be enough
    assert (npm_package(package, None, cache) / "main.js").read_bytes() == b"cached"
    (cache / package.tarball_name).write_bytes(b"tampered")
    with pytest.raises(InputError, match="npm is not installed.*--fake"):
        npm_package(package, None, cache)


def test_wheels_come_from_the_folder_given_or_the_cache(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    with pytest.raises(InputError, match="no pure-Python wheel of hypothesis"):
        wheels(folder, tmp_path / "cache")
    data = b"a wheel"
    fake = Wheel("fake", "1.0", "fake-1.0-py3-none-any.whl", hashlib.sha256(data).hexdigest(), "MIT")
    monkeypatch.setattr(inputs, "WHEELS", (fake,))
    (tmp_path / "cache" / "wheels").mkdir(parents=True)
    (tmp_path / "cache" / "wheels" / fake.filename).write_bytes(data)

    def no_download(missing, where):
        raise AssertionError(f"downloaded {missing} although the cache had it")

    monkeypatch.setattr(inputs, "_pip_download", no_download)
    assert wheels(None, tmp_path / "cache") == [tmp_path / "cache" / "wheels" / fake.filename]


# ---- the command --------------------------------------------------------------------------------------------------
def test_the_command_says_in_one_line_why_it_cannot_build(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["site", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jangrad site: error: ") and "not a jangrad site" in err and err.count("\n") == 1


def test_the_command_builds_from_inputs_given_by_hand(tmp_path, given, capsys):
    arguments = ["--pyodide", str(given["pyodide"]), "--viz", str(given["viz"]), "--wheels", str(given["wheel_folder"])]
    assert main(["site", str(tmp_path / "out"), *arguments, "--cache", str(given["cache"])]) == 0
    assert "python3 -m http.server" in capsys.readouterr().out
    assert (tmp_path / "out" / "index.html").is_file()


# ---- what the engine worker runs ----------------------------------------------------------------------------------
def answer(method: str, params: object) -> dict:
    return json.loads(handle(method, json.dumps(params)))


def test_the_engine_worker_answers_as_the_server_does():
    lab = answer("expression", {"source": "y = a*b + a", "inputs": "a=2, b=-3"})["result"]
    assert lab["output_name"] == "y" and [s["node"] for s in lab["steps"]][:1] == [lab["output"]]
    checked = answer("check", {"source": "y = a*b + a", "inputs": "a=2, b=-3"})["result"]
    assert checked["all_ok"]
    assert "error" in answer("expression", {"source": "y = a*", "inputs": "a=2"})
    assert answer("expression", {"source": "__import__('os')", "inputs": ""})["error"]
    assert answer("train", {})["error"] == "no such request: 'train'"
    assert answer("expression", ["not", "an", "object"])["error"] == "the request must be a JSON object"
    too_big = json.loads(handle("expression", json.dumps({"source": "a" * MAX_REQUEST_CHARS})))
    assert too_big["error"].startswith("the request is")


def test_run_returns_what_was_printed_or_the_error_with_its_line():
    assert json.loads(run("from jangrad import Value\nprint((Value(2.0) * 3).data)")) == {"output": "6.0\n"}
    failed = json.loads(run("print('before')\nx = 1\n1 / 0\n"))
    assert failed["error"] == "ZeroDivisionError: division by zero (line 3)" and failed["output"] == "before\n"
    assert json.loads(run("def broken(:\n"))["error"].startswith("SyntaxError")
    assert json.loads(run("raise SystemExit(3)"))["error"].startswith("SystemExit")


def test_use_graphviz_sends_every_drawing_through_the_given_renderer():
    """In a fresh interpreter: it changes how this process draws."""
    program = (
        "import jangrad, json\n"
        "from jangrad.site.worker import use_graphviz\n"
        "seen = []\n"
        "use_graphviz(lambda dot: seen.append(dot) or '<svg><title>n0</title></svg>')\n"
        "a = jangrad.Value(2.0, label='a')\n"
        "svg = jangrad.draw(a * 3).pipe('svg').decode()\n"
        "print(json.dumps([svg, 'digraph' in seen[0]]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH="")  # no dot program on PATH either way
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    svg, got_dot = json.loads(done.stdout)
    assert svg.startswith("<svg>") and got_dot


# ---- the network lab in the engine worker -------------------------------------------------------------------------
LAB_WITHOUT_NUMPY = """
import json, sys

class NoNumpy:  # what Pyodide has: none of these
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("numpy", "sklearn", "scipy", "igraph", "matplotlib"):
            raise ImportError(f"no {name} here")

sys.meta_path.insert(0, NoNumpy())
from jangrad.site import worker

def ask(method, params):
    return json.loads(worker.handle(method, json.dumps(params)))

config = {"data": "moons", "samples": 60, "layers": "4", "steps": 40, "test": 0.25, "seed": 2, "batch": 9}
summary = ask("startTraining", {"config": config, "paused": False, "pace": "max"})["result"]
frames, turns = [], 0
while True:
    turn = json.loads(worker.drive())
    turns += 1
    if turn["frame"]:
        frames.append(turn)
    if turn["wake"] is None or turns > 10_000:
        break
out = {
    "summary": summary, "frames": frames, "turns": turns,
    "sample": ask("sampleGraph", {"index": 2}), "steps": ask("sampleSteps", {}),
    "parameter": ask("selectParameter", {"index": 3}),
    "history": ask("download", {"name": "history.csv"}), "model": ask("download", {"name": "model.json"}),
    "nonsense": ask("download", {"name": "../etc/passwd"}),
    "command": ask("command", {"config": config}),
    "too_big": ask("startTraining", {"config": {**config, "samples": 2000, "test": 0, "batch": 0, "layers": "32"}}),
    "numpy": "numpy" in sys.modules,
}
print(json.dumps(out))
"""


def test_the_network_lab_trains_in_the_worker_without_numpy_as_jangrad_train_does(tmp_path):
    """The worker's path (no NumPy, no scikit-learn: the moons from jangrad's twin of make_moons), driven turn by
    turn as engine-worker.js drives it: every loss equals the eager fit's on scikit-learn's data."""
    from jangrad import nn, train
    from jangrad.playground.config import parse_config
    from jangrad.recipe import build
    from jangrad.site.lab import BROWSER_STEP_WORK

    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH="")
    done = subprocess.run([sys.executable, "-c", LAB_WITHOUT_NUMPY], capture_output=True, text=True, env=env,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["numpy"] is False
    summary = out["summary"]
    assert (summary["backend"], summary["compiled"], summary["grid"], summary["samples"]) == ("python", False, 48, 45)
    last = out["frames"][-1]["frame"]
    assert last["state"] == "done" and last["step"] == 40
    assert all("boundary" not in turn["frame"] for turn in out["frames"]), "the worker's JavaScript draws them"
    inputs = last and out["frames"][-1]["pictures"]
    assert inputs["grid"] == 48 and [layer["activation"] for layer in inputs["layers"]] == ["tanh", "linear"]

    losses = [loss for turn in out["frames"] for loss in turn["frame"]["losses"]]
    problem = build(parse_config(out["summary"]["config"]).recipe)
    history = train.fit(problem.model, problem.X, problem.y, loss=problem.loss, progress=False, compiled=False,
                        **parse_config(out["summary"]["config"]).recipe.fit_options())  # fmt: skip
    assert len(losses) == 40 and max(abs(a - b) for a, b in zip(losses, history.loss, strict=True)) <= 1e-12
    weights = [w for layer in problem.model.layers for row in layer.weight_rows() + [layer.biases()] for w in row]
    sent = [w for layer in inputs["layers"] for row in layer["weights"] + [layer["biases"]] for w in row]
    assert max(abs(a - b) for a, b in zip(weights, sent, strict=True)) <= 1e-12, "the pictures' weights are the run's"

    assert out["sample"]["result"]["index"] == 2 and len(out["steps"]["result"]["steps"]) > 10
    assert out["parameter"]["result"] == {"parameter": 3}
    history_rows = out["history"]["result"]["text"].splitlines()
    assert history_rows[0] == "step,loss,lr,accuracy,test_loss" and len(history_rows) == 41
    assert out["history"]["result"]["type"] == "text/csv"
    (tmp_path / "model.json").write_text(out["model"]["result"]["text"], encoding="utf-8")
    downloaded = [p.data for p in nn.load(str(tmp_path / "model.json")).parameters()]
    assert max(abs(a - b.data) for a, b in zip(downloaded, problem.model.parameters(), strict=True)) <= 1e-12
    assert out["nonsense"]["error"].startswith("no such download: '../etc/passwd'")
    command = out["command"]["result"]["command"]
    assert command.startswith("jangrad train --data moons ") and "--samples 60 --test-split 0.25" in command
    assert f"the playground in a browser allows {BROWSER_STEP_WORK:,}" in out["too_big"]["error"]


def _transport_methods(package: str) -> set[str]:
    import re

    text = resources.files(package).joinpath("static", "transport.js").read_text(encoding="utf-8")
    block = text[text.index("export const transport = {") :]
    block = block[: block.index("\n};")]
    return set(re.findall(r"^  (?:async )?(\w+)(?::|\()", block, flags=re.M))


def test_the_sites_transport_answers_every_method_of_the_servers():
    """The page must not need changing for the static site: every method it may call is there."""
    served, site = _transport_methods("jangrad.playground"), _transport_methods("jangrad.site")
    assert {"startTraining", "edit", "sampleSteps", "download", "subscribe"} <= served
    assert served <= site, f"the site's transport lacks {served - site}"
    from jangrad.site.worker import LAB_METHODS

    assert set(LAB_METHODS) == served - {"expression", "check", "subscribe"}, "the worker answers each lab request"


def test_the_pages_note_names_the_workers_step_limit():
    from jangrad.site.lab import BROWSER_STEP_WORK

    transport = resources.files("jangrad.site").joinpath("static", "transport.js").read_text(encoding="utf-8")
    assert f"at most {BROWSER_STEP_WORK:,} samples" in transport


def _node() -> str:
    import shutil

    node = shutil.which("node")
    if node is None:
        if os.environ.get("JANGRAD_REQUIRE_SITE"):
            pytest.fail("node is not installed: the static site's worker code cannot be tested")
        pytest.skip("node is not installed (the static site's build needs npm and Node.js)")
    return node


def test_the_workers_pictures_are_the_python_ones_byte_for_byte(tmp_path):
    """static/pictures.js (the worker draws each frame's boundary and heatmaps with it) against
    playground/pictures.py's plain-Python path, run in Node: every activation, every kind of output, a standardised
    plane, and weights that are not finite."""
    from jangrad.nn import MLP
    from jangrad.playground import pictures

    cases = []
    for activation, loss, sizes, standardize in [
        ("tanh", "hinge", [16, 16, 1], None),
        ("relu", "bce", [6, 1], None),
        ("gelu", "ce", [4, 3], None),
        ("sigmoid", "mse", [5, 5, 1], pictures.Standardize([1.0, -2.0], [2.0, 0.5])),
        ("leaky_relu", "hinge", [7, 1], None),
        ("linear", "hinge", [3, 1], None),
    ]:
        model = MLP(2, sizes, activation=activation, seed=3)
        if activation == "linear":
            model.layers[0].neurons[1].w[0].data = float("inf")  # a run that blew up still gets its pictures
        box = [-1.5, 2.5, -1.2, 1.4]
        expected = pictures.pictures(model, standardize, box, 48, 12, loss, "python")
        layers = [
            {"weights": [[w if w != float("inf") else "inf" for w in row] for row in layer.weight_rows()],
             "biases": layer.biases(), "activation": layer.activation}
            for layer in model.layers
        ]  # fmt: skip
        std = None if standardize is None else {"mean": standardize.mean, "scale": standardize.scale}
        cases.append(
            ({"box": box, "grid": 48, "heat": 12, "loss": loss, "standardize": std, "leaky_slope": 0.01,
              "layers": layers}, expected)
        )  # fmt: skip
    script = tmp_path / "draw.mjs"
    module = resources.files("jangrad.site").joinpath("static", "pictures.js")
    script.write_text(
        f"import fs from 'fs';\nimport {{drawPictures}} from {json.dumps(str(module))};\n"
        "const cases = JSON.parse(fs.readFileSync(0, 'utf8'));\n"
        "console.log(JSON.stringify(cases.map((inputs) => drawPictures(inputs))));\n"
    )
    done = subprocess.run([_node(), str(script)], input=json.dumps([c[0] for c in cases]), capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for (given, expected), drawn in zip(cases, json.loads(done.stdout), strict=True):
        name = given["layers"][0]["activation"]
        assert drawn == expected, name
        assert len(base64.b64decode(drawn["boundary"])) == 48 * 48, name


# ---- what the check worker runs -----------------------------------------------------------------------------------
def checked(source: str, announced: list | None = None, **params) -> dict:
    def announce(index: int, name: str, detail: str) -> None:
        if announced is not None:
            announced.append((index, name, detail))

    return json.loads(check_source(json.dumps({"source": source, "examples": 20, **params}), announce))


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the checker works in a folder of its own; the test's folder comes back after
    monkeypatch.setattr(sys, "path", list(sys.path))


def test_a_correct_engine_passes_and_every_probe_is_announced_first(in_tmp):
    announced: list = []
    result = checked((ENGINES / "correct.py").read_text(), announced)["result"]
    assert result["passed"] and result["drawings"] == []
    assert result["text"].startswith("jangrad check: class Value from my_engine.py")
    assert announced[0] == (-1, LOADING, "")
    assert [a[0] for a in announced[1:]] == list(range(len(announced) - 1))
    assert ("op_points" in {a[1] for a in announced}) and (0, "discover", "add") in announced


def test_a_wrong_tanh_is_the_first_failure_and_is_drawn(in_tmp):
    correct = (ENGINES / "correct.py").read_text()
    wrong = correct.replace("self.grad += (1 - t**2) * out.grad", "self.grad += (1 - self.data**2) * out.grad")
    result = checked(wrong)["result"]
    assert not result["passed"]
    first = next(line for line in result["lines"] if line["status"] != "passed")
    assert first["name"] == "a.tanh()"
    assert [d["name"] for d in result["drawings"]] == ["a.tanh()"] and "digraph" in result["drawings"][0]["dot"]


def test_a_probe_that_hung_in_an_earlier_worker_is_not_run_again(in_tmp):
    """The page ended the worker that hung in a probe; the next worker answers "timed out" for it without running
    it, and the checks skip every later probe that calls backward(): so a backward() that never returns is never
    called here (this test would hang otherwise), and its line says what happened."""
    correct = (ENGINES / "correct.py").read_text()
    announced: list = []
    checked(correct, announced)
    first_walk = next((index, name) for index, name, _ in announced if name in CALLS_BACKWARD)
    hanging = correct + "\n\nclass Hanging(Value):\n    def backward(self):\n        while True:\n            pass\n"
    announced = []
    result = checked(hanging, announced, class_name="Hanging", hung=[[*first_walk, "timed out"]], timeout=2)["result"]
    assert not [name for _, name, _ in announced if name in CALLS_BACKWARD]
    failure = next(line for line in result["lines"] if line["status"] != "passed")
    assert failure["name"] == "backward()" and "never returns" in failure["summary"]
    assert "no answer within 2 s, so the page stopped it" in result["text"]


def test_after_max_hangs_time_limits_no_later_probe_runs(in_tmp):
    correct = (ENGINES / "correct.py").read_text()
    announced: list = []
    checked(correct, announced)
    first_walk = next((index, name) for index, name, _ in announced if name in CALLS_BACKWARD)
    announced = []
    result = checked(correct, announced, hung=[[*first_walk, "crashed"]], max_hangs=1)["result"]
    assert max(index for index, _, _ in announced) < first_walk[0]
    assert "not run: 1 checks already ran out of time" in result["text"]
    assert "the Python running your engine in the page crashed" in result["text"]


def test_code_that_cannot_be_checked_gets_one_line(in_tmp):
    assert checked("")["error"].startswith("there is no code to check")
    assert "SyntaxError" in checked("def broken(:\n")["error"]
    assert "has no class Value" in checked("x = 1\n")["error"]
    assert "must be a Python name" in checked("x = 1\n", class_name="not a name")["error"]
    assert "timeout must be a positive number" in checked("x = 1\n", timeout=-1)["error"]
    announced: list = []
    assert "did not finish in 10 s" in checked("x = 1\n", announced, hung=[[-1, LOADING, "timed out"]])["error"]
    assert announced == [], "code that hung while loading is not loaded again"
