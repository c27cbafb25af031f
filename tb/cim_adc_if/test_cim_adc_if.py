"""cocotb bench of ``rtl/cim_adc_if.sv`` against ``rramcim.golden.adc_if``.

Structure: a small :class:`TB` owns the pins. Once per clock (on the falling edge, so every
DUT output is settled and every input is set half a cycle before the rising edge that samples
it) it runs, in this order: the reset injector, the protocol/timing checks, the behavioural
ADC macro, the response consumer (random back-pressure) and the requester (random idle gaps).
The macro model draws a conversion latency of 1..8 cycles and codes (extremes included) once
per conversion; between conversions it drives random garbage on ``adc_code_i`` so a capture on
any other cycle than the ``adc_done_i`` one is caught. The scoreboard is the golden
:class:`~rramcim.golden.adc_if.AdcIfModel`, fed every accepted request; it predicts the data,
the status outputs and, through the golden timing functions, the exact cycle of every
``adc_start_o`` pulse and ``rsp_valid_o`` rise.

Randomness comes from ``random.Random`` generators keyed by cocotb's per-test seed (logged at
the start of each test; ``SEED=<n>`` / ``COCOTB_RANDOM_SEED`` reproduces a run).

Testplan (feature -> tests that check it)

- codes captured on the adc_done_i cycle (garbage on the bus otherwise), channel packing
  -> run_random (all variants), run_reset_mid, run_bad_group, run_timeout
- saturation flags: low extreme, high extreme, none -> run_random (bins sat_low, sat_high,
  no_sat)
- sat_count_o / conv_count_o / err_* compared with the model at every response
  -> every test; counters stick at 2^32-1 (deposited just below) -> run_counter_saturation
- mux_sel_o = last accepted good group, held until the next acceptance (checked every
  cycle); every group requested -> run_random (bins group[g]), run_bad_group
- adc_start_o exactly T_SETTLE_CYC+1 cycles after acceptance and one cycle wide; settle 0
  and > 0 -> every start in every test; test_param_sets_cover_corners
- rsp_valid_o exactly one cycle after adc_done_i; conversion latency 1 and 8 cycles
  -> run_random (bins lat[1], lat[8])
- req valid/ready: ready only in IDLE, requests waiting while busy, accepted on the first
  ready cycle, idle gaps -> run_random[full/idle/mixed] (bins req_stall,
  accept_first_ready_cycle, idle_gap)
- rsp valid/ready: data stable under back-pressure -> run_random[backpress/mixed]
  (bins rsp_stall, rsp_ready_after_stall)
- busy_o = not IDLE -> every cycle of every test
- timeout: rsp_timeout_o with codes 0, err_timeout_o sticky, recovery -> run_timeout
- a done on the last allowed WAIT cycle is still taken -> run_random on the set with
  T_TIMEOUT_CYC=8 (bin done_on_last_wait_cycle)
- bad group: answered with zeros, no conversion, mux unchanged, err_group_o sticky
  -> run_bad_group (bin bad_group)
- asynchronous reset in IDLE, SETTLE, START, WAIT and RESP under traffic; outputs cleared
  at once, counters restart -> run_reset_mid (bins reset_in_<phase>)
- the checker catches a wrong model -> run_expect_fail (expect_fail=True)
- parameter corners: 1 channel, 2- and 16-bit ADC, 1 group, non-power-of-two groups
  -> PARAM_SETS, test_param_sets_cover_corners

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

from rramcim.golden.adc_if import (
    COUNTER_MAX,
    AdcIfConfig,
    AdcIfModel,
    AdcIfResponse,
    code_limits,
    pack_codes,
    response_latency_cycles,
    start_offset_cycles,
)
from tb.vip.coverage import Coverage
from tb.vip.leaf import leaf_bench_test
from tb.vip.params import param

CLK_PERIOD_NS = 10
#: Longest conversion the behavioural macro draws (cycles from start to done).
MAX_CONV_CYC = 8
#: Responses completed between two resets of run_reset_mid.
RESET_SPACING = 10


# ------------------------------------------------------------------------------------------
# Bench components
# ------------------------------------------------------------------------------------------


@dataclass
class Txn:
    """One accepted request as the bench tracks it (cycles are bench cycle numbers)."""

    group: int
    accept_cycle: int
    start_due: int | None  # cycle in which adc_start_o must be high (None: bad group)
    rsp_due: int | None  # cycle in which rsp_valid_o must first be high (None: not known yet)
    expected: AdcIfResponse | None = None
    first_seen: bool = False


class TB:
    """Pins, behavioural ADC macro, requester, consumer and scoreboard of ``cim_adc_if``.

    Args:
        dut: the cocotb handle of the top level.
        model: reference model (a deliberately wrong one in ``run_expect_fail``).
        idle_prob: probability that the requester waits a random idle gap (1 .. twice a typical
            conversion, in cycles) after an accepted request before presenting the next one;
            otherwise the next request is presented at once (and waits while the DUT is busy).
        bp_prob: probability that the consumer drops ``rsp_ready_i`` in a cycle.
        bad_group_prob: probability that a new request names a non-existent group (only
            where such select values exist).
    """

    def __init__(
        self,
        dut,
        model: AdcIfModel | None = None,
        *,
        idle_prob: float = 0.0,
        bp_prob: float = 0.0,
        bad_group_prob: float = 0.0,
    ) -> None:
        self.dut = dut
        self.log = logging.getLogger("cocotb.tb")
        self.cfg = AdcIfConfig.from_hdl(
            {
                n: param(n)
                for n in ("N_ADC", "ADC_BITS", "N_GROUPS", "T_SETTLE_CYC", "T_TIMEOUT_CYC")
            }
        )
        self.model = model if model is not None else AdcIfModel(self.cfg)
        # cocotb derives this per-test seed from the regression seed it logs at start-up
        # ("Seeding Python random module with ..."); SEED=<that> reproduces the run.
        seed = cocotb.RANDOM_SEED
        self.log.info("test seed %d", seed)
        self.rng_req = random.Random(f"{seed}:req")
        self.rng_rsp = random.Random(f"{seed}:rsp")
        self.rng_adc = random.Random(f"{seed}:adc")
        self.idle_prob = idle_prob
        self.bp_prob = bp_prob
        self.bad_group_prob = bad_group_prob if len(self.cfg.bad_groups) else 0.0
        self.never_answer = False
        self.sat_heavy = False  # draw mostly extreme codes (counter saturation test)
        self.cov = Coverage()
        self.lo, self.hi = code_limits(self.cfg.adc_bits)
        self.max_conv = min(MAX_CONV_CYC, self.cfg.t_timeout_cyc)
        #: typical cycles per conversion without stalls (settle + start + conversion + resp)
        self.typ_conv_cyc = self.cfg.t_settle_cyc + self.max_conv // 2 + 3
        self.gap_left = 0  # idle cycles the requester still waits before its next request
        self.group_queue: list[int] = []  # groups to request first, before random ones

        self.cycle = 0
        self.txn: Txn | None = None
        self.presenting: int | None = None  # group driven on req_group_i while req_valid_i
        self.exp_mux = 0
        self.done_at: int | None = None
        self.done_codes: list[int] = []
        self.garbage = False
        self.issued = 0
        self.completed = 0
        self.issue_limit = 0
        self.prev_ready = 0
        self.reset_plan: list[str] = []
        self.completed_at_reset = 0  # responses completed before the last reset
        self.starts_since_reset = 0  # adc_start_o pulses seen since the last reset
        self._drv: dict[str, int] = {}

    # ----- pins ---------------------------------------------------------------------------
    def _drive(self, name: str, value: int) -> None:
        if self._drv.get(name) != value:
            getattr(self.dut, name).value = value
            self._drv[name] = value

    def read(self, name: str) -> int:
        """Unsigned value of an output (1-bit ports read as ``Logic``, wider as ``LogicArray``;
        ``int()`` of either raises on X/Z)."""
        return int(getattr(self.dut, name).value)

    async def start(self) -> None:
        """Start the clock, drive idle inputs and apply the initial reset."""
        Clock(self.dut.clk_i, CLK_PERIOD_NS, unit="ns", impl="gpi").start()
        for name in ("req_valid_i", "req_group_i", "rsp_ready_i", "adc_done_i", "adc_code_i"):
            self._drive(name, 0)
        self._drive("rst_ni", 0)
        for _ in range(3):
            await FallingEdge(self.dut.clk_i)
        self._check_reset_values()
        self._drive("rst_ni", 1)

    # ----- checks -------------------------------------------------------------------------
    def _check_reset_values(self) -> None:
        d = self.dut
        got = {
            n: self.read(n)
            for n in (
                "req_ready_o",
                "rsp_valid_o",
                "adc_start_o",
                "busy_o",
                "mux_sel_o",
                "sat_count_o",
                "conv_count_o",
                "err_timeout_o",
                "err_group_o",
                "rsp_timeout_o",
            )
        }
        exp = dict.fromkeys(got, 0)
        exp["req_ready_o"] = 1
        assert got == exp, f"cycle {self.cycle}: outputs under reset {got} != {exp}"
        assert int(d.rsp_code_o.value) == 0, "rsp_code_o not cleared by reset"
        assert int(d.rsp_sat_o.value) == 0, "rsp_sat_o not cleared by reset"

    def check_status(self, where: str) -> None:
        m = self.model
        got = (
            self.read("sat_count_o"),
            self.read("conv_count_o"),
            self.read("err_timeout_o"),
            self.read("err_group_o"),
        )
        exp = (m.sat_count, m.conv_count, int(m.err_timeout), int(m.err_group))
        assert got == exp, (
            f"cycle {self.cycle} ({where}): status (sat_count, conv_count, err_timeout, "
            f"err_group) = {got}, model {exp}"
        )

    def phase(self) -> str:
        """FSM phase the bench expects in the current cycle."""
        t = self.txn
        if t is None:
            return "idle"
        if t.start_due is not None and self.cycle < t.start_due:
            return "settle"
        if t.start_due == self.cycle:
            return "start"
        if t.rsp_due is None or self.cycle < t.rsp_due:
            return "wait"
        return "resp"

    # ----- one clock cycle ------------------------------------------------------------------
    async def run(self, n_conversions: int) -> None:
        """Issue ``n_conversions`` more requests and run until they are all answered.

        Fails if that takes more than a generous cycle budget (a hung DUT)."""
        self.issue_limit = self.issued + n_conversions
        fe = FallingEdge(self.dut.clk_i)
        budget = (n_conversions + 2) * (
            self.cfg.t_settle_cyc + self.cfg.t_timeout_cyc + 10
        ) * 4 + 100
        for _ in range(budget):
            if self.completed >= self.issue_limit:
                return
            await fe
            self.cycle += 1
            if self.reset_plan and self._want_reset():
                await self._reset_mid()
                continue
            ready = self.read("req_ready_o")
            rsp_valid = self.read("rsp_valid_o")
            start = self.read("adc_start_o")
            busy = self.read("busy_o")
            mux = self.read("mux_sel_o")
            assert ready == (self.txn is None), (
                f"cycle {self.cycle}: req_ready_o={ready} but bench expects phase {self.phase()}"
            )
            assert busy == 1 - ready, f"cycle {self.cycle}: busy_o={busy}, req_ready_o={ready}"
            assert mux == self.exp_mux, (
                f"cycle {self.cycle}: mux_sel_o={mux}, expected {self.exp_mux} (held since the "
                "last accepted good request)"
            )
            self._macro(start)
            self._consumer(rsp_valid)
            self._requester(ready)
        raise AssertionError(f"bench budget exhausted at cycle {self.cycle}: DUT hangs")

    def _macro(self, start: int) -> None:
        """Behavioural ADC macro: start detection, conversion latency, codes."""
        t = self.txn
        c = self.cycle
        if start:
            assert t is not None and t.start_due == c, (
                f"cycle {c}: adc_start_o high, expected in cycle "
                f"{None if t is None else t.start_due} (phase {self.phase()})"
            )
            if self.never_answer:
                self.done_at = None
                t.expected = self.model.respond(t.group, None)
                t.rsp_due = t.accept_cycle + response_latency_cycles(self.cfg, t.group, None)
                self.cov.hit("timeout")
            else:
                lat = self.rng_adc.randint(1, self.max_conv)
                self.done_at = c + lat
                self.done_codes = self._draw_codes()
                t.expected = self.model.respond(t.group, self.done_codes)
                t.rsp_due = t.accept_cycle + response_latency_cycles(self.cfg, t.group, lat)
                self.cov.hit(f"lat[{lat}]")
                if lat == self.cfg.t_timeout_cyc:
                    self.cov.hit("done_on_last_wait_cycle")
                self._cover_codes(t.expected)
            self.garbage = True
            self.starts_since_reset += 1
        elif t is not None and t.start_due == c:
            raise AssertionError(f"cycle {c}: adc_start_o missing (accepted in {t.accept_cycle})")
        if self.done_at == c:
            self._drive("adc_done_i", 1)
            self._drive("adc_code_i", pack_codes(self.done_codes, self.cfg.adc_bits))
            self.done_at = None
        else:
            self._drive("adc_done_i", 0)
            if self.garbage:
                self._drive("adc_code_i", self.rng_adc.getrandbits(self.cfg.code_w))

    def _draw_codes(self) -> list[int]:
        r = self.rng_adc
        n = self.cfg.n_adc
        if self.sat_heavy:
            p_ext = 0.9
        elif r.random() < 0.3:  # a clean conversion: no channel saturates
            return [r.randint(self.lo + 1, self.hi - 1) for _ in range(n)]
        else:
            p_ext = r.choice((0.05, 0.2, 0.6))
        out = []
        for _ in range(n):
            u = r.random()
            if u < p_ext / 2:
                out.append(self.lo)
            elif u < p_ext:
                out.append(self.hi)
            else:
                out.append(r.randint(self.lo, self.hi))
        return out

    def _cover_codes(self, exp: AdcIfResponse) -> None:
        if self.lo in exp.codes:
            self.cov.hit("sat_low")
        if self.hi in exp.codes:
            self.cov.hit("sat_high")
        if not any(exp.sat):
            self.cov.hit("no_sat")
        if all(exp.sat):
            self.cov.hit("all_sat")

    def _consumer(self, rsp_valid: int) -> None:
        """Check the response beat and drive ``rsp_ready_i`` with random back-pressure."""
        t = self.txn
        c = self.cycle
        ready = int(self.rng_rsp.random() >= self.bp_prob)
        if rsp_valid:
            assert t is not None and t.rsp_due is not None and c >= t.rsp_due, (
                f"cycle {c}: rsp_valid_o high, bench expects phase {self.phase()} "
                f"(response due in cycle {None if t is None else t.rsp_due})"
            )
            if not t.first_seen:
                assert c == t.rsp_due, f"cycle {c}: rsp_valid_o rose late (due {t.rsp_due})"
                t.first_seen = True
                self.check_status("response")
                self.cov.hit("rsp_ready_first" if ready else "rsp_stall")
            elif ready:
                self.cov.hit("rsp_ready_after_stall")
            exp = t.expected
            assert exp is not None
            got = (
                int(self.dut.rsp_code_o.value),
                self.read("rsp_sat_o"),
                self.read("rsp_timeout_o"),
            )
            want = (exp.code_word, exp.sat_word, int(exp.timeout))
            assert got == want, (
                f"cycle {c}: response to group {t.group} (code_word, sat_word, timeout) = "
                f"({got[0]:#x}, {got[1]:#x}, {got[2]}), model ({want[0]:#x}, {want[1]:#x}, "
                f"{want[2]})"
            )
            if not ready:
                self.cov.hit("rsp_stall")
            else:
                self.txn = None
                self.completed += 1
        elif t is not None and t.rsp_due is not None:
            assert c < t.rsp_due, f"cycle {c}: rsp_valid_o missing (due in cycle {t.rsp_due})"
        self._drive("rsp_ready_i", ready)

    def _requester(self, ready: int) -> None:
        """Present requests with random idle gaps; hold them while stalled."""
        c = self.cycle
        if self.presenting is None and self.issued < self.issue_limit:
            if self.gap_left == 0:
                if self.group_queue:
                    self.presenting = self.group_queue.pop(0)
                elif self.bad_group_prob and self.rng_req.random() < self.bad_group_prob:
                    self.presenting = self.rng_req.choice(self.cfg.bad_groups)
                else:
                    self.presenting = self.rng_req.randrange(self.cfg.n_groups)
                self.issued += 1
            else:
                self.gap_left -= 1
                if ready:
                    self.cov.hit("idle_gap")
        if self.presenting is None:
            self._drive("req_valid_i", 0)
            self.prev_ready = ready
            return
        g = self.presenting
        self._drive("req_valid_i", 1)
        self._drive("req_group_i", g)
        if not ready:
            self.cov.hit("req_stall")
        else:
            if self.prev_ready == 0:
                self.cov.hit("accept_first_ready_cycle")
            self.presenting = None
            if self.rng_req.random() < self.idle_prob:
                # idle gap before the next request, long enough to reach an idle DUT
                self.gap_left = self.rng_req.randint(1, 2 * self.typ_conv_cyc)
            if self.cfg.group_ok(g):
                self.cov.hit(f"group[{g}]")
                self.exp_mux = g  # visible from the next cycle on
                self.txn = Txn(g, c, c + start_offset_cycles(self.cfg), None)
            else:
                self.cov.hit("bad_group")
                exp = self.model.respond(g, None)
                rsp_due = c + response_latency_cycles(self.cfg, g, None)
                self.txn = Txn(g, c, None, rsp_due, expected=exp)
        self.prev_ready = ready

    # ----- reset in the middle --------------------------------------------------------------
    def _want_reset(self) -> bool:
        if self.completed - self.completed_at_reset < RESET_SPACING:
            return False  # let some traffic (and counting) happen between resets
        target = self.reset_plan[0]
        ph = self.phase()
        if ph != target:
            return False
        if ph == "resp" and not (self.txn and self.txn.first_seen):
            return False  # reset a response that has been seen (possibly stalled)
        return self.rng_req.random() < 0.5

    async def _reset_mid(self) -> None:
        """Assert ``rst_ni`` at a falling edge (half a cycle away from any sampling edge),
        check the asynchronous clear, hold it 1..3 cycles, release at a falling edge."""
        ph = self.reset_plan.pop(0)
        self.log.info("cycle %d: reset in phase %s", self.cycle, ph)
        self.cov.hit(f"reset_in_{ph}")
        self._drive("rst_ni", 0)
        self._drive("req_valid_i", 0)
        self._drive("adc_done_i", 0)
        await Timer(1, unit="ns")
        self._check_reset_values()
        # Requester, consumer, macro and model are reset with the DUT; a request that had been
        # presented but not accepted is dropped (the requester is reset too).
        if self.presenting is not None:
            self.issued -= 1
        self.presenting = None
        self.gap_left = 0
        if self.txn is not None:
            self.issued -= 1  # its response never comes: issue it again
        self.txn = None
        self.done_at = None
        self.garbage = False
        self.exp_mux = 0
        self.prev_ready = 1
        self.model.reset()
        self.starts_since_reset = 0
        self.completed_at_reset = self.completed
        for _ in range(self.rng_req.randint(1, 3)):
            await FallingEdge(self.dut.clk_i)
            self.cycle += 1
        self._check_reset_values()
        self._drive("rst_ni", 1)


def _required_common(tb: TB) -> list[str]:
    bins = [f"group[{g}]" for g in range(tb.cfg.n_groups)]
    bins += ["sat_low", "sat_high", "no_sat", "lat[1]", f"lat[{tb.max_conv}]"]
    if tb.cfg.t_timeout_cyc <= MAX_CONV_CYC:
        bins.append("done_on_last_wait_cycle")
    return bins


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------

#: (idle_prob, bp_prob) of the run_random variants.
VARIANTS = {
    "full": (0.0, 0.0),
    "idle": (0.6, 0.0),
    "backpress": (0.0, 0.6),
    "mixed": (0.3, 0.3),
}


@cocotb.test()
@cocotb.parametrize(variant=list(VARIANTS))
async def run_random(dut, variant: str) -> None:
    """200 random conversions; variants with idle gaps and/or back-pressure."""
    idle, bp = VARIANTS[variant]
    tb = TB(dut, idle_prob=idle, bp_prob=bp)
    await tb.start()
    await tb.run(200)
    tb.check_status("end")
    assert tb.completed == 200
    req = _required_common(tb) + ["req_stall", "rsp_ready_first"]
    if idle:
        req.append("idle_gap")
    else:
        req.append("accept_first_ready_cycle")
    if bp:
        req += ["rsp_stall", "rsp_ready_after_stall"]
    tb.cov.check(req, tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset in every FSM phase under random traffic; clean restart."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.4)
    await tb.start()
    phases = ["wait", "resp", "idle", "start", "wait", "resp"]
    if tb.cfg.t_settle_cyc:
        phases.insert(2, "settle")
    tb.reset_plan = list(phases)
    await tb.run((RESET_SPACING + 20) * len(phases))
    assert not tb.reset_plan, f"resets not applied (phase never seen): {tb.reset_plan}"
    await tb.run(30)
    tb.check_status("end")
    # independent of the model: conv_count_o restarted at the last reset and counts the
    # adc_start_o pulses seen since
    conv = tb.read("conv_count_o")
    assert conv == tb.starts_since_reset, (
        f"conv_count_o={conv}, adc_start_o pulses since the last reset {tb.starts_since_reset}"
    )
    assert conv < tb.completed, "conv_count_o did not restart at the reset"
    tb.cov.check([f"reset_in_{p}" for p in phases], tb.log)


@cocotb.test()
async def run_timeout(dut) -> None:
    """The macro never answers: rsp_timeout_o with zero codes, sticky err_timeout_o; then
    normal conversions resume."""
    tb = TB(dut, idle_prob=0.3, bp_prob=0.3)
    await tb.start()
    await tb.run(20)
    assert tb.read("err_timeout_o") == 0
    tb.never_answer = True
    await tb.run(4)
    assert tb.read("err_timeout_o") == 1
    tb.never_answer = False
    await tb.run(20)
    tb.check_status("end")
    assert tb.model.err_timeout
    tb.cov.check(["timeout"], tb.log)


@cocotb.test()
async def run_bad_group(dut) -> None:
    """Requests naming a group >= N_GROUPS: zero response, no conversion, err_group_o."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.3, bad_group_prob=0.3)
    # every group and every bad select value once (shuffled), then random ones
    tb.group_queue = [*range(tb.cfg.n_groups), *tb.cfg.bad_groups]
    tb.rng_req.shuffle(tb.group_queue)
    await tb.start()
    if not len(tb.cfg.bad_groups):
        tb.log.info("N_GROUPS=%d fills the select width: no bad group exists", tb.cfg.n_groups)
        await tb.run(3 * tb.cfg.n_groups)
        assert tb.read("err_group_o") == 0
        tb.cov.check([f"group[{g}]" for g in range(tb.cfg.n_groups)], tb.log)
        return
    await tb.run(80)
    tb.check_status("end")
    assert tb.read("err_group_o") == 1
    tb.cov.check(["bad_group", *(f"group[{g}]" for g in range(tb.cfg.n_groups))], tb.log)


