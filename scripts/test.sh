#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, slow real-component tests included. Installs every
# extra (torch first, then llama-cpp-python, the GGUF, the test tools) so every backend is tested for real.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --all
# The browser test drives Debian's Chromium (Playwright's own browser download cannot work offline).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test: installing Debian chromium for the browser test" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "test: /usr/bin/chromium is missing; run: sudo apt-get install chromium" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
