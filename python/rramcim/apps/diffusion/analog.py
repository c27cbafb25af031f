"""Score-based diffusion on the closed-loop analogue solver, driven by the RTL sequencer.

The reverse-time sampler of :mod:`rramcim.apps.diffusion.samplers` (tick-held variant)::

    dx/dsigma = a_k x + b_k s(x; e_k) + u_k        (sigma: elapsed reverse time, tick k)

runs on :class:`rramcim.analog.ode.OdeSolver` (``tau_int dx_V/dt = A x_V + B y + g_n n``), with
every held value produced by ``cim_ode_seq`` channels exactly as the RTL produces them
(:mod:`rramcim.golden.ode_seq`), so this module *is* the hardware model of the diffusion
workload and its runs can be replayed through ``cim_ode_top`` bit for bit
(:func:`top_runs`, :func:`rramcim.golden.ode_top.simulate`).

Board (:data:`BOARD`, [I]): six quad 12-bit DACs (24 channels; the paper's board has ten,
PAPERS.md §4.5), two integrators, a 12-bit state ADC. DAC channels (``ch = chip*4 + addr``):

====  ================================  =================================================
ch    sequencer mode                    carries
====  ================================  =================================================
0     TABLE                             r_k ~ sqrt(beta_k / beta_max): the noise envelope
1     RAMP                              A_k (drift coefficient, linear in the tick index)
2     RAMP                              B_k (score gain, linear in the tick index)
3, 4  CONST                             x(1) of the run (LOAD phase)
5-18  SINE (CORDIC)                     e_k = temb(tau_k) + cemb(class): 7 sines, 7 cosines,
                                        the class embedding as the offset
19,20 NOISE (ref ch 0) / CONST 0        SDE noise drive u_k / nothing (PF-ODE)
21-23 OFF                               spare
====  ================================  =================================================

Scaling (all [I], chosen here; the papers give no circuit values):

* state voltage ``x_V = g_x x`` (``g_x`` = 0.4 V per unit: the prior's 4.4 sigma tails fit the
  2 V DAC range of the LOAD channels, the ring (radius 0.7) spans 0.28 V = 230 ADC codes);
* the score MLP is programmed with ``W1 v_unit / g_x`` (its input is the state voltage),
  the hidden signals carry ``v_unit`` per unit (ReLU stages), the output ``y = v_unit (W3 h +
  b3)``, so ``s = amp y / v_unit``; the embedding enters every hidden summing node with gain
  ``embed_gain`` (``max |e| / (0.9 v_dac_fs)``, the largest embedding uses 90 % of the DAC);
* time: one tick is ``t_tick_s`` (10 us) of analogue time and ``d_sigma`` of reverse diffusion
  time, so ``A = k_t a_k``, ``B = k_t b_k g_x amp / v_unit`` and ``g_n n = k_t g_x u_k`` with
  ``k_t = tau_int d_sigma / t_tick`` (0.6: ``tau_int = k_t t_tick / d_sigma`` = 1.2 ms for 200
  ticks of 0.005); the coefficient DAC gains put the largest ``A`` and ``B`` at 90 % of the DAC;
* SDE noise: ``u_k = sqrt(beta_k / d_sigma) z_k`` held over the tick (its increment has the
  Brownian variance ``beta_k d_sigma``). The sequencer's NOISE channel gives ``g_scaled * r_k``
  with ``g`` the sum of four uniform 12-bit draws (std 0.25 of the DAC range at ``r = 1``: the
  sum is bounded at 3.46 sigma, so the channel never clips) and ``r_k`` from channel 0; the
  noise gain ``g_n`` makes it the SDE's noise. This noise is the RTL's (xorshift32, seeded per
  run), so its samples differ from the software sampler's keyed Gaussian draws.

Schedule: RESET 1 tick, LOAD 1 tick, INTEGRATE ``n_ticks`` (200) ticks over tau from 1 to 0
(tick 0.005, the MCU's tick; the MCU's 40 idle ticks past tau = 0 are left out), HOLD with the
final sample. The sequencer's values are those at each tick's start (RAMP, SINE phase
accumulators), quantised to 16 bits (Q1.15: RAMP to 2^-31 steps, SINE phase to 2^-16 turn) and
then to the 12-bit DAC.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rramcim.analog.device import DeviceConfig, as_device
from rramcim.analog.ode import DEFAULT_DEVICE, OdeSolver, OdeSolverConfig
from rramcim.apps.diffusion.samplers import Mode
from rramcim.apps.diffusion.sde import VPSDE
from rramcim.golden import ode_seq
from rramcim.golden.ode_seq import (
    SW_OF_PHASE,
    ChannelCfg,
    NoiseGen,
    RunCfg,
    noise_regs,
    noise_value,
    q15,
    ramp_regs,
    s16,
    sine_regs,
    table_regs,
    to_code,
    u16,
)
from rramcim.golden.ode_top import OdeRun, OdeTopConfig

BOARD = OdeTopConfig(n_chips=6, n_addr=4, n_state=2, smp_fifo_depth=16)
"""The diffusion board: 6 quad DACs, two integrators (see the module docstring)."""
CH_ENV, CH_A, CH_B = 0, 1, 2
CH_INIT = (3, 4)
CH_EMBED = tuple(range(5, 19))
CH_NOISE = (19, 20)
CHANNEL_MAP = (*CH_INIT, CH_A, CH_B, *CH_EMBED, *CH_NOISE)
"""DAC channel of every solver channel (order of ``OdeSolverConfig.channel_layout``)."""
N_EMBED = len(CH_EMBED)
ENV_MAX = 0.999
"""Largest value of the noise envelope channel (full scale 1.0 would clamp its DAC code)."""


def _check(name: str, v: float, lo: float, hi: float) -> None:
    if not (math.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"DiffusionHw.{name} = {v!r} is outside [{lo}, {hi}]")


@dataclass(frozen=True)
class DiffusionHw:
    """Schedule and analogue scaling of one diffusion sampler on the board.

    Attributes:
        mode: ``"ode"`` (probability flow) or ``"sde"`` (reverse SDE).
        beta_scale: beta multiplier at sampling (2 ring, 1.5 letters), (0, 10].
        n_ticks: INTEGRATE ticks, [1, 250] (the drive table holds 256 entries).
        t_start: reverse diffusion time of the first tick, (t_end, 1].
        t_end: reverse time after the last tick, [0, t_start).
        g_x_V: state voltage per data unit, (0, 2] V.
        k_t: ``tau_int * d_sigma / t_tick``, (0, 10].
        t_tick_s: analogue time of one tick, (0, 1] s.
        substeps: RK4 steps per tick of the solver model, [1, 1000].
        t_tick_cyc: RTL clock cycles per tick (``T_TICK``), [1, 2^32 - 1].
        noise_sigma: std of the NOISE channel at r = 1, fraction of the DAC range, (0, 0.28].
        headroom: fraction of the DAC range used by the largest coefficient / embedding,
            (0, 1).
        v_unit_V: analogue voltage of one unit of the score MLP's signals, (0, 2.5] V (0.2:
            the largest hidden activation along sampling trajectories, about 12 units at
            tau = 1, stays inside the 2.5 V rails).
    """

    mode: str = "ode"
    beta_scale: float = 2.0
    n_ticks: int = 200
    t_start: float = 1.0
    t_end: float = 0.0
    g_x_V: float = 0.4
    k_t: float = 0.6
    t_tick_s: float = 1e-5
    substeps: int = 2
    t_tick_cyc: int = 1000
    noise_sigma: float = 0.25
    headroom: float = 0.9
    v_unit_V: float = 0.2

    def __post_init__(self) -> None:
        if self.mode not in ("ode", "sde"):
            raise ValueError(f"DiffusionHw.mode = {self.mode!r} must be 'ode' or 'sde'")
        _check("beta_scale", self.beta_scale, 1e-6, 10.0)
        if int(self.n_ticks) != self.n_ticks or not 1 <= self.n_ticks <= 250:
            raise ValueError(f"DiffusionHw.n_ticks = {self.n_ticks!r} is outside [1, 250]")
        _check("t_end", self.t_end, 0.0, 1.0)
        _check("t_start", self.t_start, self.t_end + 1e-9, 1.0)
        _check("g_x_V", self.g_x_V, 1e-6, 2.0)
        _check("k_t", self.k_t, 1e-6, 10.0)
        _check("t_tick_s", self.t_tick_s, 1e-12, 1.0)
        if int(self.substeps) != self.substeps or not 1 <= self.substeps <= 1000:
            raise ValueError(f"DiffusionHw.substeps = {self.substeps!r} is outside [1, 1000]")
        if int(self.t_tick_cyc) != self.t_tick_cyc or not 1 <= self.t_tick_cyc < 1 << 32:
            raise ValueError(f"DiffusionHw.t_tick_cyc = {self.t_tick_cyc!r} out of range")
        _check("noise_sigma", self.noise_sigma, 1e-6, 0.28)
        _check("headroom", self.headroom, 1e-3, 0.999)
        _check("v_unit_V", self.v_unit_V, 1e-3, 2.5)

    @property
    def d_sigma(self) -> float:
        """Reverse diffusion time per tick."""
        return (self.t_start - self.t_end) / self.n_ticks

    @property
    def tau_int_s(self) -> float:
        """Integrator time constant."""
        return self.k_t * self.t_tick_s / self.d_sigma

    def runcfg(self, seed: int) -> RunCfg:
        """Sequencer run registers (RESET 1, LOAD 1, INTEGRATE n_ticks, final sample)."""
        return RunCfg(n_reset=1, n_load=1, n_int=self.n_ticks, t_tick_cyc=self.t_tick_cyc,
                      sample_every=0, seed=seed)  # fmt: skip


@dataclass(frozen=True)
class HwMapping:
    """Derived analogue gains of a :class:`DiffusionHw` for one score net.

    Attributes:
        hw: the schedule.
        solver_cfg: the solver macro configuration.
        v_fs: DAC full scale, V.
        a_max, b_max: largest drift coefficient ``A`` and score gain ``B`` (V/V).
        env_max: largest per-tick noise std ``sqrt(beta_k d_sigma)`` (0 for the PF-ODE).
        e_max: largest |embedding| over the ticks and classes.
    """

    hw: DiffusionHw
    solver_cfg: OdeSolverConfig
    v_fs: float
    a_max: float
    b_max: float
    env_max: float
    e_max: float


def _betas(hw: DiffusionHw) -> np.ndarray:
    """beta_s at each integrate tick's start (float64)."""
    sde = VPSDE()
    tau = hw.t_start - np.arange(hw.n_ticks, dtype=np.float64) * hw.d_sigma
    return hw.beta_scale * (sde.beta_min + tau * (sde.beta_max - sde.beta_min))


