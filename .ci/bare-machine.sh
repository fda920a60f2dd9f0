#!/usr/bin/env bash
# README.md's test command on a bare machine, as most learners have one: a fresh virtual environment (so no torch
# and no playwright) and no Graphviz programs on PATH. Every drawing then comes from jangrad's built-in renderer,
# and the tests that need an optional tool skip, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."

bare=$(mktemp -d)
trap 'rm -rf "$bare"' EXIT
python3 -m venv "$bare/venv"

# A PATH without Graphviz: a folder of links to every program on PATH except Graphviz's layout programs.
mkdir "$bare/bin"
graphviz="dot neato twopi circo fdp sfdp osage patchwork"
IFS=: read -ra folders <<<"$PATH"
for folder in "${folders[@]}"; do
    [ -d "$folder" ] || continue
    for program in "$folder"/*; do
        name=$(basename "$program")
        if [ -x "$program" ] && [ ! -e "$bare/bin/$name" ] && [[ " $graphviz " != *" $name "* ]]; then
            ln -s "$program" "$bare/bin/$name"
        fi
    done
done

export PATH="$bare/venv/bin:$bare/bin"
unset PYTHONPATH
if command -v dot >/dev/null; then
    echo "bare machine: dot is still on PATH at $(command -v dot)" >&2
    exit 1
fi
# README.md's test command, verbatim:
python3 -m pip install --quiet -e ".[test]" && python3 -m pytest -q
