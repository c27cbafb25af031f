"""cocotb bench of ``rtl/cim_ode_seq.sv`` against ``rramcim.golden.ode_seq``.

Structure: a small :class:`TB` owns every input pin and runs one step per clock cycle. At the
falling edge it drives the configuration writes, the run inputs and the three peers: a DAC
sink (random ``dac_ready_i``), an ADC responder (random request acceptance, random latency,
random codes, saturation and timeout flags, response held until taken) and a sample sink
(random ``smp_ready_i``); in the ``ReadOnly`` phase it samples the outputs and records every
transfer, the first cycle of every tick (``phase_o`` leaving IDLE or ``tick_o`` changing),
``sw_o`` and the pulses. After each run it compares with the golden :func:`run`:

* every DAC beat in order (tick index from ``tick_o``, addr, data, mask, last);
* phase and ``sw_o`` of every tick, ``sw_o`` steady within a tick, back to 0000 at the end;
* the sample points (tick, final flag), that each ADC request is presented in the first cycle
  of its tick, and that each sample beat carries the code, saturation and timeout flags the
  responder sent;
* the tick timing of the header: tick 0 in cycle ``start + N_CH + 1``, ``s_{k+1} =
  max(s_k + T, d_k + 2 + L_k)`` where the bench holds ``dac_idle_i`` low for ``L_k`` random
  cycles after tick k's last beat (the DAC driver's frames and LDAC pulse), the number of
  slips against ``overrun_count_o``, ``done_o`` one
  cycle after the final sample, ``run_count_o`` and ``dac_sat_count_o`` deltas.

Randomness: ``random.Random`` generators keyed by cocotb's per-test seed (logged);
``SEED=<regression seed>`` (``COCOTB_RANDOM_SEED``) reproduces a run.

Testplan (feature -> tests)

- channel modes OFF/CONST/RAMP/SINE/TABLE/NOISE, bit-exact values and codes, DAC-code
  saturation, masks of OFF channels, beat order and last flag -> run_random (bins mode_<m>,
  dac_sat), run_idle
- phases RESET/LOAD/INTEGRATE/HOLD and their switches, phases of length 0 -> run_random
  (bins phase_<p>, skip_reset, skip_load)
- samples every k-th integrate tick and the final one, ADC timeout/saturation flags ->
  run_random (bins sample_mid, sample_final, adc_timeout, adc_sat)
- back-pressure on DAC, ADC request, ADC response latency and sample stream -> run_random
  (bins bp_dac, bp_adc_req, adc_latency, bp_smp, dac_busy); none -> run_idle (exact tick period, no
  overrun)
- overruns (tick work longer than the tick period, t_tick 0 and 1) -> run_overrun,
  run_random (bin overrun)
- configuration rules (each refuses the run, sets cfg_err_o, err_code_o, err_ch_o), refused
  writes while busy and to bad addresses -> run_cfg_errors (bins err_<rule>, wr_refused)
- abort in every kind of cycle (DAC beat stalled, ADC request stalled, waiting for the
  response, sample stalled, computing, waiting for the timer, checking) -> run_abort
- asynchronous reset in the middle of a run clears everything (an all-OFF run afterwards
  proves the channel table was cleared) -> run_reset_mid
- the checker catches a wrong model (golden with the SINE start phases 1/64 turn late)
  -> run_expect_fail (expect_fail=True)

Coverage bins are listed per test; a hole fails the test.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, Timer

from rramcim.golden.ode_seq import (
    ChannelCfg,
    ErrCode,
    Mode,
    OdeSeqConfig,
    Phase,
    RunCfg,
    RunTrace,
    check,
    run,
)
from tb.vip.coverage import Coverage
from tb.vip.params import param
from tb.vip.runner import RTL, run_bench, simulators

CLK_PERIOD_NS = 10
#: Cycles one channel takes, by mode (header), SINE excluded (CORDIC_ITERS + 2).
MODE_CYC = {Mode.OFF: 1, Mode.CONST: 1, Mode.RAMP: 1, Mode.TABLE: 2, Mode.NOISE: 7}


class ProtocolError(AssertionError):
    """The DUT broke the interface contract (timing, handshakes, status outputs)."""


class ScoreboardError(AssertionError):
    """Beats, switches or samples differ from the golden model."""


class UnexpectedBenchError(RuntimeError):
    """A protocol error in ``run_expect_fail`` (must not count as the expected failure)."""


@dataclass
class Traffic:
    """Back-pressure of the peers: probabilities of ready per cycle, ADC latency range."""

    p_dac: float = 0.6
    p_req: float = 0.6
    p_smp: float = 0.6
    lat_max: int = 6
    p_timeout: float = 0.15
    p_sat: float = 0.2
    #: cycles the DAC driver stays busy (dac_idle_i = 0) after a tick's last beat, at most
    dac_busy_max: int = 120


FULL_SPEED = Traffic(1.0, 1.0, 1.0, 0, 0.0, 0.0, 0)


@dataclass
class RunLog:
    """What the bench saw during one run (cycles are the bench's cycle count)."""

    start_cycle: int = 0
    #: (cycle, tick, phase, sw) of the first cycle of every tick
    tick_starts: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: (cycle, tick, addr, data, mask, last) of every DAC transfer
    beats: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)
    #: per tick, the cycles dac_idle_i was held low after its last beat
    dac_busy: dict[int, int] = field(default_factory=dict)
    #: (cycle, tick) in which each ADC request was first presented
    req_first: list[tuple[int, int]] = field(default_factory=list)
    #: (cycle, code, tick, flags) of every sample transfer
    samples: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: what the responder answered, in order: (code, sat, timeout)
    sent: list[tuple[int, int, int]] = field(default_factory=list)
    done_cycles: list[int] = field(default_factory=list)
    abort_cycle: int | None = None
    #: (DAC beat, sample beat) presented and not taken in the abort cycle
    abort_pending: tuple[bool, bool] = (False, False)
    end_cycle: int = 0


