"""cocotb bench of ``rtl/cim_haq_combine.sv`` against ``rramcim.golden.haq_combine``.

Structure: a small :class:`TB` owns the pins. Every clock cycle it drives on the falling edge
(``out_ready_i`` with random back-pressure; the next input beat of the plan after a random idle
gap, held while stalled, garbage on the data pins while ``in_valid_i`` is low) and samples in
the following ``ReadOnly`` phase, so the handshakes of the coming edge are known identically on
Icarus and Verilator. Each accepted beat goes through
:class:`~rramcim.golden.haq_combine.HaqCombineModel`; each output beat (value, saturation flag,
tag) is compared bit-exact and ``sat_count_o`` is compared in every cycle. A two-entry model of
the pipeline (stage 1, output register, one global enable) predicts ``in_ready_o``,
``out_valid_o`` and ``busy_o`` in every cycle: latency 1 edge to a valid output, one beat per
cycle.

Randomness: ``random.Random`` generators keyed by cocotb's per-test seed (logged at the start of
each test); ``SEED=<regression seed>`` (``COCOTB_RANDOM_SEED``) reproduces a run.

Testplan (feature -> tests that check it)

- combination bit-exact (radix weights, offset, rounding shift, saturation), tag, order ->
  every test (every beat)
- HAQ-like beats (cells either 0 or a set-cell code, offset of the 0.5 c_ref terms) ->
  run_random (bin haq_beat)
- full-scale codes (all cells at +max / -min), zero codes, extreme offsets, positive and
  negative saturation counted in sat_count_o -> run_corners (bins all_max, all_min, zero,
  off_max, off_min, sat_pos, sat_neg where reachable); counter sticks at 2^32-1 ->
  run_counter_saturation
- handshakes: predicted every cycle, idle gaps, input stalls, back-pressure with the output
  held stable -> run_random[full/idle/backpress/mixed] (bins idle_gap, in_stall, out_stall,
  back_to_back); full speed: no stall
- asynchronous reset with beats in flight, with a stalled output and while idle ->
  run_reset_mid (bins reset_busy, reset_stall, reset_idle)
- the checker catches a wrong model -> run_expect_fail (expect_fail=True)
- parameter corners: N_CELLS 1 and 16, ADC_BITS 2 and 16, RATIO_Q8 288 and 512, RADIX_F 4
  and 20, OUT_SHIFT 0, OFF_W 2 and 48, OUT_W 4 and 32 -> PARAM_SETS,
  test_param_sets_cover_corners

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, Timer

from rramcim.golden.haq_combine import (
    COUNTER_MAX,
    HaqBeat,
    HaqCombineConfig,
    HaqCombineModel,
    haq_combine,
    offset_for_ref,
    pack_codes,
)
from tb.vip.coverage import Coverage
from tb.vip.params import param
from tb.vip.runner import RTL, run_bench, simulators

CLK_PERIOD_NS = 10
MAX_IDLE = 4
HDL_PARAMS = ("N_CELLS", "ADC_BITS", "RATIO_Q8", "RADIX_F", "OFF_W", "OUT_W", "OUT_SHIFT", "TAG_W")


class ProtocolError(AssertionError):
    """The DUT broke the interface contract (handshake, timing, counter)."""


class ScoreboardError(AssertionError):
    """An output beat differs from the model's prediction."""


class UnexpectedBenchError(RuntimeError):
    """A protocol error in ``run_expect_fail`` (must not count as the expected failure)."""


@dataclass(frozen=True)
class InBeat:
    """One planned input beat: signed codes (cell 0 first) and the signed offset."""

    codes: tuple[int, ...]
    offset: int


@dataclass
class InFlight:
    """An accepted beat: the model's answer and the counter once it is in the output."""

    seq: int
    want: HaqBeat
    sat_count: int


