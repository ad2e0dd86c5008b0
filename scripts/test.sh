#!/usr/bin/env bash
# The whole test suite, from a fresh clone: creates .venv, installs nbreview with its test
# extras (and headless Chromium for the HTML report test), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"
.venv/bin/python -m pip install -q "playwright>=1.40"  # drives Debian's chromium; `playwright install` is never run

# `nbreview verify` trains tiny networks in its tests: TensorFlow for CPUs (Keras 3 comes with it).
# About 30 s from a warm pip cache (a 600 MB download otherwise); its tests then take about 2 minutes.
if ! .venv/bin/python -c "import keras, tensorflow" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q "tensorflow-cpu>=2.16" || .venv/bin/python -m pip install -q "tensorflow>=2.16" || {
    if [ "${CI:-}" = "true" ]; then echo "error: could not install TensorFlow for the verify tests" >&2; exit 1; fi
    echo "warning: could not install TensorFlow; the verify tests will be skipped" >&2; }
fi

# The HTML report is opened in a real browser: Debian's chromium (no browser download).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; the browser test will say why" >&2
fi

exec .venv/bin/python -m pytest -q "$@"
