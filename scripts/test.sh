#!/usr/bin/env bash
# Installs everything the test suite needs into .venv (and Debian's chromium for the browser test, when run as
# root) and runs the tests. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && ! command -v chromium >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "warning: could not install chromium; the browser test will be skipped" >&2
fi

python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q torch==2.13.0
python -m pip install -q -e '.[test,web,onnx]'
python -m pytest "$@"