class TB:
    """Driver, consumer, pipeline model and scoreboard of ``cim_haq_combine``."""

    def __init__(
        self, dut, *, idle_prob: float = 0.0, bp_prob: float = 0.0, expect_fail: bool = False
    ) -> None:
        self.dut = dut
        self.log = logging.getLogger("cocotb.tb")
        self.params = {n: param(n) for n in HDL_PARAMS}
        self.cfg = HaqCombineConfig.from_hdl(self.params)
        self.model = HaqCombineModel(self.cfg)
        seed = cocotb.RANDOM_SEED
        self.log.info(
            "per-test seed %d (SEED=<regression seed> reproduces), params %s", seed, self.params
        )
        self.rng = random.Random(f"{seed}:beats")
        self.rng_pins = random.Random(f"{seed}:pins")
        self.rng_sink = random.Random(f"{seed}:sink")
        self.idle_prob, self.bp_prob, self.expect_fail = idle_prob, bp_prob, expect_fail
        self.cov = Coverage()
        self.todo: deque[InBeat] = deque()
        self.cycle = 0
        self.seq = 0
        self.reset_at: str | None = None
        self._restart()

    def _restart(self) -> None:
        self.stage1: InFlight | None = None
        self.outreg: InFlight | None = None
        self.sat_expected = 0
        self.ready_allowed = False
        self.held: InBeat | None = None
        self.idle_left: int | None = None
        self.sink_ready = 0
        self.stalled_beat: tuple[int, int, int] | None = None
        self.prev_accept = -10
        self.checked = 0
        self.input_stalls = 0
        self.accepted_since_reset = 0

    def fail(self, msg: str) -> None:
        text = f"cycle {self.cycle}: {msg} (per-test seed {cocotb.RANDOM_SEED})"
        raise (UnexpectedBenchError if self.expect_fail else ProtocolError)(text)

    def pin(self, name: str) -> int:
        return int(getattr(self.dut, name).value)

    # ----- stimulus ---------------------------------------------------------------------------
    def random_beat(self) -> InBeat:
        r, c = self.rng, self.cfg
        u = r.random()
        if u < 0.4:  # HAQ-like: each cell reads 0 or the set-cell code g, offset 0.5 g sum R
            g = r.randint(1, c.code_max)
            codes = tuple(g * r.randint(0, 1) for _ in range(c.n_cells))
            try:
                off = offset_for_ref(g, c)
            except ValueError:
                off = r.randint(c.off_min, c.off_max)
            return InBeat(codes, off)
        codes = tuple(r.randint(c.code_min, c.code_max) for _ in range(c.n_cells))
        if u < 0.8:
            span = max(1, min(c.off_max, abs(sum(c.radix)) * 4))
            return InBeat(codes, r.randint(max(-span, c.off_min), min(span, c.off_max)))
        return InBeat(codes, r.choice((c.off_min, c.off_max, 0, r.randint(c.off_min, c.off_max))))

    def corner_beats(self) -> list[InBeat]:
        c = self.cfg
        hi = (c.code_max,) * c.n_cells
        lo = (c.code_min,) * c.n_cells
        zero = (0,) * c.n_cells
        out = []
        for codes in (hi, lo, zero):
            for off in (0, c.off_min, c.off_max, 1, -1):
                out.append(InBeat(codes, off))
        for k in range(c.n_cells):  # one cell at a time: each radix weight on its own
            for v in (c.code_max, c.code_min, 1, -1):
                out.append(InBeat(tuple(v if j == k else 0 for j in range(c.n_cells)), 0))
        # rounding ties around the shift: diff = +-2^(s-1) and neighbours
        if c.out_shift:
            h = 1 << (c.out_shift - 1)
            for d in (-h - 1, -h, -h + 1, h - 1, h, h + 1):
                if c.off_min <= -d <= c.off_max:
                    out.append(InBeat(zero, -d))
        return out

    # ----- pins -------------------------------------------------------------------------------
    async def start(self) -> None:
        d = self.dut
        Clock(d.clk_i, CLK_PERIOD_NS, unit="ns", impl="gpi").start()
        d.rst_ni.value = 0
        d.out_ready_i.value = 0
        self._idle_pins()
        for _ in range(3):
            await FallingEdge(d.clk_i)
        await ReadOnly()
        self._expect_cleared()
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        await ReadOnly()
        if self.pin("in_ready_o"):
            self.fail("in_ready_o high in the first cycle after reset")
        self.ready_allowed = True

    def _idle_pins(self) -> None:
        d, r, c = self.dut, self.rng_pins, self.cfg
        d.in_valid_i.value = 0
        d.in_codes_i.value = r.getrandbits(c.n_cells * c.adc_bits)
        d.in_offset_i.value = r.getrandbits(c.off_w)
        d.in_tag_i.value = r.getrandbits(c.tag_w)

    def _expect_cleared(self) -> None:
        names = ("in_ready_o", "out_valid_o", "busy_o", "sat_count_o", "out_value_o", "out_sat_o")
        nonzero = {n: self.pin(n) for n in names if self.pin(n)}
        if nonzero:
            self.fail(f"outputs not cleared by reset: {nonzero}")

    # ----- cycle loop -------------------------------------------------------------------------
    def drained(self) -> bool:
        return not self.todo and self.held is None and self.stage1 is None and self.outreg is None

    async def run(self) -> None:
        """Run until every planned beat has been checked."""
        limit = len(self.todo) * (MAX_IDLE + 2) * 8 + 200
        edge = FallingEdge(self.dut.clk_i)
        for _ in range(limit):
            if self.drained():
                return
            await edge
            self.cycle += 1
            if self.reset_at is not None and self._reset_now():
                await self.reset_mid()
                continue
            self._drive_cycle()
            await ReadOnly()
            self._sample_cycle()
        self.fail(f"cycle limit reached with {len(self.todo)} beats left: DUT hangs")

    def _drive_cycle(self) -> None:
        d, c = self.dut, self.cfg
        ready = int(self.rng_sink.random() >= self.bp_prob)
        if ready != self.sink_ready:
            d.out_ready_i.value = self.sink_ready = ready
        if self.held is not None or not self.todo:
            if self.held is None:
                self._idle_pins()
            return
        if self.idle_left is None:
            gap = self.rng_pins.random() < self.idle_prob
            self.idle_left = self.rng_pins.randint(1, MAX_IDLE) if gap else 0
            if gap:
                self.cov.hit("idle_gap")
        if self.idle_left > 0:
            self.idle_left -= 1
            self._idle_pins()
            return
        self.idle_left = None
        self.held = self.todo.popleft()
        d.in_valid_i.value = 1
        d.in_codes_i.value = pack_codes(list(self.held.codes), c)
        d.in_offset_i.value = self.held.offset & ((1 << c.off_w) - 1)
        d.in_tag_i.value = self.seq % (1 << c.tag_w)

    def _sample_cycle(self) -> None:
        moves = self.outreg is None or bool(self.sink_ready)
        expect = {
            "in_ready_o": int(self.ready_allowed and moves),
            "out_valid_o": int(self.outreg is not None),
            "busy_o": int(self.outreg is not None or self.stage1 is not None),
            "sat_count_o": self.sat_expected,
        }
        for name, want in expect.items():
            if self.pin(name) != want:
                self.fail(f"{name}={self.pin(name)}, pipeline model expects {want}")
        if self.outreg is not None:
            self._compare(self.outreg)
        new: InFlight | None = None
        if self.held is not None:
            if expect["in_ready_o"]:
                new = self._take(self.held)
                self.held = None
            else:
                self.input_stalls += 1
                self.cov.hit("in_stall")
        if self.outreg is not None:
            if self.sink_ready:
                self.checked += 1
                self.outreg = None
                self.stalled_beat = None
            else:
                self.cov.hit("out_stall")
        if moves:
            if self.stage1 is not None:
                self.outreg = self.stage1
                self.sat_expected = self.stage1.sat_count
            self.stage1 = new

    def _take(self, beat: InBeat) -> InFlight:
        c = self.cfg
        tag = self.seq % (1 << c.tag_w)
        want = self.model.process(list(beat.codes), beat.offset, tag)
        if self.cycle == self.prev_accept + 1:
            self.cov.hit("back_to_back")
        self.prev_accept = self.cycle
        self._cover(beat, want)
        f = InFlight(self.seq, want, self.model.sat_count)
        self.seq += 1
        self.accepted_since_reset += 1
        return f

    def _cover(self, beat: InBeat, want: HaqBeat) -> None:
        c = self.cfg
        if set(beat.codes) == {c.code_max}:
            self.cov.hit("all_max")
        if set(beat.codes) == {c.code_min}:
            self.cov.hit("all_min")
        if set(beat.codes) == {0}:
            self.cov.hit("zero")
        if beat.offset == c.off_max:
            self.cov.hit("off_max")
        if beat.offset == c.off_min:
            self.cov.hit("off_min")
        if len(set(beat.codes) - {0}) == 1 and min(beat.codes) >= 0:
            self.cov.hit("haq_beat")
        if want.sat:
            self.cov.hit("sat_pos" if want.value > 0 else "sat_neg")

    def _compare(self, f: InFlight) -> None:
        got = (self.pin("out_tag_o"), self.dut.out_value_o.value.to_signed(), self.pin("out_sat_o"))
        w = f.want
        want = (w.tag, w.value, int(w.sat))
        if got != want:
            raise ScoreboardError(
                f"cycle {self.cycle}: beat {f.seq} (tag, value, sat) = {got}, model {want} "
                f"(per-test seed {cocotb.RANDOM_SEED})"
            )
        if self.stalled_beat is not None and self.stalled_beat != got:
            self.fail("output beat changed while stalled")
        if not self.sink_ready:
            self.stalled_beat = got

    # ----- reset in the middle ----------------------------------------------------------------
    def _reset_now(self) -> bool:
        if self.accepted_since_reset < 8:
            return False
        if self.reset_at == "busy":
            return self.stage1 is not None and self.outreg is not None
        return (
            self.reset_at == "stall" and self.stalled_beat is not None and self.stage1 is not None
        )

    async def reset_mid(self) -> None:
        d = self.dut
        self.log.info("cycle %d: reset (%s)", self.cycle, self.reset_at)
        self.cov.hit(f"reset_{self.reset_at}")
        self.reset_at = None
        d.rst_ni.value = 0
        self._idle_pins()
        await Timer(1, unit="ns")
        self._expect_cleared()
        if self.held is not None:
            self.todo.appendleft(self.held)
        self.model.reset()
        self._restart()
        for _ in range(self.rng_pins.randint(1, 3)):
            await FallingEdge(d.clk_i)
            self.cycle += 1
            await ReadOnly()
            self._expect_cleared()
        await FallingEdge(d.clk_i)
        self.cycle += 1
        d.rst_ni.value = 1
        d.out_ready_i.value = self.sink_ready = 0
        await ReadOnly()
        if self.pin("in_ready_o"):
            self.fail("in_ready_o high in the first cycle after reset")
        self.ready_allowed = True