def _b_factor(hw: DiffusionHw) -> float:
    return 0.5 if hw.mode == "ode" else 1.0


def hw_mapping(exp: Mapping, hw: DiffusionHw, base: OdeSolverConfig | None = None) -> HwMapping:
    """Gains and the solver configuration for the score net ``exp`` (``analog_export``)."""
    base = base or OdeSolverConfig(n_state=2, n_embed=N_EMBED, v_unit_V=hw.v_unit_V)
    v_fs = base.v_dac_fs_V
    beta = _betas(hw)
    amp = float(exp["amp"])
    a_max = hw.k_t * 0.5 * float(beta.max())
    b_max = hw.k_t * _b_factor(hw) * float(beta.max()) * hw.g_x_V * amp / base.v_unit_V
    env_max = math.sqrt(float(beta.max()) * hw.d_sigma) if hw.mode == "sde" else 0.0
    tau = hw.t_start - np.arange(hw.n_ticks) * hw.d_sigma
    f = exp["freqs"].double().numpy()
    arg = 2 * np.pi * tau[:, None] * f[None, :]
    e_t = np.concatenate([np.sin(arg), np.cos(arg)], axis=1)
    ce = exp.get("class_embed")
    offs = [np.zeros(N_EMBED)] if ce is None else [row.double().numpy() for row in ce]
    e_max = max(float(np.abs(e_t + o[None, :]).max()) for o in offs)
    g_n = 1.0
    if hw.mode == "sde":
        u_max = env_max / hw.d_sigma  # noise drive per unit z at r = 1
        g_n = hw.k_t * hw.g_x_V * u_max / (hw.noise_sigma * v_fs)
    cfg = base.replace(
        tau_int_s=hw.tau_int_s,
        t_tick_s=hw.t_tick_s,
        substeps=hw.substeps,
        coef_a_gain_per_V=a_max / (hw.headroom * v_fs),
        coef_b_gain_per_V=b_max / (hw.headroom * v_fs),
        embed_gain_per_V=e_max / (hw.headroom * v_fs),
        noise_gain=g_n,
    )
    return HwMapping(hw, cfg, v_fs, a_max, b_max, env_max, e_max)