class TB:
    """Drivers, peers, monitor and scoreboard of ``cim_ode_seq``.

    Args:
        dut: the cocotb handle of the top level.
        traffic: back-pressure of the peers.
        expect_fail: protocol errors raise :class:`UnexpectedBenchError`, so that only a
            scoreboard mismatch counts as the expected failure.
    """

    def __init__(self, dut, traffic: Traffic | None = None, *, expect_fail: bool = False):
        self.dut = dut
        self.log = logging.getLogger("cocotb.tb")
        self.cfg = cfg = OdeSeqConfig.from_hdl({n: param(n) for n in OdeSeqConfig.HDL_NAMES})
        seed = cocotb.RANDOM_SEED
        self.log.info("per-test seed %d (SEED=<regression seed> reproduces); %s", seed, cfg)
        self.rng = random.Random(f"{seed}:cfg")
        self.rng_peer = random.Random(f"{seed}:peer")
        self.traffic = traffic or Traffic()
        self.expect_fail = expect_fail
        self.model = run
        #: more than 32 channels: shorter runs and fewer of them (bench time per node)
        self.big = cfg.n_ch > 32
        self.cov = Coverage()
        self.cycle = 0
        self.n_smp = 0  # sample transfers in this test
        self.n_rsp = 0  # ADC responses in this test
        self.stall_req = False  # top-up: hold adc_req_ready_i low until a request stalls
        self.channels = [ChannelCfg()] * cfg.n_ch
        self.table = [0] * cfg.tab_depth
        self._reset_peers()

    def _reset_peers(self) -> None:
        self.adc_state = "idle"  # idle / lat / rsp
        self.adc_lat = 0
        self.adc_payload = (0, 0, 0)
        self.req_prev_stalled = False
        self.smp_held = False
        self.dac_busy_left = 0
        self.prev_phase = self.prev_tick = self.prev_sw = 0

    # ----- helpers --------------------------------------------------------------------------
    def fail(self, msg: str) -> None:
        full = f"cycle {self.cycle}: {msg} (per-test seed {cocotb.RANDOM_SEED})"
        raise (UnexpectedBenchError if self.expect_fail else ProtocolError)(full)

    def mismatch(self, msg: str) -> None:
        raise ScoreboardError(f"cycle {self.cycle}: {msg} (per-test seed {cocotb.RANDOM_SEED})")

    def read(self, name: str) -> int:
        return int(getattr(self.dut, name).value)

    def counters(self) -> dict[str, int]:
        names = ("run_count_o", "overrun_count_o", "dac_sat_count_o", "wr_err_count_o")
        return {n: self.read(n) for n in names}

    # ----- start ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the clock, drive idle inputs and apply the initial reset."""
        d = self.dut
        Clock(d.clk_i, CLK_PERIOD_NS, unit="ns", impl="gpi").start()
        d.rst_ni.value = 0
        for name in (
            "cfg_we_i",
            "cfg_addr_i",
            "cfg_wdata_i",
            "tab_we_i",
            "tab_addr_i",
            "tab_wdata_i",
            "n_reset_i",
            "n_load_i",
            "n_int_i",
            "t_tick_cyc_i",
            "sample_every_i",
            "seed_i",
            "start_i",
            "abort_i",
            "dac_ready_i",
            "adc_req_ready_i",
            "adc_rsp_valid_i",
            "adc_rsp_code_i",
            "adc_rsp_sat_i",
            "adc_rsp_timeout_i",
            "smp_ready_i",
        ):
            getattr(d, name).value = 0
        d.dac_idle_i.value = 1
        for _ in range(3):
            await FallingEdge(d.clk_i)
        await ReadOnly()
        self.check_reset_values()
        await FallingEdge(d.clk_i)
        d.rst_ni.value = 1

    def check_reset_values(self) -> None:
        names = (
            "busy_o",
            "sw_o",
            "phase_o",
            "tick_o",
            "dac_valid_o",
            "adc_req_valid_o",
            "adc_rsp_ready_o",
            "smp_valid_o",
            "done_o",
            "run_count_o",
            "overrun_count_o",
            "dac_sat_count_o",
            "wr_err_count_o",
            "cfg_err_o",
            "err_code_o",
            "err_ch_o",
        )
        bad = {n: self.read(n) for n in names if self.read(n) != 0}
        if bad:
            self.fail(f"outputs not cleared by reset: {bad}")

    # ----- configuration --------------------------------------------------------------------
    async def write_config(
        self, channels: list[ChannelCfg] | None = None, table: list[int] | None = None
    ) -> None:
        """Write the channel table and (if given) the drive table, one word per cycle."""
        d = self.dut
        words: list[tuple[str, int, int]] = []
        if channels is not None:
            self.channels = list(channels)
            words += [
                ("cfg", ch * 4 + f, w)
                for ch, c in enumerate(channels)
                for f, w in enumerate(c.words())
            ]
        if table is not None:
            self.table = list(table)
            words += [("tab", a, v & 0xFFFF) for a, v in enumerate(table)]
        for kind, addr, w in words:
            await FallingEdge(d.clk_i)
            self.cycle += 1
            if kind == "cfg":
                d.cfg_we_i.value, d.cfg_addr_i.value, d.cfg_wdata_i.value = 1, addr, w
                d.tab_we_i.value = 0
            else:
                d.tab_we_i.value, d.tab_addr_i.value, d.tab_wdata_i.value = 1, addr, w
                d.cfg_we_i.value = 0
        await FallingEdge(d.clk_i)
        self.cycle += 1
        d.cfg_we_i.value = 0
        d.tab_we_i.value = 0

    def drive_run(self, rc: RunCfg) -> None:
        d = self.dut
        d.n_reset_i.value = rc.n_reset
        d.n_load_i.value = rc.n_load
        d.n_int_i.value = rc.n_int
        d.t_tick_cyc_i.value = rc.t_tick_cyc
        d.sample_every_i.value = rc.sample_every
        d.seed_i.value = rc.seed

    # ----- random configurations ------------------------------------------------------------
    def random_channels(self, modes: list[Mode] | None = None) -> list[ChannelCfg]:
        """Random legal channel table; ``modes`` forces the first channels' modes."""
        cfg, r = self.cfg, self.rng
        out = []
        forced = list(modes or [])
        for ch in range(cfg.n_ch):
            if forced:
                m = forced.pop(0)
            else:
                m = Mode(r.choices(list(Mode), weights=(1, 2, 2, 2, 2, 2))[0])
            if m == Mode.NOISE and ch == 0:
                m = Mode.RAMP
            out.append(self.random_channel(ch, m))
        return out

    def random_channel(self, ch: int, m: Mode) -> ChannelCfg:
        r = self.rng
        u32 = r.getrandbits
        if m == Mode.OFF:
            return ChannelCfg(Mode.OFF, u32(32), u32(32), u32(32), r.randrange(32))
        if m == Mode.CONST:
            v = r.choice((0x7FFF, 0x8000, 0x7FF0, u32(16), u32(16)))
            return ChannelCfg(Mode.CONST, (u32(16) << 16) | v, u32(32), u32(32))
        if m == Mode.RAMP:
            if r.random() < 0.5:  # slow ramp from a random level
                p0 = u32(32)
                p1 = r.randrange(-(1 << 24), 1 << 24) & 0xFFFFFFFF
            else:  # fast ramp: wraps and saturates
                p0, p1 = u32(32), u32(32)
            return ChannelCfg(Mode.RAMP, p0, p1, u32(32))
        if m == Mode.SINE:
            amp = r.choice((0x7FFF, 0x8000, u32(16)))
            off = r.choice((0, 0x7FFF, u32(16)))
            return ChannelCfg(Mode.SINE, u32(32), u32(32), (off << 16) | amp)
        if m == Mode.TABLE:
            short = r.random() < 0.5
            length = r.randint(1, 8 if short else self.cfg.tab_depth)
            base = r.randint(0, self.cfg.tab_depth - length)
            span = length * 256
            if short:  # whole-entry steps: the index lands exactly on len*256 (wrap edge)
                p0, p1 = 256 * r.randrange(length), 256 * r.randrange(length)
            else:
                p0, p1 = r.randrange(span), r.randrange(span)
            return ChannelCfg(Mode.TABLE, p0, p1, (length << 16) | base)
        ref = r.randrange(min(ch, 32))
        amp = r.choice((0x7FFF, 0x8000, u32(16)))
        return ChannelCfg(Mode.NOISE, u32(32), (u32(16) << 16) | amp, u32(32), ref)

    def random_table(self) -> list[int]:
        r = self.rng
        return [r.choice((0x7FFF, 0x8000, r.getrandbits(16))) for _ in range(self.cfg.tab_depth)]

    def work_cycles(self, channels: list[ChannelCfg]) -> int:
        """Cycles of one tick's channel computation and beats without back-pressure."""
        it = self.cfg.cordic_iters
        comp = sum(it + 2 if c.mode == Mode.SINE else MODE_CYC[Mode(c.mode)] for c in channels)
        return comp + self.cfg.n_addr

    def random_run(self, channels: list[ChannelCfg], *, slack: tuple[float, float]) -> RunCfg:
        r = self.rng
        w = self.work_cycles(channels)
        t = self.traffic
        w_bp = w + int(self.cfg.n_addr * (1 / t.p_dac - 1)) + 4
        return RunCfg(
            n_reset=r.choice((0, 1, 2, 3)),
            n_load=r.choice((0, 1, 2)),
            n_int=r.randint(3, 6 if self.big else 20),
            t_tick_cyc=max(1, int(w_bp * r.uniform(*slack))),
            sample_every=r.choice((0, 1, 2, 3)),
            seed=r.getrandbits(32) or 1,
        )

    # ----- per-cycle step -------------------------------------------------------------------
    async def step(
        self,
        lg: RunLog | None,
        *,
        start: bool = False,
        abort_when: str | None = None,
        write: tuple[str, int, int] | None = None,
        run_cfg: RunCfg | None = None,
    ) -> dict[str, int]:
        """One clock cycle: drive at the falling edge, sample in ReadOnly, record.

        Args:
            lg: where to record the run (None: not recorded).
            start: pulse start_i in this cycle.
            abort_when: pulse abort_i in this cycle if it is of this kind (once per run).
            write: a configuration write in this cycle (else a random refused write while
                busy, with probability ``p_write``).
            run_cfg: drive these run inputs from this cycle on.
        """
        d, t, r = self.dut, self.traffic, self.rng_peer
        await FallingEdge(d.clk_i)
        self.cycle += 1
        # registered outputs of this cycle are settled at the falling edge
        busy = self.read("busy_o")
        abort = (
            lg is not None
            and abort_when is not None
            and lg.abort_cycle is None
            and self._abort_kind(abort_when)
        )
        if abort:
            lg.abort_cycle = self.cycle
            self.cov.hit(f"abort_{abort_when}")
        if write is None and busy:
            write = self._random_write()
        if run_cfg is not None:
            self.drive_run(run_cfg)
        d.start_i.value = int(start)
        d.abort_i.value = int(abort)
        d.cfg_we_i.value = 0
        d.tab_we_i.value = 0
        if write is not None:
            kind, addr, w = write
            if kind == "cfg":
                d.cfg_we_i.value, d.cfg_addr_i.value, d.cfg_wdata_i.value = 1, addr, w
            else:
                d.tab_we_i.value, d.tab_addr_i.value, d.tab_wdata_i.value = 1, addr, w
        dac_ready = int(r.random() < t.p_dac)
        d.dac_ready_i.value = dac_ready
        # the DAC driver is busy (frames and LDAC) for a while after a tick's last beat
        d.dac_idle_i.value = int(self.dac_busy_left == 0)
        if self.dac_busy_left:
            self.dac_busy_left -= 1
        smp_ready = int(r.random() < t.p_smp)
        # the second sample of a test always stalls at least one cycle (back-pressure bin)
        if t.p_smp < 1 and self.n_smp == 1 and self.read("smp_valid_o") and not self.smp_held:
            smp_ready = 0
        d.smp_ready_i.value = smp_ready
        req_ready = 0
        if self.adc_state == "idle":
            req_ready = int(r.random() < t.p_req)
            if self.stall_req and not self.cov.hits.get("bp_adc_req"):
                req_ready = 0
            d.adc_rsp_valid_i.value = 0
        elif self.adc_state == "lat":
            if self.adc_lat == 0:
                self.adc_state = "rsp"
                d.adc_rsp_valid_i.value = 1
                code, sat, tmo = self.adc_payload
                d.adc_rsp_code_i.value = code
                d.adc_rsp_sat_i.value = sat
                d.adc_rsp_timeout_i.value = tmo
            else:
                self.adc_lat -= 1
        d.adc_req_ready_i.value = req_ready
        await ReadOnly()
        s = {
            n: self.read(n)
            for n in (
                "busy_o",
                "phase_o",
                "tick_o",
                "sw_o",
                "dac_valid_o",
                "adc_req_valid_o",
                "adc_rsp_ready_o",
                "smp_valid_o",
                "done_o",
            )
        }
        cyc = self.cycle
        if s["dac_valid_o"]:
            if dac_ready:
                if self.read("dac_last_o") and t.dac_busy_max:
                    self.dac_busy_left = r.randint(0, t.dac_busy_max)
                    if self.dac_busy_left:
                        self.cov.hit("dac_busy")
                    if lg is not None:
                        lg.dac_busy[s["tick_o"]] = self.dac_busy_left
                if lg is not None:
                    lg.beats.append(
                        (
                            cyc,
                            s["tick_o"],
                            self.read("dac_addr_o"),
                            self.read("dac_data_o"),
                            self.read("dac_mask_o"),
                            self.read("dac_last_o"),
                        )
                    )
            else:
                self.cov.hit("bp_dac")
        if s["adc_req_valid_o"]:
            if lg is not None and not self.req_prev_stalled:
                lg.req_first.append((cyc, s["tick_o"]))
            if req_ready:
                self._adc_accept(lg)
            else:
                self.cov.hit("bp_adc_req")
        self.req_prev_stalled = bool(s["adc_req_valid_o"] and not req_ready)
        if self.adc_state == "rsp" and s["adc_rsp_ready_o"]:
            self.adc_state = "idle"
        self.smp_held = bool(s["smp_valid_o"] and not smp_ready)
        if s["smp_valid_o"]:
            if smp_ready:
                self.n_smp += 1
                if lg is not None:
                    lg.samples.append(
                        (
                            cyc,
                            self.read("smp_code_o"),
                            self.read("smp_tick_o"),
                            self.read("smp_flags_o"),
                        )
                    )
            else:
                self.cov.hit("bp_smp")
        if lg is not None:
            if s["phase_o"] and (self.prev_phase == 0 or s["tick_o"] != self.prev_tick):
                lg.tick_starts.append((cyc, s["tick_o"], s["phase_o"], s["sw_o"]))
            elif s["sw_o"] != self.prev_sw and s["phase_o"]:
                self.fail(f"sw_o changed to {s['sw_o']:04b} within tick {s['tick_o']}")
            if s["done_o"]:
                lg.done_cycles.append(cyc)
            if lg.abort_cycle == cyc:
                lg.abort_pending = (
                    bool(s["dac_valid_o"] and not dac_ready),
                    bool(s["smp_valid_o"] and not smp_ready),
                )
            if lg.abort_cycle == cyc - 1 and (s["sw_o"] or s["phase_o"]):
                self.fail(f"sw_o {s['sw_o']:04b} / phase_o {s['phase_o']} after abort_i")
        self.prev_phase, self.prev_tick, self.prev_sw = s["phase_o"], s["tick_o"], s["sw_o"]
        return s

    def _adc_accept(self, lg: RunLog | None) -> None:
        t, r, cfg = self.traffic, self.rng_peer, self.cfg
        self.n_rsp += 1
        # with random flags, the second response is a timeout and the third saturated (never
        # a timeout, which would leave the adc_sat bin to chance)
        if t.p_timeout and self.n_rsp != 3 and (self.n_rsp == 2 or r.random() < t.p_timeout):
            payload = (0, 0, 1)
            self.cov.hit("adc_timeout")
        else:
            code = r.getrandbits(cfg.n_state * cfg.adc_bits)
            sat = r.getrandbits(cfg.n_state) if r.random() < t.p_sat else 0
            if t.p_sat and self.n_rsp == 3:
                sat |= 1
            if sat:
                self.cov.hit("adc_sat")
            payload = (code, sat, 0)
        self.adc_payload = payload
        self.adc_lat = r.randint(0, t.lat_max)
        if self.adc_lat:
            self.cov.hit("adc_latency")
        self.adc_state = "lat"
        if lg is not None:
            lg.sent.append(payload)

    # ----- one run --------------------------------------------------------------------------
    async def run_once(self, rc: RunCfg, *, abort_when: str | None = None) -> RunLog:
        """Start a run with the current configuration, follow it to its end and check it.

        Args:
            rc: run parameters (must be legal).
            abort_when: pulse abort_i in the first cycle of this kind (see :meth:`_abort_kind`)
                and check the abort instead of the full run.
        """
        golden = self.model(self.cfg, self.channels, self.table, rc)
        before = self.counters()
        lg = RunLog()
        await self.step(None, run_cfg=rc)
        lg.start_cycle = self.cycle + 1
        s = await self.step(lg, start=True)
        n_ticks = rc.n_ticks
        budget = (n_ticks + 2) * (max(rc.t_tick_cyc, 1) + 40 * self.work_cycles(self.channels))
        budget += 200
        for _ in range(budget):
            s = await self.step(lg, abort_when=abort_when)
            if lg.done_cycles or (lg.abort_cycle is not None and not s["busy_o"]):
                break
        else:
            self.fail(f"run did not end within {budget} cycles")
        lg.end_cycle = self.cycle
        after = self.counters()
        if lg.abort_cycle is not None:
            self._check_abort(golden, lg, lg.abort_cycle, before, after)
        else:
            self._check_run(golden, rc, lg, before, after)
        # a few idle cycles: nothing moves
        for _ in range(2):
            s = await self.step(None)
            if s["busy_o"] or s["dac_valid_o"] or s["adc_req_valid_o"] or s["smp_valid_o"]:
                self.fail("activity after the end of the run")
        return lg

    p_write = 0.0
    refused_writes = 0

    def _random_write(self) -> tuple[str, int, int] | None:
        """A write while busy (must be refused); counted in self.refused_writes."""
        if not self.p_write or self.rng.random() >= self.p_write:
            return None
        self.refused_writes += 1
        self.cov.hit("wr_refused")
        if self.rng.random() < 0.5:
            return ("cfg", self.rng.randrange(4 * self.cfg.n_ch), self.rng.getrandbits(32))
        return ("tab", self.rng.randrange(self.cfg.tab_depth), self.rng.getrandbits(16))

    def _abort_kind(self, kind: str) -> bool:
        """Whether the current cycle (state of the DUT after the last edge) is of ``kind``."""
        st = self.read("state_q")
        by_state = {
            "chk": 1,
            "req": 2,
            "rsp": 3,
            "smp": 4,
            "cordic": 6,
            "noise": 9,
            "beat": 12,
            "wait": 13,
        }
        return st == by_state[kind] and self.rng.random() < 0.5

    def _check_run(self, g: RunTrace, rc: RunCfg, lg: RunLog, before, after) -> None:
        cfg = self.cfg
        n_ticks = rc.n_ticks
        # ticks: phases, switches, indices
        ts = lg.tick_starts
        if [t[1] for t in ts] != list(range(n_ticks + 1)):
            self.fail(f"tick indices {[t[1] for t in ts]}, expected 0 .. {n_ticks}")
        got_ph = [t[2] for t in ts]
        if got_ph != [int(p) for p in g.phases]:
            self.mismatch(f"phases {got_ph}, golden {[int(p) for p in g.phases]}")
        if [t[3] for t in ts] != g.sw:
            self.mismatch(f"sw per tick {[t[3] for t in ts]}, golden {g.sw}")
        for p in set(g.phases):
            self.cov.hit(f"phase_{Phase(p).name}")
        if rc.n_reset == 0:
            self.cov.hit("skip_reset")
        if rc.n_load == 0:
            self.cov.hit("skip_load")
        # beats
        if len(lg.beats) != len(g.beats):
            self.mismatch(f"{len(lg.beats)} DAC beats, golden {len(g.beats)}")
        for (cyc, tick, addr, data, mask, last), b in zip(lg.beats, g.beats, strict=True):
            exp = (b.tick, b.addr, b.data_word(cfg.data_w), b.mask, int(b.last))
            if (tick, addr, data, mask, last) != exp:
                self.mismatch(
                    f"beat in cycle {cyc} (tick, addr, data, mask, last) = "
                    f"{(tick, addr, hex(data), mask, last)}, golden "
                    f"{(exp[0], exp[1], hex(exp[2]), exp[3], exp[4])}"
                )
        for m in {Mode(c.mode) for c in self.channels}:
            self.cov.hit(f"mode_{m.name}")
        if g.dac_sat_count:
            self.cov.hit("dac_sat")
        # samples
        exp_s = [(sp.tick, sp.final) for sp in g.samples]
        got_s = [(t, f >> (cfg.n_state + 1)) for _, _, t, f in lg.samples]
        if got_s != exp_s:
            self.mismatch(f"samples (tick, final) {got_s}, golden {exp_s}")
        for (_, code, _, flags), (scode, ssat, stmo), sp in zip(
            lg.samples, lg.sent, g.samples, strict=True
        ):
            exp_flags = ssat | (stmo << cfg.n_state) | (int(sp.final) << (cfg.n_state + 1))
            if (code, flags) != (scode, exp_flags):
                self.fail(
                    f"sample (code, flags) = {(hex(code), flags)}, sent {(hex(scode), exp_flags)}"
                )
        if any(not sp.final for sp in g.samples):
            self.cov.hit("sample_mid")
        self.cov.hit("sample_final")
        starts = {t[1]: t[0] for t in ts}
        if [t for _, t in lg.req_first] != [sp.tick for sp in g.samples]:
            self.fail(f"ADC requests in ticks {[t for _, t in lg.req_first]}")
        for cyc, tick in lg.req_first:
            if cyc != starts[tick]:
                self.fail(f"ADC request of tick {tick} in cycle {cyc}, tick began {starts[tick]}")
        # timing
        if ts[0][0] != lg.start_cycle + cfg.n_ch + 1:
            self.fail(f"tick 0 in cycle {ts[0][0]}, start in {lg.start_cycle} (N_CH + 1 later)")
        last_beat = {}
        for cyc, tick, _, _, _, last in lg.beats:
            if last:
                last_beat[tick] = cyc
        period = max(rc.t_tick_cyc, 1)
        slips = 0
        for k in range(n_ticks):
            exp = max(starts[k] + period, last_beat[k] + 2 + lg.dac_busy.get(k, 0))
            if starts[k + 1] != exp:
                self.fail(
                    f"tick {k + 1} began in cycle {starts[k + 1]}, expected {exp} (tick {k} "
                    f"began {starts[k]}, last beat {last_beat[k]}, DAC busy "
                    f"{lg.dac_busy.get(k, 0)}, T {period})"
                )
            slips += starts[k + 1] > starts[k] + period
        if slips:
            self.cov.hit("overrun")
        final_cyc = lg.samples[-1][0]
        if lg.done_cycles != [final_cyc + 1]:
            self.fail(f"done_o in cycles {lg.done_cycles}, final sample in {final_cyc}")
        # status
        d = {k: after[k] - before[k] for k in after}
        exp_d = {
            "run_count_o": 1,
            "overrun_count_o": slips,
            "dac_sat_count_o": g.dac_sat_count,
            "wr_err_count_o": self.refused_writes,
        }
        self.refused_writes = 0
        if d["dac_sat_count_o"] != exp_d["dac_sat_count_o"]:
            self.mismatch(
                f"dac_sat_count_o moved by {d['dac_sat_count_o']}, golden {g.dac_sat_count}"
            )
        if d != exp_d:
            self.fail(f"status counter deltas {d}, expected {exp_d}")
        if self.read("sw_o") or self.read("phase_o") or self.read("busy_o"):
            self.fail("not back in IDLE (sw 0000) after done_o")
        self.log.info(
            "run: %d ticks, %d beats, %d samples, %d slips, %d sat, cycles %d",
            n_ticks + 1,
            len(lg.beats),
            len(lg.samples),
            slips,
            g.dac_sat_count,
            lg.end_cycle - lg.start_cycle,
        )

    def _check_abort(self, g: RunTrace, lg: RunLog, abort_cycle: int, before, after) -> None:
        # everything up to the abort is a prefix of the golden run
        for (cyc, tick, addr, data, mask, last), b in zip(lg.beats, g.beats, strict=False):
            exp = (b.tick, b.addr, b.data_word(self.cfg.data_w), b.mask, int(b.last))
            if (tick, addr, data, mask, last) != exp:
                self.mismatch(f"beat in cycle {cyc} before the abort differs from the golden")
        late = [b for b in lg.beats if b[0] > abort_cycle]
        if len(late) != int(lg.abort_pending[0]):
            self.fail(f"{len(late)} beats after the abort, {int(lg.abort_pending[0])} pending")
        late_req = [q for q in lg.req_first if q[0] > abort_cycle]
        if late_req:
            self.fail(f"ADC request started after the abort: {late_req}")
        late_s = [x for x in lg.samples if x[0] > abort_cycle]
        if len(late_s) != int(lg.abort_pending[1]):
            self.fail(
                f"{len(late_s)} sample beats after the abort, {int(lg.abort_pending[1])} pending"
            )
        if lg.done_cycles:
            self.fail("done_o after an abort")
        if self.adc_state != "idle":
            self.fail(f"abort left the ADC response pending (responder {self.adc_state})")
        if after["run_count_o"] != before["run_count_o"]:
            self.fail("run_count_o moved on an abort")
        if self.read("sw_o") or self.read("phase_o") or self.read("busy_o"):
            self.fail("not back in IDLE after the abort")
        self.refused_writes = 0