def _sat_reachable(c: HaqCombineConfig) -> tuple[bool, bool]:
    """Whether the extreme beats saturate upwards / downwards."""
    hi = np.array([[c.code_max] * c.n_cells, [c.code_min] * c.n_cells])
    y, sat = haq_combine(hi, np.array([c.off_min, c.off_max]), c)
    return bool(sat[0] and y[0] > 0), bool(sat[1] and y[1] < 0)


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------

#: (idle_prob, bp_prob) of the run_random variants.
MODES = {"full": (0.0, 0.0), "idle": (0.5, 0.0), "backpress": (0.0, 0.5), "mixed": (0.3, 0.3)}


@cocotb.test()
@cocotb.parametrize(variant=list(MODES))
async def run_random(dut, variant: str) -> None:
    """>= 400 random beats (HAQ-like, random codes, extreme offsets)."""
    idle, bp = MODES[variant]
    tb = TB(dut, idle_prob=idle, bp_prob=bp)
    await tb.start()
    tb.todo.extend(tb.random_beat() for _ in range(400))
    total = len(tb.todo)
    await tb.run()
    assert tb.checked == total, f"{tb.checked} beats checked, {total} planned"
    bins = ["haq_beat", "back_to_back"]
    bins += ["idle_gap"] if idle else []
    if bp:
        bins += ["in_stall", "out_stall"]
    else:
        assert tb.input_stalls == 0, f"{tb.input_stalls} input stalls without back-pressure"
    tb.cov.check(bins, tb.log)


