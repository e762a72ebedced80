#!/usr/bin/env bash
# Create .venv and install everything the project needs, offline-friendly and idempotent.
# torch goes first and pinned (2.13.0 is the CPU wheel on disk); an unpinned torch pulls GBs of CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=".venv/.setup-$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing into .venv (first run takes a few minutes)" >&2
  pip install --quiet --disable-pip-version-check torch==2.13.0
  pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
  rm -f .venv/.setup-*
  touch "$stamp"
fi
