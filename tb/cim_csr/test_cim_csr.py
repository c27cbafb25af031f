"""cocotb bench of ``rtl/cim_csr.sv`` (through ``tb/cim_csr/tb_cim_csr.sv``) against
``rramcim.golden.csr``.

Structure: the DUT is wrapped by ``tb_cim_csr``, which plays the top: it derives the wide
parameters (RW_MASK, EXT_WR_MASK, RESET_VAL) from integer ones (mirrored by
:func:`slot_config`), vetoes writes with a fixed rule (slot ERR_IDX, data bit 31 set:
illegal; mirrored by :func:`rule_legal`) computed from ``wr_req_o``/``wr_idx_o``/``wr_data_o``,
and passes the bench's ``wr_junk_i`` to ``wr_err_i`` outside write requests. The APB pins
belong to the reusable VIP (:mod:`tb.vip.apb`): an :class:`~tb.vip.apb.ApbMaster` issues the
transfers (back to back or with idle gaps, don't-care values on the idle bus), an
:class:`~tb.vip.apb.ApbMonitor` checks the bus protocol. The side-band pins belong to
:class:`TB`, whose per-cycle loop drives ``reg_rd_i`` (through the wrapper's 32-bit
``rd_base_i``: every word changes in most cycles, so a read must return the word of its access
cycle, not of its setup cycle), ``err_clr_i`` (random, and with high probability in the
access cycle of an error transfer) and ``wr_junk_i`` at each falling edge, and in the
``ReadOnly`` phase after it checks every DUT output against the golden
:class:`~rramcim.golden.csr.CsrModel`: the state outputs before the coming edge
(``err_o``, ``err_addr_o``, ``err_count_o``; ``reg_q_o`` through the wrapper's XOR fold every
cycle, in full after reset, every 16th cycle and, for up to 32 slots, in the cycle after each
write), then the combinational outputs of the cycle (``prdata_o``, ``pslverr_o``,
``pready_o`` = 1, ``wr_req_o``/``wr_idx_o``/``wr_data_o``, the veto, ``wr_pulse_o``,
``rd_pulse_o``) from the model's prediction of the access, if any; outside access cycles they
must be 0. The values the master returns are compared with the same predictions.

Randomness: ``random.Random`` generators keyed by cocotb's per-test seed (logged at the start
of each test); ``SEED=<regression seed>`` (``COCOTB_RANDOM_SEED``) reproduces a run.

Testplan (feature -> tests that check it)

- RW slots: reset values, write, read back, reg_q_o updated at the edge ending the access
  -> run_random (bins rd_rw, wr_rw), every test (reg_q_o checked every cycle)
- RO slots: read returns reg_rd_i of the access cycle; a write is refused (pslverr, no
  pulse, counted) -> run_random (bins rd_ro, wr_ro, ro_changed_since_setup)
- EXT slots: read returns reg_rd_i, a write only pulses wr_pulse_o with the data
  -> run_random (bins rd_ext, wr_ext)
- top's veto (wr_err_i): illegal write refused, register unchanged, counted; legal write to
  the same slot accepted; wr_err_i ignored outside write requests -> run_random (bins
  wr_veto, wr_rule_slot_legal, junk_on_read, junk_on_idle)
- address errors: unaligned and beyond 4*N_REGS, reads and writes -> run_random (bins
  rd_unaligned, wr_unaligned, rd_out_of_range, wr_out_of_range where the address space has
  room)
- decode corners: slot 0 and slot N_REGS-1 -> run_random (bins idx_0, idx_max)
- side band: wr_req_o/wr_idx_o/wr_data_o, wr_pulse_o, rd_pulse_o each cycle -> every test
- error status: first address captured, kept on later errors, err_clr_i clears, an error in
  the clear's cycle wins -> run_random (bins err_first_kept, err_clr, err_clr_with_error)
- err_count_o saturates at 2^32-1 -> run_counter_saturation
- APB3 timing: zero wait states, back-to-back transfers, idle gaps with don't-care bus values
  -> run_random[b2b/idle/sparse] (bins back_to_back, idle_gap), ApbMonitor on every cycle
- asynchronous reset in the middle (outputs clear at once, RW slots back to RESET_VAL, error
  status cleared) with registers written and the sticky error set -> run_reset_mid (bins
  reset_with_err, reset_with_writes)
- register-map helper: a RegMap of the same slots yields the wrapper's parameters and rule;
  ApbRegs field access, read-modify-write and refusals -> run_regmap
- the APB VIP itself (tb.vip.apb), on a stub slave in Python: wait states, slave errors,
  results equal to the slave's answers, the monitor's transfers equal to the master's, the
  wait-state limit, X/Z on pready/pslverr/prdata (Icarus), the monitor's protocol checks
  -> run_vip_self_test
- the checker catches a wrong model -> run_expect_fail (expect_fail=True)
- parameter corners: N_REGS 1 and 256, ADDR_W minimum and 32, no RW / no RO / no EXT slot,
  zero and random reset values -> PARAM_SETS, test_param_sets_cover_corners

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from pathlib import Path

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, Timer
from cocotb.types import Logic, LogicArray

from rramcim.golden.csr import (
    COUNTER_MAX,
    CsrAccess,
    CsrConfig,
    CsrModel,
    FieldAccess,
    RegField,
    Register,
    RegMap,
    SlotKind,
)
from tb.vip.apb import (
    ApbError,
    ApbMaster,
    ApbMonitor,
    ApbProtocolError,
    ApbRegs,
    ApbSample,
    ApbSignalNames,
    ApbTransfer,
)
from tb.vip.coverage import Coverage
from tb.vip.params import param
from tb.vip.runner import RTL, run_bench, simulators

HERE = Path(__file__).resolve().parent
CLK_PERIOD_NS = 10
M32 = 0xFFFFFFFF
#: Period of the full reg_q_o comparison, cycles (the XOR fold is compared every cycle).
FULL_CHECK_CYC = 16


class ProtocolError(AssertionError):
    """The DUT broke a rule that does not depend on the reference model."""


class ScoreboardError(AssertionError):
    """A DUT output differs from the reference model's prediction."""