@cocotb.test()
async def run_corners(dut) -> None:
    """Full-scale codes, single cells, extreme offsets, rounding ties, saturation."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.3)
    await tb.start()
    tb.todo.extend(tb.corner_beats())
    total = len(tb.todo)
    await tb.run()
    assert tb.checked == total
    bins = ["all_max", "all_min", "zero", "off_max", "off_min"]
    pos, neg = _sat_reachable(tb.cfg)
    bins += ["sat_pos"] * pos + ["sat_neg"] * neg
    assert pos or neg, "parameter set where no beat can saturate"
    assert tb.pin("sat_count_o") == tb.model.sat_count > 0
    tb.cov.check(bins, tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset with beats in both stages, with a stalled output, while idle."""
    tb = TB(dut, idle_prob=0.1, bp_prob=0.4)
    await tb.start()
    for where in ("busy", "stall"):
        tb.reset_at = where
        for _ in range(10):
            tb.todo.extend(tb.random_beat() for _ in range(30))
            await tb.run()
            if tb.reset_at is None:
                break
        assert tb.reset_at is None, f"reset '{where}' never applied"
    tb.todo.extend(tb.random_beat() for _ in range(30))
    await tb.run()
    for _ in range(2):
        await FallingEdge(dut.clk_i)
        tb.cycle += 1
    tb.reset_at = "idle"
    await tb.reset_mid()
    tb.todo.extend(tb.corner_beats())
    await tb.run()
    assert tb.pin("sat_count_o") == tb.model.sat_count
    tb.cov.check(["reset_busy", "reset_stall", "reset_idle"], tb.log)


