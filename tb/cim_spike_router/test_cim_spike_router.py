"""cocotb bench of ``rtl/cim_spike_router.sv`` against ``rramcim.golden.spike_router``.

Structure: a :class:`TB` owns the pins and runs one step per clock cycle. On the falling edge
it drives every input for the next rising edge: the event source (AER beats of the current
frame after random idle gaps, held while stalled, garbage on the address pins while
``ev_valid_i`` is low), ``wr_en_i`` (random pauses), the write configuration of the current
frame (garbage while the write side is idle), ``clr_i`` pulses, ``emit_start_i`` pulses with
their read configuration (garbage on the ``cfg_rd_*`` pins otherwise) and ``vec_ready_i``
(random back-pressure). In the ``ReadOnly`` phase after those writes it reads the outputs, so
every handshake of the coming edge is known, identically on Icarus and Verilator.

Reference: the golden :class:`~rramcim.golden.spike_router.SpikeRouterModel` (banks,
counters, sticky flags) plus a cycle model of the write side (the FIFO as a deque and the
one-stage write pipeline W1), which predicts ``ev_ready_o``, ``wr_busy_o``, ``frame_done_o``
and every counter and flag in every cycle: this pins down the write latency (pop one edge
after the FIFO takes a beat, write one edge after the pop), one event per cycle with
back-to-back events to one word, and frame_done_o's timing. The combinational
``err_cfg_wr_o`` / ``err_cfg_rd_o`` are compared with the golden configuration checks in
every cycle, under the garbage the bench drives between uses. On the emit side each start is
answered by the model's tile list (snapshot of the bank at the start edge); every transferred
tile is compared (data, last, end, position), a stalled tile must stay unchanged, and without
back-pressure every tile must appear exactly in the cycle :func:`tile_valid_edges` gives (one
bank word per cycle, one extra cycle per tile boundary inside a kernel row, vectors back to
back) and emit_busy_o must fall one edge after the last one.

Stimulus: "frames" like a spiking layer's timesteps, double-buffered like the PRIME top: a
frame is a legal clear of its bank, its write configuration (random dimensions, pooling shift,
count width), a burst of events (uniform, repeated addresses for saturation and the bypass,
the same word at another column, and addresses outside the frame in each coordinate), an
end-of-frame marker, and after frame_done_o one or two emits of the bank with random kernels,
paddings and tile heights (TR < K, TR not a multiple of K, TR = KV, fully connected K = H = W,
now and then other dimensions than the ones written). The next frame is written into the
other bank while the emit runs. Now and then a legal clear in the middle of a frame (with a
pop on the same edge) and a one- or two-cycle illegal write configuration (the write side must
stall, nothing lost).

Randomness: ``random.Random`` generators keyed by cocotb's per-test seed (logged at the start
of each test). cocotb logs the regression seed at start-up; ``SEED=<it>``
(``COCOTB_RANDOM_SEED``) reproduces a run.

Testplan (feature -> tests that check it)

- event counting bit-exact: pooling shift, saturation at 2^bits - 1, bad c / y / x discarded
  and counted, counters and err_addr_o every cycle -> run_random (bins pool, sat, bad_c,
  bad_y, bad_x), all tests
- one event per cycle incl. back-to-back events to one word (bypass) -> run_random (bin
  bypass; ev_ready_o / wr_busy_o predicted every cycle, no stall in the full variant)
- FIFO full and back-pressure of the source, wr_en_i pauses, nothing dropped -> run_random
  (bins fifo_full, ev_stall, wr_en_wait)
- illegal write configuration stalls the write side -> run_random (bin wr_cfg_stall),
  run_errors; err_cfg_wr_o / err_cfg_rd_o = golden check every cycle (bins cfg_wr_bad,
  cfg_wr_ok, cfg_rd_bad, cfg_rd_ok)
- end of frame: frame_done_o one cycle, frame_count_o, emit started in the frame_done_o cycle
  -> run_random (bins frame_done, start_at_frame_done, empty_frame)
- emit vectors = unfold columns split into tiles, order, last / end flags, positions -> every
  emit of every test; padding, tile straddling a kernel row, multi-tile vectors, TR < K,
  fully connected, reading with other dimensions (x >= W masked) -> run_random (bins pad,
  straddle, multi_tile, tile_lt_k, fc, reinterpret), run_prime_layers (PRIME's conv0, conv1
  and fc where the parameters allow, else scaled versions)
- emit timing without back-pressure (first tile, tile spacing, emit_busy_o) -> run_random[full,
  idle], run_prime_layers; back-pressure: tile held stable, nothing lost -> run_random
  [backpress, mixed] (bin vec_stall)
- both banks, writing one bank while emitting the other -> run_random (bins emit_bank0,
  emit_bank1, write_while_emit)
- clear: legal clear at the frame start, legal clear mid-frame with a pop on its edge
  (clear_mid_frame, clear_with_pop); illegal clears of the emitting bank and of the bank W1
  writes: ignored, err_clr_o -> run_random, run_errors (bins clr_illegal_emit,
  clr_illegal_write)
- refused starts (while busy, bad configuration): no output, err_start_o -> run_errors
- counters stick at 2^32 - 1 -> run_counter_saturation
- asynchronous reset with the FIFO full, an event in W1, a tile stalled and an emit mid-vector:
  outputs clear at once, ev_ready_o low one cycle after, banks read as zero afterwards ->
  run_reset_mid (bins reset_<where>)
- the checker catches a wrong model (kernel row and column swapped) -> run_expect_fail
- parameter corners (N_ROWS 2 and 512, EL_W 1 and 8, MAX_K 1 and 16, FIFO_DEPTH 2 and 16,
  ADDR_W 2 .. 8, non-power-of-two N_ROWS and MAX_CH_ROWS) -> PARAM_SETS

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

from rramcim.golden.spike_router import (
    COUNTER_MAX,
    ReadConfig,
    RouterParams,
    SpikeRouterModel,
    Tile,
    WriteConfig,
    pack_elements,
    tile_valid_edges,
    unpack_elements,
    window_vectors,
)
from tb.vip.coverage import Coverage
from tb.vip.params import param
from tb.vip.runner import RTL, run_bench, simulators

CLK_PERIOD_NS = 10
#: Longest idle gap of the event source (cycles).
MAX_GAP = 3
#: Emit cycles (output positions x chunks) one random read configuration may cost.
EMIT_BUDGET = 400

Beat = tuple[int, int, int] | None  # an event (c, y, x) or an end-of-frame marker (None)

COUNTERS = ("ev_count_o", "bad_count_o", "sat_count_o", "frame_count_o", "vec_count_o")
FLAGS = ("err_addr_o", "err_clr_o", "err_start_o")


class ProtocolError(AssertionError):
    """The DUT broke the interface contract (handshake, timing, counters, flags)."""


class ScoreboardError(AssertionError):
    """A tile differs from the model's prediction."""


