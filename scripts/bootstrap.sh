#!/usr/bin/env bash
# Bootstrap the development environment on a fresh machine (called by the Makefile).
#  1. Icarus Verilog and Yosys from the distribution (apt-get as root; otherwise print the command).
#  2. .venv with torch 2.13.0 (CPU) first, then the package with its sim and dev extras.
# Idempotent: a stamp file records the pyproject.toml the venv was built from.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

need=()
command -v iverilog >/dev/null 2>&1 || need+=(iverilog)
command -v yosys >/dev/null 2>&1 || need+=(yosys)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${need[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "bootstrap: missing ${need[*]}. Install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "bootstrap: $PYTHON is $("$PYTHON" --version 2>&1); Python >= 3.11 is required (set PYTHON=...)" >&2
  exit 1
fi

stamp="$VENV/.rramcim-stamp"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi
echo "bootstrap: creating $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch first, pinned, so that no other (CUDA) build is pulled in by a dependency
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q -e ".[sim,dev]"
echo "$want" > "$stamp"
echo "bootstrap: done ($("$VENV/bin/python" -c 'import torch, cocotb; print("torch", torch.__version__, "cocotb", cocotb.__version__)'))"