class UnexpectedBenchError(RuntimeError):
    """A protocol error in ``run_expect_fail`` (must not count as the expected failure)."""


# ------------------------------------------------------------------------------------------
# The wrapper's parameter derivation and rule, in Python
# ------------------------------------------------------------------------------------------


def slot_config(p: dict[str, int]) -> CsrConfig:
    """The ``cim_csr`` parameters ``tb_cim_csr`` derives from its integer parameters."""
    n = p["N_REGS"]
    rw = ext = 0
    reset = []
    for i in range(n):
        is_rw = (p["RW_PAT"] >> (i % 16)) & 1
        rw |= is_rw << i
        ext |= ((p["EXT_PAT"] >> (i % 16)) & 1 and not is_rw) << i
        x = (p["RV_SEED"] * 0x9E3779B1 + (i + 1) * 0x85EBCA77) & M32
        x ^= x >> 15
        reset.append(x if is_rw and p["RV_SEED"] else 0)
    return CsrConfig(n, p["ADDR_W"], rw, ext, tuple(reset))


def rule_legal(err_idx: int, idx: int, data: int) -> bool:
    """The wrapper's veto: a write of ``data`` to slot ``idx`` is legal unless it goes to
    slot ``err_idx`` with bit 31 set."""
    return not (idx == err_idx and data >> 31)


# ------------------------------------------------------------------------------------------
# Bench components
# ------------------------------------------------------------------------------------------


