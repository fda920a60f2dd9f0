#!/usr/bin/env bash
# The release as a user gets it: build the sdist and the wheel, install the wheel (not the checkout) into fresh
# virtual environments, and run `jangrad --version` and `jangrad demo` from there. It prints the wheel's size and the
# size of a fresh environment with the core install only (NumPy), and with the [viz] extra `jangrad demo` needs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset PYTHONPATH # the fresh environments must see the wheel's jangrad, never this checkout

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' jangrad/_version.py)
python3 -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel="$work/dist/jangrad-$version-py3-none-any.whl"
sdist="$work/dist/jangrad-$version.tar.gz"
[ -f "$wheel" ] && [ -f "$sdist" ] || { echo "release: expected $wheel and $sdist" >&2; ls "$work/dist" >&2; exit 1; }
python3 - "$wheel" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
needed = {"jangrad/py.typed", "jangrad/playground/static/index.html", "jangrad/extras.py"}
missing = needed - names
if missing:
    sys.exit(f"release: the wheel lacks {sorted(missing)}")
PY
echo "release: built $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KB) and $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KB)"

site_packages() { "$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }

# The light install: the wheel and its core dependencies only.
python3 -m venv "$work/core"
"$work/core/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
echo "release: core install: $(du -sm "$(site_packages "$work/core")" | cut -f1) MB of site-packages"
(cd "$work" && "$work/core/bin/jangrad" --version)

# What README's run command installs for `jangrad demo`: the wheel with the [viz] extra.
python3 -m venv "$work/viz"
"$work/viz/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel[viz]"
echo "release: core + [viz]: $(du -sm "$(site_packages "$work/viz")" | cut -f1) MB of site-packages"
shown=$(cd "$work" && "$work/viz/bin/jangrad" --version)
[ "$shown" = "jangrad $version" ] || { echo "release: jangrad --version says '$shown', expected 'jangrad $version'" >&2; exit 1; }
(cd "$work" && "$work/viz/bin/jangrad" demo --no-progress --out "$work/demo-out")
for made in graph.svg loss.png model.json; do
    [ -s "$work/demo-out/$made" ] || { echo "release: jangrad demo did not write $made" >&2; exit 1; }
done
(cd "$work" && "$work/viz/bin/python" -c "import jangrad, sys; assert jangrad.__file__.startswith(sys.prefix), jangrad.__file__")
echo "release: jangrad $version from the wheel: --version and demo passed (checkout at $root untouched)"