class UnexpectedBenchError(RuntimeError):
    """A protocol error in ``run_expect_fail`` (must not count as the expected failure)."""


@dataclass
class Frame:
    """One timestep: write configuration, events, then the emits of its bank.

    ``mid_clear``: index of the event before which a legal clear of the bank is pulsed (with
    ``wr_en_i`` low one cycle before, so that no write is in flight).
    """

    wr: WriteConfig
    events: list[tuple[int, int, int]]
    reads: list[ReadConfig]
    mid_clear: int | None = None
    sent: int = 0  # beats presented so far (events, then the marker)


@dataclass
class Emit:
    """An accepted start as the bench tracks it."""

    cfg: ReadConfig
    tiles: deque[Tile]
    packed: deque[int]
    cycles: deque[int] | None  # cycle each tile is valid in (no back-pressure), else None
    n_tiles: int = 0
    done: int = 0


class TB:
    """Pins, driver, cycle model and scoreboard of ``cim_spike_router``.

    Args:
        dut: the cocotb handle of the top level.
        idle_prob: probability of an idle gap (1 .. MAX_GAP cycles) before an event.
        bp_prob: probability that ``vec_ready_i`` is low in a cycle.
        pause_prob: probability that ``wr_en_i`` is low in a cycle (plus pause windows of
            2*FIFO_DEPTH + 4 cycles with the same probability / 8).
        expect_fail: protocol errors raise :class:`UnexpectedBenchError`, so that only a
            scoreboard mismatch counts as the expected failure.
    """

    def __init__(
        self,
        dut,
        *,
        idle_prob: float = 0.0,
        bp_prob: float = 0.0,
        pause_prob: float = 0.0,
        expect_fail: bool = False,
    ) -> None:
        self.dut = dut
        self.log = logging.getLogger("cocotb.tb")
        names = ("N_ROWS", "EL_W", "MAX_W", "MAX_CH_ROWS", "MAX_K", "FIFO_DEPTH", "ADDR_W")
        self.hdl = {n: param(n) for n in names}
        self.p = RouterParams.from_hdl(self.hdl)
        self.model = SpikeRouterModel(self.p)
        seed = cocotb.RANDOM_SEED
        self.log.info(
            "per-test seed %d (regression seed: logged by cocotb at start-up; SEED=<it> "
            "reproduces), params %s",
            seed,
            self.hdl,
        )
        self.rng = random.Random(f"{seed}:stim")
        self.rng_drv = random.Random(f"{seed}:drv")
        self.rng_out = random.Random(f"{seed}:out")
        self.idle_prob = idle_prob
        self.bp_prob = bp_prob
        self.pause_prob = pause_prob
        self.expect_fail = expect_fail
        self.cov = Coverage()
        self.cycle = 0
        self.frames: deque[Frame] = deque()
        self.bank_dims: dict[int, tuple[int, int, int]] = {}  # dimensions last written
        self.reset_plan: list[str] = []
        # one-shot illegal actions (run_errors)
        self.inject: set[str] = set()
        self.pins = {n: getattr(dut, n) for n in self._outputs()}
        self._reset_state()

    @staticmethod
    def _outputs() -> list[str]:
        return [
            "ev_ready_o",
            "wr_busy_o",
            "frame_done_o",
            "err_cfg_wr_o",
            "err_cfg_rd_o",
            "emit_busy_o",
            "vec_valid_o",
            "vec_last_o",
            "vec_end_o",
            "vec_oy_o",
            "vec_ox_o",
            *COUNTERS,
            *FLAGS,
        ]

    # ----- bookkeeping ----------------------------------------------------------------------
    def _reset_state(self) -> None:
        self.fifo: deque[Beat] = deque()
        self.w1: tuple[Beat, WriteConfig] | None = None
        self.fd_now = False  # frame_done_o expected in this cycle
        self.rdy_en = False
        self.cur: Frame | None = None  # frame being written
        self.inflight: deque[Frame] = deque()  # frames whose marker is accepted, not applied
        self.jobs: deque[ReadConfig] = deque()  # emits waiting for a start
        self.emit: Emit | None = None
        self.presenting: Beat | bool = False  # False: nothing presented
        self.gap = 0
        self.gap_done = False
        self.pause = 0
        self.midclr = 0  # 2: a mid-frame clear is pulsed in the next cycle
        self.wr_cfg: WriteConfig | None = None  # on the pins (None: garbage)
        self.wr_cfg_pins = WriteConfig(1, 1, 1, bits=1)  # legal: re-driven after a reset
        self.wr_bad = False
        self.wr_glitch = 0
        self.rd_cfg_pins = ReadConfig(1, 1, 1, 1, tile=1)
        self.rd_bad = False
        self.ev_valid = False
        self.clr_now: tuple[int, str] | None = None
        self.start_now: tuple[ReadConfig, str] | None = None
        self.vec_ready = 0
        self.wr_en = 0
        self.stall_val: tuple | None = None
        self.since_reset = 0
        self.ev_stalls = 0

    def fail(self, msg: str) -> None:
        full = f"cycle {self.cycle}: {msg} (per-test seed {cocotb.RANDOM_SEED})"
        raise (UnexpectedBenchError if self.expect_fail else ProtocolError)(full)

    def read(self, name: str) -> int:
        """Unsigned value of an output (``int()`` raises on X/Z)."""
        return int(self.pins[name].value)

    def em_bank_busy(self, bank: int) -> bool:
        """The bank is being emitted or waits for an emit (the writer must not touch it)."""
        if self.emit is not None and self.emit.cfg.bank == bank:
            return True
        if any(j.bank == bank for j in self.jobs) or any(f.wr.bank == bank for f in self.inflight):
            return True
        return self.start_now is not None and self.start_now[0].bank == bank

    def wr_idle(self) -> bool:
        return not self.fifo and self.w1 is None and self.presenting is False

    def idle(self) -> bool:
        return (
            not self.frames
            and self.cur is None
            and not self.inflight
            and not self.jobs
            and self.emit is None
            and self.wr_idle()
        )

    # ----- stimulus -------------------------------------------------------------------------
    def rand_dims(self, small: bool = True) -> tuple[int, int, int]:
        """Frame dimensions (C, H, W), mostly small."""
        r, p = self.rng, self.p
        lim = min(p.max_w, p.addr_max)
        top = min(lim, 8) if small and r.random() < 0.8 else lim
        h, w = r.randint(1, min(top, p.max_ch_rows)), r.randint(1, top)
        cmax = min(p.addr_max, p.max_ch_rows // h)
        c = r.randint(1, min(cmax, 4) if small and r.random() < 0.8 else cmax)
        return c, h, w

    def rand_tile(self, k: int, kv: int) -> int:
        r, n = self.rng, self.p.n_rows
        choices = [r.randint(1, n), n, kv, max(1, k - 1), k, 2 * k + 1, kv // 2 + 1, 1]
        return min(max(1, r.choice(choices)), n)

    def rand_read(
        self, c: int, h: int, w: int, bank: int, budget: int = EMIT_BUDGET
    ) -> ReadConfig | None:
        """A legal emit configuration for a C x H x W frame costing at most ``budget``
        cycles (None if 40 draws found none)."""
        r, p = self.rng, self.p
        for _ in range(40):
            pad = r.randint(0, p.max_k - 1) if r.random() < 0.6 else 0
            kmax = min(p.max_k, h + 2 * pad, w + 2 * pad)
            k = kmax if r.random() < 0.25 else r.randint(1, kmax)
            cfg = ReadConfig(c, h, w, k, pad, 1, bank)
            cfg = ReadConfig(c, h, w, k, pad, self.rand_tile(k, cfg.kv), bank)
            if cfg.errors(p):
                continue
            if cfg.n_vectors * cfg.chunks_per_vector <= budget:
                return cfg
        return None

    def rand_events(self, wr: WriteConfig, n: int) -> list[tuple[int, int, int]]:
        r, p, s = self.rng, self.p, wr.shift
        amax = p.addr_max
        ylim = min(amax, (wr.h << s) - 1)
        xlim = min(amax, (wr.w << s) - 1)
        bad_kinds = []
        if wr.c <= amax:
            bad_kinds.append("c")
        if (wr.h << s) <= amax:
            bad_kinds.append("y")
        if (wr.w << s) <= amax:
            bad_kinds.append("x")
        ev: list[tuple[int, int, int]] = []
        while len(ev) < n:
            u = r.random()
            if u < 0.07 and bad_kinds:
                c, y, x = r.randint(0, wr.c - 1), r.randint(0, ylim), r.randint(0, xlim)
                kind = r.choice(bad_kinds)
                hi = r.random() < 0.3
                if kind == "c":
                    c = amax if hi else r.randint(wr.c, amax)
                elif kind == "y":
                    y = amax if hi else r.randint(wr.h << s, amax)
                else:
                    x = amax if hi else r.randint(wr.w << s, amax)
                ev.append((c, y, x))
            elif u < 0.25 and ev:
                ev.extend([ev[-1]] * r.randint(1, 4))  # the same element again (saturation)
            elif u < 0.35 and ev:
                c, y, _ = ev[-1]
                ev.append((c, y, r.randint(0, xlim)))  # the same word, another column
            else:
                ev.append((r.randint(0, wr.c - 1), r.randint(0, ylim), r.randint(0, xlim)))
        return ev[:n]

    def rand_frame(self, bank: int) -> Frame:
        r, p = self.rng, self.p
        if r.random() < 0.12:  # fully connected: K = H = W
            h = w = r.randint(1, min(p.max_k, p.max_w, p.addr_max, p.max_ch_rows))
            c = r.randint(1, min(p.addr_max, p.max_ch_rows // h, 8))
            read = ReadConfig(c, h, w, h, 0, self.rand_tile(h, c * h * h), bank).check(p)
        else:
            for _ in range(20):  # dimensions that some emit within the budget can read
                c, h, w = self.rand_dims()
                read = self.rand_read(c, h, w, bank)
                if read is not None:
                    break
            else:
                c = h = w = 1
                read = ReadConfig(1, 1, 1, 1, 0, 1, bank)
        shift, bits = r.choice((0, 0, 1, 2, 3)), r.randint(1, p.el_w)
        wr = WriteConfig(c, h, w, shift, bits, bank).check(p)
        n = 0 if r.random() < 0.05 else r.randint(1, min(60, 2 * c * h * w + 4))
        reads = [read]
        if r.random() < 0.3:  # the same bank again, maybe read with other dimensions
            dims = self.rand_dims() if r.random() < 0.6 else (c, h, w)
            again = self.rand_read(*dims, bank)
            if again is not None:
                reads.append(again)
        mid = None  # a legal clear mid-frame (needs a wr_en_i pause: not at full speed)
        if self.pause_prob and n > 4 and r.random() < 0.25:
            mid = r.randint(0, n - 1)
        return Frame(wr, self.rand_events(wr, n), reads, mid)

    def directed_bad_frame(self) -> Frame:
        """A 1 x 1 x 1 frame hit by an event outside it in each coordinate (and in all three
        at the largest address), between good events that saturate its 1-bit count."""
        a = self.p.addr_max
        ev = [(0, 0, 0), (1, 0, 0), (0, 0, 0), (0, 1, 0), (0, 0, 1), (a, a, a), (0, 0, 0)]
        bank = self.rng.randint(0, 1)
        wr = WriteConfig(1, 1, 1, 0, 1, bank).check(self.p)
        return Frame(wr, ev, [ReadConfig(1, 1, 1, 1, 0, 1, bank)])

    def plan_frames(self, n: int) -> None:
        """Queue ``n`` random frames, banks mostly alternating."""
        bank = self.rng.randint(0, 1)
        for _ in range(n):
            self.frames.append(self.rand_frame(bank))
            if self.rng.random() < 0.85:
                bank ^= 1

    def bad_write_cfg(self, good: WriteConfig) -> WriteConfig:
        """An illegal variant of ``good`` (one rule broken)."""
        p, r = self.p, self.rng_drv
        opts = [{"c": 0}, {"h": 0}, {"w": 0}, {"bits": 0}]
        if p.max_w < p.addr_max:
            opts += [{"w": p.max_w + 1}, {"h": p.max_w + 1}]
        if p.max_ch_rows < p.addr_max * p.addr_max:
            h = max(1, good.h)
            c = p.max_ch_rows // h + 1
            if c <= p.addr_max:
                opts.append({"c": c})
        if p.el_w < (1 << p.bits_w) - 1:
            opts.append({"bits": p.el_w + 1})
        kw = r.choice(opts)
        return WriteConfig(**{**good.__dict__, **kw})

    def garbage_read_cfg(self) -> ReadConfig:
        r, p = self.rng_drv, self.p
        if r.random() < 0.4:
            cfg = self.rand_read(*self.rand_dims(), r.randint(0, 1))
            if cfg is not None:
                return cfg
        return ReadConfig(
            r.getrandbits(p.addr_w),
            r.getrandbits(p.addr_w),
            r.getrandbits(p.addr_w),
            r.getrandbits(p.k_w),
            r.getrandbits(p.k_w),
            r.getrandbits(p.tile_w),
            r.getrandbits(1),
        )

    # ----- pins -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the clock, drive idle inputs and apply the initial reset."""
        d = self.dut
        Clock(d.clk_i, CLK_PERIOD_NS, unit="ns", impl="gpi").start()
        d.rst_ni.value = 0
        for name in ("ev_valid_i", "wr_en_i", "clr_i", "clr_bank_i", "emit_start_i"):
            getattr(d, name).value = 0
        d.vec_ready_i.value = 0
        self._drive_ev_garbage()
        self._drive_wr_cfg(self.wr_cfg_pins)
        self._drive_rd_cfg(self.rd_cfg_pins)
        for _ in range(3):
            await FallingEdge(d.clk_i)
        await ReadOnly()
        self._check_reset_values()
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        await ReadOnly()
        if self.read("ev_ready_o"):
            self.fail("ev_ready_o high in the first cycle after reset")
        self.rdy_en = True

    def _drive_ev_garbage(self) -> None:
        d, r, aw = self.dut, self.rng_drv, self.p.addr_w
        d.ev_valid_i.value = 0
        self.ev_valid = False
        d.ev_eof_i.value = r.getrandbits(1)
        d.ev_c_i.value = r.getrandbits(aw)
        d.ev_y_i.value = r.getrandbits(aw)
        d.ev_x_i.value = r.getrandbits(aw)

    def _drive_wr_cfg(self, cfg: WriteConfig) -> None:
        d = self.dut
        d.cfg_wr_bank_i.value = cfg.bank
        d.cfg_wr_c_i.value = cfg.c
        d.cfg_wr_h_i.value = cfg.h
        d.cfg_wr_w_i.value = cfg.w
        d.cfg_wr_shift_i.value = cfg.shift
        d.cfg_wr_bits_i.value = cfg.bits
        self.wr_cfg_pins = cfg
        self.wr_bad = bool(cfg.errors(self.p))  # err_cfg_wr_o expected

    def _drive_rd_cfg(self, cfg: ReadConfig) -> None:
        d = self.dut
        d.cfg_rd_bank_i.value = cfg.bank
        d.cfg_rd_c_i.value = cfg.c
        d.cfg_rd_h_i.value = cfg.h
        d.cfg_rd_w_i.value = cfg.w
        d.cfg_rd_k_i.value = cfg.k
        d.cfg_rd_pad_i.value = cfg.pad
        d.cfg_rd_tile_i.value = cfg.tile
        self.rd_cfg_pins = cfg
        self.rd_bad = bool(cfg.errors(self.p))  # err_cfg_rd_o expected

    def _check_reset_values(self) -> None:
        names = [n for n in self._outputs() if not n.startswith("err_cfg")]
        bad = {n: self.read(n) for n in names if self.read(n)}
        if int(self.dut.vec_data_o.value):
            bad["vec_data_o"] = 1
        if bad:
            self.fail(f"outputs not cleared by reset: {bad}")

    # ----- one clock cycle ------------------------------------------------------------------
    async def run(self, max_cycles: int | None = None, *, hang: bool = True) -> None:
        """Run until every planned frame is written and emitted, and one cycle more (so the
        outputs read afterwards show the effect of the last edge). After ``max_cycles``
        cycles the DUT is declared hung (``hang``) or the call just returns."""
        budget = max_cycles or 200_000
        fe = FallingEdge(self.dut.clk_i)
        settle = False
        for _ in range(budget):
            if self.idle() and not (self.reset_plan and self.reset_plan[0] == "idle"):
                if settle:
                    return
                settle = True  # one more checked cycle: the outputs after the last edge
            await fe
            self.cycle += 1
            if self.reset_plan and self._want_reset():
                await self._reset_mid()
                continue
            self._drive()
            await ReadOnly()
            self._sample()
        if hang:
            self.fail(f"budget exhausted ({len(self.frames)} frames left): DUT hangs")

    def _drive(self) -> None:
        d = self.dut
        # consumer
        want = int(self.rng_out.random() >= self.bp_prob)
        if want != self.vec_ready:
            d.vec_ready_i.value = self.vec_ready = want
        # pulses of the last cycle end
        if self.clr_now is not None:
            d.clr_i.value = 0
            self.clr_now = None
        if self.start_now is not None:
            d.emit_start_i.value = 0
            self.start_now = None
        self._drive_start()
        self._drive_write()
        self._drive_illegal()

    def _drive_start(self) -> None:
        d, r = self.dut, self.rng_drv
        if self.jobs and self.emit is None:
            cfg = self.jobs.popleft()
            self.start_now = (cfg, "job")
            self._drive_rd_cfg(cfg)
            d.emit_start_i.value = 1
            return
        if r.random() < 0.1:
            self._drive_rd_cfg(self.garbage_read_cfg())

    def _drive_illegal(self) -> None:
        """One-shot illegal actions of run_errors."""
        d = self.dut
        if self.clr_now is None:
            if "clr_emit" in self.inject and self.emit is not None:
                self.inject.discard("clr_emit")
                self.clr_now = (self.emit.cfg.bank, "illegal_emit")
            elif "clr_write" in self.inject and self.w1 is not None and self._w1_writes():
                self.inject.discard("clr_write")
                self.clr_now = (self.w1[1].bank, "illegal_write")
            if self.clr_now is not None:
                d.clr_bank_i.value = self.clr_now[0]
                d.clr_i.value = 1
        if self.start_now is None:
            cfg = None
            if "start_busy" in self.inject and self.emit is not None:
                self.inject.discard("start_busy")
                bank = self.rng_drv.randint(0, 1)
                cfg, why = ReadConfig(1, 1, 1, 1, 0, 1, bank), "busy"
            elif "start_bad" in self.inject and self.emit is None and not self.jobs:
                self.inject.discard("start_bad")
                cfg, why = self.garbage_read_cfg(), "bad"
                while not cfg.errors(self.p):
                    cfg = self.garbage_read_cfg()
            if cfg is not None:
                self.start_now = (cfg, why)
                self._drive_rd_cfg(cfg)
                d.emit_start_i.value = 1

    def _w1_writes(self) -> bool:
        """The beat in W1 writes its bank at the next edge (an event inside the frame)."""
        return self.w1 is not None and self._good(*self.w1)

    @staticmethod
    def _good(beat: Beat, cfg: WriteConfig) -> bool:
        """An event (not a marker) inside the frame of ``cfg``."""
        if beat is None:
            return False
        c, y, x = beat
        return c < cfg.c and (y >> cfg.shift) < cfg.h and (x >> cfg.shift) < cfg.w

    def _drive_write(self) -> None:
        d, r = self.dut, self.rng_drv
        # frame start: legal clear of its bank, its configuration
        if self.cur is None and self.frames and self.wr_idle() and not self.inflight:
            f = self.frames[0]
            if not self.em_bank_busy(f.wr.bank) and self.clr_now is None:
                self.frames.popleft()
                self.cur = f
                self.clr_now = (f.wr.bank, "frame")
                d.clr_bank_i.value = f.wr.bank
                d.clr_i.value = 1
                self.wr_cfg = f.wr
                self.bank_dims[f.wr.bank] = (f.wr.c, f.wr.h, f.wr.w)
                self.wr_glitch = 0
                self._drive_wr_cfg(f.wr)
        # write configuration: garbage while nothing can be popped, a glitch now and then
        if self.cur is None and self.wr_idle() and not self.inflight:
            if r.random() < 0.15:
                self.wr_cfg = None
                self.wr_glitch = 0
                aw = self.p.addr_w
                dims = (r.getrandbits(aw), r.getrandbits(aw), r.getrandbits(aw))
                bits = r.getrandbits(self.p.bits_w)
                self._drive_wr_cfg(WriteConfig(*dims, r.randint(0, 3), bits, r.getrandbits(1)))
        elif self.wr_cfg is not None:
            if self.wr_glitch:
                self.wr_glitch -= 1
                if not self.wr_glitch:
                    self._drive_wr_cfg(self.wr_cfg)
            elif (self.fifo or "wr_glitch" in self.inject) and r.random() < (
                0.02 * (self.pause_prob > 0) + ("wr_glitch" in self.inject)
            ):
                self.inject.discard("wr_glitch")
                self.wr_glitch = r.randint(1, 2)
                self._drive_wr_cfg(self.bad_write_cfg(self.wr_cfg))
        # wr_en_i: random pauses, pause windows that fill the FIFO, the mid-frame clear
        if self.pause:
            self.pause -= 1
            wr_en = 0
        elif self.pause_prob and r.random() < self.pause_prob / 8:
            self.pause = 2 * self.p.fifo_depth + 4
            wr_en = 0
        else:
            wr_en = int(r.random() >= self.pause_prob)
        f = self.cur
        if self.midclr == 2 and not self.fifo:
            wr_en = 0  # wait for a beat to pop on the clear's edge
        elif self.midclr == 2 and self.clr_now is None and self.wr_cfg is not None:
            self.midclr = 0
            wr_en = 1
            self.clr_now = (self.wr_cfg.bank, "mid")
            d.clr_bank_i.value = self.clr_now[0]
            d.clr_i.value = 1
        elif f is not None and f.mid_clear is not None and f.sent >= f.mid_clear and wr_en:
            f.mid_clear = None
            self.midclr = 2  # wr_en_i low now (W1 drains), the clear in the next cycle
            wr_en = 0
        if wr_en != self.wr_en:
            d.wr_en_i.value = self.wr_en = wr_en
        # event source
        if self.presenting is not False:
            return  # held while stalled
        beat = self._next_beat()
        if beat is False:
            if self.ev_valid or r.random() < 0.2:
                self._drive_ev_garbage()
            return
        self.presenting = beat
        if beat is None:
            d.ev_eof_i.value = 1
            aw = self.p.addr_w
            d.ev_c_i.value = r.getrandbits(aw)
            d.ev_y_i.value = r.getrandbits(aw)
            d.ev_x_i.value = r.getrandbits(aw)
        else:
            d.ev_eof_i.value = 0
            d.ev_c_i.value, d.ev_y_i.value, d.ev_x_i.value = beat
        d.ev_valid_i.value = 1
        self.ev_valid = True

    def _next_beat(self) -> Beat | bool:
        f = self.cur
        if f is None or f.sent > len(f.events):
            return False
        if self.gap:
            self.gap -= 1
            self.cov.hit("idle_gap")
            return False
        if not self.gap_done:
            self.gap_done = True
            if self.idle_prob and self.rng_drv.random() < self.idle_prob:
                self.gap = self.rng_drv.randint(1, MAX_GAP) - 1
                self.cov.hit("idle_gap")
                return False
        self.gap_done = False
        beat = f.events[f.sent] if f.sent < len(f.events) else None
        f.sent += 1
        return beat

    def _sample(self) -> None:
        """ReadOnly phase: check the outputs, then apply the transfers of the coming edge."""
        p, m = self.p, self.model
        got = {n: self.read(n) for n in self._outputs()}
        # ---- write side ----
        exp_ready = int(self.rdy_en and len(self.fifo) < p.fifo_depth)
        want = {
            "ev_ready_o": exp_ready,
            "wr_busy_o": int(bool(self.fifo) or self.w1 is not None),
            "frame_done_o": int(self.fd_now),
            "ev_count_o": m.ev_count,
            "bad_count_o": m.bad_count,
            "sat_count_o": m.sat_count,
            "frame_count_o": m.frame_count,
            "vec_count_o": m.vec_count,
            "err_addr_o": int(m.err_addr),
            "err_clr_o": int(m.err_clr),
            "err_start_o": int(m.err_start),
            "emit_busy_o": int(self.emit is not None),
        }
        wr_bad, rd_bad = self.wr_bad, self.rd_bad
        want["err_cfg_wr_o"] = int(wr_bad)
        want["err_cfg_rd_o"] = int(rd_bad)
        self.cov.hit("cfg_wr_bad" if wr_bad else "cfg_wr_ok")
        self.cov.hit("cfg_rd_bad" if rd_bad else "cfg_rd_ok")
        # the emit output is checked before the status (a wrong model shows as a tile)
        self._check_vec(got)
        diff = {k: (got[k], v) for k, v in want.items() if got[k] != v}
        if diff:
            self.fail(f"outputs (got, expected): {diff}")

        # ---- transfers at the coming edge ----
        c = self.cov
        # W1 applies its beat
        w1_wrote: tuple[int, int] | None = None
        fd_next = False
        w1_writes = self._w1_writes()
        if self.w1 is not None:
            beat, cfg = self.w1
            out = m.apply(beat, cfg)
            if out.kind == "eof":
                fd_next = True
                done = self.inflight.popleft()
                self.jobs.extend(done.reads)
                c.hit("empty_frame" if not done.events else "frame_done")
            else:
                c.hit(out.kind if out.kind != "bad" else self._bad_kind(beat, cfg))
                if out.kind != "bad" and cfg.shift:
                    c.hit("pool")
                w1_wrote = out.word
                if self.emit is not None and w1_wrote is not None:
                    c.hit("write_while_emit")
        # clear
        if self.clr_now is not None:
            bank, why = self.clr_now
            legal = not (self.emit is not None and self.emit.cfg.bank == bank) and not (
                w1_writes and self.w1[1].bank == bank
            )
            m.clear(bank, legal)
            if why in ("illegal_emit", "illegal_write"):
                if legal:
                    self.fail(f"bench error: clear ({why}) was legal")
                c.hit(f"clr_{why}")
            elif not legal:
                self.fail(f"bench error: clear ({why}) of bank {bank} was illegal")
            else:
                c.hit("clear" if why == "frame" else "clear_mid_frame")
                if why == "mid" and self.fifo and self.wr_en and not wr_bad:
                    c.hit("clear_with_pop")
        # start
        if self.start_now is not None:
            cfg, why = self.start_now
            if self.fd_now:
                c.hit("start_at_frame_done")
            tiles = m.start(cfg, busy=self.emit is not None)
            if why == "job":
                if tiles is None:
                    self.fail(f"bench error: start refused for {cfg}")
                self._accept_start(cfg, tiles)
            else:
                if tiles is not None:
                    self.fail(f"bench error: start ({why}) accepted")
                c.hit(f"start_{why}")
        # tile transfer
        if got["vec_valid_o"] and self.vec_ready:
            self._tile_transferred(got)
        # pop, push
        pop_ok = bool(self.fifo) and self.wr_en and not wr_bad
        if self.fifo and self.wr_en and wr_bad:
            c.hit("wr_cfg_stall")
        if self.fifo and not self.wr_en:
            c.hit("wr_en_wait")
        if len(self.fifo) == p.fifo_depth:
            c.hit("fifo_full")
        new_w1 = None
        if pop_ok:
            beat = self.fifo.popleft()
            new_w1 = (beat, self.wr_cfg_pins)
            cfg = self.wr_cfg_pins
            good = w1_wrote is not None and self._good(beat, cfg)
            if good and (cfg.bank, beat[0] * cfg.h + (beat[1] >> cfg.shift)) == w1_wrote:
                c.hit("bypass")
        if self.presenting is not False:
            if got["ev_ready_o"]:
                self.fifo.append(self.presenting)
                if self.presenting is None:
                    f = self.cur
                    self.inflight.append(f)
                    self.cur = None
                self.presenting = False
            else:
                self.ev_stalls += 1
                c.hit("ev_stall")
        self.w1 = new_w1
        self.fd_now = fd_next
        self.rdy_en = True
        self.since_reset += 1

    @staticmethod
    def _bad_kind(beat: tuple[int, int, int], cfg: WriteConfig) -> str:
        c, y, x = beat
        if c >= cfg.c:
            return "bad_c"
        return "bad_y" if (y >> cfg.shift) >= cfg.h else "bad_x"

    # ----- emit side ------------------------------------------------------------------------
    def _accept_start(self, cfg: ReadConfig, tiles: list[Tile]) -> None:
        c = self.cov
        c.hit(f"emit_bank{cfg.bank}")
        if cfg.pad:
            c.hit("pad")
        if cfg.straddles:
            c.hit("straddle")
        if cfg.n_tiles > 1:
            c.hit("multi_tile")
        if cfg.tile < cfg.k:
            c.hit("tile_lt_k")
        if cfg.k == cfg.h == cfg.w and cfg.pad == 0:
            c.hit("fc")
        if self.bank_dims.get(cfg.bank, (cfg.c, cfg.h, cfg.w)) != (cfg.c, cfg.h, cfg.w):
            c.hit("reinterpret")
        el_w = self.p.el_w
        packed = deque(pack_elements(t.data, el_w) for t in tiles)
        cycles = None
        if self.bp_prob == 0:
            cycles = deque(self.cycle + 1 + e for e in tile_valid_edges(cfg))
        self.emit = Emit(cfg, deque(tiles), packed, cycles, n_tiles=len(tiles))

    def _check_vec(self, got: dict[str, int]) -> None:
        e = self.emit
        valid = got["vec_valid_o"]
        if self.stall_val is not None:
            now = (valid, int(self.dut.vec_data_o.value), got["vec_last_o"], got["vec_end_o"])
            now += (got["vec_oy_o"], got["vec_ox_o"])
            if now != self.stall_val:
                self.fail(f"tile changed or withdrawn while stalled: {now} vs {self.stall_val}")
            self.stall_val = None
        if e is None:
            if valid:
                self.fail("vec_valid_o high with no emit in progress")
            return
        if e.cycles is not None:
            exp_valid = bool(e.cycles) and e.cycles[0] == self.cycle
            if bool(valid) != exp_valid:
                nxt = e.cycles[0] if e.cycles else None
                self.fail(
                    f"vec_valid_o={valid}, expected {int(exp_valid)} (tile {e.done} of "
                    f"{e.n_tiles} due in cycle {nxt}; {e.cfg})"
                )
        if not valid:
            return
        if not e.tiles:
            self.fail("more tiles than the model predicts")
        t, want = e.tiles[0], e.packed[0]
        data = int(self.dut.vec_data_o.value)
        head = (got["vec_oy_o"], got["vec_ox_o"], got["vec_last_o"], got["vec_end_o"])
        if data != want or head != (t.oy, t.ox, int(t.last), int(t.end)):
            n = self.p.n_rows
            gd = unpack_elements(data, n, self.p.el_w)
            bad = np.flatnonzero(gd != t.data)[:8].tolist()
            raise ScoreboardError(
                f"cycle {self.cycle}: tile {e.done} ({t.oy}, {t.ox}) #{t.index} of {e.cfg}: "
                f"(oy, ox, last, end) = {head}, model {(t.oy, t.ox, int(t.last), int(t.end))}; "
                f"element positions differing {bad}: got {gd[bad].tolist()}, model "
                f"{t.data[bad].tolist()} (per-test seed {cocotb.RANDOM_SEED})"
            )
        if not self.vec_ready:
            self.cov.hit("vec_stall")
            self.stall_val = (valid, data, *head[2:], *head[:2])

    def _tile_transferred(self, got: dict[str, int]) -> None:
        e = self.emit
        t = e.tiles.popleft()
        e.packed.popleft()
        if e.cycles is not None:
            e.cycles.popleft()
        e.done += 1
        if t.last:
            self.model.count_vector()
        if t.end:
            if e.tiles:
                self.fail("vec_end_o before the last tile")
            self.emit = None

    # ----- reset in the middle ----------------------------------------------------------------
    def _where(self) -> str | None:
        if len(self.fifo) == self.p.fifo_depth:
            return "fifo_full"
        if self._w1_writes():
            return "w1"
        if self.emit is not None and self.stall_val is not None:
            return "tile_stall"
        if self.emit is not None and self.emit.done > 0 and self.stall_val is None:
            return "emit_mid"
        return "idle" if self.idle() else None

    def _want_reset(self) -> bool:
        if self.since_reset < 30:
            return False
        return self._where() == self.reset_plan[0] and self.rng_drv.random() < 0.5

    async def _reset_mid(self) -> None:
        """Assert ``rst_ni`` at a falling edge, check the asynchronous clear, hold it 1..3
        cycles, release at a falling edge and check ev_ready_o stays low one more cycle."""
        where = self.reset_plan.pop(0)
        d = self.dut
        self.log.info("cycle %d: reset (%s)", self.cycle, where)
        self.cov.hit(f"reset_{where}")
        d.rst_ni.value = 0
        d.ev_valid_i.value = 0
        d.clr_i.value = 0
        d.emit_start_i.value = 0
        await Timer(1, unit="ns")
        self._check_reset_values()
        self.model.reset()
        frames = self.frames
        self._reset_state()
        self.frames = frames  # frames not started yet stay planned; the rest is abandoned
        d.wr_en_i.value = self.wr_en
        d.vec_ready_i.value = self.vec_ready
        self._drive_wr_cfg(self.wr_cfg_pins)
        self._drive_rd_cfg(self.rd_cfg_pins)
        for _ in range(self.rng_drv.randint(1, 3)):
            await FallingEdge(d.clk_i)
            self.cycle += 1
            await ReadOnly()
            self._check_reset_values()
        await FallingEdge(d.clk_i)
        self.cycle += 1
        self._drive_ev_garbage()
        d.rst_ni.value = 1
        await ReadOnly()
        if self.read("ev_ready_o"):
            self.fail("ev_ready_o high in the first cycle after reset")
        self.rdy_en = True


def _legal(cfg: ReadConfig, p: RouterParams) -> bool:
    """``cfg`` fits the ports of ``p`` and is legal."""
    try:
        return not cfg.errors(p)
    except ValueError:  # a field wider than its port
        return False


def _required(tb: TB) -> list[str]:
    """Bins every random run must reach (those the parameters make possible)."""
    p = tb.p
    bins = ["frame_done", "clear", "sat", "bypass", "emit_bank0", "emit_bank1"]
    bins += ["write_while_emit", "start_at_frame_done", "multi_tile", "fc", "reinterpret"]
    bins += ["cfg_wr_bad", "cfg_wr_ok", "cfg_rd_bad", "cfg_rd_ok", "bad_c", "bad_y", "bad_x"]
    bins += ["pool"]
    if p.max_k > 1:
        bins += ["pad", "straddle", "tile_lt_k"]
    return bins


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------

#: (idle_prob, bp_prob, pause_prob) of the run_random variants.
VARIANTS = {
    "full": (0.0, 0.0, 0.0),
    "idle": (0.5, 0.0, 0.1),
    "backpress": (0.0, 0.5, 0.3),
    "mixed": (0.3, 0.3, 0.2),
}


@cocotb.test()
@cocotb.parametrize(variant=list(VARIANTS))
async def run_random(dut, variant: str) -> None:
    """Random frames written and emitted double-buffered; variants with idle events,
    wr_en_i pauses and tile back-pressure."""
    idle, bp, pause = VARIANTS[variant]
    tb = TB(dut, idle_prob=idle, bp_prob=bp, pause_prob=pause)
    req = _required(tb)
    if pause:
        req += ["wr_en_wait", "clear_mid_frame", "clear_with_pop", "wr_cfg_stall"]
        if idle < 0.5:  # a mostly idle source does not outrun the pauses
            req += ["fifo_full", "ev_stall"]
    if bp:
        req.append("vec_stall")
    if idle:
        req.append("idle_gap")
    await tb.start()
    tb.frames.append(tb.directed_bad_frame())
    for _ in range(30):  # 8 frames, then more while a bin is still empty (rare: clear_with_pop)
        tb.plan_frames(8)
        await tb.run()
        holes = [b for b in req if not tb.cov.hits.get(b)]
        if not holes:
            break
        tb.log.info("cycle %d: more frames for %s", tb.cycle, holes)
    if not pause:
        assert tb.ev_stalls == 0, f"{tb.ev_stalls} event stalls without wr_en_i pauses"
    tb.log.info("%d cycles, %d events, %d vectors", tb.cycle, tb.model.ev_count, tb.model.vec_count)
    tb.cov.check(req, tb.log)


@cocotb.test()
async def run_prime_layers(dut) -> None:
    """PRIME's three layers (conv0 C=2 H=W=34 K=5 PAD=1, conv1 C=12 H=W=16 K=5, fc C=64
    H=W=K=6) with TR = 512, where the parameters allow; otherwise a scaled version (the
    largest frame, kernel and tile the parameters allow). No back-pressure: exact timing."""
    tb = TB(dut, idle_prob=0.1, pause_prob=0.05)
    await tb.start()
    p = tb.p
    tr = min(512, p.n_rows)
    layers = [
        ReadConfig(2, 34, 34, 5, 1, tr),
        ReadConfig(12, 16, 16, 5, 0, tr),
        ReadConfig(64, 6, 6, 6, 0, tr),
    ]
    chosen = [cfg for cfg in layers if _legal(cfg, p)]
    if not chosen:  # scaled: fully connected over the largest frame, and a padded conv
        s = min(p.max_w, p.max_k, p.addr_max)
        c = max(1, min(p.addr_max, p.max_ch_rows // s))
        chosen.append(ReadConfig(c, s, s, s, 0, p.n_rows))
        k = max(1, min(p.max_k, 3))
        h = min(p.max_w, p.addr_max, 8)
        pad = min(1, p.max_k - 1)
        chosen.append(ReadConfig(1, h, h, k, pad, min(p.n_rows, k * k + 1)))
    bank = 0
    for cfg in chosen:
        cfg.check(p)
        wr = WriteConfig(cfg.c, cfg.h, cfg.w, 0, p.el_w, bank).check(p)
        n = min(400, cfg.c * cfg.h * cfg.w)
        rd = ReadConfig(cfg.c, cfg.h, cfg.w, cfg.k, cfg.pad, cfg.tile, bank)
        tb.frames.append(Frame(wr, tb.rand_events(wr, n), [rd]))
        bank ^= 1
    await tb.run()
    tb.log.info("%d cycles for %s", tb.cycle, chosen)
    tb.cov.check(["frame_done", "emit_bank0"], tb.log)


@cocotb.test()
async def run_errors(dut) -> None:
    """Illegal clears (emitting bank, bank being written), refused starts (busy, bad
    configuration), illegal write configurations (stall): ignored, flagged, nothing lost."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.3, pause_prob=0.1)
    await tb.start()
    tb.plan_frames(2)
    await tb.run()
    assert not any(tb.read(n) for n in FLAGS[1:]), "error flag set by legal traffic"
    inject = {
        "clr_illegal_emit": "clr_emit",
        "clr_illegal_write": "clr_write",
        "start_busy": "start_busy",
        "start_bad": "start_bad",
        "wr_cfg_stall": "wr_glitch",
    }
    for _ in range(10):
        tb.inject |= {v for k, v in inject.items() if not tb.cov.hits.get(k)}
        tb.plan_frames(3)
        await tb.run()
        if all(tb.cov.hits.get(b) for b in inject):
            break
    assert tb.read("err_clr_o") == 1 and tb.read("err_start_o") == 1
    tb.plan_frames(2)  # still working afterwards
    await tb.run()
    tb.cov.check([*inject, "frame_done"], tb.log)


@cocotb.test()
async def run_counter_saturation(dut) -> None:
    """Counters deposited just below 2^32-1 must stick at 2^32-1."""
    tb = TB(dut, idle_prob=0.1)
    await tb.start()
    await FallingEdge(dut.clk_i)
    tb.cycle += 1
    start = COUNTER_MAX - 3
    for name in ("ev_cnt_q", "bad_cnt_q", "sat_cnt_q", "frm_cnt_q", "vec_cnt_q"):
        getattr(dut, name).value = start  # deposits into the counter flops (the DUT is idle)
    m = tb.model
    m.ev_count = m.bad_count = m.sat_count = m.frame_count = m.vec_count = start
    # tiny frames full of saturating and bad events, several emits
    p = tb.p
    for i in range(6):
        wr = WriteConfig(1, 1, 1, 0, 1, i % 2).check(p)
        ev = [(0, 0, 0)] * 6 + ([(1, 0, 0)] * 4 if p.addr_max >= 1 else [])
        rd = ReadConfig(1, 1, 1, 1, 0, 1, i % 2)
        tb.frames.append(Frame(wr, ev, [rd, rd]))
    await tb.run()
    assert (m.ev_count, m.bad_count, m.sat_count, m.frame_count, m.vec_count) == (
        (COUNTER_MAX,) * 5
    )
    tb.cov.check(["sat", "bad_c"], tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset with the FIFO full, an event in W1, a tile stalled, an emit
    mid-frame and while idle; everything restarts (banks read as zero)."""
    tb = TB(dut, idle_prob=0.1, bp_prob=0.4, pause_prob=0.3)
    await tb.start()
    tb.reset_plan = ["fifo_full", "w1", "tile_stall", "emit_mid", "idle"]
    plan = list(tb.reset_plan)
    for _ in range(20):
        if not tb.reset_plan:
            break
        if not tb.frames:
            tb.plan_frames(3)
        await tb.run(3000, hang=False)  # a slice of traffic, then look at the plan again
    assert not tb.reset_plan, f"resets not applied (state never seen): {tb.reset_plan}"
    # both banks written, a reset while idle, then both banks emitted without a clear or a
    # write: the reset cleared the valid bits, every tile is zero
    p = tb.p
    for bank in (0, 1):
        wr = WriteConfig(1, 1, 1, 0, 1, bank)
        tb.frames.append(Frame(wr, [(0, 0, 0)], [ReadConfig(1, 1, 1, 1, 0, 1, bank)]))
    await tb.run()
    assert tb.model.banks.any()
    tb.reset_plan = ["idle"]
    await tb.run()
    h = min(p.max_w, p.addr_max, p.max_ch_rows)
    k = min(p.max_k, h)
    c = max(1, min(p.addr_max, p.max_ch_rows // h))
    tb.jobs.extend(ReadConfig(c, h, k, k, 0, p.n_rows, b).check(p) for b in (0, 1))
    await tb.run()
    assert not tb.model.banks.any() and tb.read("vec_count_o") == 2 * (h - k + 1)
    tb.plan_frames(3)
    await tb.run()
    tb.cov.check([f"reset_{w}" for w in plan], tb.log)


class _WrongModel(SpikeRouterModel):
    """Deliberately wrong reference: kernel rows and columns swapped and the channels in
    reverse order (ordering (C-1-c, kx, ky); wrong for every instance, MAX_K = 1 included)."""

    def vectors(self, frame: np.ndarray, cfg: ReadConfig) -> np.ndarray:
        v = window_vectors(frame, cfg.k, cfg.pad)
        p = v.shape[0]
        v = v.reshape(p, cfg.c, cfg.k, cfg.k).transpose(0, 1, 3, 2)[:, ::-1]
        return v.reshape(p, -1)


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:
    """The scoreboard, fed a wrong model, must report a mismatch (this test passes only if
    the bench fails with a ScoreboardError)."""
    tb = TB(dut, idle_prob=0.2, bp_prob=0.2, expect_fail=True)
    tb.model = _WrongModel(tb.p)
    await tb.start()
    p = tb.p
    k = min(p.max_k, p.max_w, 3)
    for i in range(4):  # frames whose window is neither symmetric nor the same per channel
        wr = WriteConfig(2, k, k, 0, p.el_w, i % 2).check(p)
        ev = [(0, 0, min(1, k - 1))] * 3
        tb.frames.append(Frame(wr, ev, [ReadConfig(2, k, k, k, 0, p.n_rows, i % 2)]))
    tb.plan_frames(6)
    await tb.run()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    # small: 8-row tiles, 2-bit counts, 3-bit addresses (bad coordinates beyond MAX_W)
    "r8e2w6": {
        "N_ROWS": 8,
        "EL_W": 2,
        "MAX_W": 6,
        "MAX_CH_ROWS": 12,
        "MAX_K": 3,
        "FIFO_DEPTH": 2,
        "ADDR_W": 3,
    },
    # the RTL defaults
    "r64e3w16": {
        "N_ROWS": 64,
        "EL_W": 3,
        "MAX_W": 16,
        "MAX_CH_ROWS": 64,
        "MAX_K": 5,
        "FIFO_DEPTH": 8,
        "ADDR_W": 8,
    },
    # PRIME-sized (the top's instance): 512-row tiles, 34 x 34 frames, 384 words per bank
    "prime": {
        "N_ROWS": 512,
        "EL_W": 3,
        "MAX_W": 34,
        "MAX_CH_ROWS": 384,
        "MAX_K": 6,
        "FIFO_DEPTH": 16,
        "ADDR_W": 8,
    },
    # wide: 8-bit counts, kernels up to 16 on 12-row tiles (a kernel row of 13..16 elements
    # never fits one tile), non-powers of two
    "r12e8k16": {
        "N_ROWS": 12,
        "EL_W": 8,
        "MAX_W": 20,
        "MAX_CH_ROWS": 100,
        "MAX_K": 16,
        "FIFO_DEPTH": 4,
        "ADDR_W": 5,
    },
    # smallest legal instance: 2-row tiles, 1-bit counts, 1 x 1 kernels only, 2 x 2 frames
    "min": {
        "N_ROWS": 2,
        "EL_W": 1,
        "MAX_W": 2,
        "MAX_CH_ROWS": 2,
        "MAX_K": 1,
        "FIFO_DEPTH": 2,
        "ADDR_W": 2,
    },
}


def test_param_sets_cover_corners() -> None:
    """The parameter sets reach the corners the RTL's parameter ranges and PRIME need."""
    sets = [RouterParams.from_hdl(p) for p in PARAM_SETS.values()]
    assert {2, 512} <= {p.n_rows for p in sets}
    assert {1, 8} <= {p.el_w for p in sets}
    assert {1, 16} <= {p.max_k for p in sets}
    assert {2, 16} <= {p.fifo_depth for p in sets}
    assert any(p.n_rows & (p.n_rows - 1) for p in sets)
    assert any(p.max_ch_rows & (p.max_ch_rows - 1) for p in sets)
    assert any(p.n_rows < p.max_k for p in sets)  # kernel rows longer than any tile
    assert any(p.max_w < p.addr_max for p in sets)  # addresses beyond the frame buffer
    assert PARAM_SETS["prime"]["MAX_K"] >= 6  # PRIME's fc layer is a 6 x 6 kernel


@pytest.mark.sim
@pytest.mark.parametrize("params", list(PARAM_SETS.values()), ids=list(PARAM_SETS))
@pytest.mark.parametrize("sim", simulators())
def test_cim_spike_router(sim: str, params: dict[str, int], request: pytest.FixtureRequest) -> None:
    run_bench(
        sim=sim,
        nodeid=request.node.nodeid,
        toplevel="cim_spike_router",
        module="test_cim_spike_router",
        sources=[RTL / "cim_spike_router.sv", RTL / "cim_fifo.sv"],
        parameters=params,
        bench_dir=Path(__file__).parent,
    )