class TB:
    """Side-band pins, per-cycle checker and stimulus of ``tb_cim_csr``.

    Args:
        dut: the cocotb handle of the wrapper.
        idle: idle cycles before each transfer (the master's ``idle_cycles``).
        clr_prob: probability of ``err_clr_i`` = 1 in a cycle (0.5 in the access cycle of an
            error transfer, so that clears meet errors).
        junk_prob: probability of ``wr_junk_i`` = 1 in a cycle.
        expect_fail: protocol errors raise :class:`UnexpectedBenchError`, so that only a
            scoreboard mismatch counts as the expected failure.
    """

    def __init__(
        self,
        dut,
        *,
        idle: int | tuple[int, int] = 0,
        clr_prob: float = 0.05,
        junk_prob: float = 0.5,
        expect_fail: bool = False,
    ) -> None:
        self.dut = dut
        self.log = logging.getLogger("cocotb.tb")
        names = ("N_REGS", "ADDR_W", "RW_PAT", "EXT_PAT", "RV_SEED", "ERR_IDX")
        self.params = {k: param(k) for k in names}
        self.cfg = slot_config(self.params)
        self.model = CsrModel(self.cfg)
        self.n = self.cfg.n_regs
        self.err_idx = self.params["ERR_IDX"]
        seed = cocotb.RANDOM_SEED
        self.log.info(
            "per-test seed %d (regression seed: logged by cocotb at start-up; SEED=<it> "
            "reproduces), params %s",
            seed,
            self.params,
        )
        self.rng = random.Random(f"{seed}:stim")
        self.rng_side = random.Random(f"{seed}:side")
        self.master = ApbMaster(dut, dut.clk_i, idle_cycles=idle, rng=random.Random(f"{seed}:bus"))
        self.master.listeners.append(self._on_transfer)
        self.monitor = ApbMonitor(dut, dut.clk_i)
        self.clr_prob = clr_prob
        self.junk_prob = junk_prob
        self.expect_fail = expect_fail
        self.cov = Coverage()
        self.cycle = 0
        self.in_reset = True
        self.pred: deque[CsrAccess] = deque()  # predictions the master's results must match
        self.kinds = [self.cfg.kind(i) for i in range(self.n)]
        self.words_out = (1 << (self.cfg.addr_w - 2)) - self.n  # invalid word addresses
        self.rd_base = 0  # rd_base_i as driven now
        self.rd_base_prev = 0  # ... in the previous cycle
        self.full_check = True  # compare all of reg_q_o in this cycle
        self.clr_now = 0
        self.junk_now = 0
        self.prev: ApbSample | None = None
        self.idle_run = 0  # cycles since the last transfer completed
        self.checked = 0  # access cycles checked

    # ----- helpers ----------------------------------------------------------------------------
    def fail(self, msg: str) -> None:
        full = f"cycle {self.cycle}: {msg} (per-test seed {cocotb.RANDOM_SEED})"
        raise (UnexpectedBenchError if self.expect_fail else ProtocolError)(full)

    def mismatch(self, msg: str) -> None:
        raise ScoreboardError(f"cycle {self.cycle}: {msg} (per-test seed {cocotb.RANDOM_SEED})")

    def read(self, name: str) -> int:
        v = getattr(self.dut, name).value
        if not v.is_resolvable:
            self.fail(f"{name} is {v!s} (X/Z)")
        return int(v)

    def rd_word(self, i: int, base: int | None = None) -> int:
        """reg_rd_i word ``i`` as the wrapper derives it from ``rd_base_i``."""
        return ((self.rd_base if base is None else base) ^ (i * 0x9E3779B9)) & M32

    def has(self, kind: SlotKind) -> bool:
        return kind in self.kinds

    # ----- start-up and reset ---------------------------------------------------------------
    async def start(self) -> None:
        """Start the clock and the per-cycle loop, apply the initial reset."""
        d = self.dut
        Clock(d.clk_i, CLK_PERIOD_NS, unit="ns", impl="gpi").start()
        d.rst_ni.value = 0
        d.rd_base_i.value = 0
        d.err_clr_i.value = 0
        d.wr_junk_i.value = 0
        self.master.drive_idle()
        cocotb.start_soon(self._loop())
        for _ in range(3):
            await FallingEdge(d.clk_i)
        await ReadOnly()
        self._check_reset_outputs()
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        self.in_reset = False

    def _check_reset_outputs(self) -> None:
        m = self.model
        got = (self.read("reg_q_o"), self.read("err_o"), self.read("err_addr_o"))
        got += (self.read("err_count_o"), self.read("pslverr_o"), self.read("prdata_o"))
        want = (m.reg_q(), 0, 0, 0, 0, 0)
        if got != want:
            self.fail(f"in reset: (reg_q, err, err_addr, err_count, pslverr, prdata) = {got}")

    async def reset_mid(self) -> None:
        """Between transfers: assert rst_ni asynchronously (2 ns after a falling edge), check
        the outputs clear at once and stay cleared 1..3 cycles, release at a falling edge."""
        d = self.dut
        await FallingEdge(d.clk_i)  # the master goes idle at this edge
        await Timer(2, unit="ns")
        m = self.model
        if m.err:
            self.cov.hit("reset_with_err")
        if m.reg_q() != CsrModel(self.cfg).reg_q():
            self.cov.hit("reset_with_writes")
        self.log.info("cycle %d: reset (err=%d, err_count=%d)", self.cycle, m.err, m.err_count)
        d.rst_ni.value = 0
        self.in_reset = True
        self.model.reset()
        await ReadOnly()
        self._check_reset_outputs()
        for _ in range(self.rng.randint(1, 3)):
            await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        self.monitor.reset()
        self.prev = None
        self.full_check = True
        self.in_reset = False

    # ----- per-cycle loop -----------------------------------------------------------------------
    async def _loop(self) -> None:
        fe = FallingEdge(self.dut.clk_i)
        while True:
            await fe
            self.cycle += 1
            self._drive_side()
            await ReadOnly()
            if self.in_reset:
                self._check_reset_outputs()
                continue
            try:
                self._check_cycle()
            except ApbError as e:  # the monitor's protocol checks
                if self.expect_fail:
                    raise UnexpectedBenchError(str(e)) from e
                raise

    def _drive_side(self) -> None:
        d, r = self.dut, self.rng_side
        self.rd_base_prev = self.rd_base
        if r.random() < 0.8:  # the top's read values change in most cycles
            self.rd_base = r.getrandbits(32)
            d.rd_base_i.value = self.rd_base
        p = self.clr_prob
        s = self.prev
        if s is not None and s.psel and not s.penable and self._would_err(s):
            p = 0.5  # this cycle is the access phase of an error transfer
        clr = int(r.random() < p)
        if clr != self.clr_now:
            d.err_clr_i.value = self.clr_now = clr
        junk = int(r.random() < self.junk_prob)
        if junk != self.junk_now:
            d.wr_junk_i.value = self.junk_now = junk

    def _would_err(self, s: ApbSample) -> bool:
        """Whether the transfer in its setup phase ``s`` will be answered with pslverr."""
        assert s.paddr is not None
        idx = self.cfg.decode(s.paddr)
        if idx is None:
            return True
        if not s.pwrite:
            return False
        assert s.pwdata is not None
        return self.kinds[idx] is SlotKind.RO or not rule_legal(self.err_idx, idx, s.pwdata)

    def _check_cycle(self) -> None:
        """ReadOnly phase: the state outputs, then this cycle's access against the model."""
        m = self.model
        # state after the last edge
        fold = 0
        for v in m.regs:
            fold ^= v
        if self.read("reg_q_fold_o") != fold:
            self.mismatch(f"reg_q_o folds to {self.read('reg_q_fold_o'):#x}, model {fold:#x}")
        if self.full_check or self.cycle % FULL_CHECK_CYC == 0:
            self.full_check = False
            got = self.read("reg_q_o")
            if got != m.reg_q():
                diff = [i for i in range(self.n) if (got >> 32 * i) & M32 != m.regs[i]]
                self.mismatch(
                    f"reg_q_o differs in slots {diff[:8]}: DUT "
                    f"{[hex((got >> 32 * i) & M32) for i in diff[:8]]}, model "
                    f"{[hex(m.regs[i]) for i in diff[:8]]}"
                )
        got = (self.read("err_o"), self.read("err_addr_o"), self.read("err_count_o"))
        if got != (int(m.err), m.err_addr, m.err_count):
            self.mismatch(
                f"(err_o, err_addr_o, err_count_o) = {got}, model "
                f"{(int(m.err), m.err_addr, m.err_count)}"
            )
        # this cycle
        s = self.monitor.sample()
        tr = self.monitor.observe(s)
        prev, self.prev = self.prev, s
        if self.read("pready_o") != 1:
            self.fail("pready_o low (the block has zero wait states)")
        pulses = (self.read("wr_pulse_o"), self.read("rd_pulse_o"))
        wr_req, prdata, pslverr = (self.read(k) for k in ("wr_req_o", "prdata_o", "pslverr_o"))
        if tr is None:  # no access phase
            if s.psel:
                self._cover_spacing(prev)
            else:
                self.idle_run += 1
                if self.junk_now:
                    self.cov.hit("junk_on_idle")
            if (wr_req, prdata, pslverr) != (0, 0, 0) or pulses != (0, 0):
                self.fail(
                    f"outside an access: wr_req_o={wr_req}, prdata_o={prdata:#x}, "
                    f"pslverr_o={pslverr}, wr_pulse_o={pulses[0]:#x}, rd_pulse_o={pulses[1]:#x}"
                )
            if self.clr_now:
                m.clear_err()
                self.cov.hit("err_clr")
            return
        self.idle_run = 0
        self._check_access(tr.write, tr.addr, tr.data, wr_req, prdata, pslverr, pulses)

    def _cover_spacing(self, prev: ApbSample | None) -> None:
        """A setup phase: right after a completed transfer, or after idle cycles."""
        if prev is not None and prev.completes:
            self.cov.hit("back_to_back")
        elif self.idle_run:
            self.cov.hit("idle_gap")

    def _check_access(
        self,
        write: bool,
        addr: int,
        data: int,
        wr_req: int,
        prdata: int,
        pslverr: int,
        pulses: tuple[int, int],
    ) -> None:
        m = self.model
        idx = self.cfg.decode(addr)
        legal = idx is None or rule_legal(self.err_idx, idx, data)
        if idx is not None:
            m.ro[idx] = self.rd_word(idx)
        had_err = m.err
        a = m.access(write, addr, data if write else 0, legal, bool(self.clr_now))
        self.checked += 1
        # the slots themselves after each write (where a full read is cheap; the fold and the
        # reads of the slot check the rest)
        self.full_check = a.wr_pulse and self.n <= 32
        self._cover_access(a, legal, had_err)
        # model-independent: the request view and the veto follow the bus
        if wr_req != (write and idx is not None):
            self.fail(f"wr_req_o={wr_req} for a {'write' if write else 'read'} of {addr:#x}")
        if wr_req:
            got = (self.read("wr_idx_o"), self.read("wr_data_o"), self.read("wr_err_o"))
            if got != (idx, data, int(not legal)):
                self.fail(
                    f"write of {data:#x} to {addr:#x}: (wr_idx_o, wr_data_o, veto) = {got}, "
                    f"expected {(idx, data, int(not legal))}"
                )
        if not write and prdata and pslverr:
            self.fail(f"read of {addr:#x} answered with pslverr and prdata_o={prdata:#x}")
        # against the model
        want_pulses = (
            (1 << a.idx) if a.wr_pulse else 0,  # type: ignore[operator]
            (1 << a.idx) if a.rd_pulse else 0,  # type: ignore[operator]
        )
        got_all = (0 if write else prdata, pslverr, pulses)
        want_all = (0 if write else a.data, int(a.slverr), want_pulses)
        if got_all != want_all or (write and prdata):
            self.mismatch(
                f"{'write' if write else 'read'} of {addr:#x} (data {data:#x}, legal {legal}, "
                f"err_clr {self.clr_now}): (prdata, pslverr, (wr_pulse, rd_pulse)) = "
                f"{(prdata, pslverr, pulses)}, model {want_all}"
            )
        self.pred.append(a)

    def _cover_access(self, a: CsrAccess, legal: bool, had_err: bool) -> None:
        cov = self.cov
        op = "wr" if a.write else "rd"
        if a.idx is None:
            cov.hit(f"{op}_unaligned" if a.addr & 3 else f"{op}_out_of_range")
        else:
            kind = self.kinds[a.idx]
            cov.hit(f"{op}_{kind.value}")
            if a.idx == 0:
                cov.hit("idx_0")
            if a.idx == self.n - 1:
                cov.hit("idx_max")
            if a.write and kind is not SlotKind.RO and a.idx == self.err_idx:
                cov.hit("wr_rule_slot_legal" if legal else "wr_veto")
            if not a.write and self.junk_now:
                cov.hit("junk_on_read")
            now, before = self.rd_word(a.idx), self.rd_word(a.idx, self.rd_base_prev)
            if not a.write and kind is not SlotKind.RW and now != before:
                cov.hit("ro_changed_since_setup")
        if a.slverr:
            if self.clr_now:
                cov.hit("err_clr_with_error")
            elif had_err:
                cov.hit("err_first_kept")
        elif self.clr_now:
            cov.hit("err_clr")

    # ----- stimulus -------------------------------------------------------------------------
    def random_addr(self) -> int:
        """Mostly valid slots (every kind, the rule's slot and both ends), then unaligned,
        beyond the slots, or anywhere."""
        r, aw = self.rng, self.cfg.addr_w
        u = r.random()
        if u < 0.75:
            pick = r.random()
            if pick < 0.15:
                idx = self.err_idx
            elif pick < 0.25:
                idx = r.choice((0, self.n - 1))
            else:
                idx = r.randrange(self.n)
            return 4 * idx
        if u < 0.87:
            return (4 * r.randrange(self.n) + r.randint(1, 3)) & ((1 << aw) - 1)
        if u < 0.95 and self.words_out > 0:
            return 4 * (self.n + r.randrange(self.words_out)) + r.choice((0, 0, 0, 1, 2, 3))
        return r.getrandbits(aw)

    def random_data(self, addr: int) -> int:
        d = self.rng.getrandbits(32)
        if addr == 4 * self.err_idx:  # the rule's slot: legal and illegal values
            d = d | (1 << 31) if self.rng.random() < 0.5 else d & 0x7FFFFFFF
        return d

    def _on_transfer(self, t: ApbTransfer) -> None:
        """Master listener: each completed transfer must match the checker's prediction."""
        if not self.pred:
            self.fail(f"the master completed {t} that the checker did not see")
        a = self.pred.popleft()
        if (t.write, t.addr) != (a.write, a.addr):
            self.fail(f"master transfer {t} does not match the monitored access {a}")
        if (t.data, t.slverr) != (a.data, a.slverr):
            self.mismatch(f"master got (data, slverr) {(t.data, t.slverr)}, model {a}")
        if t.wait_states:
            self.fail(f"{t.wait_states} wait states (the block has none)")

    async def transfer(self, write: bool, addr: int, data: int = 0) -> ApbTransfer:
        """One transfer through the master (checked by :meth:`_on_transfer`)."""
        try:
            return await self.master.transfer(write, addr, data)
        except ApbError as e:
            if self.expect_fail:
                raise UnexpectedBenchError(str(e)) from e
            raise

    async def random_traffic(self, n: int, p_write: float = 0.5) -> None:
        for _ in range(n):
            write = self.rng.random() < p_write
            addr = self.random_addr()
            await self.transfer(write, addr, self.random_data(addr) if write else 0)

    async def settle(self) -> None:
        """Two idle cycles, so the checker has seen the last transfer."""
        for _ in range(2):
            await FallingEdge(self.dut.clk_i)
        await ReadOnly()
        await FallingEdge(self.dut.clk_i)
        if self.pred:
            self.fail(f"{len(self.pred)} monitored accesses the master did not complete")

    def required_traffic(self) -> list[str]:
        """Bins every random run must reach (as this parameter set allows)."""
        bins = ["idx_0", "idx_max", "rd_unaligned", "wr_unaligned"]
        bins += ["err_clr", "err_clr_with_error", "err_first_kept"]
        bins += ["junk_on_read"]
        for k in SlotKind:
            if self.has(k):
                bins += [f"rd_{k.value}", f"wr_{k.value}"]
        if self.has(SlotKind.RO) or self.has(SlotKind.EXT):
            bins.append("ro_changed_since_setup")
        if self.kinds[self.err_idx] is not SlotKind.RO:
            bins += ["wr_veto", "wr_rule_slot_legal"]
        if self.words_out > 0:
            bins += ["rd_out_of_range", "wr_out_of_range"]
        return bins


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------