def make_solver(
    exp: Mapping, hw: DiffusionHw, seed: int = 0, device: str | DeviceConfig = DEFAULT_DEVICE
) -> tuple[OdeSolver, HwMapping]:
    """The programmed solver (weights of ``exp`` with the first layer folded) and its mapping."""
    mp = hw_mapping(exp, hw)
    W1, W2, W3 = (w.double() for w in exp["W"])
    b = [v.double() for v in exp["b"]]
    W = [W1 * (mp.solver_cfg.v_unit_V / hw.g_x_V), W2, W3]
    dev = as_device(device)
    return OdeSolver(mp.solver_cfg, W, b, "relu", seed=seed, device_cfg=dev), mp


# ------------------------------------------------------------------------------ sequencer
def channels(
    exp: Mapping, mp: HwMapping, x0: Sequence[float], cls: int | None, cfg: OdeTopConfig = BOARD
) -> tuple[ChannelCfg, ...]:
    """The sequencer program of one run: start state ``x0`` (data units), class ``cls``."""
    hw, v_fs, sc = mp.hw, mp.v_fs, mp.solver_cfg
    k0 = 2  # RESET and LOAD ticks before the first integrate tick
    sde = VPSDE()
    ch = [ChannelCfg()] * cfg.n_ch
    # A_k and B_k: linear in the tick index k (tick k0 is the first integrate tick)
    slope_beta = -hw.beta_scale * (sde.beta_max - sde.beta_min) * hw.d_sigma
    beta_k0 = hw.beta_scale * (sde.beta_min + (hw.t_start + k0 * hw.d_sigma) *
                               (sde.beta_max - sde.beta_min))  # fmt: skip
    ka = hw.k_t * 0.5 / (sc.coef_a_gain_per_V * v_fs)
    kb = hw.k_t * _b_factor(hw) * hw.g_x_V * float(exp["amp"]) / sc.v_unit_V
    kb /= sc.coef_b_gain_per_V * v_fs
    ch[CH_A] = ChannelCfg(ode_seq.Mode.RAMP, *ramp_regs(ka * beta_k0, ka * slope_beta))
    ch[CH_B] = ChannelCfg(ode_seq.Mode.RAMP, *ramp_regs(kb * beta_k0, kb * slope_beta))
    for i, c in zip(CH_INIT, x0, strict=True):
        ch[i] = ChannelCfg(ode_seq.Mode.CONST, u16(q15(hw.g_x_V * float(c) / v_fs)))
    f = exp["freqs"].double().numpy()
    ce = exp.get("class_embed")
    if ce is not None and cls is None:
        off_e = exp["null_embed"].double().numpy()
    elif ce is not None:
        off_e = ce[int(cls)].double().numpy()
    else:
        off_e = np.zeros(N_EMBED)
    g_e = sc.embed_gain_per_V * v_fs
    for j, chn in enumerate(CH_EMBED):
        fj = float(f[j % len(f)])
        phase0 = fj * (hw.t_start + k0 * hw.d_sigma) + (0.25 if j >= len(f) else 0.0)
        ch[chn] = ChannelCfg(
            ode_seq.Mode.SINE,
            *sine_regs(-fj * hw.d_sigma, phase0 % 1.0, 1.0 / g_e, off_e[j] / g_e),
        )
    n_total = k0 + hw.n_ticks
    ch[CH_ENV] = ChannelCfg(ode_seq.Mode.TABLE, *table_regs(0, n_total, 1.0))
    for i in CH_NOISE:
        if hw.mode == "sde":
            regs = noise_regs(hw.noise_sigma / ENV_MAX, 0.0)
            ch[i] = ChannelCfg(ode_seq.Mode.NOISE, *regs, ref=CH_ENV)
        else:
            ch[i] = ChannelCfg(ode_seq.Mode.CONST, 0)
    return tuple(ch)


