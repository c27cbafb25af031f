#!/usr/bin/env bash
# Synthesize every RTL block with Yosys (generic gate library), default parameters.
#
# For each rtl/cim_*.sv (top module = file name; packages rtl/*_pkg.sv are read first and are
# not tops): read_verilog -sv, hierarchy -check (submodules found by name in rtl/),
# synth -flatten, check -assert (no undriven / multiply driven nets, no logic loops), stat.
# A block fails on any Yosys error or on any latch: a "Latch inferred" message from
# proc_dlatch or a latch cell left in the netlist.
# Prints one summary line per block (cells, flip-flop bits, Yosys warnings); full logs and
# statistics go to build/synth/<block>.log and build/synth/<block>.stat.
#
# Yosys 0.23's SystemVerilog subset is enough for the conventions' subset (parameter int,
# localparam in the ANSI header, typedef enum, always_ff/always_comb, $clog2, $countones,
# size casts N'(x), generate if/for with labels). It defines SYNTHESIS, so the
# `ifndef SYNTHESIS` assertion blocks are skipped.
#
# Blocks run JOBS at a time (default: the number of cores), the tops first; the summary lines
# come in block order once all have finished.
#
# Environment: YOSYS overrides the Yosys executable (default: yosys on PATH); JOBS the number
# of Yosys runs at once.
# Exit status: 0 if every block synthesizes without latches, 1 otherwise (2: no Yosys).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
YOSYS=${YOSYS:-yosys}
command -v "$YOSYS" >/dev/null 2>&1 || { echo "synth: $YOSYS not found" >&2; exit 2; }

OUT=build/synth
mkdir -p "$OUT"

shopt -s nullglob
pkgs=(rtl/*_pkg.sv)
blocks=()
for f in rtl/cim_*.sv; do
  [[ $f == *_pkg.sv ]] || blocks+=("$f")
done
if ((${#blocks[@]} == 0)); then
  echo "synth: no rtl/cim_*.sv found" >&2
  exit 1
fi

LATCH_CELLS='t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_* t:$_SR_*'
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "synth: JOBS must be a positive integer, got '$JOBS'" >&2; exit 2; }

# synthesize one block; its summary goes to $OUT/<block>.result: status, then the report
synth_one() {
  local f=$1 top log stat script status latches warnings cells flops
  top=$(basename "$f" .sv)
  log="$OUT/$top.log"
  stat="$OUT/$top.stat"
  rm -f "$log" "$stat"
  script="read_verilog -sv ${pkgs[*]} $f; hierarchy -check -top $top -libdir rtl;"
  script+=" synth -flatten -top $top; check -assert; tee -q -o $stat stat;"
  script+=" select -assert-none $LATCH_CELLS"

  status=ok
  "$YOSYS" -q -l "$log" -p "$script" >/dev/null 2>&1 || status=FAIL
  latches=$(grep -cE '^(ERROR: )?Latch inferred' "$log" 2>/dev/null)
  [[ ${latches:-0} -eq 0 ]] || status=FAIL
  warnings=$(grep -cE '^Warning:' "$log" 2>/dev/null)
  cells=$(awk '/Number of cells:/ {n=$4} END {print n+0}' "$stat" 2>/dev/null || echo 0)
  flops=$(awk '$1 ~ /^\$_(S?DFFS?R?C?E?|ALDFFE?|DFFSRE)_/ {s+=$2} END {print s+0}' \
          "$stat" 2>/dev/null || echo 0)
  {
    echo "$status"
    printf 'synth: %-4s %-20s cells=%-7s flops=%-6s warnings=%-3s latches=%s  (%s)\n' \
      "$status" "$top" "${cells:-?}" "${flops:-?}" "${warnings:-0}" "${latches:-0}" "$log"
    if [[ $status != ok ]]; then
      grep -E 'ERROR|^Latch inferred|^Warning:' "$log" | head -n 20 | sed 's/^/    /'
    elif ((${warnings:-0} > 0)); then
      grep -E '^Warning:' "$log" | head -n 10 | sed 's/^/    /'
    fi
  } > "$OUT/$top.result"
}

# the tops (which flatten the blocks under them) take longest: start them first
order=()
for f in "${blocks[@]}"; do [[ $f == *_top.sv ]] && order+=("$f"); done
for f in "${blocks[@]}"; do [[ $f == *_top.sv ]] || order+=("$f"); done

echo "synth: $("$YOSYS" -V)"
running=0
for f in "${order[@]}"; do
  rm -f "$OUT/$(basename "$f" .sv).result"
  synth_one "$f" &
  running=$((running + 1))
  if ((running >= JOBS)); then
    wait -n
    running=$((running - 1))
  fi
done
wait

fail=0
for f in "${blocks[@]}"; do
  result="$OUT/$(basename "$f" .sv).result"
  if [[ ! -s $result ]]; then
    echo "synth: FAIL $(basename "$f" .sv): no result (the Yosys run did not finish)"
    fail=1
    continue
  fi
  [[ $(head -n 1 "$result") == ok ]] || fail=1
  tail -n +2 "$result"
done

if ((fail)); then
  echo "synth: FAILED" >&2
  exit 1
fi
echo "synth: all ${#blocks[@]} blocks synthesized, no latches"