#: Idle cycles before each transfer, per run_random variant.
VARIANTS: dict[str, int | tuple[int, int]] = {"b2b": 0, "idle": (0, 3), "sparse": (1, 6)}


@cocotb.test()
@cocotb.parametrize(variant=list(VARIANTS))
async def run_random(dut, variant: str) -> None:
    """400 random transfers (every slot kind, vetoed writes, address errors, clears) with the
    variant's spacing; the same regardless of N_REGS."""
    tb = TB(dut, idle=VARIANTS[variant])
    await tb.start()
    await tb.random_traffic(400)
    await tb.settle()
    req = tb.required_traffic()
    idle = VARIANTS[variant]
    if idle != 0:
        req += ["idle_gap", "junk_on_idle"]
    if idle == 0 or isinstance(idle, tuple) and idle[0] == 0:
        req.append("back_to_back")
    tb.log.info("%d transfers checked in %d cycles", tb.checked, tb.cycle)
    tb.cov.check(req, tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous resets between transfers, with registers written and the sticky error
    set; traffic goes on after each."""
    tb = TB(dut, idle=(0, 2))
    await tb.start()
    for _ in range(3):
        await tb.random_traffic(60)
        if not tb.model.err:
            await tb.transfer(False, 1)  # an unaligned read: sets the sticky error
        await tb.reset_mid()
    await tb.random_traffic(60)
    await tb.settle()
    req = ["reset_with_err"]
    if tb.has(SlotKind.RW):
        req.append("reset_with_writes")
    tb.cov.check(req, tb.log)


@cocotb.test()
async def run_counter_saturation(dut) -> None:
    """err_count_o deposited just below 2^32-1 must stick at 2^32-1."""
    tb = TB(dut, idle=(0, 1), clr_prob=0.2)
    await tb.start()
    await tb.random_traffic(20)
    await tb.settle()
    await FallingEdge(dut.clk_i)
    start = COUNTER_MAX - 3
    dut.u_csr.err_cnt_q.value = start  # the DUT is idle; the checker's model follows
    tb.model.err_count = start
    for _ in range(8):
        await tb.transfer(True, 1, 0)  # unaligned: always an error
    await tb.settle()
    assert tb.model.err_count == COUNTER_MAX
    assert tb.read("err_count_o") == COUNTER_MAX


def regmap_of(cfg: CsrConfig, err_idx: int) -> RegMap:
    """A register map whose slots have the kinds of ``cfg`` (reset values of RW slots as
    fields) and whose legality rule is the wrapper's (``bad`` bit 31 of the rule's slot)."""
    regs = []
    for i in range(cfg.n_regs):
        k = cfg.kind(i)
        if k is SlotKind.RW:
            rv = cfg.reset_val[i]
            fields = (
                RegField("lo", 0, 16, reset=rv & 0xFFFF, desc="low half"),
                RegField("mid", 16, 15, reset=(rv >> 16) & 0x7FFF),
                RegField(
                    "bad",
                    31,
                    1,
                    reset=rv >> 31,
                    legal=(0, 0) if i == err_idx else None,
                    desc="must stay 0" if i == err_idx else "",
                ),
            )
        elif k is SlotKind.EXT:
            fields = (
                RegField("go", 0, access=FieldAccess.W1S, desc="command"),
                RegField("ack", 1, access=FieldAccess.W1C),
                RegField("bad", 31, access=FieldAccess.W1S, legal=(0, 0) if i == err_idx else None),
            )
        else:
            fields = (RegField("value", 0, 32, FieldAccess.RO, desc="from the top"),)
        regs.append(Register(f"R{i}", i, fields))
    return RegMap("tb_cim_csr", tuple(regs))


@cocotb.test()
async def run_regmap(dut) -> None:
    """A RegMap of this parameter set reproduces the wrapper's parameters and rule; ApbRegs
    reads, read-modify-writes and refusals on it, under the same checker."""
    tb = TB(dut, idle=(0, 2), clr_prob=0.0)
    rmap = regmap_of(tb.cfg, tb.err_idx)
    cfg = rmap.config(addr_w=tb.cfg.addr_w)
    assert cfg == tb.cfg, f"RegMap derives {cfg}, wrapper has {tb.cfg}"
    for i in range(tb.n):
        for d in (0, 1 << 31, tb.rng.getrandbits(32)):
            legal = tb.kinds[i] is not SlotKind.RO and rule_legal(tb.err_idx, i, d)
            assert rmap.legal(i, d) == legal, (i, d)
    if tb.n <= 16:
        tb.log.info("register map of this parameter set:\n%s", rmap.to_markdown())
    await tb.start()
    regs = ApbRegs(tb.master, rmap)  # its transfers are checked like any other
    for r in rmap.registers[: min(len(rmap.registers), 24)]:
        if r.kind is SlotKind.RW:
            assert await regs.read(r.name) == r.reset
            await regs.write_fields(r.name, mid=0x1234)
            assert await regs.read_field(f"{r.name}.mid") == 0x1234
            assert await regs.read_field(f"{r.name}.lo") == r.reset & 0xFFFF
            if r.index == tb.err_idx:
                await regs.write_fields(r.name, bad=1, expect_error=True)
                assert await regs.read_field(f"{r.name}.bad") == 0
        elif r.kind is SlotKind.EXT:
            await regs.write_fields(r.name, go=1, ack=1)
            if r.index == tb.err_idx:
                await regs.write_fields(r.name, bad=1, expect_error=True)
        else:
            await regs.read(r.name)
            await regs.write(r.name, 0, expect_error=True)
    await tb.settle()


#: The wrapper's unconnected stub APB port (VIP self-test).
STUB = ApbSignalNames(
    psel="vs_psel_i",
    penable="vs_penable_i",
    pwrite="vs_pwrite_i",
    paddr="vs_paddr_i",
    pwdata="vs_pwdata_i",
    prdata="vs_prdata_i",
    pready="vs_pready_i",
    pslverr="vs_pslverr_i",
)


class StubSlave:
    """The slave side of the stub port, in Python: a word memory that answers after a random
    number of wait states, with pslverr on odd byte addresses, and random values
    on its outputs outside access phases. ``fault`` makes the next completing cycle drive X/Z
    on ``pready``, ``pslverr`` or ``prdata``; ``waits`` fixes the wait states.

    Args:
        dut: the wrapper.
        rng: explicit generator.
        max_wait: largest random wait-state count.
    """

    def __init__(self, dut, rng: random.Random, max_wait: int = 3) -> None:
        self.dut = dut
        self.rng = rng
        self.max_wait = max_wait
        self.mem: dict[int, int] = {}
        self.fault: str | None = None
        self.waits: int | None = None
        self.answered: list[tuple[bool, int, int, bool, int]] = []  # write, addr, data, err, waits

    async def run(self) -> None:
        d, r = self.dut, self.rng
        fe = FallingEdge(d.clk_i)
        prev = (0, 0, 0)  # psel, penable, pready of the last cycle
        req = (0, 0, 0)  # pwrite, paddr, pwdata of the last cycle
        left: int | None = None
        n = 0
        while True:
            await fe
            access = prev[0] and (not prev[1] or not prev[2])  # after setup or a wait state
            if not access:
                left = None
                d.vs_pready_i.value = r.getrandbits(1)
                d.vs_pslverr_i.value = r.getrandbits(1)
                d.vs_prdata_i.value = r.getrandbits(32)
            else:
                if left is None:
                    left = n = self.waits if self.waits is not None else r.randint(0, self.max_wait)
                if left:
                    left -= 1
                    d.vs_pready_i.value = 0
                    d.vs_pslverr_i.value = r.getrandbits(1)
                else:
                    self._complete(req, n)
            await ReadOnly()
            v = [int(getattr(d, f"vs_{k}_i").value) for k in ("psel", "penable")]
            ready = d.vs_pready_i.value
            prev = (v[0], v[1], int(ready) if ready.is_resolvable else 0)
            if v[0]:
                req = tuple(
                    int(getattr(d, f"vs_{k}_i").value) for k in ("pwrite", "paddr", "pwdata")
                )

    def _complete(self, req: tuple[int, ...], waits: int) -> None:
        d = self.dut
        write, addr, wdata = req
        err = bool(addr & 1)
        data = wdata if write else self.mem.get(addr, addr ^ 0x5A5A5A5A)
        if write and not err:
            self.mem[addr] = wdata
        d.vs_pready_i.value = 1
        d.vs_pslverr_i.value = int(err)
        d.vs_prdata_i.value = self.rng.getrandbits(32) if write else data
        if self.fault == "pready":
            d.vs_pready_i.value = Logic("X")
        elif self.fault == "pslverr":
            d.vs_pslverr_i.value = Logic("Z")
        elif self.fault == "prdata":
            d.vs_pslverr_i.value = 0
            d.vs_prdata_i.value = LogicArray("X" * 32)
        else:
            self.answered.append((bool(write), addr, data, err, waits))
        self.fault = None


@cocotb.test()
async def run_vip_self_test(dut) -> None:
    """tb.vip.apb against a Python stub slave on the wrapper's unconnected stub port: wait
    states, slave errors, the master's wait-state limit and X/Z checks (X/Z on Icarus only:
    Verilator is two-state), and the monitor's protocol checks on hand-driven violations."""
    tb = TB(dut)  # cim_csr stays idle (its checker keeps running)
    await tb.start()
    rng = random.Random(f"{cocotb.RANDOM_SEED}:stub")
    stub = StubSlave(dut, rng)
    cocotb.start_soon(stub.run())
    master = ApbMaster(dut, dut.clk_i, names=STUB, idle_cycles=(0, 2), rng=rng, max_wait_states=4)
    done: list[ApbTransfer] = []
    master.listeners.append(done.append)
    seen: list[ApbTransfer] = []
    mon = ApbMonitor(dut, dut.clk_i, names=STUB, callback=seen.append)
    mon.start()
    aw = tb.cfg.addr_w
    for _ in range(60):
        addr = rng.getrandbits(aw)  # the stub takes any address; odd ones are errors
        if rng.random() < 0.5:
            await master.write(addr, rng.getrandbits(32))
        else:
            await master.read(addr)
    await FallingEdge(dut.clk_i)
    await FallingEdge(dut.clk_i)
    mon.stop()
    got = [(t.write, t.addr, t.data, t.slverr, t.wait_states) for t in done]
    assert got == stub.answered, "master results differ from the stub's answers"
    assert [(t.write, t.addr, t.data, t.slverr, t.wait_states) for t in seen] == got
    assert {t.wait_states for t in done} == {0, 1, 2, 3}
    assert any(t.slverr for t in done) and not all(t.slverr for t in done)
    assert all(b.t_start_ns == a.t_start_ns for a, b in zip(done, seen, strict=True))

    async def expect(pattern: str, coro) -> None:  # noqa: ANN001 - a coroutine
        with pytest.raises(ApbProtocolError, match=pattern):
            await coro
        await FallingEdge(dut.clk_i)
        master.drive_idle()
        stub.waits = None
        await FallingEdge(dut.clk_i)

    stub.waits = 6
    await expect("pready low for more than 4 cycles", master.read(0))
    if "verilator" not in cocotb.SIM_NAME.lower():
        for sig, pattern in (("pready", "vs_pready_i"), ("pslverr", "vs_pslverr_i")):
            stub.fault = sig
            await expect(f"{pattern} is [XZ]", master.write(0, 1))
        stub.fault = "prdata"
        await expect("vs_prdata_i is X", master.read(2))

    # the monitor's checks, on hand-driven cycles (the master stays idle)
    async def cycle(**pins: int) -> ApbTransfer | None:
        await FallingEdge(dut.clk_i)
        for k, v in pins.items():
            getattr(dut, f"vs_{k}_i").value = v
        await ReadOnly()
        return mon.observe(mon.sample())

    stub.waits = 0
    idle = {"psel": 0, "penable": 0}
    setup = {"psel": 1, "penable": 0, "pwrite": 1, "paddr": 2, "pwdata": 3}  # fits ADDR_W 2
    cases = [
        ([{"psel": 0, "penable": 1}], "penable high without psel"),
        ([{"psel": 1, "penable": 1}], "access phase without a setup phase"),
        ([setup, {"penable": 1, "paddr": 3}], "paddr changed"),
        ([setup, {"penable": 1, "pwdata": 4}], "pwdata changed"),
        ([setup, {"psel": 0}], "psel dropped"),
        ([setup, setup], "penable low in the cycle after a setup"),
    ]
    for steps, pattern in cases:
        mon.reset()
        await cycle(**idle)
        with pytest.raises(ApbProtocolError, match=pattern):
            for st in steps:
                await cycle(**st)
    mon.reset()
    await cycle(**idle)
    assert await cycle(**setup) is None
    t = await cycle(penable=1)
    assert t is not None and (t.write, t.addr, t.data, t.wait_states) == (True, 2, 3, 0)
    await cycle(**idle)


