"""cocotb bench of ``rtl/cim_xbar_ctrl.sv`` against ``rramcim.golden.xbar_ctrl``.

Structure: a small :class:`TB` owns the pins and runs four components, all acting on the
falling clock edge (inputs are set half a cycle before the rising edge that samples them) and
reading DUT outputs in the ``ReadOnly`` phase after those writes (so every handshake is known
before the edge that performs it, identically on Icarus and Verilator):

* input driver: presents the row tiles of queued vectors, random idle gaps (random garbage on
  ``in_data_i`` while not valid), unused high bits of every element set to garbage, the
  configuration changed only while no vector is in flight;
* ADC responder (plays ``cim_adc_if``): random ``req_ready_i`` stalls, random response latency
  (1 .. ``max_latency`` cycles after the request), random codes with the two extremes over-
  represented, and the worst-case code patterns; garbage on ``rsp_code_i`` between responses.
  At every request it reads ``wl_o`` and ``req_group_o`` once and checks them against the
  contract's read order (``read_schedule``; word lines = ``bit_planes`` of the tile, group =
  ``t*G + g``); ``rd_en_o`` is checked every cycle (high exactly while a read is outstanding)
  and a value-change counter on ``wl_o`` proves it is stable from the request to the response;
* output monitor: random ``out_ready_i`` back-pressure, checks data/last stable while stalled;
* scoreboard: predicts each vector's G output beats with golden ``accumulate`` of the codes the
  responder returned, checks ``out_last_o`` and, at the end, ``vec_count_o``/``read_count_o``.

Randomness: one numpy generator per test, keyed by cocotb's per-test seed (COCOTB_RANDOM_SEED
plus a hash of the test name). The regression seed is logged at the start of each test;
``SEED=<n>`` (or ``COCOTB_RANDOM_SEED=<n>``) reproduces a run.

Testplan (feature -> test)

=================================================================  =======================
feature                                                             test
=================================================================  =======================
read order t, b (LSB first), g; group t*G+g; wl_o = bit plane       run_random (every read)
shift-add, sign plane subtracted, tile accumulation, first read     run_random (scoreboard)
initialises (no stale state between vectors)
fewer bits / tiles / groups than the maximum; signed + unsigned     run_random (coverage)
unused high input bits ignored (garbage driven)                     every test
worst-case sums fit ACC_W (all codes at the extremes)               run_random (worst_* bins)
rd_en_o high exactly while a read is outstanding, wl_o stable       every test, every read
in stream: idle gaps, stalls while the DUT reads, back-to-back      run_random (stress+full)
req stall (req_ready_i low), response latency 1 and > 1             run_random (coverage)
out back-pressure, data/last stable while stalled, out_last_o       run_random (coverage)
vec_count_o / read_count_o                                          run_random, run_reset_mid
full speed: T*(1+2*B*G)+G cycles per vector (RTL header)           run_random (full phase)
async reset mid-read and mid-output: outputs clear at once,         run_reset_mid
counters restart, next vectors correct
illegal config: err_cfg_o, in_ready_o = 0, nothing accepted or      run_bad_cfg
read; the waiting tile is taken once the config is legal
the checker catches a wrong model                                   run_expect_fail
=================================================================  =======================

Coverage bins (run_random; a hole fails the test): signed/unsigned, every bit-plane count
1..IN_BITS, tiles > 1 and < N_TILES, groups < N_GROUPS, every macro group index, input idle
gap, req stall, response latency 1 and > 1, out back-pressure, min and max ADC code, both
worst-case accumulations.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, Timer

from rramcim.fixedpoint import clog2, int_range, pack, unpack
from rramcim.golden.xbar_ctrl import acc_width, accumulate, bit_planes, read_schedule
from tb.vip.params import param
from tb.vip.runner import RTL, run_bench, simulators

CLK_PERIOD_NS = 10

Model = Callable[[np.ndarray, int, int, int, bool], np.ndarray]


class ProtocolError(AssertionError):
    """The DUT broke the interface contract (order, word lines, handshakes, counters)."""


class ScoreboardError(AssertionError):
    """An output word differs from the model's prediction."""


class UnexpectedBenchError(RuntimeError):
    """A protocol error in ``run_expect_fail`` (must not count as the expected failure)."""


