"""cocotb bench of ``rtl/cim_haq_combine.sv`` against ``rramcim.golden.haq_combine``.

Structure: :class:`TB` is a :class:`tb.vip.leaf.LeafTB` (clock and reset start-up, one step per
clock cycle, the input driver, reset in the middle and the pytest entry live there). Every
clock cycle it drives on the falling edge (``out_ready_i`` with random back-pressure; the next
input beat of the plan after a random idle gap, held while stalled, garbage on the data pins
while ``in_valid_i`` is low) and samples in the following ``ReadOnly`` phase, so the handshakes
of the coming edge are known identically on Icarus and Verilator. Each accepted beat goes
through :class:`~rramcim.golden.haq_combine.HaqCombineModel`; each output beat (value,
saturation flag, tag) is compared bit-exact and ``sat_count_o`` is compared in every cycle. A
two-entry model of the pipeline (stage 1, output register, one global enable) predicts
``in_ready_o``, ``out_valid_o`` and ``busy_o`` in every cycle: latency 1 edge to a valid output,
one beat per cycle.

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
  held stable (``StableWhileStalled``) -> run_random[full/idle/backpress/mixed] (bins
  idle_gap, in_stall, out_stall, back_to_back); full speed: no stall
- asynchronous reset with beats in flight, with a stalled output and while idle ->
  run_reset_mid (bins reset_busy, reset_stall, reset_idle)
- the checker catches a wrong model -> run_expect_fail (expect_fail=True)
- parameter corners: N_CELLS 1 and 16, ADC_BITS 2 and 16, RATIO_Q8 288 and 512, RADIX_F 4
  and 20, OUT_SHIFT 0, OFF_W 2 and 48, OUT_W 4 and 32 -> PARAM_SETS,
  test_param_sets_cover_corners

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import cocotb
import numpy as np

from rramcim.golden.haq_combine import (
    COUNTER_MAX,
    HaqBeat,
    HaqCombineConfig,
    HaqCombineModel,
    haq_combine,
    offset_for_ref,
    pack_codes,
)
from tb.vip.leaf import (
    TRAFFIC_VARIANTS,
    LeafTB,
    ScoreboardError,
    StableWhileStalled,
    leaf_bench_test,
)


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


class TB(LeafTB[InBeat]):
    """Pipeline model, scoreboard and pins of ``cim_haq_combine`` (constructed as
    :class:`~tb.vip.leaf.LeafTB`: ``dut``, ``idle_prob``, ``bp_prob``, ``expect_fail``)."""

    CLEARED_OUTPUTS = (*LeafTB.CLEARED_OUTPUTS, "sat_count_o", "out_value_o", "out_sat_o")
    MAX_GAP = 4
    PARAM_NAMES = (
        "N_CELLS",
        "ADC_BITS",
        "RATIO_Q8",
        "RADIX_F",
        "OFF_W",
        "OUT_W",
        "OUT_SHIFT",
        "TAG_W",
    )
    RNG_SALTS = ("beats", "pins", "sink")

    def setup(self) -> None:
        self.cfg = HaqCombineConfig.from_hdl(self.params)
        self.model = HaqCombineModel(self.cfg)

    def clear_state(self) -> None:
        super().clear_state()
        self.stage1: InFlight | None = None
        self.outreg: InFlight | None = None
        self.sat_expected = 0
        self.out_hold = StableWhileStalled("output beat", self.fail)

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
    def idle_pins(self) -> None:
        d, r, c = self.dut, self.rng_drv, self.cfg
        d.in_valid_i.value = 0
        d.in_codes_i.value = r.getrandbits(c.n_cells * c.adc_bits)
        d.in_offset_i.value = r.getrandbits(c.off_w)
        d.in_tag_i.value = r.getrandbits(c.tag_w)

    def present(self, item: InBeat) -> None:
        d, c = self.dut, self.cfg
        d.in_valid_i.value = 1
        d.in_codes_i.value = pack_codes(list(item.codes), c)
        d.in_offset_i.value = item.offset & ((1 << c.off_w) - 1)
        d.in_tag_i.value = self.seq % (1 << c.tag_w)

    # ----- cycle loop -------------------------------------------------------------------------
    def drained(self) -> bool:
        return (
            not self.plan
            and self.presenting is None
            and self.stage1 is None
            and self.outreg is None
        )

    def sample(self) -> None:
        moves = self.outreg is None or bool(self.out_ready)
        expect = {
            "in_ready_o": int(self.ready_allowed and moves),
            "out_valid_o": int(self.outreg is not None),
            "busy_o": int(self.outreg is not None or self.stage1 is not None),
            "sat_count_o": self.sat_expected,
        }
        for name, want in expect.items():
            if self.read(name) != want:
                self.fail(f"{name}={self.read(name)}, pipeline model expects {want}")
        if self.outreg is not None:
            self._compare(self.outreg)
        new: InFlight | None = self.input_transfer(bool(expect["in_ready_o"]))
        if self.outreg is not None:
            if self.out_ready:
                self.done += 1
                self.outreg = None
            else:
                self.cov.hit("out_stall")
        if moves:
            if self.stage1 is not None:
                self.outreg = self.stage1
                self.sat_expected = self.stage1.sat_count
            self.stage1 = new

    def accept(self, item: InBeat) -> InFlight:
        tag = self.seq % (1 << self.cfg.tag_w)
        want = self.model.process(list(item.codes), item.offset, tag)
        self._cover(item, want)
        return InFlight(self.seq, want, self.model.sat_count)

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
        got = (
            self.read("out_tag_o"),
            self.dut.out_value_o.value.to_signed(),
            self.read("out_sat_o"),
        )
        w = f.want
        want = (w.tag, w.value, int(w.sat))
        if got != want:
            raise ScoreboardError(
                f"cycle {self.cycle}: beat {f.seq} (tag, value, sat) = {got}, model {want} "
                f"(per-test seed {cocotb.RANDOM_SEED})"
            )
        self.out_hold.observe(got, bool(self.out_ready))

    # ----- reset in the middle ----------------------------------------------------------------
    def reset_ready(self, where: str) -> bool:
        if self.accepted_since_reset < 8:
            return False
        if where == "busy":
            return self.stage1 is not None and self.outreg is not None
        return where == "stall" and self.out_hold.stalled and self.stage1 is not None


def _sat_reachable(c: HaqCombineConfig) -> tuple[bool, bool]:
    """Whether the extreme beats saturate upwards / downwards."""
    hi = np.array([[c.code_max] * c.n_cells, [c.code_min] * c.n_cells])
    y, sat = haq_combine(hi, np.array([c.off_min, c.off_max]), c)
    return bool(sat[0] and y[0] > 0), bool(sat[1] and y[1] < 0)


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


@cocotb.test()
@cocotb.parametrize(variant=list(TRAFFIC_VARIANTS))
async def run_random(dut, variant: str) -> None:
    """>= 400 random beats (HAQ-like, random codes, extreme offsets)."""
    idle, bp = TRAFFIC_VARIANTS[variant]
    tb = TB(dut, idle_prob=idle, bp_prob=bp)
    await tb.start()
    await tb.run_plan(tb.random_beat() for _ in range(400))
    tb.cov.check(["haq_beat", *tb.handshake_bins()], tb.log)


@cocotb.test()
async def run_corners(dut) -> None:
    """Full-scale codes, single cells, extreme offsets, rounding ties, saturation."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.3)
    await tb.start()
    await tb.run_plan(tb.corner_beats())
    bins = ["all_max", "all_min", "zero", "off_max", "off_min"]
    pos, neg = _sat_reachable(tb.cfg)
    bins += ["sat_pos"] * pos + ["sat_neg"] * neg
    assert pos or neg, "parameter set where no beat can saturate"
    assert tb.read("sat_count_o") == tb.model.sat_count > 0
    tb.cov.check(bins, tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset with beats in both stages, with a stalled output, while idle."""
    tb = TB(dut, idle_prob=0.1, bp_prob=0.4)
    await tb.start()
    await tb.run_reset_scenario(
        ["busy", "stall"],
        lambda: tb.plan.extend(tb.random_beat() for _ in range(30)),
        tb.corner_beats(),
    )
    assert tb.read("sat_count_o") == tb.model.sat_count
    tb.cov.check(["reset_busy", "reset_stall", "reset_idle"], tb.log)


@cocotb.test()
async def run_counter_saturation(dut) -> None:
    """sat_count_o deposited just below 2^32-1 sticks at 2^32-1."""
    tb = TB(dut)
    await tb.start()
    await tb.next_cycle()
    dut.sat_cnt_q.value = COUNTER_MAX - 2
    tb.model.sat_count = tb.sat_expected = COUNTER_MAX - 2
    c = tb.cfg
    pos, _ = _sat_reachable(c)
    codes, off = (
        ((c.code_max,) * c.n_cells, c.off_min) if pos else ((c.code_min,) * c.n_cells, c.off_max)
    )
    tb.plan.extend([InBeat(codes, off)] * 6)
    await tb.run()
    assert tb.model.sat_count == COUNTER_MAX == tb.read("sat_count_o")


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
    tb.plan.extend(tb.random_beat() for _ in range(200))
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


test_cim_haq_combine = leaf_bench_test("cim_haq_combine", PARAM_SETS, __file__)
