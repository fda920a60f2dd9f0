#!/usr/bin/env bash
# For the playground's browser tests (tests/browser): Debian's chromium and the Python playwright package.
# Never `playwright install`: the tests drive /usr/bin/chromium, and that command downloads a browser.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install --quiet playwright