# ------------------------------------------------------------------------------------------
# Parameters and stimulus
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """HDL parameters of the running bench (see the RTL header for units and ranges)."""

    n_rows: int
    in_bits: int
    n_adc: int
    adc_bits: int
    n_groups: int
    n_tiles: int
    acc_w: int

    @classmethod
    def from_env(cls) -> Params:
        return cls(
            n_rows=param("N_ROWS"),
            in_bits=param("IN_BITS"),
            n_adc=param("N_ADC"),
            adc_bits=param("ADC_BITS"),
            n_groups=param("N_GROUPS"),
            n_tiles=param("N_TILES"),
            acc_w=param("ACC_W"),
        )

    def port_max(self, which: str) -> int:
        """Largest value the cfg port ``which`` (tiles/groups/in_bits) can carry."""
        top = {"tiles": self.n_tiles, "groups": self.n_groups, "in_bits": self.in_bits}[which]
        return (1 << clog2(top + 1)) - 1


@dataclass(frozen=True)
class Cfg:
    """Run-time configuration (the ``cfg_*`` inputs)."""

    tiles: int
    groups: int
    in_bits: int
    signed: bool


@dataclass
class Vector:
    """One input vector, its expected reads and what the bench observed for it.

    Attributes:
        idx: sequence number since the last reset.
        cfg: its configuration.
        words: packed ``in_data_i`` beat of every tile (garbage in the unused high bits).
        wl: expected ``wl_o`` per ``(t, b)``.
        policy: ADC code policy: ``random``, ``worst_pos`` or ``worst_neg``.
        codes: the codes returned to the DUT, in read order.
        beats: output beats received (signed ACC_W words per channel).
    """

    idx: int
    cfg: Cfg
    words: list[int]
    wl: list[list[int]]
    policy: str = "random"
    codes: list[np.ndarray] = field(default_factory=list)
    beats: list[list[int]] = field(default_factory=list)
    done_ns: float | None = None  # sim time of the ReadOnly before the last beat's edge


@dataclass(frozen=True)
class ExpRead:
    """One read the DUT must issue next."""

    vec: Vector
    t: int
    b: int
    g: int
    group: int


@dataclass
class Knobs:
    """Stimulus knobs (probabilities per cycle or per beat; latencies in cycles)."""

    p_gap: float = 0.3  # an idle gap (1..max_gap cycles) before a beat
    max_gap: int = 4
    p_req_stall: float = 0.3  # req_ready_i low in a cycle
    p_out_bp: float = 0.3  # out_ready_i low in a cycle
    max_latency: int = 6  # response 1..max_latency cycles after the request

    @classmethod
    def full_speed(cls) -> Knobs:
        return cls(p_gap=0.0, p_req_stall=0.0, p_out_bp=0.0, max_latency=1)


class Coverage:
    """Named bins; :meth:`require` fails the test on every declared bin left at zero."""

    def __init__(self, bins: Iterable[str]) -> None:
        self.bins: dict[str, int] = dict.fromkeys(bins, 0)

    def hit(self, name: str) -> None:
        if name in self.bins:
            self.bins[name] += 1

    def require(self, log) -> None:  # noqa: ANN001 - cocotb logger
        log.info("coverage: %s", ", ".join(f"{k}={v}" for k, v in self.bins.items()))
        holes = [k for k, v in self.bins.items() if v == 0]
        if holes:
            raise AssertionError(f"coverage holes: {holes}")


def bits_to_int(bits: np.ndarray) -> int:
    """Bus value of a 0/1 vector, element 0 in the least significant bit."""
    return int.from_bytes(np.packbits(bits.astype(np.uint8), bitorder="little").tobytes(), "little")


# ------------------------------------------------------------------------------------------
# Test bench
# ------------------------------------------------------------------------------------------