@cocotb.test()
async def run_counter_saturation(dut) -> None:
    """sat_count_o deposited just below 2^32-1 sticks at 2^32-1."""
    tb = TB(dut)
    await tb.start()
    await FallingEdge(dut.clk_i)
    tb.cycle += 1
    dut.sat_cnt_q.value = COUNTER_MAX - 2
    tb.model.sat_count = tb.sat_expected = COUNTER_MAX - 2
    c = tb.cfg
    pos, _ = _sat_reachable(c)
    codes, off = (
        ((c.code_max,) * c.n_cells, c.off_min) if pos else ((c.code_min,) * c.n_cells, c.off_max)
    )
    tb.todo.extend([InBeat(codes, off)] * 6)
    await tb.run()
    assert tb.model.sat_count == COUNTER_MAX == tb.pin("sat_count_o")


class _WrongModel(HaqCombineModel):
    """Deliberately wrong reference: rounds towards minus infinity (no half-LSB term)."""

    def compute(self, codes: list[int], offset: int) -> tuple[int, bool]:
        c = self.cfg
        acc = sum(a * b for a, b in zip(codes, c.radix, strict=True)) - offset
        y = acc >> c.out_shift
        return min(max(y, c.out_min), c.out_max), not c.out_min <= y <= c.out_max


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:
    """The scoreboard, fed a wrong model, must report a mismatch. With OUT_SHIFT = 0 the
    wrong model is right, so the offset is then moved by one LSB instead."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.2, expect_fail=True)
    if tb.cfg.out_shift:
        tb.model = _WrongModel(tb.cfg)
    else:
        base = HaqCombineModel.compute

        class _OffByOne(HaqCombineModel):
            def compute(self, codes: list[int], offset: int) -> tuple[int, bool]:
                y, s = base(self, codes, offset)
                return y + 1, s

        tb.model = _OffByOne(tb.cfg)
    await tb.start()
    tb.todo.extend(tb.random_beat() for _ in range(200))
    await tb.run()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    # the RTL defaults: 12 cells (CT setting), 8-bit ADC, ratio 1.5
    "n12a8r384": {
        "N_CELLS": 12, "ADC_BITS": 8, "RATIO_Q8": 384, "RADIX_F": 12,
        "OFF_W": 24, "OUT_W": 16, "OUT_SHIFT": 8, "TAG_W": 8,
    },
    # narrowest: one cell, 2-bit codes, ratio 1.125, no shift, 4-bit output, 1-bit tag
    "n1a2r288": {
        "N_CELLS": 1, "ADC_BITS": 2, "RATIO_Q8": 288, "RADIX_F": 4,
        "OFF_W": 2, "OUT_W": 4, "OUT_SHIFT": 0, "TAG_W": 1,
    },
    # widest: 16 cells of 16-bit codes, ratio 2, 20-bit radix, 48-bit offset, 32-bit output
    "n16a16r512": {
        "N_CELLS": 16, "ADC_BITS": 16, "RATIO_Q8": 512, "RADIX_F": 20,
        "OFF_W": 48, "OUT_W": 32, "OUT_SHIFT": 13, "TAG_W": 32,
    },
}  # fmt: skip


def test_param_sets_cover_corners() -> None:
    sets = [HaqCombineConfig.from_hdl(p) for p in PARAM_SETS.values()]
    assert {1, 16} <= {c.n_cells for c in sets}
    assert {2, 16} <= {c.adc_bits for c in sets}
    assert {288, 384, 512} <= {c.ratio_q8 for c in sets}
    assert {4, 20} <= {c.radix_f for c in sets}
    assert {2, 48} <= {c.off_w for c in sets}
    assert {4, 32} <= {c.out_w for c in sets}
    assert 0 in {c.out_shift for c in sets}
    assert all(any(_sat_reachable(c)) for c in sets)


@pytest.mark.sim
@pytest.mark.parametrize("params", list(PARAM_SETS.values()), ids=list(PARAM_SETS))
@pytest.mark.parametrize("sim", simulators())
def test_cim_haq_combine(sim: str, params: dict[str, int], request: pytest.FixtureRequest) -> None:
    run_bench(
        sim=sim,
        nodeid=request.node.nodeid,
        toplevel="cim_haq_combine",
        module="test_cim_haq_combine",
        sources=[RTL / "cim_haq_combine.sv"],
        parameters=params,
        bench_dir=Path(__file__).parent,
    )