@cocotb.test()
async def run_counter_saturation(dut) -> None:
    """Counters deposited just below 2^32-1 must stick at 2^32-1."""
    tb = TB(dut, idle_prob=0.2)
    tb.sat_heavy = True
    await tb.start()
    await FallingEdge(dut.clk_i)
    tb.cycle += 1
    start_sat, start_conv = COUNTER_MAX - 3 * tb.cfg.n_adc, COUNTER_MAX - 5
    dut.sat_cnt_q.value = start_sat  # deposits into the counter flops (DUT is idle)
    dut.conv_cnt_q.value = start_conv
    tb.model.sat_count, tb.model.conv_count = start_sat, start_conv
    await tb.run(30)
    tb.check_status("end")
    assert tb.model.conv_count == COUNTER_MAX
    assert tb.model.sat_count == COUNTER_MAX, "not enough saturated samples drawn"


class _WrongModel(AdcIfModel):
    """Deliberately wrong reference: forgets that the most negative code saturates."""

    def flags(self, codes: np.ndarray) -> np.ndarray:
        return codes == code_limits(self.cfg.adc_bits)[1]


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:
    """The scoreboard, fed a wrong model, must report a mismatch (this test passes only if
    the bench fails)."""
    tb = TB(dut)
    tb.model = _WrongModel(tb.cfg)
    await tb.start()
    await tb.run(200)


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    # 4 channels, 6 bits, non-power-of-two groups (bad groups 6, 7 exist), no settle time
    "a4b6g6s0": {"N_ADC": 4, "ADC_BITS": 6, "N_GROUPS": 6, "T_SETTLE_CYC": 0, "T_TIMEOUT_CYC": 64},
    # 8 channels, 8 bits, 4 groups, settle 2
    "a8b8g4s2": {"N_ADC": 8, "ADC_BITS": 8, "N_GROUPS": 4, "T_SETTLE_CYC": 2, "T_TIMEOUT_CYC": 64},
    # the read-path default width: 32 channels, 10 bits, 8 groups, settle 3
    "a32b10g8s3": {
        "N_ADC": 32,
        "ADC_BITS": 10,
        "N_GROUPS": 8,
        "T_SETTLE_CYC": 3,
        "T_TIMEOUT_CYC": 64,
    },
    # corner: 1 channel of 16 bits, 1 group (select value 1 is bad), timeout = longest
    # conversion the macro model draws (a done on the last WAIT cycle must be taken)
    "a1b16g1s1": {"N_ADC": 1, "ADC_BITS": 16, "N_GROUPS": 1, "T_SETTLE_CYC": 1, "T_TIMEOUT_CYC": 8},
    # corner: 3 channels of 2 bits (every code but -1 and 0 saturates), 3 groups
    "a3b2g3s5": {"N_ADC": 3, "ADC_BITS": 2, "N_GROUPS": 3, "T_SETTLE_CYC": 5, "T_TIMEOUT_CYC": 12},
}


def test_param_sets_cover_corners() -> None:
    """The parameter sets together cover settle 0 and > 0, bad groups and width corners."""
    sets = list(PARAM_SETS.values())
    assert any(p["T_SETTLE_CYC"] == 0 for p in sets)
    assert any(p["T_SETTLE_CYC"] > 0 for p in sets)
    assert any(AdcIfConfig.from_hdl(p).bad_groups for p in sets)
    assert any(not AdcIfConfig.from_hdl(p).bad_groups for p in sets)
    assert {2, 16} <= {p["ADC_BITS"] for p in sets}
    assert 1 in {p["N_ADC"] for p in sets} and 1 in {p["N_GROUPS"] for p in sets}
    assert any(p["T_TIMEOUT_CYC"] <= MAX_CONV_CYC for p in sets)


#: The pytest entry; only this comes from :mod:`tb.vip.leaf` (the bench does not fit LeafTB:
#: request/response ports, ``req_ready_o`` high in reset, checks on the falling edge).
test_cim_adc_if = leaf_bench_test("cim_adc_if", PARAM_SETS, __file__)