def table(mp: HwMapping, cfg: OdeTopConfig = BOARD) -> tuple[int, ...]:
    """Drive table: ``r_k = ENV_MAX sqrt(beta_k / beta_max)`` of every tick (0 in RESET and
    LOAD); the NOISE channels' amplitude is divided by ``ENV_MAX``."""
    hw = mp.hw
    beta = _betas(hw)
    r = ENV_MAX * np.sqrt(beta / beta.max()) if hw.mode == "sde" else np.zeros_like(beta)
    vals = [0, 0] + [u16(q15(float(v))) for v in r]
    return tuple(vals + [0] * (cfg.tab_depth - len(vals)))


def run_seed(seed: int, index: int) -> int:
    """The sequencer's noise seed of run ``index`` (non-zero 32 bits, keyed)."""
    from rramcim import rng

    return int(rng.make_key(seed, "diffusion-seq", index) & 0xFFFF_FFFF) or 1


def top_runs(
    exp: Mapping,
    mp: HwMapping,
    x0: torch.Tensor | np.ndarray,
    classes: Sequence[int] | None,
    seed: int,
    first_index: int = 0,
    indices: Sequence[int] | None = None,
) -> list[OdeRun]:
    """The runs of samples ``first_index ..`` (or of the sample numbers ``indices``) as
    ``cim_ode_top`` runs; the run id and the noise seed follow the sample number, so a run
    equals the same sample of a larger batch."""
    x0 = np.asarray(x0, dtype=np.float64)
    if indices is not None and len(indices) != x0.shape[0]:
        raise ValueError(f"top_runs: {len(indices)} indices for {x0.shape[0]} start states")
    tab = table(mp)
    out = []
    for i in range(x0.shape[0]):
        c = None if classes is None else int(classes[i])
        idx = first_index + i if indices is None else int(indices[i])
        out.append(OdeRun(channels(exp, mp, x0[i], c), tab, mp.hw.runcfg(run_seed(seed, idx)), idx))
    return out


