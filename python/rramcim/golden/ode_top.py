"""Hardware model of ``rtl/cim_ode_top.sv`` with the solver board attached (bit-exact).

A run of the top is fully described by the sequencer's configuration (channel table, drive
table, run registers). This module turns that into what the RTL co-simulation must show,
tick by tick:

* the DAC beats and, through :func:`rramcim.golden.dac_spi.chip_words`, every SPI frame
  (one word per chip per chip-select window) and one LDAC pulse per tick;
* the DAC chips' output codes after each LDAC pulse (:class:`rramcim.analog.dac.DacBank`);
* the solver (:class:`rramcim.analog.ode.OdeSolver`) stepped once per LDAC pulse with the
  switch pattern of the tick and the codes of its channels (``channel_map``), and sampled at
  the sequencer's sample points (at the *beginning* of the sample tick, i.e. after the ticks
  before it have been integrated);
* the ADC flags of ``cim_adc_if`` (saturated channels) and the sample words the top queues in
  its FIFO (register SMP_DATA): ``{flags, tick}`` then one sign-extended code per state.

Runs are batched: every run of a batch must have the same phase lengths and sample spacing
(they may differ in channel values, seeds and drive tables); the solver integrates them
together (its results do not depend on the batch, see :mod:`rramcim.analog.ode`). The DAC
channels the solver listens to must never be OFF, so that no run depends on what an earlier
run left in the DAC registers (checked).

The register map and the write sequence that configures a run (:func:`config_writes`) are
those documented in the RTL header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rramcim.analog.dac import DacBank
from rramcim.analog.ode import OdeSolver
from rramcim.golden import ode_seq
from rramcim.golden.adc_if import saturation_flags
from rramcim.golden.dac_spi import DacBeat, DacSpiConfig, chip_words
from rramcim.golden.ode_seq import ChannelCfg, Mode, OdeSeqConfig, RunCfg

#: Register indices (byte address = 4 * index), see the RTL header.
REG = {
    "ID": 0,
    "CMD": 1,
    "STATUS": 2,
    "PHASES": 3,
    "INTEG": 4,
    "T_TICK": 5,
    "SEED": 6,
    "CFG_PTR": 7,
    "CFG_DATA": 8,
    "TAB_PTR": 9,
    "TAB_DATA": 10,
    "SMP_DATA": 11,
    "SMP_LEVEL": 12,
    "TICK": 13,
    "RUNS": 14,
    "OVERRUNS": 15,
    "DAC_SAT": 16,
    "FRAMES": 17,
    "LDACS": 18,
    "CONVS": 19,
    "ADC_SAT": 20,
    "WR_ERRS": 21,
    "CSR_ERRS": 22,
    "CSR_ERR_ADDR": 23,
    "SPI_ERRS": 24,
}
N_REGS = 32
ID_VALUE = 0x4F44_4501
CMD_START, CMD_ABORT, CMD_CLEAR, CMD_FLUSH = 1, 2, 4, 8
#: STATUS bits.
ST_BUSY, ST_DONE, ST_CFG_ERR, ST_SMP_AVAIL, ST_SMP_FULL = 1, 2, 4, 8, 16
ST_CSR_ERR, ST_DAC_BUSY, ST_ADC_TIMEOUT, ST_SMP_UNDERFLOW = 32, 64, 128, 256
TICK_W = 18


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"OdeTopConfig.{name} = {value!r} is outside {lo} .. {hi}")


@dataclass(frozen=True)
class OdeTopConfig:
    """HDL parameters of one ``cim_ode_top`` (names and ranges as in its header).

    Attributes:
        n_chips: DAC chips, 1 .. 8. n_addr: channels per chip, 1 .. 16.
        data_w: DAC code bits, 8 .. 16. frame_w: SPI frame bits, data_w+8 .. 32.
        clk_div: SCLK half period, cycles, 1 .. 255. cpol, cpha: SPI mode bits.
        n_state: state channels, 1 .. 12. adc_bits: ADC code bits, 4 .. 16.
        tab_depth: drive-table entries (power of two, 16 .. 1024).
        cordic_iters: sine iterations, 8 .. 16.
        t_settle_cyc: ADC settling, cycles, 0 .. 255. t_timeout_cyc: ADC timeout, 1 .. 65535.
        smp_fifo_depth: sample FIFO words (power of two, 4 .. 4096, >= n_state + 1).
    """

    n_chips: int = 5
    n_addr: int = 4
    data_w: int = 12
    frame_w: int = 24
    clk_div: int = 2
    cpol: int = 0
    cpha: int = 1
    n_state: int = 2
    adc_bits: int = 12
    tab_depth: int = 256
    cordic_iters: int = 16
    t_settle_cyc: int = 1
    t_timeout_cyc: int = 1024
    smp_fifo_depth: int = 64

    HDL_NAMES = {
        "N_CHIPS": "n_chips",
        "N_ADDR": "n_addr",
        "DATA_W": "data_w",
        "FRAME_W": "frame_w",
        "CLK_DIV": "clk_div",
        "CPOL": "cpol",
        "CPHA": "cpha",
        "N_STATE": "n_state",
        "ADC_BITS": "adc_bits",
        "TAB_DEPTH": "tab_depth",
        "CORDIC_ITERS": "cordic_iters",
        "T_SETTLE_CYC": "t_settle_cyc",
        "T_TIMEOUT_CYC": "t_timeout_cyc",
        "SMP_FIFO_DEPTH": "smp_fifo_depth",
    }

    def __post_init__(self) -> None:
        _check_range("n_state", self.n_state, 1, 12)
        d = self.smp_fifo_depth
        _check_range("smp_fifo_depth", d, max(4, self.n_state + 1), 4096)
        if d & (d - 1):
            raise ValueError(f"OdeTopConfig.smp_fifo_depth = {d} is not a power of two")
        _check_range("t_settle_cyc", self.t_settle_cyc, 0, 255)
        _check_range("t_timeout_cyc", self.t_timeout_cyc, 1, 65535)
        self.seq()  # the blocks' own checks
        self.spi()

    @classmethod
    def from_hdl(cls, params: dict[str, int]) -> OdeTopConfig:
        """Build from HDL parameter names; missing ones default.

        Raises:
            ValueError: on an unknown name or an out-of-range value.
        """
        unknown = set(params) - set(cls.HDL_NAMES)
        if unknown:
            raise ValueError(f"unknown cim_ode_top parameter(s): {', '.join(sorted(unknown))}")
        return cls(**{cls.HDL_NAMES[k]: int(v) for k, v in params.items()})

    def to_hdl(self) -> dict[str, int]:
        """The HDL parameters of this configuration."""
        return {k: getattr(self, v) for k, v in self.HDL_NAMES.items()}

    def seq(self) -> OdeSeqConfig:
        """The sequencer's configuration."""
        return OdeSeqConfig(
            n_chips=self.n_chips,
            n_addr=self.n_addr,
            data_w=self.data_w,
            n_state=self.n_state,
            adc_bits=self.adc_bits,
            tab_depth=self.tab_depth,
            cordic_iters=self.cordic_iters,
        )

    def spi(self) -> DacSpiConfig:
        """The DAC driver's configuration (its other timing parameters at their defaults)."""
        return DacSpiConfig(
            n_chips=self.n_chips,
            n_ch=self.n_addr,
            data_w=self.data_w,
            frame_w=self.frame_w,
            clk_div=self.clk_div,
            cpol=self.cpol,
            cpha=self.cpha,
        )

    @property
    def n_ch(self) -> int:
        """DAC channels in all."""
        return self.n_chips * self.n_addr