class _WrongModel(CsrModel):
    """Deliberately wrong reference: ignores the top's veto (stores illegal writes)."""

    def _legal(self, idx: int, data: int, legal: bool) -> bool:
        return True


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:
    """The scoreboard, fed a wrong model, must report a mismatch (this test passes only if
    the bench fails with a ScoreboardError). Every parameter set has a writable rule slot."""
    tb = TB(dut, idle=(0, 2), expect_fail=True)
    tb.model = _WrongModel(tb.cfg)
    await tb.start()
    await tb.random_traffic(300)
    await tb.settle()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    # one RW slot, the narrowest address (only unaligned addresses are errors)
    "n1a2": {"N_REGS": 1, "ADDR_W": 2, "RW_PAT": 0x1, "EXT_PAT": 0x0, "RV_SEED": 1, "ERR_IDX": 0},
    # every kind: 0, 1, 4 RW; 2 RO; 3 EXT; addresses beyond the slots
    "n5a6": {"N_REGS": 5, "ADDR_W": 6, "RW_PAT": 0x13, "EXT_PAT": 0x08, "RV_SEED": 2, "ERR_IDX": 1},
    # the RTL defaults (12 RW with reset 0, 3 RO, 1 EXT); the rule on the EXT slot
    "n16a12": {
        "N_REGS": 16,
        "ADDR_W": 12,
        "RW_PAT": 0x0FFF,
        "EXT_PAT": 0x8000,
        "RV_SEED": 0,
        "ERR_IDX": 15,
    },
    # no RW slot at all, the widest address
    "n3a32": {"N_REGS": 3, "ADDR_W": 32, "RW_PAT": 0x0, "EXT_PAT": 0x2, "RV_SEED": 3, "ERR_IDX": 1},
    # the most slots, address space exactly full (only unaligned addresses are errors)
    "n256a10": {
        "N_REGS": 256,
        "ADDR_W": 10,
        "RW_PAT": 0xA5C3,
        "EXT_PAT": 0x1A14,
        "RV_SEED": 12346,
        "ERR_IDX": 255,
    },
}