def _bins_all() -> list[str]:
    return [f"mode_{m.name}" for m in Mode] + [
        f"phase_{p.name}" for p in (Phase.RESET, Phase.LOAD, Phase.INTEGRATE, Phase.HOLD)
    ]


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------


@cocotb.test()
async def run_random(dut) -> None:
    """Random configurations of all modes over several runs, random back-pressure everywhere,
    random refused writes while busy."""
    tb = TB(dut)
    await tb.start()
    await tb.write_config(tb.random_channels(list(Mode)), tb.random_table())
    tb.p_write = 0.01
    for i in range(4 if tb.big else 10):
        if i:
            await tb.write_config(tb.random_channels(list(Mode)[::-1] if i % 2 else None))
        rc = tb.random_run(tb.channels, slack=(0.6, 1.6))
        if i == 0:  # every phase, a sample after every integrate tick
            rc = replace(rc, n_reset=max(rc.n_reset, 1), n_load=max(rc.n_load, 1))
            rc = replace(rc, sample_every=1, n_int=6)
        elif i == 1:  # RESET and LOAD skipped
            rc = replace(rc, n_reset=0, n_load=0)
        elif i == 2:  # ticks far too short: every tick slips
            rc = replace(rc, t_tick_cyc=tb.work_cycles(tb.channels) // 2)
        await tb.run_once(rc)
    # Each ADC request stalls in its first cycle with probability 0.4, so with the few
    # samples of the big parameter sets (four runs, 9..20 requests) about one seed in 10^3
    # stalls none: then one more run holds adc_req_ready_i low until its first request.
    if not tb.cov.hits.get("bp_adc_req"):
        tb.stall_req = True
        await tb.run_once(tb.random_run(tb.channels, slack=(0.6, 1.6)))
        tb.stall_req = False
    sat = ["dac_sat"] if tb.cfg.data_w < 16 else []  # 16-bit codes never saturate
    tb.cov.check(
        _bins_all()
        + sat
        + [
            "overrun",
            "bp_dac",
            "dac_busy",
            "bp_adc_req",
            "bp_smp",
            "adc_latency",
            "sample_mid",
            "sample_final",
            "adc_timeout",
            "adc_sat",
            "wr_refused",
            "skip_reset",
            "skip_load",
        ],
        tb.log,
    )


@cocotb.test()
async def run_idle(dut) -> None:
    """No back-pressure, zero ADC latency, long ticks: exact tick period, no overrun."""
    tb = TB(dut, FULL_SPEED)
    await tb.start()
    await tb.write_config(tb.random_channels(list(Mode)), tb.random_table())
    for i in range(2):
        rc = tb.random_run(tb.channels, slack=(1.5, 2.5))
        if i == 0:
            rc = replace(rc, n_reset=max(rc.n_reset, 1), n_load=max(rc.n_load, 1))
        lg = await tb.run_once(rc)
        starts = [c for c, *_ in lg.tick_starts]
        assert all(b - a == rc.t_tick_cyc for a, b in zip(starts, starts[1:], strict=False))
    assert tb.read("overrun_count_o") == 0
    tb.cov.check(_bins_all() + ["sample_final"], tb.log)


@cocotb.test()
async def run_overrun(dut) -> None:
    """Tick periods far below the work per tick (t_tick 0, 1 and half the work): every tick
    slips and is counted."""
    tb = TB(dut)
    await tb.start()
    await tb.write_config(tb.random_channels(), tb.random_table())
    for t_tick in (0, 1, tb.work_cycles(tb.channels) // 2):
        rc = replace(tb.random_run(tb.channels, slack=(1, 1)), t_tick_cyc=t_tick)
        before = tb.read("overrun_count_o")
        await tb.run_once(rc)
        assert tb.read("overrun_count_o") - before == rc.n_ticks, "every tick must slip"
    tb.cov.check(["overrun"], tb.log)


@cocotb.test()
async def run_cfg_errors(dut) -> None:
    """Each configuration rule refuses the run (no beat, no request) and sets cfg_err_o,
    err_code_o and err_ch_o; writes to bad addresses are refused and counted."""
    tb = TB(dut)
    await tb.start()
    cfg, r = tb.cfg, tb.rng
    good = tb.random_channels()
    await tb.write_config(good, tb.random_table())
    n = cfg.n_ch
    cases: list[tuple[str, list[ChannelCfg], RunCfg]] = []
    base_rc = tb.random_run(good, slack=(1, 2))
    cases.append(("N_INT", good, replace(base_rc, n_int=0)))
    cases.append(("SEED", good, replace(base_rc, seed=0)))

    def bad(ch: int, c: ChannelCfg) -> list[ChannelCfg]:
        out = list(good)
        out[ch] = c
        return out

    ch = r.randrange(n)
    cases.append(("MODE", bad(ch, ChannelCfg(r.choice((6, 7)), 1, 2, 3)), base_rc))
    d = cfg.tab_depth
    ch = r.randrange(n)
    cases.append(("TAB_LEN", bad(ch, ChannelCfg(Mode.TABLE, 0, 0, (0 << 16) | 3)), base_rc))
    ch = r.randrange(n)
    cases.append(("TAB_LEN", bad(ch, ChannelCfg(Mode.TABLE, 0, 0, (9 << 16) | (d - 8))), base_rc))
    ch = r.randrange(n)
    cases.append(("TAB_STEP", bad(ch, ChannelCfg(Mode.TABLE, 0, 4 * 256, (4 << 16) | 1)), base_rc))
    ch = r.randrange(n)
    cases.append(("TAB_START", bad(ch, ChannelCfg(Mode.TABLE, 4 * 256, 0, (4 << 16))), base_rc))
    ch = r.randrange(min(n, 32))  # ref is 5 bits: refs >= ch exist only below channel 32
    cases.append(("NOISE_REF", bad(ch, ChannelCfg(Mode.NOISE, 0, 0, 0, min(ch, 31))), base_rc))
    for name, chans, rc in cases:
        err = check(cfg, chans, rc)
        assert err is not None and err.code == ErrCode[name], (name, err)
        await tb.write_config(chans)
        s = await tb.step(None, start=True, run_cfg=rc)
        busy_cycles = 0
        for _ in range(n + 3):
            s = await tb.step(None)
            busy_cycles += s["busy_o"]
            if s["dac_valid_o"] or s["adc_req_valid_o"] or s["phase_o"] or s["sw_o"]:
                tb.fail(f"{name}: the refused run started")
        # header: rules 1, 2 refuse at once; a channel rule after checking channels 0 .. ch
        exp_busy = 0 if err.code in (ErrCode.N_INT, ErrCode.SEED) else err.ch + 1
        if busy_cycles != exp_busy:
            tb.fail(f"{name}: busy for {busy_cycles} cycles, header says {exp_busy}")
        if s["busy_o"]:
            tb.fail(f"{name}: still busy after the check")
        got = (tb.read("cfg_err_o"), tb.read("err_code_o"), tb.read("err_ch_o"))
        if got != (1, int(err.code), err.ch):
            tb.mismatch(
                f"{name}: (cfg_err, err_code, err_ch) = {got}, golden "
                f"{(1, int(err.code), err.ch)} ({err.message})"
            )
        tb.cov.hit(f"err_{name}")
    # refused writes: bad addresses while idle, any address while busy (during a good run)
    before = tb.read("wr_err_count_o")
    bad_writes = []
    if 4 * n < 512:  # 128 channels use every cfg_addr_i value
        bad_writes += [("cfg", 4 * n, 1), ("cfg", 511, 2)]
    if cfg.tab_depth < 1024:
        bad_writes += [("tab", cfg.tab_depth, 3), ("tab", 1023, 4)]
    for w in bad_writes:
        await tb.step(None, write=w)
    await tb.step(None)
    assert tb.read("wr_err_count_o") - before == len(bad_writes), "bad writes not counted"
    await tb.write_config(good)
    tb.p_write = 0.05
    await tb.run_once(base_rc)  # writes while busy: refused (the run matches the golden)
    assert tb.read("cfg_err_o") == 1, "cfg_err_o must be sticky"
    tb.cov.check([f"err_{e.name}" for e in ErrCode if e != ErrCode.NONE] + ["wr_refused"], tb.log)


@cocotb.test()
async def run_abort(dut) -> None:
    """abort_i in every kind of cycle: sw to 0000 at once, a presented handshake finished, an
    accepted ADC request's response consumed, no done_o; the next full run is exact."""
    tb = TB(dut)
    await tb.start()
    await tb.write_config(tb.random_channels(list(Mode)), tb.random_table())
    kinds = ["beat", "req", "rsp", "smp", "cordic", "noise", "wait", "chk"]
    for kind in kinds:
        for _attempt in range(5):
            rc = replace(tb.random_run(tb.channels, slack=(1.2, 1.6)), sample_every=1)
            await tb.run_once(rc, abort_when=kind)
            if tb.cov.hits.get(f"abort_{kind}"):
                break
        if not tb.big or kind in ("beat", "rsp"):
            await tb.run_once(tb.random_run(tb.channels, slack=(0.8, 1.4)))
    tb.cov.check([f"abort_{k}" for k in kinds], tb.log)


@cocotb.test()
async def run_reset_mid(dut) -> None:
    """Asynchronous reset in the middle of runs: everything cleared (an all-OFF run follows
    without rewriting the channel table), then a fresh full run is exact."""
    tb = TB(dut)
    await tb.start()
    for _ in range(2 if tb.big else 3):
        await tb.write_config(tb.random_channels(list(Mode)), tb.random_table())
        rc = tb.random_run(tb.channels, slack=(0.8, 1.4))
        await tb.step(None, start=True, run_cfg=rc)
        for _ in range(tb.rng.randint(tb.cfg.n_ch + 2, 4 * tb.work_cycles(tb.channels))):
            await tb.step(None)
        d = tb.dut
        await FallingEdge(d.clk_i)
        tb.cycle += 1
        d.rst_ni.value = 0
        await Timer(1, unit="ns")
        tb.check_reset_values()
        for _ in range(tb.rng.randint(1, 3)):
            await FallingEdge(d.clk_i)
            tb.cycle += 1
        await ReadOnly()
        tb.check_reset_values()
        await FallingEdge(d.clk_i)
        tb.cycle += 1
        d.rst_ni.value = 1
        d.adc_rsp_valid_i.value = 0
        tb._reset_peers()
        tb.cov.hit("reset_mid")
        # channel table cleared: every channel OFF
        tb.channels = [ChannelCfg()] * tb.cfg.n_ch
        await tb.run_once(replace(rc, n_int=2))
        await tb.write_config(tb.random_channels(list(Mode)))
        await tb.run_once(tb.random_run(tb.channels, slack=(0.8, 1.4)))
    tb.cov.check(["reset_mid"], tb.log)


def _wrong_model(cfg: OdeSeqConfig, channels, table, rc: RunCfg) -> RunTrace:
    """Deliberately wrong reference: every SINE channel's start phase 1/64 turn late."""
    wrong = [
        replace(c, p0=(c.p0 & ~0xFFFF) | ((c.p0 + 0x400) & 0xFFFF)) if c.mode == Mode.SINE else c
        for c in channels
    ]
    return run(cfg, wrong, table, rc)


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:
    """The scoreboard, fed a wrong model, must report a mismatch (this test passes only if the
    bench fails with a ScoreboardError)."""
    tb = TB(dut, expect_fail=True)
    tb.model = _wrong_model
    await tb.start()
    chans = tb.random_channels([Mode.SINE] * 4)
    chans = [replace(c, p2=0x7FFF) if c.mode == Mode.SINE else c for c in chans]
    await tb.write_config(chans, tb.random_table())
    rc = replace(tb.random_run(tb.channels, slack=(1, 2)), n_int=12)
    await tb.run_once(rc)


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------

PARAM_SETS = {
    # 5 chips x 4 addresses (20 channels), 12-bit DACs, 2 state channels, 256-entry table
    "c5a4s2": {"N_CHIPS": 5, "N_ADDR": 4, "N_STATE": 2},
    # 2 chips x 3 addresses, 10-bit DACs, 6 state channels of 8 bits, 64-entry table, 8 CORDIC
    # iterations
    "c2a3s6": {
        "N_CHIPS": 2,
        "N_ADDR": 3,
        "DATA_W": 10,
        "N_STATE": 6,
        "ADC_BITS": 8,
        "TAB_DEPTH": 64,
        "CORDIC_ITERS": 8,
    },
    # the wide corner: 4 chips x 16 addresses (the full address field; 64 channels, NOISE refs
    # limited to 0..31), 16-bit DACs (no code saturation), 16 state channels of 16 bits,
    # 1024-entry table
    "c4a16w16": {
        "N_CHIPS": 4,
        "N_ADDR": 16,
        "DATA_W": 16,
        "N_STATE": 16,
        "ADC_BITS": 16,
        "TAB_DEPTH": 1024,
        "CORDIC_ITERS": 12,
    },
}


def test_param_sets_legal() -> None:
    """Every parameter set is legal with room for NOISE channels; together they cover DAC
    saturation, all 16 addresses, more than 32 channels and different CORDIC lengths."""
    cfgs = [OdeSeqConfig.from_hdl(p) for p in PARAM_SETS.values()]
    assert all(c.n_ch >= 2 for c in cfgs)
    assert any(c.data_w < 16 for c in cfgs) and any(c.n_addr == 16 for c in cfgs)
    assert any(c.n_ch > 32 for c in cfgs)
    assert np.unique([c.cordic_iters for c in cfgs]).size > 1


@pytest.mark.sim
@pytest.mark.parametrize("params", list(PARAM_SETS.values()), ids=list(PARAM_SETS))
@pytest.mark.parametrize("sim", simulators())
def test_cim_ode_seq(sim: str, params: dict[str, int], request: pytest.FixtureRequest) -> None:
    run_bench(
        sim=sim,
        nodeid=request.node.nodeid,
        toplevel="cim_ode_seq",
        module="test_cim_ode_seq",
        sources=[RTL / "cim_ode_seq.sv"],
        parameters=OdeSeqConfig.from_hdl(params).to_hdl(),
        bench_dir=Path(__file__).parent,
    )