@dataclass(frozen=True)
class OdeRun:
    """One run: the sequencer's configuration and the solver's run id (noise key).

    Attributes:
        channels: ``n_ch`` channel configurations.
        table: drive table, ``tab_depth`` Q1.15 entries.
        runcfg: run registers (phase lengths, tick period, sample spacing, seed).
        run_id: the solver's run id (keys its read noise), >= 0.
    """

    channels: tuple[ChannelCfg, ...]
    table: tuple[int, ...]
    runcfg: RunCfg
    run_id: int = 0


@dataclass(frozen=True)
class OdeSample:
    """One sample as the top queues it.

    Attributes:
        tick: tick at whose beginning the state was converted.
        flags: ``{final, timeout, sat[n_state-1:0]}``.
        codes: signed ADC code per state channel.
    """

    tick: int
    flags: int
    codes: tuple[int, ...]

    def words(self) -> list[int]:
        """The FIFO words: ``{flags, tick}`` then each code sign-extended to 32 bits."""
        return [(self.flags << TICK_W) | self.tick] + [c & 0xFFFF_FFFF for c in self.codes]


@dataclass
class OdeRunResult:
    """What one run shows at the top's pins and registers.

    Attributes:
        trace: the sequencer's golden trace.
        frames: per SPI frame, the word of every chip, in order.
        ticks: per LDAC pulse, ``(sw, DAC output codes of every channel)``.
        samples: the samples in order (the last is the final one).
    """

    trace: ode_seq.RunTrace
    frames: list[tuple[int, ...]] = field(default_factory=list)
    ticks: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    samples: list[OdeSample] = field(default_factory=list)

    def words(self) -> list[int]:
        """Every sample word in FIFO order."""
        return [w for s in self.samples for w in s.words()]

    def states(self) -> np.ndarray:
        """Sample codes ``[n_samples, n_state]``."""
        return np.array([s.codes for s in self.samples], dtype=np.int64)


