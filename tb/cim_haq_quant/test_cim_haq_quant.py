"""cocotb bench of ``rtl/cim_haq_quant.sv`` against ``rramcim.golden.haq_quant``.

Structure: :class:`TB` is a :class:`tb.vip.leaf.LeafTB` (clock and reset start-up, the per-cycle
step, the input driver, the reset-in-the-middle sequence and the pytest entry live there) and
runs one step per clock cycle. On the falling edge it drives every input for the next rising edge
(``out_ready_i`` and ``prog_ready_i`` with random back-pressure, the macro's verify answers,
the next weight of the plan after a random idle gap, held while stalled, garbage on the data
pins while a valid is low); in the ``ReadOnly`` phase after those writes it reads the outputs,
so every handshake of the coming edge is known, identically on Icarus and Verilator.

Macro responder (:class:`Macro`, the program/verify port of ``cim_xbar_macro``): an array of
binary cells. SET marks a cell set; VERIFY answers with the cell's code after a random latency
(1 .. ``TIMEOUT_CYC`` cycles, the maximum included): a set cell reads
``noisy_code(1 + 0.15 z)`` with ``z = rramcim.analog.haq.cell_noise(seed, col, row*2+neg)``
(the float model's keyed noise, per cell address), an unset cell reads ``code_reset`` plus a
keyed jitter of -2 .. +2 codes. The fate of the n-th VERIFY since the start of the test
(answered / dropped: no answer / late: answered one cycle after the timeout) is a keyed
function of n. Between weights the bench may erase the array (all cells unset), otherwise
weights may reuse cells left set by earlier ones (measured, as on a real array).

Scoreboard: when a weight transfers, the golden :class:`~rramcim.golden.haq_quant.
HaqQuantModel` runs it against a *shadow* of the responder (a copy of the cell array and of the
verify counter at that moment: the DUT programs one weight at a time), predicting every
program/verify operation (op, row, column, neg, in order) and the result beat (bits, acc, err).
Every ``prog`` transfer and every result beat is compared bit for bit; the status outputs
(``cnt_timeout_o``, ``cnt_proto_o``, ``err_cfg_o``) after every run. Protocol checks: a held
``prog`` request may not change, ``in_ready_o`` only while no operation of an earlier weight is
outstanding, ``busy_o`` while one is.

Randomness: ``random.Random`` generators keyed by cocotb's per-test seed (logged at the start
of each test) and ``rramcim.rng`` for the cell noise. ``SEED=<it>`` (``COCOTB_RANDOM_SEED``)
reproduces a run.

Testplan (feature -> tests that check it)

- SA decisions, SET+VERIFY per set cell, VERIFY per unset cell (VERIFY_UNSET = 1) or none,
  measured contribution x radix constant, final acc -> run_random (every beat), all tests
- zero weight: no operation, bits 0, acc 0 -> run_random (bin zero_weight)
- target extremes (-2^(TGT_W-1), 2^(TGT_W-1)-1, +-1 LSB) -> run_random (bins t_min, t_max,
  t_pm1)
- first / last cell set and unset, every cell set, column wrap mod 2^COL_W, G- cells
  -> run_random (bins cell0_set, cell0_unset, last_set, last_unset, col_wrap, neg)
- cells reused after earlier weights (measured, not assumed) -> run_random (bin reused_set)
- verify latency 1 and TIMEOUT_CYC (the window's ends) -> run_random (bins lat_1, lat_max)
- handshakes: prog back-pressure (request held stable, ``StableWhileStalled``), output
  back-pressure, input stall, idle gaps -> run_random (bins prog_stall, out_stall, in_stall,
  idle_gap)
- latency and throughput of the header (result edge, next accept edge), cycle by cycle
  -> run_full_speed
- timeouts (dropped, late answers), nominal contribution, out_err_o, cnt_timeout_o;
  protocol errors (late and spurious verify_valid_i), cnt_proto_o -> run_timeout (bins
  drop, late, spurious, beat_err)
- configuration error (code_unit <= code_reset): sticky err_cfg_o -> run_cfg_error
- counters stick at 2^16-1 -> run_counter_saturation
- asynchronous reset while programming a cell, waiting for a verify, with a stalled result,
  idle -> run_reset_mid (bins reset_<where>)
- the checker catches a wrong model (the paper's off-by-one final sum, last cell left out)
  -> run_expect_fail (expect_fail=True)
- parameter corners: N_CELLS 3 and 16, TGT_W 4 and 16, RADIX_F = TGT_W-2 and 24,
  VERIFY_BITS 4 .. 10, RATIO_Q8 358 / 384 / 512, VERIFY_UNSET 0 and 1, TIMEOUT_CYC 2,
  COL_W smaller than log2(N_CELLS) -> PARAM_SETS, test_param_sets_cover_corners

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

import cocotb
import torch
from cocotb.triggers import ReadOnly

from rramcim import rng
from rramcim.analog.haq import cell_noise
from rramcim.fixedpoint import from_unsigned
from rramcim.golden.haq_quant import (
    COUNTER_MAX,
    HaqBeat,
    HaqQuantModel,
    HaqQuantParams,
    Op,
    ProgOp,
    noisy_code,
    quantize_weight,
)
from tb.vip.leaf import LeafTB, ScoreboardError, StableWhileStalled, leaf_bench_test

#: Longest idle gap the driver inserts before a weight (cycles).
MAX_GAP = 4
#: Programming noise of a set cell in the responder (PAPERS.md §3.4: 0.15).
NOISE_STD = 0.15


@dataclass(frozen=True)
class Weight:
    """One weight of the plan (``gap``: idle cycles before it; None: random)."""

    target: int
    row: int
    col: int
    neg: int
    unit: int
    rst: int
    gap: int | None = None


@dataclass(frozen=True)
class Erase:
    """Unset every cell of the responder's array once no operation is outstanding."""


