"""pyuvm bench of ``cim_ode_top``: runs of the closed-loop solver through the RTL periphery.

The solver board is a :class:`rramcim.cosim.ode.OdeMacroAdapter` behind the ``cim_ode_macro``
shell: it decodes the top's SPI frames into a :class:`~rramcim.analog.dac.DacBank`, integrates
the *same* :class:`~rramcim.analog.ode.OdeSolver` object the hardware model uses once per LDAC
pulse, and answers the ADC conversions with the solver's state. The host side configures each
run over APB (:func:`rramcim.golden.ode_top.config_writes`), starts it, and drains the sample
FIFO through SMP_DATA at random intervals (so the FIFO fills and ticks slip now and then).
The scoreboard requires, for every run, every SPI frame (every chip's word), every LDAC tick
(switch pattern and all DAC output codes), every sample word and the run's counters to equal
the hardware model (:func:`rramcim.golden.ode_top.simulate`). The pyuvm skeleton (BFM
clock/reset/APB part, sequence, driver, scoreboard base, env, test, pytest entry) is
:mod:`tb.vip.uvm`; this module holds the ODE-specific parts.

Runs: ``RRAMCIM_ODE_WORKLOAD`` selects them: ``synthetic`` (default) draws random solver
networks and random channel programs that use every channel mode (CONST, RAMP, SINE, TABLE,
NOISE and OFF), random phase lengths and sample spacing, and tick periods both longer and
shorter than a tick's work (slipped ticks); the workload runs (trained networks) come from
``rramcim.apps`` mappings when asked for.

Testplan (feature -> test):
    runs bit-exact: frames, LDAC ticks, samples, counters            -> OdeRunsTest
    the workload runs of each board (twin runs, the HP twin's trim
      calibration runs, diffusion samples)                          -> OdeRunsTest
    every channel mode, periodic and final-only sampling, slipped
      ticks, sample FIFO full (host slow), ADC saturation flags     -> OdeRunsTest (coverage)
    register map: ID, reset values, vetoed writes (pointer out of
      range, table write while busy, RO slot), error count/address,
      START refused (n_int 0 / seed 0) with rule and channel, CLEAR  -> OdeCsrTest
    ABORT in the middle of a run, then a run that must match         -> OdeAbortTest
    reset in the middle of a run, then a run that must match         -> OdeResetTest
    the checker catches a wrong model (one sample code off by one)   -> OdeExpectFailTest

Environment: ``RRAMCIM_ODE_RUNS`` (runs of OdeRunsTest, default 6), ``RRAMCIM_ODE_WORKLOAD``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

import cocotb
import numpy as np
import pyuvm
from cocotb.triggers import ClockCycles
from pyuvm import uvm_sequence_item, uvm_subscriber

from tb.vip.params import param
from tb.vip.uvm import (
    CLK_NS,
    BenchEnv,
    BfmDriver,
    BfmTest,
    ItemScoreboard,
    TopBfm,
    top_bench_test,
)

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------------------------
# Stimulus: scenarios (a programmed solver, its channel map, runs)
# ------------------------------------------------------------------------------------------
@dataclass
class Scenario:
    """Runs that share one programmed solver board."""

    label: str
    solver: object  # rramcim.analog.ode.OdeSolver
    channel_map: tuple[int, ...]
    runs: list  # list[rramcim.golden.ode_top.OdeRun]


def top_config():  # noqa: ANN201 (OdeTopConfig)
    from rramcim.golden.ode_top import OdeTopConfig

    return OdeTopConfig.from_hdl(
        {k: param(k) for k in OdeTopConfig.HDL_NAMES if os.environ.get(f"PARAM_{k}")}
    )


def synthetic_scenario(cfg, rng: random.Random, n_runs: int, label: str = "synthetic") -> Scenario:  # noqa: ANN001
    """A random tanh network on the solver and ``n_runs`` random channel programs."""
    import torch

    from rramcim.analog.ode import OdeSolver, OdeSolverConfig
    from rramcim.golden.ode_seq import (
        ChannelCfg,
        Mode,
        RunCfg,
        noise_regs,
        q15,
        ramp_regs,
        sine_regs,
        table_regs,
        u16,
    )
    from rramcim.golden.ode_top import OdeRun

    n_state = cfg.n_state
    spare = cfg.n_ch - (2 * n_state + 2)
    n_input = 1 if spare >= 1 else 0
    n_embed = 0
    if spare - n_input >= 4:
        n_embed = min(8, spare - n_input)
    hidden = n_embed or 8
    scfg = OdeSolverConfig(n_state=n_state, n_input=n_input, n_embed=n_embed, tau_int_s=1e-4,
                           t_tick_s=1e-5, substeps=2)  # fmt: skip
    g = torch.Generator().manual_seed(rng.randrange(1 << 30))
    W = [torch.randn(hidden, n_state + n_input, generator=g) * 0.8,
         torch.randn(n_state, hidden, generator=g) * 0.5]  # fmt: skip
    b = [torch.randn(hidden, generator=g) * 0.1, torch.randn(n_state, generator=g) * 0.05]
    solver = OdeSolver(scfg, W, b, "tanh", seed=rng.randrange(1 << 16))
    lay = scfg.channel_layout()
    # a random set of DAC channels; the noise channels take the highest of them, so that each
    # has lower channels to refer to
    chosen = sorted(rng.sample(range(cfg.n_ch), scfg.n_channels))
    n_noise = lay["noise"].stop - lay["noise"].start
    head = chosen[: len(chosen) - n_noise]
    rng.shuffle(head)
    cmap = head + chosen[len(chosen) - n_noise :]  # the layout lists the noise channels last
    spares = [ch for ch in range(cfg.n_ch) if ch not in cmap]
    role = {}
    for name, sl in lay.items():
        for i in range(sl.start, sl.stop):
            role[cmap[i]] = name
    table = tuple(u16(q15(0.6 * np.sin(2 * np.pi * i / 37))) for i in range(cfg.tab_depth))
    runs = []
    for r in range(n_runs):
        chans: list = [None] * cfg.n_ch
        for ch in range(cfg.n_ch):
            kind = role.get(ch)
            if kind == "init":
                c = ChannelCfg(Mode.CONST, u16(q15(rng.uniform(-0.4, 0.4))))
            elif kind == "coef_a":
                p0, p1 = ramp_regs(rng.uniform(-0.3, 0.0), rng.uniform(-0.01, 0.01))
                c = ChannelCfg(Mode.RAMP, p0, p1)
            elif kind == "coef_b":
                c = ChannelCfg(Mode.SINE, *sine_regs(rng.uniform(-0.05, 0.05), 0.0, 0.3, 0.4))
            elif kind == "embed":
                f, ph = rng.uniform(-0.1, 0.1), rng.random()
                c = ChannelCfg(Mode.SINE, *sine_regs(f, ph, 0.5, rng.uniform(-0.3, 0.3)))
            elif kind == "input":
                c = ChannelCfg(Mode.TABLE, *table_regs(3, 37, rng.uniform(0.2, 2.0)))
            elif kind == "noise":
                refs = [k for k in range(ch) if chans[k] is not None and chans[k].mode != Mode.OFF]
                if refs:
                    p0, p1 = noise_regs(rng.uniform(0.05, 0.3), 0.0)
                    c = ChannelCfg(Mode.NOISE, p0, p1, ref=rng.choice(refs))
                else:
                    c = ChannelCfg(Mode.CONST, u16(q15(rng.uniform(-0.05, 0.05))))
            else:  # a spare DAC channel: any mode, OFF included, saturating values allowed
                m = rng.choice([Mode.OFF, Mode.CONST, Mode.RAMP, Mode.SINE, Mode.TABLE])
                if ch == spares[0]:
                    m = Mode.CONST  # full scale: the code saturates (DAC saturation bin)
                elif len(spares) > 1 and ch == spares[1]:
                    m = Mode.OFF
                if m == Mode.CONST:
                    v = 1.0 if ch == spares[0] else rng.uniform(-1, 1)
                    c = ChannelCfg(m, u16(q15(v)))
                elif m == Mode.RAMP:
                    c = ChannelCfg(m, *ramp_regs(rng.uniform(0.8, 1.0), rng.uniform(0.0, 0.05)))
                elif m == Mode.SINE:
                    c = ChannelCfg(m, *sine_regs(rng.uniform(-0.2, 0.2), rng.random(), 0.9, 0.3))
                elif m == Mode.TABLE:
                    n = rng.randint(1, 64)
                    c = ChannelCfg(m, *table_regs(0, n, rng.uniform(0, min(3.0, n - 0.01))))
                else:
                    c = ChannelCfg()
            chans[ch] = c
        rc = RunCfg(
            n_reset=rng.randint(1, 2),
            n_load=rng.randint(1, 2),
            n_int=rng.randint(8, 24),
            t_tick_cyc=rng.choice([1, 300, 2000]),
            sample_every=rng.choice([0, 1, 3, 5]),
            seed=rng.randrange(1, 1 << 32),
        )
        if r % 4 == 0:
            rc = dataclasses.replace(rc, sample_every=0)  # final sample only
        elif r % 4 == 1:
            rc = dataclasses.replace(rc, sample_every=rng.choice([1, 3]), t_tick_cyc=2000)
        elif r % 4 == 2:
            rc = dataclasses.replace(rc, t_tick_cyc=1)  # every tick slips
        runs.append(OdeRun(tuple(chans), table, rc, run_id=r))
    return Scenario(label, solver, tuple(cmap), runs)


def workload_scenarios(cfg, rng: random.Random) -> list[Scenario]:  # noqa: ANN001
    """Full runs of the trained workloads that fit this board: on the diffusion board one
    unconditional ring sample (reverse SDE: the NOISE channels) and one conditional letter
    sample (probability-flow ODE, a random class), 200 integrate ticks each; on the twin board
    one HP twin run (300 steps of a training drive from x(0), sampled every step) and three
    random runs of its per-chip calibration (the trim's measurement); on the
    Lorenz96 board one run of 150 steps from a test start."""
    from rramcim.apps.diffusion import analog as dha
    from rramcim.apps.twin import rtl as twin_rtl

    out = []
    tb = twin_rtl.TWIN_BOARD
    if (cfg.n_chips, cfg.n_addr, cfg.n_state, cfg.tab_depth) == (
        tb.n_chips,
        tb.n_addr,
        tb.n_state,
        tb.tab_depth,
    ):
        from rramcim.apps.twin.analog import (
            calibration_plan,
            drive_samples,
            hp_reference_states,
            hp_solver,
        )
        from rramcim.apps.twin.hp import TRAIN_DRIVES

        solver, mp, fld, tcfg = hp_solver(seed=rng.randrange(4))
        drive = TRAIN_DRIVES[rng.randrange(len(TRAIN_DRIVES))]
        run, _ = twin_rtl.hp_top_run(mp, tcfg.device.x0, 300, drive_samples([drive]))
        out.append(Scenario("hp-twin", solver, twin_rtl.HP_CHANNEL_MAP, [run]))
        plan = calibration_plan(mp, hp_reference_states(fld))
        cal = twin_rtl.calibration_top_runs(mp, plan, rng.sample(range(plan.n_runs), 3))
        out.append(Scenario("hp-cal", solver, twin_rtl.HP_CHANNEL_MAP, cal))
    lb = twin_rtl.L96_BOARD
    if (cfg.n_chips, cfg.n_addr, cfg.n_state) == (lb.n_chips, lb.n_addr, lb.n_state):
        from rramcim.apps.twin.analog import l96_solver
        from rramcim.apps.twin.evaluate import l96_test_starts

        solver, mp, _, lcfg = l96_solver(seed=rng.randrange(4))
        h0 = l96_test_starts(lcfg, 3)[rng.randrange(3)]
        run, _ = twin_rtl.l96_top_run(mp, h0, 150)
        out.append(Scenario("l96-twin", solver, twin_rtl.L96_CHANNEL_MAP, [run]))
    if (cfg.n_chips, cfg.n_addr, cfg.n_state) == (
        dha.BOARD.n_chips,
        dha.BOARD.n_addr,
        dha.BOARD.n_state,
    ):
        from rramcim.apps.diffusion.samplers import prior_samples
        from rramcim.apps.diffusion.train import HKUConfig, load_hku, load_ring

        seed = rng.randrange(1 << 16)
        net, _ = load_ring()
        exp = net.analog_export()
        solver, mp = dha.make_solver(exp, dha.DiffusionHw(mode="sde", beta_scale=2.0), seed=1)
        x0 = prior_samples(1, seed)
        runs = dha.top_runs(exp, mp, x0, None, seed)
        out.append(Scenario("ring", solver, dha.CHANNEL_MAP, runs))
        nets, info = load_hku()
        hcfg = HKUConfig.from_json(info["config"]) if "config" in info else HKUConfig()
        exp = nets["score"].analog_export()
        hw = dha.DiffusionHw(mode="ode", beta_scale=hcfg.beta_scale)
        solver, mp = dha.make_solver(exp, hw, seed=2)
        x0 = prior_samples(1, seed, prior_std=hcfg.prior_std)
        runs = dha.top_runs(exp, mp, x0, [rng.randrange(3)], seed)
        out.append(Scenario("letters", solver, dha.CHANNEL_MAP, runs))
    return out


def batch_scenarios(spec: dict) -> list[Scenario]:
    """The runs that ``rramcim sim`` asks for (``RRAMCIM_ODE_BATCH``, a JSON file): per entry
    the task (``ring`` / ``letters``: sampler mode, seeds, the prior batch size and the sample
    numbers to run, each equal to that sample of the hardware model; ``hp``: programming seed,
    drive number, steps and run id of one HP twin run)."""
    from rramcim.apps.diffusion import analog as dha
    from rramcim.apps.diffusion.samplers import prior_samples
    from rramcim.apps.diffusion.train import load_hku, load_ring

    out = []
    for e in spec["scenarios"]:
        if e["task"] == "l96":
            from rramcim.apps.twin import rtl as twin_rtl
            from rramcim.apps.twin.analog import l96_solver
            from rramcim.apps.twin.evaluate import l96_test_starts

            solver, mp, _, lcfg = l96_solver(seed=e["device_seed"])
            h0 = l96_test_starts(lcfg, e["start"] + 1)[e["start"]]
            run, _ = twin_rtl.l96_top_run(mp, h0, e["n_steps"], run_id=e["run_id"])
            out.append(Scenario("l96", solver, twin_rtl.L96_CHANNEL_MAP, [run]))
            continue
        if e["task"] == "hp":
            from rramcim.apps.twin import rtl as twin_rtl
            from rramcim.apps.twin.analog import drive_samples, hp_solver
            from rramcim.apps.twin.hp import TRAIN_DRIVES, UNSEEN_DRIVES

            solver, mp, _, tcfg = hp_solver(seed=e["device_seed"])
            drive = (TRAIN_DRIVES + UNSEEN_DRIVES)[e["drive"]]
            run, _ = twin_rtl.hp_top_run(
                mp, tcfg.device.x0, e["n_steps"], drive_samples([drive]), run_id=e["run_id"]
            )
            out.append(Scenario("hp", solver, twin_rtl.HP_CHANNEL_MAP, [run]))
            continue
        net = load_ring()[0] if e["task"] == "ring" else load_hku()[0]["score"]
        exp = net.analog_export()
        hw = dha.DiffusionHw(mode=e["mode"], beta_scale=e["beta_scale"])
        solver, mp = dha.make_solver(exp, hw, seed=e["device_seed"])
        x0 = prior_samples(e["n_total"], e["seed"], prior_std=e["prior_std"])[e["indices"]]
        runs = dha.top_runs(exp, mp, x0, e["classes"], e["seed"], indices=e["indices"])
        out.append(Scenario(e["task"], solver, dha.CHANNEL_MAP, runs))
    return out


# ------------------------------------------------------------------------------------------
# Sequence item, BFM (the only code that touches pins)
# ------------------------------------------------------------------------------------------
class OdeItem(uvm_sequence_item):
    """One run: stimulus, the model's expectation and what the RTL showed."""

    def __init__(self, name: str, scen: Scenario | None = None, idx: int = 0) -> None:
        super().__init__(name)
        self.scen = scen
        self.idx = idx
        self.expected = None  # OdeRunResult
        self.words: list[int] = []
        self.frames: list[tuple[int, ...]] = []
        self.ticks: list[tuple[int, tuple[int, ...]]] = []
        self.counters: dict[str, int] = {}
        self.status = 0
        self.max_level = 0
        self.cycles = 0
        self.error = ""

    @property
    def run(self):  # noqa: ANN201
        return self.scen.runs[self.idx]

    def __str__(self) -> str:
        return f"{self.scen.label} run {self.idx}"


COUNTERS = ("RUNS", "OVERRUNS", "DAC_SAT", "FRAMES", "LDACS", "CONVS", "ADC_SAT", "WR_ERRS",
            "CSR_ERRS", "SPI_ERRS")  # fmt: skip


class OdeBfm(TopBfm):
    """Pins of the top: clock, reset, APB master, solver-board adapter."""

    def __init__(self, dut, seed: int) -> None:  # noqa: ANN001
        from rramcim.analog.dac import DacBank
        from rramcim.cosim.ode import OdeMacroAdapter

        super().__init__(dut, seed, "cocotb.ode.bfm", apb_idle_cycles=(0, 2))
        self.cfg = top_config()
        self.bank = DacBank(self.cfg.spi())
        self.adapter: OdeMacroAdapter | None = None
        self._adapter_cls = OdeMacroAdapter
        self.t_conv = param("T_CONV_CYC", 4)

    def attach(self, scen: Scenario) -> None:
        """Put ``scen``'s solver on the board (a new adapter on the same pins and DAC bank)."""
        if self.adapter is not None and self.adapter.solver is scen.solver:
            return
        if self.adapter is not None:
            self.adapter.stop()
        self.adapter = self._adapter_cls(
            self.dut.u_macro, self.dut.clk_i, self.dut.rst_ni, self.bank, scen.solver,
            scen.channel_map, n_adc=self.cfg.n_state, adc_bits=self.cfg.adc_bits,
            t_conv_cyc=self.t_conv, clk_period_ns=CLK_NS,
        )  # fmt: skip
        self.adapter.start()

    def idle_pins(self) -> None:
        """The macro shell's ADC outputs idle until an adapter drives them."""
        u = self.dut.u_macro
        u.adc_done_o.value = 0
        u.adc_code_o.value = 0

    async def counters(self) -> dict[str, int]:
        from rramcim.golden.ode_top import REG

        return {k: await self.read(REG[k]) for k in COUNTERS}

    async def configure(self, run) -> None:  # noqa: ANN001
        from rramcim.golden.ode_top import config_writes

        for idx, v in config_writes(self.cfg, run):
            await self.write(idx, v)

    async def wait_idle(self, limit: int = 100_000) -> None:
        from rramcim.golden.ode_top import REG, ST_BUSY, ST_DAC_BUSY

        for _ in range(limit // 20):
            if not await self.read(REG["STATUS"]) & (ST_BUSY | ST_DAC_BUSY):
                return
            await ClockCycles(self.dut.clk_i, 20)
        raise AssertionError("the top stayed busy")

    async def run_item(self, item: OdeItem, *, stop_after: int | None = None) -> None:
        """Configure, start and drain one run (``stop_after``: return after that many cycles
        without draining, for the abort / reset tests)."""
        from rramcim.golden.ode_top import CMD_CLEAR, CMD_START, REG, ST_DONE

        self.attach(item.scen)
        before = await self.counters()
        await self.configure(item.run)
        self.adapter.begin_run(item.run.run_id)
        await self.write(REG["CMD"], CMD_START)
        if stop_after is not None:
            await ClockCycles(self.dut.clk_i, stop_after)
            return
        n_want = len(item.expected.words()) if item.expected is not None else None
        rc = item.run.runcfg
        limit = (rc.n_ticks + 2) * (max(rc.t_tick_cyc, 1) + 4000) + 20_000
        slow = self.rng.random() < 0.5  # a slow host lets the sample FIFO fill
        cycles = 0
        done = False
        while cycles < limit:
            gap = self.rng.randint(200, 3000) if slow else self.rng.randint(5, 300)
            await ClockCycles(self.dut.clk_i, gap)
            cycles += gap
            lvl = await self.read(REG["SMP_LEVEL"])
            item.max_level = max(item.max_level, lvl >> 16)
            for _ in range(lvl & 0xFFFF):
                item.words.append(await self.read(REG["SMP_DATA"]))
            if done and (n_want is None or len(item.words) >= n_want):
                break
            done = done or bool(await self.read(REG["STATUS"]) & ST_DONE)
        else:
            item.error = f"run not finished after {limit} cycles"
        item.cycles = cycles
        await self.wait_idle()
        item.status = await self.read(REG["STATUS"])
        await self.write(REG["CMD"], CMD_CLEAR)
        after = await self.counters()
        item.counters = {k: after[k] - before[k] for k in after}
        log = self.adapter.log
        item.frames = [f.words for f in log.frames]
        item.ticks = [(t.sw, tuple(t.codes)) for t in log.ticks]


# ------------------------------------------------------------------------------------------
# pyuvm components
# ------------------------------------------------------------------------------------------
class OdeDriver(BfmDriver):
    """Predicts every run with the hardware model, then runs it (:meth:`OdeBfm.run_item`)."""

    BFM_METHOD = "run_item"

    def before(self, item: OdeItem) -> None:
        from rramcim.golden.ode_top import simulate

        bank = self.bfm.bank  # the DAC registers as earlier runs left them
        item.expected = simulate(self.bfm.cfg, [item.run], item.scen.solver,
                                 item.scen.channel_map,
                                 dac_state=[(bank.input, bank.output)])[0]  # fmt: skip


def _first_diff(a: list, b: list) -> int | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


class OdeScoreboard(ItemScoreboard):
    """Compares every run with the hardware model (a wrong model can be injected)."""

    NOUN = "run"

    def mismatches(self, item: OdeItem) -> list[str]:
        exp = item.expected
        errs = []
        if item.error:
            errs.append(item.error)
        want_words = exp.words()
        if self.perturb:
            want_words[1] += self.perturb  # the first state code of the first sample
        i = _first_diff(item.frames, exp.frames)
        if i is not None:
            got = item.frames[i] if i < len(item.frames) else None
            want = exp.frames[i] if i < len(exp.frames) else None
            errs.append(f"SPI frame {i} of {len(exp.frames)}: RTL {got} != model {want}")
        i = _first_diff(item.ticks, exp.ticks)
        if i is not None:
            errs.append(f"LDAC tick {i} of {len(exp.ticks)} (switches, DAC codes) differs")
        i = _first_diff(item.words, want_words)
        if i is not None:
            got = item.words[i] if i < len(item.words) else None
            want = want_words[i] if i < len(want_words) else None
            errs.append(f"sample word {i} of {len(want_words)}: RTL {got} != model {want}")
        c = item.counters
        rc = item.run.runcfg
        cfg_n_addr = len(exp.trace.beats) // max(rc.n_ticks, 1)
        want_c = {"RUNS": 1, "FRAMES": rc.n_ticks * cfg_n_addr, "LDACS": rc.n_ticks,
                  "CONVS": len(exp.samples), "DAC_SAT": exp.trace.dac_sat_count, "WR_ERRS": 0,
                  "CSR_ERRS": 0, "SPI_ERRS": 0,
                  "ADC_SAT": sum(bin(s.flags & ((1 << len(s.codes)) - 1)).count("1")
                                 for s in exp.samples)}  # fmt: skip
        for k, v in want_c.items():
            if c.get(k) != v:
                errs.append(f"counter {k}: RTL {c.get(k)} != model {v}")
        self.results.append({
            "label": item.scen.label, "run_id": item.run.run_id, "match": not errs,
            "words": item.words, "model_words": want_words, "cycles": item.cycles,
            "ticks": rc.n_ticks, "overruns": c.get("OVERRUNS", 0),
        })  # fmt: skip
        return errs

    def passed(self, where: str, item: OdeItem) -> None:
        exp = item.expected
        self.logger.info(
            "%s: %d ticks, %d frames, %d samples equal; %d cycles, %d slipped ticks, "
            "FIFO high water %d",
            where, item.run.runcfg.n_ticks, len(exp.frames), len(exp.samples), item.cycles,
            item.counters["OVERRUNS"], item.max_level,
        )  # fmt: skip


class OdeCoverage(uvm_subscriber):
    """Channel modes, sampling kinds, slipped ticks, FIFO full, ADC saturation, workloads."""

    def build_phase(self) -> None:
        from tb.vip.coverage import Coverage

        self.cov = Coverage()
        self.labels: set[str] = set()
        self.fifo_depth = param("SMP_FIFO_DEPTH", 64)

    def write(self, item: OdeItem) -> None:
        from rramcim.golden.ode_seq import Mode

        hit = self.cov.hit
        self.labels.add(item.scen.label)
        hit(f"workload {item.scen.label}")
        for c in item.run.channels:
            hit(f"mode {Mode(c.mode).name}")
        rc = item.run.runcfg
        hit("final sample only" if rc.sample_every == 0 else "periodic samples")
        if item.counters.get("OVERRUNS", 0):
            hit("slipped tick")
        if item.max_level >= self.fifo_depth:
            hit("sample FIFO full")
        if item.counters.get("ADC_SAT", 0):
            hit("ADC saturation")
        if item.counters.get("DAC_SAT", 0):
            hit("DAC saturation")

    def check_phase(self) -> None:
        need = [f"workload {w}" for w in sorted(self.labels)]
        if "synthetic" in self.labels:
            need += [f"mode {m}" for m in ("OFF", "CONST", "RAMP", "SINE", "TABLE", "NOISE")]
            need += ["final sample only", "periodic samples", "slipped tick", "DAC saturation"]
        self.cov.check(need, self.logger)


class OdeEnv(BenchEnv):
    """Driver, scoreboard and (for :class:`OdeRunsTest`) coverage."""

    DRIVER = OdeDriver
    SCOREBOARD = OdeScoreboard
    COVERAGE = OdeCoverage


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class OdeBaseTest(BfmTest):
    """Random runs on a synthetic board (``plan``: ``(scenario, run index)``)."""

    ENV = OdeEnv

    def make_bfm(self) -> OdeBfm:
        import torch

        torch.set_num_threads(1)
        return OdeBfm(cocotb.top, cocotb.RANDOM_SEED)

    def make_item(self, entry: tuple[Scenario, int]) -> OdeItem:
        scen, i = entry
        return OdeItem(f"{scen.label}{i}", scen, i)

    def plan(self) -> list[tuple[Scenario, int]]:
        rng = random.Random(cocotb.RANDOM_SEED + 11)
        scen = synthetic_scenario(self.bfm.cfg, rng, _env_int("RRAMCIM_ODE_RUNS", 6))
        return [(scen, i) for i in range(len(scen.runs))]


@pyuvm.test()
class OdeRunsTest(OdeBaseTest):
    """Random runs, then the full workload runs of this board, bit-exact against the hardware
    model."""

    coverage = True

    def plan(self) -> list[tuple[Scenario, int]]:
        rng = random.Random(cocotb.RANDOM_SEED + 17)
        extra = [
            (sc, i) for sc in workload_scenarios(self.bfm.cfg, rng) for i in range(len(sc.runs))
        ]
        return super().plan() + extra


@pyuvm.test(skip=not os.environ.get("RRAMCIM_ODE_BATCH"))
class OdeBatchTest(OdeBaseTest):
    """The diffusion samples of ``rramcim sim`` through the RTL (only with
    ``RRAMCIM_ODE_BATCH``); every run must equal the hardware model, and the RTL's sample
    words are written to ``RRAMCIM_ODE_OUT``."""

    def plan(self) -> list[tuple[Scenario, int]]:
        spec = json.loads(Path(os.environ["RRAMCIM_ODE_BATCH"]).read_text())
        return [(sc, i) for sc in batch_scenarios(spec) for i in range(len(sc.runs))]

    def report_phase(self) -> None:
        out = os.environ.get("RRAMCIM_ODE_OUT")
        if not out:
            return
        sb = self.env.scoreboard
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps({"runs": sb.results, "simulator": cocotb.SIM_NAME,
                                         "seed": cocotb.RANDOM_SEED}, indent=1))  # fmt: skip


@pyuvm.test()
class OdeCsrTest(OdeBaseTest):
    """Register map, vetoed writes, refused START, CLEAR."""

    expect_items = False

    async def scenario(self) -> None:
        from rramcim.golden.ode_top import (
            CMD_CLEAR,
            CMD_START,
            ID_VALUE,
            REG,
            ST_CFG_ERR,
            ST_CSR_ERR,
        )

        b = self.bfm
        cfg = b.cfg
        assert await b.read(REG["ID"]) == ID_VALUE, "ID register"
        resets = {"PHASES": 0x0001_0001, "INTEG": 8, "T_TICK": 1000, "SEED": 1, "CFG_PTR": 0,
                  "TAB_PTR": 0, "SMP_LEVEL": 0, "RUNS": 0}  # fmt: skip
        for name, v in resets.items():
            got = await b.read(REG[name])
            assert got == v, f"{name} after reset: {got:#x}, expected {v:#x}"
        assert await b.read(REG["STATUS"]) == 0, "STATUS after reset"
        bad = [(REG["CFG_PTR"], 4 * cfg.n_ch), (REG["TAB_PTR"], cfg.tab_depth), (REG["RUNS"], 1)]
        for idx, v in bad:
            await b.write(idx, v, expect_error=True)
        await b.write(REG["CFG_PTR"], 4 * cfg.n_ch - 1)
        await b.write(REG["CFG_DATA"], 0)  # the last word: legal, the pointer moves past
        await b.write(REG["CFG_DATA"], 0, expect_error=True)  # past the end
        assert await b.read(REG["CSR_ERRS"]) == len(bad) + 1
        assert await b.read(REG["CSR_ERR_ADDR"]) == 4 * REG["CFG_PTR"]
        assert await b.read(REG["STATUS"]) & ST_CSR_ERR, "sticky CSR error"
        # START refused: INTEGRATE ticks 0 (rule 1), then seed 0 (rule 2)
        for reg, value, rule in ((REG["INTEG"], 0, 1), (REG["SEED"], 0, 2)):
            await b.write(REG["INTEG"], 8)
            await b.write(REG["SEED"], 1)
            await b.write(reg, value)
            await b.write(REG["CMD"], CMD_START)
            await ClockCycles(b.dut.clk_i, 4 * cfg.n_ch + 8)
            st = await b.read(REG["STATUS"])
            assert st & ST_CFG_ERR and not st & 1, f"START refused (rule {rule}): {st:#x}"
            assert (st >> 16) & 7 == rule, f"refusal rule {(st >> 16) & 7}, expected {rule}"
        await b.write(REG["INTEG"], 8)
        await b.write(REG["SEED"], 1)
        await b.write(REG["CMD"], CMD_CLEAR)
        st = await b.read(REG["STATUS"])
        assert not st & ST_CSR_ERR, f"CLEAR: STATUS {st:#x}"
        assert st & ST_CFG_ERR, "CFG_ERR is sticky until reset"
        # table and channel writes are vetoed while a run is active
        rng = random.Random(cocotb.RANDOM_SEED + 3)
        scen = synthetic_scenario(cfg, rng, 1)
        item = OdeItem("busy", scen, 0)
        await b.run_item(item, stop_after=5 * cfg.n_ch)
        assert await b.read(REG["STATUS"]) & 1, "busy"
        await b.write(REG["TAB_DATA"], 0, expect_error=True)
        await b.write(REG["CFG_DATA"], 0, expect_error=True)
        await b.reset()


@pyuvm.test()
class OdeAbortTest(OdeBaseTest):
    """ABORT in the middle of a run, then runs that must match."""

    def plan(self) -> list[tuple[Scenario, int]]:
        return super().plan()[:2]

    async def scenario(self) -> None:
        from rramcim.golden.ode_top import CMD_ABORT, CMD_FLUSH, REG

        b = self.bfm
        plan = self.plan()
        scen, _ = plan[0]
        await b.run_item(OdeItem("aborted", scen, 0), stop_after=b.rng.randint(200, 4000))
        await b.write(REG["CMD"], CMD_ABORT)
        await b.wait_idle()
        await b.write(REG["CMD"], CMD_FLUSH)
        assert await b.read(REG["SMP_LEVEL"]) & 0xFFFF == 0, "FLUSH empties the sample FIFO"
        await self.run_plan(plan)


@pyuvm.test()
class OdeResetTest(OdeBaseTest):
    """A reset in the middle of a run, then runs that must match."""

    def plan(self) -> list[tuple[Scenario, int]]:
        return super().plan()[:2]

    async def scenario(self) -> None:
        b = self.bfm
        plan = self.plan()
        scen, _ = plan[0]
        await b.run_item(OdeItem("cut", scen, 0), stop_after=b.rng.randint(200, 4000))
        await b.reset()
        await self.run_plan(plan)


@pyuvm.test(expect_fail=True)
class OdeExpectFailTest(OdeBaseTest):
    """The scoreboard with a wrong model (first sample code + 1) must fail."""

    perturb = 1

    def plan(self) -> list[tuple[Scenario, int]]:
        return super().plan()[:1]


# ------------------------------------------------------------------------------------------
# pytest entry
# ------------------------------------------------------------------------------------------
PARAM_SETS = {
    # the diffusion board (rramcim.apps.diffusion.analog.BOARD): 6 quad DACs, two integrators
    "diffusion": {"N_CHIPS": 6, "N_ADDR": 4, "N_STATE": 2, "SMP_FIFO_DEPTH": 16},
    # the Lorenz96 board (rramcim.apps.twin.rtl.L96_BOARD): 4 quad DACs, six integrators
    "l96": {"N_CHIPS": 4, "N_ADDR": 4, "N_STATE": 6, "SMP_FIFO_DEPTH": 16},
    # the HP twin board (rramcim.apps.twin.rtl.TWIN_BOARD): 2 quad DACs, one integrator,
    # SPI mode 0, slower SCLK, 1024-entry drive table; a slower ADC
    "twin": {
        "N_CHIPS": 2,
        "N_ADDR": 4,
        "N_STATE": 1,
        "SMP_FIFO_DEPTH": 8,
        "CPHA": 0,
        "CLK_DIV": 3,
        "TAB_DEPTH": 1024,
        "T_CONV_CYC": 7,
    },
}


def sources() -> list[Path]:
    from tb.vip.runner import MODELS_HDL, RTL

    return [
        RTL / "cim_csr.sv",
        RTL / "cim_fifo.sv",
        RTL / "cim_adc_if.sv",
        RTL / "cim_dac_spi.sv",
        RTL / "cim_ode_seq.sv",
        RTL / "cim_ode_top.sv",
        MODELS_HDL / "cim_ode_macro.sv",
        HERE / "tb_cim_ode_top.sv",
    ]


test_cim_ode_top = top_bench_test(
    "tb_cim_ode_top",
    PARAM_SETS,
    __file__,
    sources,
    doc="The ODE top on one simulator and parameter set.",
)