def sample_codes(words: Sequence[int], n_state: int) -> np.ndarray:
    """The signed state codes ``[n_samples, n_state]`` of SMP_DATA words (the inverse of
    :meth:`OdeSample.words`: each sample is ``{flags, tick}`` then ``n_state`` codes).

    Raises:
        ValueError: a word count that is not a whole number of samples.
    """
    if len(words) % (n_state + 1):
        raise ValueError(f"sample_codes: {len(words)} words are not samples of {n_state + 1}")
    w = np.asarray(words, dtype=np.int64).reshape(-1, n_state + 1)[:, 1:]
    return np.where(w >= 1 << 31, w - (1 << 32), w)


def config_writes(cfg: OdeTopConfig, run: OdeRun) -> list[tuple[int, int]]:
    """The register writes ``(index, value)`` that configure ``run`` (then write CMD START).

    Order: run registers, channel table from word 0 through CFG_PTR / CFG_DATA, drive table
    from entry 0 through TAB_PTR / TAB_DATA (only up to the last entry a TABLE channel reads).
    """
    r = run.runcfg
    out = [
        (REG["PHASES"], (r.n_load << 16) | r.n_reset),
        (REG["INTEG"], (r.sample_every << 16) | r.n_int),
        (REG["T_TICK"], r.t_tick_cyc),
        (REG["SEED"], r.seed),
        (REG["CFG_PTR"], 0),
    ]
    for c in run.channels:
        out += [(REG["CFG_DATA"], w) for w in c.words()]
    used = [(c.p2 & 0xFFFF) + (c.p2 >> 16) for c in run.channels if c.mode == Mode.TABLE]
    if used:
        out.append((REG["TAB_PTR"], 0))
        out += [(REG["TAB_DATA"], int(t) & 0xFFFF) for t in run.table[: max(used)]]
    return out


def check_run(cfg: OdeTopConfig, run: OdeRun, channel_map: Sequence[int]) -> None:
    """Check a run against the top and the solver's channel map.

    Raises:
        ValueError: wrong number of channels or table entries, a configuration the sequencer
            refuses, or a solver channel driven by an OFF DAC channel (names it).
    """
    if len(run.channels) != cfg.n_ch:
        raise ValueError(f"OdeRun.channels: {len(run.channels)} for {cfg.n_ch} DAC channels")
    if len(run.table) != cfg.tab_depth:
        raise ValueError(f"OdeRun.table: {len(run.table)} entries for tab_depth {cfg.tab_depth}")
    ode_seq.validate(cfg.seq(), run.channels, run.runcfg)
    for i, ch in enumerate(channel_map):
        if not 0 <= int(ch) < cfg.n_ch:
            raise ValueError(f"channel_map[{i}] = {ch} is outside 0 .. {cfg.n_ch - 1}")
        if run.channels[int(ch)].mode == Mode.OFF:
            raise ValueError(
                f"channel_map[{i}]: DAC channel {ch} is OFF (the solver would read what an "
                "earlier run left in the DAC)"
            )