PlanItem = Weight | Erase


@dataclass
class Macro:
    """State of the responder's cell array (shared shape with the shadow copies)."""

    set_cells: set[tuple[int, int, int]] = field(default_factory=set)
    n_verify: int = 0

    def copy(self) -> Macro:
        return Macro(set(self.set_cells), self.n_verify)


class TB(LeafTB[PlanItem]):
    """Driver, macro responder, consumer and scoreboard of ``cim_haq_quant`` (start-up, the
    per-cycle step and reset in the middle come from :class:`~tb.vip.leaf.LeafTB`).

    Args:
        dut: the cocotb handle of the top level.
        idle_prob: probability of an idle gap (1 .. MAX_GAP cycles) before a weight.
        bp_prob: probability that ``out_ready_i`` is low in a cycle.
        prog_bp_prob: probability that ``prog_ready_i`` is low in a cycle.
        p_drop, p_late: probability that a VERIFY is never answered / answered one cycle
            after the timeout.
        p_spurious: probability per eligible cycle of a spurious ``verify_valid_i`` pulse.
        expect_fail: protocol errors raise :class:`~tb.vip.leaf.UnexpectedBenchError`.
    """

    CLEARED_OUTPUTS = (
        *LeafTB.CLEARED_OUTPUTS,
        "prog_valid_o",
        "cnt_timeout_o",
        "cnt_proto_o",
        "err_cfg_o",
        "out_bits_o",
        "out_acc_o",
        "out_err_o",
    )
    ZERO_AT_START = ("in_valid_i", "out_ready_i", "prog_ready_i", "verify_valid_i")
    MAX_GAP = MAX_GAP
    IDLE_ONCE = True
    PARAM_NAMES = tuple(HaqQuantParams._HDL)

    def __init__(
        self,
        dut,
        *,
        idle_prob: float = 0.0,
        bp_prob: float = 0.0,
        prog_bp_prob: float = 0.0,
        p_drop: float = 0.0,
        p_late: float = 0.0,
        p_spurious: float = 0.0,
        expect_fail: bool = False,
    ) -> None:
        self.prog_bp_prob = prog_bp_prob
        self.p_drop, self.p_late, self.p_spurious = p_drop, p_late, p_spurious
        super().__init__(dut, idle_prob=idle_prob, bp_prob=bp_prob, expect_fail=expect_fail)
        self.rng_mac = self.make_rng("mac")
        self.vmax = (1 << self.p.verify_bits) - 1
        self.acc_w = self.p.acc_w
        self.macro = Macro()
        self.n_beats = 0
        self._code_cache: dict[tuple[int, int, int, bool, int, int], int] = {}
        self.recent: deque[tuple[int, int, int]] = deque(maxlen=16)  # addresses to reuse
        self.check_timing = False  # run_full_speed: check the header's latency formula

    def setup(self) -> None:
        self.p = HaqQuantParams.from_hdl(self.params)
        self.model = HaqQuantModel(self.p)

    # ----- bookkeeping ----------------------------------------------------------------------
    def clear_state(self) -> None:
        super().clear_state()
        self.exp_proto = 0
        self.exp_ops: deque[Op] = deque()
        self.exp_beats: deque[HaqBeat] = deque()
        self.cur_cfg: tuple[int, int] = (0, 0)  # (unit, rst) of the weight in flight
        self.prog_ready = 0
        self.prog_hold = StableWhileStalled("prog request", self.fail)
        self.stalled_out = False
        self.pending: tuple[int, int] | None = None  # (cycles left, code) of a verify answer
        self.late_pending: int | None = None  # cycles left of a late (protocol-error) pulse
        self.quiet_from = 0  # first edge at which a spurious pulse cannot hit S_WAIT
        self.vv_driven = True
        self.since_reset = 0
        self.t_accept = 0  # cycle of the last input transfer (timing check)
        self.t_cost = 0  # its predicted edges until out_valid_o
        self.t_seen: int | None = None  # cycle in which the last result was first seen

    # ----- the macro's cells (pure functions of the seed and the address) -------------------
    def cell_code(self, row: int, col: int, neg: int, is_set: bool, unit: int, rst: int) -> int:
        k = (row, col, neg, is_set, unit, rst)
        code = self._code_cache.get(k)
        if code is None:
            if is_set:
                z = float(cell_noise(self.seed, col, torch.tensor([row * 2 + neg]))[0])
                code = noisy_code(1.0 + NOISE_STD * z, unit, rst, self.p.verify_bits)
            else:
                u = rng.uniform(rng.make_key(self.seed, "haq-bench-rst"), torch.tensor([k[0]]))
                jit = int(float(u[0]) * 5) - 2 + ((col * 7 + neg * 3) % 3) - 1
                code = max(0, min(self.vmax, rst + jit))
            self._code_cache[k] = code
        return code

    def fate(self, n: int) -> str:
        """What happens to the n-th VERIFY of the test: ok, drop or late."""
        if not (self.p_drop or self.p_late):
            return "ok"
        u = random.Random(f"{self.seed}:fate:{n}").random()
        if u < self.p_drop:
            return "drop"
        if u < self.p_drop + self.p_late:
            return "late"
        return "ok"

    # ----- stimulus -------------------------------------------------------------------------
    def random_cfg(self) -> tuple[int, int]:
        """(code_unit, code_reset) with unit > reset."""
        r, v = self.rng, self.vmax
        choice = r.random()
        if choice < 0.5:
            rst = v // 16
            return max(rst + 1, (2 * v) // 3), rst  # full scale 1.5 x nominal (the macro)
        if choice < 0.7:
            return v, 0
        rst = r.randint(0, v // 2)
        return r.randint(rst + 1, v), rst

    def random_target(self) -> int:
        r, tw = self.rng, self.p.tgt_w
        lo, hi = -(1 << (tw - 1)), (1 << (tw - 1)) - 1
        u = r.random()
        if u < 0.08:
            return 0
        if u < 0.16:
            return r.choice((lo, hi, 1, -1))
        if u < 0.5:
            return r.randint(lo, hi)
        g = r.gauss(0.0, 0.3)
        return max(lo, min(hi, int(round(g * (1 << (tw - 1))))))

    def random_weight(self, cfg: tuple[int, int] | None = None) -> Weight:
        r = self.rng
        unit, rst = cfg if cfg is not None else self.random_cfg()
        if self.recent and r.random() < 0.25:  # cells an earlier weight may have set
            row, col, neg = r.choice(self.recent)
        else:
            row, col, neg = r.randrange(1 << self.p.row_w), r.randrange(1 << self.p.col_w), 0
            neg = r.randrange(2)
            self.recent.append((row, col, neg))
        return Weight(self.random_target(), row, col, neg, unit, rst)

    def plan_weights(self, n: int, *, erase_prob: float = 0.1) -> None:
        """Queue ``n`` weights in batches sharing a configuration; directed extremes first."""
        tw = self.p.tgt_w
        cfg = self.random_cfg()
        first = [0, (1 << (tw - 1)) - 1, -(1 << (tw - 1)), 1, -1]
        for i in range(n):
            if self.rng.random() < 0.15:
                cfg = self.random_cfg()
            w = self.random_weight(cfg)
            if i < len(first):  # the extremes; the largest one at the last column (wrap)
                col = (1 << self.p.col_w) - 1 if i == 1 else w.col
                w = Weight(first[i], w.row, col, w.neg, w.unit, w.rst)
            if self.rng.random() < erase_prob:
                self.plan.append(Erase())
            self.plan.append(w)

    # ----- pins -----------------------------------------------------------------------------
    def idle_pins(self) -> None:
        d, r, p = self.dut, self.rng_drv, self.p
        d.in_valid_i.value = 0
        d.in_target_i.value = r.getrandbits(p.tgt_w)
        d.in_row_i.value = r.getrandbits(p.row_w)
        d.in_col_i.value = r.getrandbits(p.col_w)
        d.in_neg_i.value = r.getrandbits(1)
        d.cfg_code_unit_i.value = r.getrandbits(p.verify_bits)
        d.cfg_code_reset_i.value = r.getrandbits(p.verify_bits)

    # ----- one clock cycle ------------------------------------------------------------------
    def drained(self) -> bool:
        return (
            not self.plan
            and self.presenting is None
            and not self.exp_beats
            and not self.exp_ops
            and self.pending is None
            and self.late_pending is None
        )

    def budget(self) -> int:
        per_weight = self.p.n_cells * (self.p.timeout_cyc + 12) * 4 + MAX_GAP + 20
        return len(self.plan) * per_weight + 200

    async def on_drained(self) -> None:
        """A few quiet cycles (the last result leaves the DUT), then compare the status."""
        d = self.dut
        for _ in range(3):
            await self.next_cycle()
            d.out_ready_i.value = self.out_ready = 1
            if self.vv_driven:
                d.verify_valid_i.value = 0
                self.vv_driven = False
            await ReadOnly()
            if self.read("out_valid_o"):
                self.fail("a result beat the model did not predict")
        m = self.model
        got = (self.read("cnt_timeout_o"), self.read("cnt_proto_o"), bool(self.read("err_cfg_o")))
        want = (m.timeouts, min(self.exp_proto, COUNTER_MAX), m.err_cfg)
        if got != want:
            self.fail(f"status (cnt_timeout, cnt_proto, err_cfg) = {got}, model {want}")
        if self.read("busy_o"):
            self.fail("busy_o high while idle")

    def drive(self) -> None:
        self.out_ready = self.backpressure(
            "out_ready_i", self.out_ready, self.rng_out, self.bp_prob
        )
        self.prog_ready = self.backpressure(
            "prog_ready_i", self.prog_ready, self.rng_mac, self.prog_bp_prob
        )
        self._drive_verify()
        self.drive_input()

    def present(self, item: PlanItem) -> None:
        assert isinstance(item, Weight)
        d = self.dut
        d.in_target_i.value = item.target & ((1 << self.p.tgt_w) - 1)
        d.in_row_i.value = item.row
        d.in_col_i.value = item.col
        d.in_neg_i.value = item.neg
        d.cfg_code_unit_i.value = item.unit
        d.cfg_code_reset_i.value = item.rst
        d.in_valid_i.value = 1

    def _drive_verify(self) -> None:
        d = self.dut
        fire = False
        code = self.rng_mac.getrandbits(self.p.verify_bits)
        if self.pending is not None:
            left, c = self.pending
            left -= 1
            if left == 0:
                fire, code = True, c
                self.pending = None
            else:
                self.pending = (left, c)
        if self.late_pending is not None:
            self.late_pending -= 1
            if self.late_pending == 0:
                fire = True
                self.late_pending = None
                self.exp_proto += 1
                self.cov.hit("late")
        if (
            not fire
            and self.p_spurious
            and self.pending is None
            and self.late_pending is None
            and self.cycle >= self.quiet_from
            and self.rng_mac.random() < self.p_spurious
        ):
            fire = True
            self.exp_proto += 1
            self.cov.hit("spurious")
        if fire or self.vv_driven:
            d.verify_valid_i.value = int(fire)
            d.verify_code_i.value = code
            self.vv_driven = fire

    def item_gap(self, item: PlanItem) -> int | None:
        return item.gap if isinstance(item, Weight) else None

    def plan_control(self) -> bool:
        """An erase at the head of the plan waits until no operation is outstanding."""
        while self.plan and isinstance(self.plan[0], Erase):
            if self.exp_ops or self.pending is not None:
                return True
            self.plan.popleft()
            self.macro.set_cells.clear()
        return False

    def sample(self) -> None:
        """ReadOnly phase: check the outputs, apply the transfers of the coming edge."""
        in_ready = self.read("in_ready_o")
        out_valid = self.read("out_valid_o")
        prog_valid = self.read("prog_valid_o")
        busy = self.read("busy_o")
        if in_ready and (self.exp_ops or self.pending is not None):
            self.fail("in_ready_o high while operations of the last weight are outstanding")
        if self.exp_ops and not busy:
            self.fail("busy_o low while operations are outstanding")
        # program port
        if prog_valid:
            req = (
                self.read("prog_op_o"),
                self.read("prog_row_o"),
                self.read("prog_col_o"),
                self.read("prog_neg_o"),
            )
            self.prog_hold.observe(req, bool(self.prog_ready))
            if self.prog_ready:
                self._prog_transfer(req)
            else:
                self.cov.hit("prog_stall")
        else:
            self.prog_hold.observe_invalid()
        # results
        if out_valid:
            got = HaqBeat(
                self.read("out_bits_o"),
                from_unsigned(self.read("out_acc_o"), self.acc_w),
                bool(self.read("out_err_o")),
            )
            if not self.exp_beats:
                self.fail(f"result beat {got} that the model did not predict")
            want = self.exp_beats[0]
            if got != want:
                raise ScoreboardError(
                    f"cycle {self.cycle}: result {self.n_beats} (bits, acc, err) = {got}, "
                    f"model {want} (per-test seed {cocotb.RANDOM_SEED})"
                )
            if self.check_timing and not self.stalled_out:
                want_seen = self.t_accept + self.t_cost + 1
                if self.cycle != want_seen:
                    self.fail(f"result valid first seen in cycle {self.cycle}, header: {want_seen}")
                self.t_seen = self.cycle
            if self.out_ready:
                self.exp_beats.popleft()
                self.n_beats += 1
                self.stalled_out = False
            else:
                self.stalled_out = True
                self.cov.hit("out_stall")
        self.input_transfer(bool(in_ready))
        self.since_reset += 1

    def _prog_transfer(self, req: tuple[int, int, int, int]) -> None:
        if not self.exp_ops:
            raise ScoreboardError(f"cycle {self.cycle}: unexpected prog operation {req}")
        e = self.exp_ops.popleft()
        want = (int(e.op), e.row, e.col, e.neg)
        if req != want:
            raise ScoreboardError(
                f"cycle {self.cycle}: prog (op, row, col, neg) = {req}, model {want} "
                f"(cell {e.cell}; per-test seed {cocotb.RANDOM_SEED})"
            )
        op, row, col, neg = req
        m = self.macro
        if op == ProgOp.SET:
            if (row, col, neg) in m.set_cells:
                self.cov.hit("reset_set_again")
            m.set_cells.add((row, col, neg))
            return
        unit, rst = self.cur_cfg
        code = self.cell_code(row, col, neg, (row, col, neg) in m.set_cells, unit, rst)
        fate = self.fate(m.n_verify)
        m.n_verify += 1
        t = self.p.timeout_cyc
        self.quiet_from = self.cycle + t + 2
        if fate == "ok":
            if code != e.code:
                self.fail(f"responder code {code} differs from the shadow's {e.code}")
            r = self.rng_mac.random()
            lat = 1 if r < 0.2 else (t if r < 0.3 else self.rng_mac.randint(1, min(t, 8)))
            self.cov.hit("lat_1" if lat == 1 else ("lat_max" if lat == t else "lat_mid"))
            self.pending = (lat, code)
            self.t_cost += lat
        elif fate == "drop":
            self.cov.hit("drop")
        else:
            self.late_pending = t + 1

    def accept(self, w: Weight) -> None:
        """A weight transfers at the coming edge: predict its operations and result."""
        shadow = self.macro.copy()
        unit, rst = w.unit, w.rst
        cmask = (1 << self.p.col_w) - 1
        cells = {(w.row, (w.col + k) & cmask, w.neg) for k in range(self.p.n_cells)}
        if w.target and cells & shadow.set_cells:
            self.cov.hit("reused_set")  # cells left set by an earlier weight

        def verify(k: int, row: int, col: int, neg: int, is_set: bool) -> int | None:
            cell = (row, col, neg)
            if is_set:
                shadow.set_cells.add(cell)
            n = shadow.n_verify
            shadow.n_verify += 1
            if self.fate(n) != "ok":
                return None
            return self.cell_code(row, col, neg, cell in shadow.set_cells, unit, rst)

        ops, beat = self.model.quantize(w.target, w.row, w.col, w.neg, unit, rst, verify)
        self.cur_cfg = (unit, rst)
        if self.check_timing:
            if self.t_seen is not None and self.cycle != self.t_seen:
                self.fail(f"weight accepted in cycle {self.cycle}, header: {self.t_seen}")
            self.t_accept = self.cycle
            self.t_cost = 1 + (2 * self.p.n_cells + len(ops) if w.target else 0)
        self.exp_ops.extend(ops)
        self.exp_beats.append(beat)
        self._cover(w, ops, beat)

    def _cover(self, w: Weight, ops: list[Op], beat: HaqBeat) -> None:
        c, p = self.cov, self.p
        tw = p.tgt_w
        if w.target == 0:
            c.hit("zero_weight")
            return
        if w.target == -(1 << (tw - 1)):
            c.hit("t_min")
        if w.target == (1 << (tw - 1)) - 1:
            c.hit("t_max")
        if abs(w.target) == 1:
            c.hit("t_pm1")
        last = p.n_cells - 1
        c.hit("cell0_set" if beat.bits & 1 else "cell0_unset")
        c.hit("last_set" if beat.bits >> last & 1 else "last_unset")
        if beat.bits == (1 << p.n_cells) - 1:
            c.hit("all_set")
        if w.col + last >= (1 << p.col_w):
            c.hit("col_wrap")
        if w.neg:
            c.hit("neg")
        if beat.err:
            c.hit("beat_err")
        if any(o.op is ProgOp.VERIFY and not beat.bits >> o.cell & 1 for o in ops):
            c.hit("verify_unset")

    # ----- reset in the middle ----------------------------------------------------------------
    def _where(self) -> str | None:
        if self.exp_ops and self.prog_hold.stalled:
            return "prog"
        if self.pending is not None:
            return "wait"
        if self.stalled_out and not self.exp_ops:
            return "out_stall"
        if not self.exp_ops and not self.exp_beats and self.presenting is None:
            return "idle"
        return None

    def reset_ready(self, where: str) -> bool:
        if self.since_reset < 20:
            return False
        return self._where() == where and self.rng_drv.random() < 0.5

    def reset_pins(self) -> None:
        self.dut.in_valid_i.value = 0
        self.dut.verify_valid_i.value = 0

    def release_pins(self) -> None:
        self.idle_pins()
        super().release_pins()
        self.dut.prog_ready_i.value = self.prog_ready = 0
        self.valid_driven = False


def _traffic_bins(tb: TB) -> list[str]:
    bins = ["zero_weight", "t_min", "t_max", "t_pm1", "cell0_set", "cell0_unset"]
    bins += ["last_set", "last_unset", "col_wrap", "neg", "lat_1", "lat_max", "reused_set"]
    if tb.p.verify_unset:
        bins.append("verify_unset")
    return bins


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


@cocotb.test()
async def run_random(dut) -> None:
    """Random weights with idle gaps and back-pressure on every port."""
    tb = TB(dut, idle_prob=0.3, bp_prob=0.3, prog_bp_prob=0.3)
    await tb.start()
    tb.plan_weights(120)
    await tb.run()
    tb.cov.check([*_traffic_bins(tb), "idle_gap", "in_stall", "out_stall", "prog_stall"], tb.log)


@cocotb.test()
async def run_full_speed(dut) -> None:
    """No gaps, no back-pressure: every result appears and the next weight is accepted in the
    cycle the header's latency formula gives."""
    tb = TB(dut)
    tb.check_timing = True
    await tb.start()
    tb.plan_weights(60, erase_prob=0.0)
    start = tb.cycle
    await tb.run()
    tb.log.info("60 weights in %d cycles", tb.cycle - start)
    tb.cov.check(["zero_weight", "t_min", "t_max", "in_stall"], tb.log)


@cocotb.test()
async def run_timeout(dut) -> None:
    """Dropped and late verify answers (timeouts, nominal contributions, out_err_o) and
    spurious verify_valid_i pulses (protocol errors)."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.2, prog_bp_prob=0.2, p_drop=0.15, p_late=0.1)
    tb.p_spurious = 0.05
    await tb.start()
    tb.plan_weights(50)
    await tb.run()
    for _ in range(40):  # idle cycles: spurious pulses while nothing is awaited
        tb.plan.append(Weight(0, 0, 0, 0, *tb.random_cfg(), gap=MAX_GAP))
    await tb.run()
    assert tb.model.timeouts > 0 and tb.exp_proto > 0
    tb.cov.check(["drop", "late", "spurious", "beat_err"], tb.log)


@cocotb.test()
async def run_cfg_error(dut) -> None:
    """code_unit <= code_reset: err_cfg_o sticks; the arithmetic still follows the model."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.2, prog_bp_prob=0.2)
    await tb.start()
    tb.plan_weights(10)
    await tb.run()
    assert not tb.read("err_cfg_o")
    v = tb.vmax
    for unit, rst in ((v // 4, v // 2), (v // 3, v // 3), (0, v)):
        for _ in range(3):
            w = tb.random_weight((unit, rst))
            tb.plan.append(w if w.target else Weight(5, w.row, w.col, 0, unit, rst))
    tb.plan_weights(10)
    await tb.run()
    assert tb.read("err_cfg_o") == 1 and tb.model.err_cfg


@cocotb.test()
async def run_counter_saturation(dut) -> None:
    """Counters deposited just below 2^16-1 stick at 2^16-1."""
    tb = TB(dut, p_drop=0.5, p_late=0.3)
    await tb.start()
    await tb.next_cycle()
    start = COUNTER_MAX - 3
    dut.cnt_tmo_q.value = start
    dut.cnt_proto_q.value = start
    tb.model.timeouts = start
    tb.exp_proto = start
    tb.plan_weights(12, erase_prob=0.0)
    await tb.run()
    assert tb.model.timeouts == COUNTER_MAX
    assert tb.read("cnt_timeout_o") == COUNTER_MAX and tb.read("cnt_proto_o") == COUNTER_MAX


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset while a request is stalled, while waiting for a verify answer,
    with a stalled result and while idle; everything restarts cleanly."""
    tb = TB(dut, idle_prob=0.3, bp_prob=0.5, prog_bp_prob=0.4)
    await tb.start()
    await tb.run_resets(["prog", "wait", "out_stall", "idle"], lambda: tb.plan_weights(25))
    tb.plan_weights(10)
    await tb.run()
    tb.cov.check(["reset_prog", "reset_wait", "reset_out_stall", "reset_idle"], tb.log)


class _PaperFinalModel(HaqQuantModel):
    """Deliberately wrong reference: the paper's final sum, which leaves the last cell's
    contribution out of the accumulated value (decisions and operations unchanged)."""

    def quantize(self, target, row, col, neg, code_unit, code_reset, verify):  # noqa: ANN001, ANN201
        ops, beat, n_to = quantize_weight(
            self.p, target, row, col, neg, code_unit, code_reset, verify
        )
        self.timeouts = min(self.timeouts + n_to, COUNTER_MAX)
        if target == 0:
            return ops, beat
        last = self.p.n_cells - 1
        d = code_unit - code_reset
        is_set = bool(beat.bits >> last & 1)
        e = d if is_set else -d
        for o in ops:
            if o.cell == last and o.op is ProgOp.VERIFY and o.code is not None:
                e = 2 * (o.code - code_reset) - d
        return ops, beat._replace(acc=beat.acc - e * self.p.radix[last])


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:
    """The scoreboard, fed a wrong model, must report a mismatch (this test passes only if
    the bench fails with a ScoreboardError)."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.2, prog_bp_prob=0.2, expect_fail=True)
    tb.model = _PaperFinalModel(tb.p)
    await tb.start()
    tb.plan_weights(40)
    await tb.run()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    # the RTL defaults (8 cells, 12-bit targets, 8-bit verify, ratio 1.5), short timeout
    "n8t12v8f16": {
        "N_CELLS": 8,
        "TGT_W": 12,
        "VERIFY_BITS": 8,
        "RADIX_F": 16,
        "RATIO_Q8": 384,
        "ROW_W": 9,
        "COL_W": 8,
        "VERIFY_UNSET": 1,
        "TIMEOUT_CYC": 10,
    },
    # wide: 16 cells, ratio 1.4, widest targets and radix constants, unset cells not verified
    "n16t16v10f24r358u0": {
        "N_CELLS": 16,
        "TGT_W": 16,
        "VERIFY_BITS": 10,
        "RADIX_F": 24,
        "RATIO_Q8": 358,
        "ROW_W": 4,
        "COL_W": 5,
        "VERIFY_UNSET": 0,
        "TIMEOUT_CYC": 12,
    },
    # corners: 3 cells, binary radix, RADIX_F = TGT_W - 2, one row bit, 2 columns (the cells
    # of one weight wrap onto each other), shortest timeout
    "n3t4v4f2r512": {
        "N_CELLS": 3,
        "TGT_W": 4,
        "VERIFY_BITS": 4,
        "RADIX_F": 2,
        "RATIO_Q8": 512,
        "ROW_W": 1,
        "COL_W": 1,
        "VERIFY_UNSET": 1,
        "TIMEOUT_CYC": 2,
    },
}


def test_param_sets_cover_corners() -> None:
    """The parameter sets reach the corners of the legal ranges."""
    sets = [HaqQuantParams.from_hdl(p) for p in PARAM_SETS.values()]
    assert {3, 16} <= {p.n_cells for p in sets}
    assert {4, 16} <= {p.tgt_w for p in sets}
    assert any(p.radix_f == p.tgt_w - 2 for p in sets) and 24 in {p.radix_f for p in sets}
    assert {0, 1} == {p.verify_unset for p in sets}
    assert 2 in {p.timeout_cyc for p in sets} and 512 in {p.ratio_q8 for p in sets}
    assert any((1 << p.col_w) < p.n_cells for p in sets)


test_cim_haq_quant = leaf_bench_test("cim_haq_quant", PARAM_SETS, __file__)