# ------------------------------------------------------------------------------ fast model
def run_codes(run: OdeRun, proto: ode_seq.RunTrace, cfg: OdeTopConfig = BOARD) -> np.ndarray:
    """DAC codes ``[n_ticks_total, n_ch]`` of ``run``, equal to ``ode_seq.run(...).codes``.

    ``proto`` is the trace of a run with the same class and mode (only the LOAD values and the
    noise draws differ between runs); the noise channels are recomputed with the run's seed.
    """
    codes = proto.codes.copy()
    for i in CH_INIT:
        codes[:, i] = to_code(s16(run.channels[i].p0), cfg.data_w)[0]
    if run.channels[CH_NOISE[0]].mode == ode_seq.Mode.NOISE:
        gen = NoiseGen(run.runcfg.seed)
        env = proto.values[:, CH_ENV]
        for k in range(codes.shape[0]):
            for i in CH_NOISE:
                c = run.channels[i]
                v = noise_value(gen.gauss(), s16(c.p1), int(env[k]), s16(c.p0))
                codes[k, i] = to_code(v, cfg.data_w)[0]
    return codes


def sample_hw(
    exp: Mapping,
    solver: OdeSolver,
    mp: HwMapping,
    x0: torch.Tensor | np.ndarray,
    classes: Sequence[int] | None,
    seed: int,
    first_index: int = 0,
    batch: int = 1000,
) -> torch.Tensor:
    """Samples of the hardware model (sequencer codes, DAC, solver, ADC) [N, 2], data units.

    Bit-exact with :func:`rramcim.golden.ode_top.simulate` on :func:`top_runs` (and so with
    the RTL): the final ADC codes divided by ``g_x``.
    """
    x0 = np.asarray(x0, dtype=np.float64)
    n = x0.shape[0]
    runs = top_runs(exp, mp, x0, classes, seed, first_index)
    seq = BOARD.seq()
    protos: dict = {}
    cmap = np.asarray(CHANNEL_MAP)
    rc = mp.hw.runcfg(1)
    sws = [SW_OF_PHASE[p] for p in ode_seq.phase_list(rc)]
    out = np.empty((n, 2))
    for s0 in range(0, n, batch):
        part = runs[s0 : s0 + batch]
        codes = []
        for r in part:
            key = None if classes is None else int(classes[r.run_id - first_index])
            if key not in protos:
                protos[key] = ode_seq.run(seq, r.channels, r.table, r.runcfg)
            codes.append(run_codes(r, protos[key]))
        c = np.stack(codes)  # [B, ticks, n_ch]
        solver.start([r.run_id for r in part])
        for k in range(rc.n_ticks):
            solver.step(sws[k], c[:, k, cmap])
        adc = solver.sample()
        out[s0 : s0 + len(part)] = adc * solver.cfg.adc_lsb_V / mp.hw.g_x_V
    return torch.from_numpy(out).float()