def simulate(
    cfg: OdeTopConfig,
    runs: Sequence[OdeRun],
    solver: OdeSolver,
    channel_map: Sequence[int],
    dac_state: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
) -> list[OdeRunResult]:
    """The hardware model of a batch of runs (see the module docstring).

    Args:
        cfg: the top's parameters (``n_state`` and ``adc_bits`` must match the solver).
        runs: runs with equal phase lengths and sample spacing.
        solver: the solver model (programmed; ``start`` is called here with the run ids).
        channel_map: for each solver channel, the DAC channel that drives it.
        dac_state: per run, the DAC chips' ``(input, output)`` registers at the start
            (``[n_chips, n_addr]`` each; default: power-up, every register mid-scale). Only
            the OFF channels' reported codes depend on it.

    Returns:
        One result per run, in order.

    Raises:
        ValueError: mismatched solver / top sizes, runs of different shapes, or a run that
            :func:`check_run` refuses.
    """
    if not runs:
        return []
    sc = solver.cfg
    if sc.n_state != cfg.n_state or sc.adc_bits != cfg.adc_bits:
        raise ValueError(
            f"solver ({sc.n_state} states, {sc.adc_bits}-bit ADC) does not match the top "
            f"({cfg.n_state} states, {cfg.adc_bits}-bit ADC)"
        )
    if len(channel_map) != sc.n_channels:
        raise ValueError(f"channel_map: {len(channel_map)} entries, solver {sc.n_channels}")
    shape0 = _shape(runs[0].runcfg)
    for i, run in enumerate(runs):
        if _shape(run.runcfg) != shape0:
            raise ValueError(f"runs[{i}]: phase lengths / sample spacing differ from runs[0]")
        check_run(cfg, run, channel_map)
    seq, spi = cfg.seq(), cfg.spi()
    cmap = np.asarray([int(c) for c in channel_map], dtype=np.int64)
    results = [OdeRunResult(ode_seq.run(seq, r.channels, r.table, r.runcfg)) for r in runs]
    banks = [DacBank(spi) for _ in runs]
    if dac_state is not None:
        if len(dac_state) != len(runs):
            raise ValueError(f"dac_state: {len(dac_state)} entries for {len(runs)} runs")
        for bank, (inp, out) in zip(banks, dac_state, strict=True):
            bank.input[...] = inp
            bank.output[...] = out
    samples_at = {s.tick: s for s in results[0].trace.samples}
    solver.start([r.run_id for r in runs])
    n_ticks = runs[0].runcfg.n_ticks
    for k in range(n_ticks + 1):
        sp = samples_at.get(k)
        if sp is not None:
            codes = solver.sample()  # in the top's code range: the ADC widths are equal (above)
            sat = saturation_flags(codes, cfg.adc_bits)
            for b, res in enumerate(results):
                flags = (int(sp.final) << (cfg.n_state + 1)) | int(
                    sum(int(f) << a for a, f in enumerate(sat[b]))
                )
                res.samples.append(OdeSample(k, flags, tuple(int(c) for c in codes[b])))
        if k == n_ticks:
            break
        dac = np.empty((len(runs), sc.n_channels), dtype=np.int64)
        for b, (res, bank) in enumerate(zip(results, banks, strict=True)):
            for beat in res.trace.beats[k * cfg.n_addr : (k + 1) * cfg.n_addr]:
                words = chip_words(spi, DacBeat(beat.addr, beat.codes, beat.mask, beat.last))
                res.frames.append(words)
                bank.frame(words, spi.frame_w)
            out = bank.load()
            res.ticks.append((res.trace.sw[k], tuple(int(c) for c in out)))
            dac[b] = out[cmap]
        solver.step(results[0].trace.sw[k], dac)
    return results


def _shape(r: RunCfg) -> tuple[int, int, int, int]:
    return (r.n_reset, r.n_load, r.n_int, r.sample_every)