class TB:
    """Pins, components and scoreboard of ``cim_xbar_ctrl``.

    Args:
        dut: top-level handle.
        name: test name (keys the random streams).
        model: reference model ``(codes, tiles, groups, in_bits, signed) -> acc``.
        expect_fail: protocol errors raise :class:`UnexpectedBenchError` (not an
            ``AssertionError``), so only a scoreboard mismatch counts as the expected failure.
    """

    def __init__(self, dut, name: str, model: Model = accumulate, expect_fail: bool = False):  # noqa: ANN001
        self.dut = dut
        self.log = dut._log
        self.p = Params.from_env()
        # cocotb seeds every test with COCOTB_RANDOM_SEED + sha1("<module>.<test>"); the
        # bench's generator is keyed by that per-test seed.
        test_seed = int(cocotb.RANDOM_SEED)
        digest = int(hashlib.sha1(f"{__name__}.{name}".encode()).hexdigest(), 16)
        self.rng = np.random.default_rng(test_seed)
        self.log.info(
            "COCOTB_RANDOM_SEED=%d reproduces this run (SEED=%d; per-test seed %d), params %s",
            test_seed - digest,
            test_seed - digest,
            test_seed,
            self.p,
        )
        self.model = model
        self.expect_fail = expect_fail
        self.knobs = Knobs()
        self.code_lo, self.code_hi = int_range(self.p.adc_bits, True)
        p = self.p
        bins = ["signed=0", "signed=1", "in_gap", "req_stall", "latency=1", "latency>1"]
        bins += ["out_backpressure", "code_min", "code_max", "worst_pos", "worst_neg"]
        bins += [f"in_bits={b}" for b in range(1, p.in_bits + 1)]
        bins += [f"group={g}" for g in range(p.n_groups)]
        if p.n_tiles > 1:
            bins += ["tiles>1", "tiles<max"]
        if p.n_groups > 1:
            bins += ["groups<max"]
        self.cov = Coverage(bins)
        self._tasks: list = []
        self._clock_started = False
        self._reset_state()

    # -- bookkeeping --------------------------------------------------------------------------

    def _reset_state(self) -> None:
        self.pending: deque[Vector] = deque()  # queued, first tile not yet accepted
        self.inflight: deque[Vector] = deque()  # accepted, outputs not complete
        self.exp_reads: deque[ExpRead] = deque()
        self.driving: Vector | None = None  # vector whose tiles the driver presents
        self.cur_cfg: Cfg | None = None
        self.n_vec = 0  # vectors created since reset
        self.done = 0  # vectors checked since reset
        self.reads = 0  # read requests transferred since reset
        self.wl_changes = 0

    def fail(self, msg: str) -> None:
        full = f"{msg} (per-test seed {cocotb.RANDOM_SEED}, t={get_sim_time('ns')} ns)"
        raise (UnexpectedBenchError if self.expect_fail else ProtocolError)(full)

    # -- stimulus -----------------------------------------------------------------------------

    def random_cfg(self) -> Cfg:
        p, r = self.p, self.rng
        t = int(r.integers(1, p.n_tiles + 1))
        g = int(r.integers(1, p.n_groups // t + 1))
        return Cfg(t, g, int(r.integers(1, p.in_bits + 1)), bool(r.random() < 0.5))

    def make_vector(self, cfg: Cfg, policy: str = "random", x: np.ndarray | None = None) -> Vector:
        """Random inputs (extremes sprinkled in) for ``cfg``, packed with garbage high bits."""
        p, r = self.p, self.rng
        lo, hi = int_range(cfg.in_bits, cfg.signed)
        if x is None:
            x = r.integers(lo, hi + 1, size=(cfg.tiles, p.n_rows), dtype=np.int64)
            pick = r.random(x.shape)
            x[pick < 0.1] = lo
            x[pick > 0.9] = hi
        planes = bit_planes(x, cfg.in_bits, cfg.signed)  # [B, T, rows]
        wl = [[bits_to_int(planes[b, t]) for b in range(cfg.in_bits)] for t in range(cfg.tiles)]
        spare = p.in_bits - cfg.in_bits
        words = []
        for t in range(cfg.tiles):
            fields = x[t] & ((1 << cfg.in_bits) - 1)
            if spare:
                fields = fields | (r.integers(0, 1 << spare, size=p.n_rows) << cfg.in_bits)
            words.append(pack(fields.tolist(), p.in_bits))
        vec = Vector(self.n_vec, cfg, words, wl, policy)
        self.n_vec += 1
        return vec

    def queue(self, vectors: Iterable[Vector]) -> None:
        self.pending.extend(vectors)

    def codes_for(self, exp: ExpRead) -> np.ndarray:
        p, r = self.p, self.rng
        cfg = exp.vec.cfg
        if exp.vec.policy == "random":
            c = r.integers(self.code_lo, self.code_hi + 1, size=p.n_adc, dtype=np.int64)
            pick = r.random(p.n_adc)
            c[pick < 0.12] = self.code_lo
            c[pick > 0.88] = self.code_hi
            return c
        sign_plane = cfg.signed and exp.b == cfg.in_bits - 1
        big = (exp.vec.policy == "worst_pos") != sign_plane
        return np.full(p.n_adc, self.code_hi if big else self.code_lo, dtype=np.int64)

    # -- pins ---------------------------------------------------------------------------------

    def drive_cfg(self, cfg: Cfg) -> None:
        d = self.dut
        d.cfg_tiles_i.value = cfg.tiles
        d.cfg_groups_i.value = cfg.groups
        d.cfg_in_bits_i.value = cfg.in_bits
        d.cfg_in_signed_i.value = int(cfg.signed)

    def drive_idle(self) -> None:
        d = self.dut
        d.in_valid_i.value = 0
        d.req_ready_i.value = 0
        d.rsp_valid_i.value = 0
        d.out_ready_i.value = 0

    async def start(self) -> None:
        """Idle inputs, clock, reset, components."""
        d = self.dut
        d.rst_ni.value = 0
        self.drive_idle()
        self.drive_cfg(Cfg(1, 1, 1, False))
        d.in_data_i.value = 0
        d.rsp_code_i.value = 0
        if not self._clock_started:
            Clock(d.clk_i, CLK_PERIOD_NS, unit="ns", impl="gpi").start(start_high=False)
            self._clock_started = True
        await ClockCycles(d.clk_i, 3)
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        self._reset_state()
        self.start_components()

    def start_components(self) -> None:
        self._tasks = [
            cocotb.start_soon(c())
            for c in (self._drive_in, self._adc, self._monitor_out, self._watch_wl)
        ]

    def stop_components(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._tasks = []

    async def reset(self, hold_cycles: int = 2) -> None:
        """Asynchronous reset in the middle of a cycle; checks the outputs clear at once."""
        d = self.dut
        await Timer(CLK_PERIOD_NS // 5, unit="ns")  # off the clock edges (and out of ReadOnly)
        self.stop_components()
        self.drive_idle()
        d.rst_ni.value = 0
        await ReadOnly()
        for name in ("busy_o", "req_valid_o", "rd_en_o", "out_valid_o", "rsp_ready_o"):
            if int(getattr(d, name).value):
                self.fail(f"{name} still high right after the asynchronous reset")
        for name in ("vec_count_o", "read_count_o", "wl_o"):
            if getattr(d, name).value.to_unsigned():
                self.fail(f"{name} not cleared by the asynchronous reset")
        await ClockCycles(d.clk_i, hold_cycles)
        await ReadOnly()
        if int(d.in_ready_o.value):
            self.fail("in_ready_o high during reset (a beat would be lost)")
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1
        self._reset_state()
        self.start_components()

    # -- components ---------------------------------------------------------------------------

    async def _drive_in(self) -> None:
        """Presents the tiles of queued vectors; one step per clock cycle."""
        d, k, r, p = self.dut, self.knobs, self.rng, self.p
        data_bits = p.n_rows * p.in_bits
        vec: Vector | None = None
        tile = 0
        gap = 0  # idle cycles before the next beat
        valid = False
        shown: tuple[int, int] | None = None  # (vector, tile) on in_data_i
        taken = False  # a beat transferred at the last rising edge
        while True:
            await FallingEdge(d.clk_i)
            after_transfer = taken
            if taken:
                taken = False
                tile += 1
                if tile == vec.cfg.tiles:
                    vec = self.driving = None
                elif r.random() < k.p_gap:
                    gap = int(r.integers(1, k.max_gap + 1))
            if vec is None and self.pending:
                nxt = self.pending[0]
                # the configuration changes only while no vector is in flight
                if nxt.cfg == self.cur_cfg or not self.inflight:
                    if nxt.cfg != self.cur_cfg:
                        if int(d.busy_o.value):
                            self.fail("busy_o high with no vector in flight")
                        self.drive_cfg(nxt.cfg)
                        self.cur_cfg = nxt.cfg
                    vec = self.driving = self.pending.popleft()
                    tile = 0
                    if r.random() < k.p_gap:
                        gap = int(r.integers(1, k.max_gap + 1))
            if vec is None or gap:
                if gap:
                    gap -= 1
                    self.cov.hit("in_gap")
                if valid:
                    d.in_valid_i.value = 0
                    valid, shown = False, None
                    garbage = int.from_bytes(r.bytes((data_bits + 7) // 8), "little")
                    d.in_data_i.value = garbage & ((1 << data_bits) - 1)
                continue
            first_cycle = shown != (vec.idx, tile)
            if first_cycle:
                d.in_data_i.value = vec.words[tile]
                shown = (vec.idx, tile)
            if not valid:
                d.in_valid_i.value = 1
                valid = True
            await ReadOnly()
            if tile == 0 and int(d.err_cfg_o.value):
                self.fail(f"err_cfg_o high for the legal configuration {vec.cfg}")
            if int(d.in_ready_o.value):  # transfers at the next rising edge
                if after_transfer:
                    self.fail("in_ready_o high right after a transfer (reads must come first)")
                if tile == 0:
                    self._vector_started(vec)
                taken = True

    def _vector_started(self, vec: Vector) -> None:
        c = vec.cfg
        self.inflight.append(vec)
        for t, b, g in read_schedule(c.tiles, c.groups, c.in_bits):
            self.exp_reads.append(ExpRead(vec, t, b, g, t * c.groups + g))
        self.cov.hit(f"signed={int(c.signed)}")
        self.cov.hit(f"in_bits={c.in_bits}")
        if c.tiles > 1:
            self.cov.hit("tiles>1")
        if c.tiles < self.p.n_tiles:
            self.cov.hit("tiles<max")
        if c.groups < self.p.n_groups:
            self.cov.hit("groups<max")

    async def _watch_wl(self) -> None:
        while True:
            await self.dut.wl_o.value_change
            self.wl_changes += 1

    async def _adc(self) -> None:
        """Plays cim_adc_if: accepts requests, answers after a random latency (1 step/cycle)."""
        d, k, r, p = self.dut, self.knobs, self.rng, self.p
        code_bits = p.n_adc * p.adc_bits
        phase = "idle"  # idle -> wait (countdown) -> rsp (rsp_valid_i high) -> taken -> idle
        ready = 0
        stalled: int | None = None  # group of a request seen but not yet accepted
        wl_mark = 0
        countdown = 0
        exp: ExpRead | None = None
        codes = np.zeros(p.n_adc, dtype=np.int64)
        while True:
            await FallingEdge(d.clk_i)
            if phase == "taken":  # the response transferred at the last rising edge
                d.rsp_valid_i.value = 0
                garbage = int.from_bytes(r.bytes((code_bits + 7) // 8), "little")
                d.rsp_code_i.value = garbage & ((1 << code_bits) - 1)
                phase = "idle"
            if phase == "idle":
                want = 0 if r.random() < k.p_req_stall else 1
                if want != ready:
                    d.req_ready_i.value = ready = want
            elif phase == "wait":
                if countdown == 0:
                    d.rsp_code_i.value = pack(codes.tolist(), p.adc_bits)
                    d.rsp_valid_i.value = 1
                    phase = "rsp"
                else:
                    countdown -= 1
            await ReadOnly()
            if phase != "idle":
                if not int(d.rd_en_o.value):
                    self.fail("rd_en_o dropped before the response was taken")
                if int(d.req_valid_o.value):
                    self.fail("a second request while one is outstanding")
                if not int(d.rsp_ready_o.value):
                    self.fail("rsp_ready_o low while a request is outstanding")
                if phase == "rsp":  # transfers at the next rising edge
                    if self.wl_changes != wl_mark:
                        self.fail(f"wl_o changed during the read of group {exp.group}")
                    exp.vec.codes.append(codes)
                    phase = "taken"
                continue
            if not int(d.req_valid_o.value):
                if stalled is not None:
                    self.fail("req_valid_o dropped before the request was accepted")
                if int(d.rd_en_o.value):
                    self.fail("rd_en_o high while no read is in progress")
                if int(d.rsp_ready_o.value):
                    self.fail("rsp_ready_o high while no request is outstanding")
                continue
            group = int(d.req_group_o.value)
            if not int(d.rd_en_o.value):
                self.fail("rd_en_o low while req_valid_o is high")
            if stalled is None:
                wl_mark = self.wl_changes  # wl_o must not change from here to the response
            elif group != stalled:
                self.fail(f"req_group_o changed while stalled: {stalled} -> {group}")
            if not ready:
                stalled = group
                self.cov.hit("req_stall")
                continue
            stalled = None
            exp = self._on_request(group)  # transfers at the next rising edge
            codes = self.codes_for(exp)
            latency = 1 if r.random() < 0.5 else int(r.integers(1, k.max_latency + 1))
            self.cov.hit("latency=1" if latency == 1 else "latency>1")
            countdown = latency - 1
            phase = "wait"

    def _on_request(self, group: int) -> ExpRead:
        if not self.exp_reads:
            self.fail(f"unexpected read request (group {group}): no vector in flight")
        exp = self.exp_reads.popleft()
        wl = self.dut.wl_o.value.to_unsigned()
        c = exp.vec.cfg
        where = f"vector {exp.vec.idx} {c} read (t={exp.t}, b={exp.b}, g={exp.g})"
        if group != exp.group:
            self.fail(f"{where}: req_group_o = {group}, expected {exp.group}")
        if wl != exp.vec.wl[exp.t][exp.b]:
            diff = wl ^ exp.vec.wl[exp.t][exp.b]
            row = (diff & -diff).bit_length() - 1
            self.fail(f"{where}: wl_o differs from bit plane {exp.b}, first at row {row}")
        self.reads += 1
        self.cov.hit(f"group={group}")
        return exp

    async def _monitor_out(self) -> None:
        d, k, r, p = self.dut, self.knobs, self.rng, self.p
        ready = 0
        stalled: tuple[int, int] | None = None
        while True:
            await FallingEdge(d.clk_i)
            want = 0 if r.random() < k.p_out_bp else 1
            if want != ready:
                d.out_ready_i.value = ready = want
            await ReadOnly()
            if not int(d.out_valid_o.value):
                if stalled is not None:
                    self.fail("out_valid_o dropped before the beat was taken")
                continue
            beat = (d.out_data_o.value.to_unsigned(), int(d.out_last_o.value))
            if stalled is not None and beat != stalled:
                self.fail("out_data_o/out_last_o changed while stalled")
            if not ready:
                stalled = beat
                self.cov.hit("out_backpressure")
                continue
            stalled = None
            self._on_beat(unpack(beat[0], p.n_adc, p.acc_w, signed=True), beat[1])

    # -- scoreboard ---------------------------------------------------------------------------

    def _on_beat(self, words: list[int], last: int) -> None:
        if not self.inflight:
            self.fail("output beat with no vector in flight")
        vec = self.inflight[0]
        c = vec.cfg
        vec.beats.append(words)
        g = len(vec.beats) - 1
        if last != (g == c.groups - 1):
            self.fail(f"vector {vec.idx}: out_last_o = {last} on beat {g} of {c.groups}")
        if g < c.groups - 1:
            return
        n_reads = c.tiles * c.in_bits * c.groups
        if len(vec.codes) != n_reads:
            self.fail(f"vector {vec.idx}: output after {len(vec.codes)} of {n_reads} reads")
        codes = np.stack(vec.codes).reshape(c.tiles, c.in_bits, c.groups, self.p.n_adc)
        expect = np.asarray(self.model(codes, c.tiles, c.groups, c.in_bits, c.signed))
        got = np.asarray(vec.beats, dtype=np.int64).reshape(-1)
        bad = np.flatnonzero(got != expect)
        if bad.size:
            o = int(bad[0])
            raise ScoreboardError(
                f"vector {vec.idx} {c}: output {o} (group {o // self.p.n_adc}, channel "
                f"{o % self.p.n_adc}) = {int(got[o])}, model {int(expect[o])}; {bad.size} of "
                f"{got.size} outputs differ (per-test seed {cocotb.RANDOM_SEED})"
            )
        if vec.policy != "random":
            self.cov.hit(vec.policy)
        if (codes == self.code_lo).any():
            self.cov.hit("code_min")
        if (codes == self.code_hi).any():
            self.cov.hit("code_max")
        vec.done_ns = get_sim_time("ns")
        self.inflight.popleft()
        self.done += 1

    # -- test helpers -------------------------------------------------------------------------

    def idle(self) -> bool:
        return not (self.pending or self.inflight or self.driving)

    async def drain(self, max_cycles: int = 200_000) -> None:
        """Wait until every queued vector has been checked."""
        for _ in range(0, max_cycles, 16):
            if self.idle():
                break
            await ClockCycles(self.dut.clk_i, 16)
        else:
            self.fail(f"timeout: {len(self.pending)} queued, {len(self.inflight)} in flight")
        if self.exp_reads:
            self.fail(f"{len(self.exp_reads)} expected reads never issued")

    async def check_counters(self) -> None:
        d = self.dut
        await ClockCycles(d.clk_i, 2)
        await ReadOnly()
        vec_count = d.vec_count_o.value.to_unsigned()
        read_count = d.read_count_o.value.to_unsigned()
        if vec_count != self.done or read_count != self.reads:
            self.fail(
                f"counters vec_count_o={vec_count}, read_count_o={read_count}; "
                f"expected {self.done}, {self.reads} since reset"
            )
        if int(d.busy_o.value):
            self.fail("busy_o high after the last vector")
        self.log.info("%d vectors, %d reads checked since reset", self.done, self.reads)
        await FallingEdge(d.clk_i)

    def set_knobs(self, knobs: Knobs) -> None:
        """Change the stimulus knobs (the running components read them every cycle)."""
        vars(self.knobs).update(vars(knobs))


# ------------------------------------------------------------------------------------------
# Stimulus plans
# ------------------------------------------------------------------------------------------


def directed_vectors(tb: TB) -> list[Vector]:
    """Vectors that reach every coverage bin, whatever the random draws."""
    p, r = tb.p, tb.rng
    cfgs = [
        Cfg(1, p.n_groups, p.in_bits, False),  # every group index, tiles < max
        Cfg(p.n_tiles, p.n_groups // p.n_tiles, p.in_bits, True),  # most tiles
        Cfg(1, 1, 1, True),  # one sign plane only; groups < max
    ]
    for b in range(1, p.in_bits + 1):  # every bit-plane count
        t = int(r.integers(1, p.n_tiles + 1))
        cfgs.append(Cfg(t, int(r.integers(1, p.n_groups // t + 1)), b, bool(b % 2)))
    vecs = [tb.make_vector(c) for c in cfgs]
    # worst-case sums: every code at the extreme that pushes the accumulator one way
    for signed in (False, True):
        c = Cfg(p.n_tiles, 1, p.in_bits, signed)
        lo, hi = int_range(c.in_bits, signed)
        x = np.full((c.tiles, p.n_rows), lo if signed else hi, dtype=np.int64)
        vecs += [tb.make_vector(c, policy, x) for policy in ("worst_pos", "worst_neg")]
    return vecs


def random_vectors(tb: TB, min_reads: int, repeat: int = 1) -> list[Vector]:
    """Random configurations (each used for ``repeat`` vectors) until ``min_reads`` reads."""
    vecs: list[Vector] = []
    reads = 0
    while reads < min_reads:
        c = tb.random_cfg()
        for _ in range(repeat):
            vecs.append(tb.make_vector(c))
            reads += c.tiles * c.in_bits * c.groups
    return vecs


def illegal_cfgs(p: Params) -> list[Cfg]:
    """Every kind of illegal configuration the cfg ports can express."""
    bad = [Cfg(0, 1, 1, False), Cfg(1, 0, 1, False), Cfg(1, 1, 0, True)]
    if p.port_max("tiles") > p.n_tiles:
        bad += [Cfg(p.n_tiles + 1, 1, 1, False), Cfg(p.port_max("tiles"), 1, 1, False)]
    if p.port_max("groups") > p.n_groups:
        bad += [Cfg(1, p.n_groups + 1, 1, False)]
    if p.port_max("in_bits") > p.in_bits:
        bad += [Cfg(1, 1, p.in_bits + 1, True), Cfg(1, 1, p.port_max("in_bits"), False)]
    if p.n_tiles >= 2:  # tiles * groups beyond the macro's groups, each legal alone
        bad += [Cfg(p.n_tiles, p.n_groups // p.n_tiles + 1, 1, False)]
    return list(dict.fromkeys(bad))  # without duplicates


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def run_random(dut) -> None:  # noqa: ANN001
    """Directed + random vectors, first under stress (gaps, stalls, latency, back-pressure),
    then at full speed with repeated configurations (tile 0 waiting while outputs stream)."""
    tb = TB(dut, "run_random")
    await tb.start()
    tb.queue(directed_vectors(tb))
    tb.queue(random_vectors(tb, min_reads=200))
    await tb.drain()
    stress_reads = tb.reads
    tb.set_knobs(Knobs.full_speed())
    fast = random_vectors(tb, min_reads=100, repeat=3)
    tb.queue(fast)
    await tb.drain()
    # back-to-back vectors of one configuration: T * (1 + B*G*(1 + L)) + G cycles each, L = 1
    for prev, vec in zip(fast, fast[1:], strict=False):
        c = vec.cfg
        if c != prev.cfg:
            continue
        cycles = round((vec.done_ns - prev.done_ns) / CLK_PERIOD_NS)
        expect = c.tiles * (1 + c.in_bits * c.groups * 2) + c.groups
        if cycles != expect:
            tb.fail(f"vector {vec.idx} {c}: {cycles} cycles at full speed, header says {expect}")
    tb.log.info(
        "stress phase %d reads, full-speed phase %d reads", stress_reads, tb.reads - stress_reads
    )
    await tb.check_counters()
    tb.cov.require(tb.log)


async def _wait_for(tb: TB, cond: Callable[[], bool], what: str, max_cycles: int = 100_000) -> None:
    for _ in range(max_cycles):
        await FallingEdge(tb.dut.clk_i)
        await ReadOnly()
        if cond():
            return
    tb.fail(f"timeout waiting for {what}")


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def run_reset_mid(dut) -> None:  # noqa: ANN001
    """Asynchronous reset in the read loop and while outputs stall; recovery; counters."""
    tb = TB(dut, "run_reset_mid")
    p = tb.p
    await tb.start()
    big = Cfg(p.n_tiles, p.n_groups // p.n_tiles, p.in_bits, True)
    n_reads = big.tiles * big.in_bits * big.groups
    for _round in range(2):
        # 1) in the middle of the read loop of the second vector
        tb.queue([tb.make_vector(big) for _ in range(3)])
        target = tb.reads + n_reads + int(tb.rng.integers(1, n_reads + 1))
        await _wait_for(tb, lambda t=target: tb.reads >= t, f"{target} reads")
        assert tb.inflight, "reset should hit a vector in flight"
        tb.log.info("reset after %d reads (vector %d in flight)", tb.reads, tb.inflight[0].idx)
        await tb.reset()
        await tb.check_counters()  # both counters restart at 0
        tb.queue(random_vectors(tb, min_reads=30))
        await tb.drain()
        await tb.check_counters()
        # 2) while an output beat is stalled
        tb.set_knobs(Knobs(p_out_bp=0.9))
        tb.queue(
            [tb.make_vector(Cfg(1, p.n_groups, int(tb.rng.integers(1, p.in_bits + 1)), False))]
        )
        await _wait_for(tb, lambda: bool(int(tb.dut.out_valid_o.value)), "an output beat")
        await tb.reset()
        await tb.check_counters()
        tb.set_knobs(Knobs())
        tb.queue(random_vectors(tb, min_reads=30))
        await tb.drain()
        await tb.check_counters()


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def run_bad_cfg(dut) -> None:  # noqa: ANN001
    """Illegal configurations raise err_cfg_o and block the input; a legal one takes the tile."""
    tb = TB(dut, "run_bad_cfg")
    d, p = dut, tb.p
    await tb.start()
    first = tb.make_vector(tb.random_cfg())
    bad = illegal_cfgs(p)
    for cfg in bad:
        await FallingEdge(d.clk_i)
        tb.drive_cfg(cfg)
        d.in_data_i.value = first.words[0]
        d.in_valid_i.value = 1
        for _ in range(6):
            await ReadOnly()
            if not int(d.err_cfg_o.value):
                tb.fail(f"err_cfg_o low for the illegal configuration {cfg}")
            if int(d.in_ready_o.value) or int(d.busy_o.value) or int(d.req_valid_o.value):
                tb.fail(f"the controller reacts to a tile under the illegal configuration {cfg}")
            await FallingEdge(d.clk_i)
    tb.log.info("%d illegal configurations refused: %s", len(bad), bad)
    await tb.check_counters()  # nothing accepted, nothing read
    # in_valid_i is still high with the same tile: the driver makes the configuration legal
    # in the next cycle (no idle gap), which must let that very beat through
    tb.set_knobs(Knobs(p_gap=0.0))
    tb.queue([first, tb.make_vector(tb.random_cfg())])
    await tb.drain()
    await tb.check_counters()


@cocotb.test(expect_fail=True, timeout_time=50, timeout_unit="ms")
async def run_expect_fail(dut) -> None:  # noqa: ANN001
    """A model that forgets to subtract the sign plane must be caught by the scoreboard."""

    def wrong_model(
        codes: np.ndarray, tiles: int, groups: int, in_bits: int, signed: bool
    ) -> np.ndarray:
        return accumulate(codes, tiles, groups, in_bits, False)

    tb = TB(dut, "run_expect_fail", model=wrong_model, expect_fail=True)
    await tb.start()
    cfg = Cfg(1, 1, tb.p.in_bits, True)
    tb.queue([tb.make_vector(cfg) for _ in range(4)])
    await tb.drain()


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------


def _param_set(**kw: int) -> dict[str, int]:
    kw["ACC_W"] = acc_width(kw["ADC_BITS"], kw["IN_BITS"], kw["N_TILES"])
    return kw


PARAM_SETS = {
    "r16b4g8t2": _param_set(N_ROWS=16, IN_BITS=4, N_ADC=4, ADC_BITS=6, N_GROUPS=8, N_TILES=2),
    "r64b8g4t4": _param_set(N_ROWS=64, IN_BITS=8, N_ADC=8, ADC_BITS=8, N_GROUPS=4, N_TILES=4),
    "r512b1a32": _param_set(N_ROWS=512, IN_BITS=1, N_ADC=32, ADC_BITS=8, N_GROUPS=8, N_TILES=2),
    # corners: non-power-of-two groups with N_TILES = N_GROUPS, 1 channel, 2-bit ADC, 2 rows
    "r2b3g3t3": _param_set(N_ROWS=2, IN_BITS=3, N_ADC=1, ADC_BITS=2, N_GROUPS=3, N_TILES=3),
    # one group, one tile, 16-bit inputs and codes: ACC_W = 33 (> 32-bit words)
    "r3b16g1": _param_set(N_ROWS=3, IN_BITS=16, N_ADC=2, ADC_BITS=16, N_GROUPS=1, N_TILES=1),
}


@pytest.mark.sim
@pytest.mark.parametrize("params", list(PARAM_SETS.values()), ids=list(PARAM_SETS))
@pytest.mark.parametrize("sim", simulators())
def test_cim_xbar_ctrl(sim: str, params: dict[str, int], request: pytest.FixtureRequest) -> None:
    run_bench(
        sim=sim,
        nodeid=request.node.nodeid,
        toplevel="cim_xbar_ctrl",
        module="test_cim_xbar_ctrl",
        sources=[RTL / "cim_xbar_ctrl.sv"],
        parameters=params,
        bench_dir=Path(__file__).parent,
    )