# ------------------------------------------------------------------------------ evaluation
def evaluate_ring_hw(
    net,  # noqa: ANN001 (ScoreMLP)
    n_samples: int = 2000,
    n_steps: int = 10000,
    beta_scale: float = 2.0,
    seed: int = 0,
    modes: Sequence[str] = ("ode", "sde"),
    device_seed: int = 0,
    hw: DiffusionHw | None = None,
) -> dict:
    """Ring samples of the software Euler baseline and of the hardware model, side by side.

    Both start from the same keyed prior draws and are scored against the same fresh ring
    points (``ring_samples(n, seed, "reference")``); ``floor`` is the metric between two fresh
    ring sets of that size (what a perfect sampler gets with this many samples).

    Returns:
        ``{"ode": {"software": {kl, l2, radius_mean, radius_std}, "hardware": {...},
        "kl_ratio": hw / sw, "clips": {...}}, "sde": {...}, "floor": {kl, l2}, "settings"}``.
    """
    from rramcim.apps.diffusion.data import ring_samples
    from rramcim.apps.diffusion.metrics import hist_kl, hist_l2
    from rramcim.apps.diffusion.samplers import net_score_fn, prior_samples, sample_euler

    ref = ring_samples(n_samples, seed, "reference")
    other = ring_samples(n_samples, seed, "reference-2")

    def stats(x: torch.Tensor) -> dict:
        r = x.norm(dim=1)
        return {"kl": hist_kl(ref, x), "l2": hist_l2(ref, x), "radius_mean": float(r.mean()),
                "radius_std": float(r.std())}  # fmt: skip

    exp = net.analog_export()
    x0 = prior_samples(n_samples, seed)
    out: dict = {
        "floor": {"kl": hist_kl(ref, other), "l2": hist_l2(ref, other)},
        "settings": {
            "n_samples": n_samples,
            "n_steps": n_steps,
            "beta_scale": beta_scale,
            "seed": seed,
            "device_seed": device_seed,
        },  # fmt: skip
    }
    for mode in modes:
        h = dataclasses.replace(hw or DiffusionHw(), mode=mode, beta_scale=beta_scale)
        solver, mp = make_solver(exp, h, seed=device_seed)
        sw = sample_euler(net_score_fn(net), n_samples, n_steps, Mode(mode), beta_scale, seed)
        xh = sample_hw(exp, solver, mp, x0, None, seed)
        s_sw, s_hw = stats(sw), stats(xh)
        out[mode] = {"software": s_sw, "hardware": s_hw, "kl_ratio": s_hw["kl"] / s_sw["kl"],
                     "clips": {"stage": solver.stats.stage_rail_clips,
                               "state": solver.stats.state_rail_clips,
                               "adc": solver.stats.adc_clips},
                     "tau_int_s": h.tau_int_s, "t_tick_s": h.t_tick_s,
                     "samples": {"software": sw, "hardware": xh}}  # fmt: skip
    return out


def evaluate_hku_hw(
    nets: Mapping,
    cfg=None,  # noqa: ANN001 (HKUConfig)
    n_per_class: int = 300,
    n_steps: int = 5000,
    seed: int = 0,
    device_seed: int = 0,
) -> dict:
    """Conditional letters: decoded-letter accuracy of the software Euler baseline (PF-ODE)
    and of the hardware model, from the same keyed prior draws.

    Returns:
        ``{"software": letter_accuracy dict, "hardware": ..., "clips": ..., "samples": ...}``.
    """
    from rramcim.apps.diffusion.metrics import letter_accuracy
    from rramcim.apps.diffusion.samplers import net_score_fn, prior_samples, sample_euler
    from rramcim.apps.diffusion.train import HKUConfig

    cfg = cfg or HKUConfig()
    net = nets["score"]
    exp = net.analog_export()
    k = exp["class_embed"].shape[0]
    classes = torch.arange(k).repeat_interleave(n_per_class)
    x0 = prior_samples(classes.numel(), seed, prior_std=cfg.prior_std)
    hw = DiffusionHw(mode="ode", beta_scale=cfg.beta_scale)
    solver, mp = make_solver(exp, hw, seed=device_seed)
    zh = sample_hw(exp, solver, mp, x0, classes.tolist(), seed)
    fn = net_score_fn(net, classes, cfg.guidance_w)
    zs = sample_euler(fn, classes.numel(), n_steps, Mode.ODE, cfg.beta_scale, seed,
                      prior_std=cfg.prior_std)  # fmt: skip
    acc = {
        name: letter_accuracy(nets["vae"], nets["classifier"], z, classes, cfg.latent_scale)
        for name, z in (("software", zs), ("hardware", zh))
    }
    return {**acc, "clips": {"stage": solver.stats.stage_rail_clips,
                             "state": solver.stats.state_rail_clips},
            "samples": {"software": zs, "hardware": zh, "classes": classes}}  # fmt: skip