def test_param_sets_cover_corners() -> None:
    """The parameter sets reach the corners of the legal ranges, every set has a writable
    rule slot (run_expect_fail needs one) whose reset value obeys the rule (run_regmap's map
    states the rule as a legal range, which the reset value must satisfy), and the wrapper's
    maps are legal configs."""
    cfgs = {k: slot_config(p) for k, p in PARAM_SETS.items()}
    assert {1, 256} <= {c.n_regs for c in cfgs.values()}
    assert any(c.addr_w == 32 for c in cfgs.values())
    assert any(c.addr_w == (c.n_regs - 1).bit_length() + 2 for c in cfgs.values())
    kinds = [{c.kind(i) for i in range(c.n_regs)} for c in cfgs.values()]
    assert any(k == set(SlotKind) for k in kinds)
    for k in SlotKind:
        assert any(k not in ks for ks in kinds), f"every set has a {k.value} slot"
    assert any(not any(c.reset_val) and c.rw_mask for c in cfgs.values())
    for name, p in PARAM_SETS.items():
        assert cfgs[name].kind(p["ERR_IDX"]) is not SlotKind.RO, name
        assert rule_legal(p["ERR_IDX"], p["ERR_IDX"], cfgs[name].reset_val[p["ERR_IDX"]]), name
    assert any(v >> 31 for c in cfgs.values() for v in c.reset_val)  # bit 31 set elsewhere
    assert slot_config(PARAM_SETS["n16a12"]) == CsrConfig()  # the RTL defaults


@pytest.mark.sim
@pytest.mark.parametrize("params", list(PARAM_SETS.values()), ids=list(PARAM_SETS))
@pytest.mark.parametrize("sim", simulators())
def test_cim_csr(sim: str, params: dict[str, int], request: pytest.FixtureRequest) -> None:
    run_bench(
        sim=sim,
        nodeid=request.node.nodeid,
        toplevel="tb_cim_csr",
        module="test_cim_csr",
        sources=[RTL / "cim_csr.sv", HERE / "tb_cim_csr.sv"],
        parameters=params,
        bench_dir=HERE,
    )
