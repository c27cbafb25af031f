"""PRIME robustness sweep at the hardware-model level (bit-exact :class:`PrimeHardware`).

Three axes, each evaluated on one fixed, class-stratified test subset (:func:`select_subset`)
with the same sample ids, so every point sees the same read-noise draws (common random
numbers) and differences between points come from the swept knob alone:

(a) **Multiplicative synaptic noise** ``sigma`` on the formed macros, before pruning
    (:func:`perturb_multiplicative`), in two modes (:class:`NoiseMode`):

    * ``WEIGHT`` (PRIME's test, PAPERS.md section 6.1 item 7): the differential weight
      ``W = G+ - G-`` becomes ``W (1 + sigma z)``, realised on the cells as
      ``G+ += sigma z W / 2``, ``G- -= sigma z W / 2`` (one draw per pair); the software
      sweep (:func:`rramcim.apps.prime.evaluate.multiplicative_noise_sweep`) is the same
      model on the float network;
    * ``CELL``: each conductance becomes ``G (1 + sigma z)`` independently (programming
      stochasticity of a cell). As ``G+-`` are about 34 uS and ``W`` has a 6.35 uS spread, a
      cell-level sigma is about ``34 sqrt(2) / 6.35 = 7.6`` times stronger on the weight.

    Draws are keyed ``(noise_seed, "prime_mult", mode, repeat, macro_id)`` with the cell's
    flat index as counter (:mod:`rramcim.rng`); the same ``z`` is scaled for every sigma, so
    ``sigma = 0`` is exactly the nominal model. Stuck cells stay stuck (the device's fault
    map is applied again; in the weight mode the healthy partner of a stuck cell still takes
    its half of the change). Pruned pairs are RESET afterwards, so the noise matters on the kept
    half only, as in PRIME's masked ``W``.

(b) **Device noise scale**, two series on the device preset (:class:`DeviceConfig`):

    * read noise: ``read_noise_S`` (per-cell, per-read additive conductance noise, 0.2 uS in
      the 40 nm preset) times ``k``;
    * RESET programming noise: ``prog_noise_abs_S`` and ``prog_noise_rel`` times ``k``.
      Programming noise applies only to *programmed* cells, i.e. the pruned pairs RESET to
      g_min (the kept weights are formed, not programmed; their spread *is* the random
      weight): it sets the residual weight of the pruned half (sigma ``sqrt(2) 0.5 uS`` at
      ``k = 1``).

(c) **Stuck-at faults**, with the device's own mechanism (``p_stuck_lrs`` / ``p_stuck_hrs``
    of the preset, applied by :meth:`DeviceModel.apply_faults` on forming and on RESET):
    one series with a fraction ``f`` of cells stuck at LRS (g_max) and none at HRS, one with
    ``f`` stuck at HRS (g_min) and none at LRS. The fault draw is keyed by the forming seed,
    and a larger ``f`` adds cells to the stuck set (nested sets). The preset's own rates
    (0.05 % LRS + 0.1 % HRS) are the nominal point.

The ADC is calibrated on every perturbed chip when :class:`PrimeHardware` is built (as a chip
is calibrated after it is programmed); the current scale ``MUL`` follows the calibrated full
scale. Each point reports accuracy with the early stop (theta of :class:`PrimeHwConfig`),
accuracy over all T steps, mean stop step and load saving ``1 - mean_steps / T``.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from rramcim import rng
from rramcim.analog.device import DeviceConfig, load_device
from rramcim.analog.tiling import TiledCrossbar
from rramcim.apps.prime.hardware import PrimeHardware, PrimeHwConfig, PrimeHwResult
from rramcim.threads import torch_threads

Log = Callable[[str], None]


class NoiseMode(enum.Enum):
    """Where the multiplicative noise of axis (a) acts."""

    WEIGHT = "weight"
    """``W = G+ - G-`` -> ``W (1 + sigma z)`` (PRIME's test model)."""
    CELL = "cell"
    """``G+-`` -> ``G+- (1 + sigma z)``, independently per cell."""


def _check_values(name: str, vals: tuple[float, ...], lo: float, hi: float) -> None:
    if not vals:
        raise ValueError(f"RobustnessConfig.{name} is empty")
    for v in vals:
        if not (math.isfinite(v) and lo <= v <= hi):
            raise ValueError(f"RobustnessConfig.{name}: {v!r} is outside [{lo}, {hi}]")


@dataclass(frozen=True)
class RobustnessConfig:
    """What the robustness sweep evaluates.

    Attributes:
        n_samples: test samples (class-stratified subset), [1, test split size].
        sigmas: multiplicative noise levels of axis (a), each in [0, 1].
        modes: noise modes of axis (a).
        repeats: independent noise draws per sigma > 0 at the hardware level, [1, 100].
        sw_repeats: draws per sigma of the software sweep shown next to axis (a), [1, 100].
        read_noise_scales: factors on the preset's read noise, each in [0, 100].
        reset_noise_scales: factors on the preset's programming noise (RESET of pruned
            pairs), each in [0, 100].
        stuck_fractions: fractions of cells stuck (per series, LRS or HRS), each in [0, 0.5].
        thetas: early-stop thresholds of the theta sweep of the nominal run, each in (0, 1).
        seed: forming seed of the checkpoint's arrays.
        noise_seed: base seed of the multiplicative draws (and of the software sweep).
        device: device preset of the formed macros.
        threads: torch intra-op threads during the sweep (restored after), [0, 256]; 0
            keeps the caller's setting. One thread is the default: on two cores shared with
            other jobs, two threads ran the hardware model 3-8x slower (measured).
    """

    n_samples: int = 150
    sigmas: tuple[float, ...] = (0.0, 0.05, 0.1, 0.15, 0.2)
    modes: tuple[NoiseMode, ...] = (NoiseMode.WEIGHT, NoiseMode.CELL)
    repeats: int = 1
    sw_repeats: int = 3
    read_noise_scales: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0)
    reset_noise_scales: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0)
    stuck_fractions: tuple[float, ...] = (0.0, 0.005, 0.01, 0.02, 0.05)
    thetas: tuple[float, ...] = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
    seed: int = 0
    noise_seed: int = 0
    device: str = "rram_40nm"
    threads: int = 1

    def __post_init__(self) -> None:
        if self.n_samples < 1:
            raise ValueError(f"RobustnessConfig.n_samples = {self.n_samples} must be >= 1")
        for name in ("repeats", "sw_repeats"):
            if not 1 <= getattr(self, name) <= 100:
                raise ValueError(f"RobustnessConfig.{name} = {getattr(self, name)} not in [1, 100]")
        _check_values("sigmas", self.sigmas, 0.0, 1.0)
        _check_values("read_noise_scales", self.read_noise_scales, 0.0, 100.0)
        _check_values("reset_noise_scales", self.reset_noise_scales, 0.0, 100.0)
        _check_values("stuck_fractions", self.stuck_fractions, 0.0, 0.5)
        _check_values("thetas", self.thetas, 1e-6, 1 - 1e-6)
        if not 0 <= self.threads <= 256:
            raise ValueError(f"RobustnessConfig.threads = {self.threads} not in [0, 256]")
        if not self.modes or not all(isinstance(m, NoiseMode) for m in self.modes):
            raise ValueError(f"RobustnessConfig.modes = {self.modes!r}: NoiseMode members")


@dataclass
class RobustPoint:
    """One evaluated point (means over ``repeats`` draws; std 0 for one draw).

    Attributes:
        value: the swept quantity (sigma, noise scale or stuck fraction).
        acc_early_stop: accuracy with the early stop.
        acc_all_steps: accuracy after all T steps.
        mean_steps: mean stop step (1..T).
        load_saving: ``1 - mean_steps / T``.
        acc_early_stop_std: std of ``acc_early_stop`` over the draws.
        acc_all_steps_std: std of ``acc_all_steps`` over the draws.
        repeats: draws averaged.
    """

    value: float
    acc_early_stop: float
    acc_all_steps: float
    mean_steps: float
    load_saving: float
    acc_early_stop_std: float = 0.0
    acc_all_steps_std: float = 0.0
    repeats: int = 1


def select_subset(y: torch.Tensor | np.ndarray, n: int) -> np.ndarray:
    """``n`` class-stratified sample indices: evenly spaced over the split.

    The N-Digits / N-MNIST splits are stored sorted by class, so the first ``n`` samples would
    hold only the first classes; evenly spaced indices take about ``n / 10`` of each.
    """
    size = int(len(y))
    n = min(int(n), size)
    if n < 1:
        raise ValueError(f"select_subset: n = {n} must be >= 1")
    return np.unique(np.round(np.linspace(0, size - 1, n)).astype(np.int64))


def perturb_multiplicative(
    arrays: list[TiledCrossbar], sigma: float, mode: NoiseMode, noise_seed: int, repeat: int
) -> None:
    """Apply keyed multiplicative noise to formed macros in place (module docstring, axis a).

    Args:
        arrays: formed (not yet pruned) layers.
        sigma: relative noise, >= 0.
        mode: on the differential weight or on each cell.
        noise_seed: base seed of the draws.
        repeat: draw number (a new repeat draws new noise).
    """
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"perturb_multiplicative: sigma = {sigma!r} must be >= 0")
    for arr in arrays:
        for m in arr.macros:
            rows = torch.arange(m.cfg.rows, dtype=torch.int64).reshape(-1, 1)
            cols = torch.arange(m.cfg.cols, dtype=torch.int64).reshape(1, -1)
            cells = torch.stack([m.cell_index(0, rows, cols), m.cell_index(1, rows, cols)])
            key = rng.make_key(noise_seed, "prime_mult", mode.value, repeat, m.macro_id)
            gp, gn = m.programmed_conductances()
            if mode is NoiseMode.WEIGHT:
                dw = sigma * rng.normal(key, cells[0]) * (gp - gn)
                g = torch.stack([gp + dw / 2, gn - dw / 2])
            else:
                g = torch.stack([gp, gn]) * (1.0 + sigma * rng.normal(key, cells))
            g = m.dev.apply_faults(cells, torch.clamp(g, min=m.device.g_step_S))
            m.set_conductances(g[0], g[1])


def form_chip(
    device: DeviceConfig,
    seed: int,
    perturb: Callable[[list[TiledCrossbar]], None] | None = None,
) -> list[TiledCrossbar]:
    """Electroform the three PRIME layers with ``device`` (same keys as ``form_arrays``) and
    optionally perturb them before they are pruned."""
    from rramcim.apps.prime.arrays import form_layer
    from rramcim.apps.prime.train import LAYER_SHAPES, MACRO

    arrays = [form_layer(i, k, m, MACRO, device, seed) for i, (k, m) in enumerate(LAYER_SHAPES)]
    if perturb is not None:
        perturb(arrays)
    return arrays


def summarise(results: list[PrimeHwResult], y: np.ndarray, value: float) -> RobustPoint:
    """Mean (and std over draws) of the per-point metrics of one or more hardware runs."""
    es = np.array([(r.pred == y).mean() for r in results])
    al = np.array([(r.pred_all == y).mean() for r in results])
    steps = float(np.mean([r.stop_step.mean() for r in results]))
    T = results[0].out_mem.shape[1]
    return RobustPoint(
        value=float(value),
        acc_early_stop=float(es.mean()),
        acc_all_steps=float(al.mean()),
        mean_steps=steps,
        load_saving=1.0 - steps / T,
        acc_early_stop_std=float(es.std()),
        acc_all_steps_std=float(al.std()),
        repeats=len(results),
    )


def hardware_theta_sweep(
    out_mem: np.ndarray, y: np.ndarray, thetas: list[float], hw_cfg: PrimeHwConfig
) -> list[dict]:
    """Bit-exact early stop of the hardware model at other thresholds, from one run's output
    membranes ``[N, T, 10]`` (the run computes all T steps; the rule is the golden
    ``confidence_step`` with the same alpha code)."""
    from rramcim.golden.early_stop import EarlyStopConfig, confidence_step

    N, T, C = out_mem.shape
    S = np.cumsum(out_mem.astype(np.int64), axis=1)
    pts = []
    for th in thetas:
        es = EarlyStopConfig(
            n_classes=C, u_w=hw_cfg.u_w, frac=hw_cfg.frac, t_max=T, t_steps=T
        ).with_float(alpha=hw_cfg.alpha, theta=th)
        stop = np.zeros(N, np.int64)
        pred = np.zeros(N, np.int64)
        for t in range(T):
            st, am, _ = confidence_step(S[:, t], t + 1, es)
            new = (stop == 0) & np.asarray(st, bool)
            stop[new] = t + 1
            pred[new] = np.asarray(am)[new]
        ms = float(stop.mean())
        pts.append(
            {
                "theta": float(th),
                "accuracy": float((pred == y).mean()),
                "mean_steps": ms,
                "load_saving": 1.0 - ms / T,
            }
        )
    return pts


def robustness_sweep(
    masks: list[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    calib_frames: torch.Tensor,
    cfg: RobustnessConfig | None = None,
    hw_cfg: PrimeHwConfig | None = None,
    log: Log = print,
) -> dict:
    """Run the three robustness axes on the hardware model (see the module docstring).

    Args:
        masks: the checkpoint's masks (bool ``[fan_in, out]`` per layer).
        x: test frames ``[N, T, 2, 34, 34]`` (the whole split; a subset is taken).
        y: test labels ``[N]``.
        calib_frames: frames for the ADC calibration of every chip.
        cfg: sweep settings.
        hw_cfg: fixed-point settings of the hardware model.
        log: progress sink (one line per point).

    Returns:
        JSON-ready dict: ``config``, ``subset`` (indices), ``nominal`` and the points of
        ``multiplicative`` (per mode), ``software_multiplicative``, ``read_noise``,
        ``reset_noise``, ``stuck_lrs``, ``stuck_hrs``, plus ``theta_sweep_hw`` /
        ``theta_sweep_sw`` on the subset and ``time_s``.
    """
    cfg = cfg or RobustnessConfig()
    hw_cfg = hw_cfg or PrimeHwConfig()
    with torch_threads(cfg.threads or None):
        return _sweep(masks, x, y, calib_frames, cfg, hw_cfg, log)


def _sweep(
    masks: list[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    calib_frames: torch.Tensor,
    cfg: RobustnessConfig,
    hw_cfg: PrimeHwConfig,
    log: Log,
) -> dict:
    from rramcim.apps.prime.evaluate import multiplicative_noise_sweep, net_from_masks, theta_sweep
    from rramcim.apps.prime.train import evaluate

    t_start = time.perf_counter()
    idx = select_subset(y, cfg.n_samples)
    xs, ys = x[idx], y[idx]
    yn = ys.numpy()
    dev0 = load_device(cfg.device)
    dg = [a.conductance_matrix_S() * 1e6 for a in form_chip(dev0, cfg.seed)]
    net = net_from_masks(dg, masks)

    def run(device: DeviceConfig, perturb=None) -> PrimeHwResult:  # noqa: ANN001
        hw = PrimeHardware(form_chip(device, cfg.seed, perturb), masks, net, calib_frames, hw_cfg)
        return hw.run(xs, sample_ids=idx)

    def show(label: str, p: RobustPoint) -> None:
        log(
            f"{label:24s} {p.value:7.4g}  acc ES {100 * p.acc_early_stop:6.2f} %  "
            f"all {100 * p.acc_all_steps:6.2f} %  steps {p.mean_steps:5.2f}  "
            f"saving {100 * p.load_saving:5.1f} %  [{time.perf_counter() - t_start:6.1f} s]"
        )

    r_nom = run(dev0)
    nominal = summarise([r_nom], yn, 0.0)
    show("nominal", nominal)
    res: dict = {
        "config": {**asdict(cfg), "modes": [m.value for m in cfg.modes]},
        "hw_config": asdict(hw_cfg),
        "device": dev0.name,
        "n_samples": int(idx.size),
        "subset": idx.tolist(),
        "steps": int(x.shape[1]),
        "nominal": asdict(nominal),
    }

    def at(value: float, base: RobustPoint) -> dict:
        return asdict(RobustPoint(**{**asdict(base), "value": float(value)}))

    res["multiplicative"] = {}
    for mode in cfg.modes:
        pts = []
        for s in cfg.sigmas:
            if s == 0:
                pts.append(at(0.0, nominal))
                continue
            runs = [
                run(
                    dev0,
                    lambda a, s=s, r=r, mode=mode: perturb_multiplicative(
                        a, s, mode, cfg.noise_seed, r
                    ),
                )
                for r in range(cfg.repeats)
            ]
            p = summarise(runs, yn, s)
            show(f"sigma ({mode.value})", p)
            pts.append(asdict(p))
        res["multiplicative"][mode.value] = pts
    sw = multiplicative_noise_sweep(
        dg, masks, xs, ys, list(cfg.sigmas), repeats=cfg.sw_repeats, seed=cfg.noise_seed
    )
    res["software_multiplicative"] = [
        {"value": s, "acc_all_steps": a, "acc_all_steps_std": sd} for s, a, sd in sw
    ]
    for s, a, _ in sw:
        log(f"{'sigma (software)':24s} {s:7.4g}  acc all {100 * a:6.2f} %")

    axes = {
        "read_noise": (
            cfg.read_noise_scales,
            lambda k: dev0.replace(read_noise_S=k * dev0.read_noise_S),
        ),
        "reset_noise": (
            cfg.reset_noise_scales,
            lambda k: dev0.replace(
                prog_noise_abs_S=k * dev0.prog_noise_abs_S, prog_noise_rel=k * dev0.prog_noise_rel
            ),
        ),
    }
    for name, (values, make) in axes.items():
        pts = []
        for k in values:
            if k == 1:
                pts.append(at(1.0, nominal))
                continue
            p = summarise([run(make(k))], yn, k)
            show(name, p)
            pts.append(asdict(p))
        res[name] = pts

    fault_free: dict | None = None
    for name, make in (
        ("stuck_lrs", lambda f: dev0.replace(p_stuck_lrs=f, p_stuck_hrs=0.0)),
        ("stuck_hrs", lambda f: dev0.replace(p_stuck_lrs=0.0, p_stuck_hrs=f)),
    ):
        pts = []
        for f in cfg.stuck_fractions:
            if f == 0 and fault_free is not None:
                pts.append(fault_free)
                continue
            p = summarise([run(make(f))], yn, f)
            show(name, p)
            pts.append(asdict(p))
            if f == 0:
                fault_free = asdict(p)
        res[name] = pts
    res["stuck_nominal"] = {
        "p_stuck_lrs": dev0.p_stuck_lrs,
        "p_stuck_hrs": dev0.p_stuck_hrs,
        **asdict(nominal),
    }

    res["theta_sweep_hw"] = hardware_theta_sweep(r_nom.out_mem, yn, list(cfg.thetas), hw_cfg)
    _, out_sw = evaluate(net, xs, ys)
    res["theta_sweep_sw"] = [vars(p) for p in theta_sweep(out_sw, ys, list(cfg.thetas))]
    res["time_s"] = time.perf_counter() - t_start
    log(f"robustness sweep: {res['time_s']:.1f} s on {idx.size} samples")
    return res


# -- plots ------------------------------------------------------------------------------------
def _series(ax, pts: list[dict], label: str, color: str, all_steps: bool = True) -> None:  # noqa: ANN001
    v = [p["value"] for p in pts]
    ax.errorbar(
        v,
        [100 * p["acc_early_stop"] for p in pts],
        [100 * p["acc_early_stop_std"] for p in pts],
        marker="o",
        color=color,
        capsize=2,
        label=f"{label}, early stop",
    )
    if all_steps:
        ax.errorbar(
            v,
            [100 * p["acc_all_steps"] for p in pts],
            [100 * p["acc_all_steps_std"] for p in pts],
            marker="s",
            ls="--",
            color=color,
            mfc="none",
            capsize=2,
            label=f"{label}, all T steps",
        )


def plot_robustness(res: dict, path: str | Path) -> Path:
    """Three panels: (a) multiplicative sigma (hardware modes + software), (b) read / RESET
    noise scale, (c) stuck-at fraction; accuracy with early stop (solid) and over all T steps
    (dashed); the load saving of the early stop on the right axis (dotted, series colour)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(16, 4.6))
    n = res["n_samples"]
    colors = {"weight": "C0", "cell": "C3"}
    for mode, pts in res["multiplicative"].items():
        _series(ax[0], pts, f"hardware, {mode}", colors.get(mode, "C4"))
    sw = res["software_multiplicative"]
    ax[0].errorbar(
        [p["value"] for p in sw],
        [100 * p["acc_all_steps"] for p in sw],
        [100 * p["acc_all_steps_std"] for p in sw],
        marker="^",
        ls=":",
        color="k",
        capsize=2,
        label="software, weight, all T steps",
    )
    ax[0].set(
        xlabel="multiplicative noise sigma",
        title="(a) W(1 + sigma N) on the weight / G(1 + sigma N) per cell",
    )
    _series(ax[1], res["read_noise"], "read noise", "C0")
    _series(ax[1], res["reset_noise"], "RESET prog. noise", "C2")
    ax[1].set(xlabel="noise scale (x preset)", title="(b) device read / programming noise")
    for name, c in (("stuck_lrs", "C3"), ("stuck_hrs", "C1")):
        pts = [{**p, "value": 100 * p["value"]} for p in res[name]]
        _series(ax[2], pts, f"stuck at {name[-3:].upper()}", c)
    sn = res["stuck_nominal"]
    ax[2].plot(
        [100 * (sn["p_stuck_lrs"] + sn["p_stuck_hrs"])],
        [100 * sn["acc_early_stop"]],
        "k*",
        ms=10,
        label="preset (LRS + HRS), early stop",
    )
    ax[2].set(xlabel="cells stuck (%)", title="(c) stuck-at faults")
    mult = res["multiplicative"]
    panels = (
        (ax[0], [(pts, colors.get(m, "C4")) for m, pts in mult.items()], 1.0),
        (ax[1], [(res["read_noise"], "C0"), (res["reset_noise"], "C2")], 1.0),
        (ax[2], [(res["stuck_lrs"], "C3"), (res["stuck_hrs"], "C1")], 100.0),
    )
    for a, series, scale in panels:
        a.set_ylabel(f"accuracy (%), {n} test samples")
        a.grid(alpha=0.3)
        a.legend(fontsize=7, loc="lower left")
        tw = a.twinx()
        for pts, c in series:
            tw.plot(
                [scale * p["value"] for p in pts],
                [100 * p["load_saving"] for p in pts],
                ":",
                color=c,
                alpha=0.6,
                lw=1,
            )
        tw.set_ylabel("load saving of the early stop (%), dotted", color="0.4")
        tw.set_ylim(0, 100)
    fig.suptitle("PRIME robustness, bit-exact hardware model")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_theta_curve(
    sw_points: list[dict], path: str | Path, hw_points: list[dict] | None = None
) -> Path:
    """Accuracy against load saving over the early-stop threshold theta (software and, when
    given, the hardware model on the same samples); each point is labelled with its theta."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.4))
    for pts, label, st in ((sw_points, "software", "o-"), (hw_points or [], "hardware", "s--")):
        if not pts:
            continue
        xs = [100 * p["load_saving"] for p in pts]
        ys = [100 * p["accuracy"] for p in pts]
        ax.plot(xs, ys, st, label=label)
        for p, xv, yv in zip(pts, xs, ys, strict=True):
            ax.annotate(
                f"{p['theta']:g}", (xv, yv), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
    ax.set(xlabel="load saving (%)", ylabel="accuracy (%)", title="early stop: theta sweep")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# -- entry point --------------------------------------------------------------------------------
def robustness_table(res: dict) -> list[tuple[str, float, dict]]:
    """Rows ``(series, value, point)`` of every evaluated point, in plot order."""
    rows: list[tuple[str, float, dict]] = []
    for mode, pts in res["multiplicative"].items():
        rows += [(f"sigma, hardware {mode}", p["value"], p) for p in pts]
    rows += [("sigma, software weight", p["value"], p) for p in res["software_multiplicative"]]
    for name in ("read_noise", "reset_noise", "stuck_lrs", "stuck_hrs"):
        rows += [(name, p["value"], p) for p in res[name]]
    return rows


def format_table(res: dict) -> str:
    """Plain-text table of :func:`robustness_table`."""
    lines = [f"{'series':24s} {'value':>7s} {'acc ES %':>9s} {'acc all %':>9s} {'steps':>6s}"]
    for name, v, p in robustness_table(res):
        es = f"{100 * p['acc_early_stop']:9.2f}" if "acc_early_stop" in p else f"{'-':>9s}"
        st = f"{p['mean_steps']:6.2f}" if "mean_steps" in p else f"{'-':>6s}"
        lines.append(f"{name:24s} {v:7.4g} {es} {100 * p['acc_all_steps']:9.2f} {st}")
    return "\n".join(lines)


def robustness_cli(
    n: int | None = None,
    out_dir: str | Path = "build/sim",
    log: Log = print,
    data_root: str | None = None,
    cfg: RobustnessConfig | None = None,
) -> dict:
    """Load the shipped checkpoint and data, run :func:`robustness_sweep`, write
    ``robustness.json``, ``prime_robustness.png`` and ``prime_theta_hw.png`` into ``out_dir``.

    Args:
        n: test samples (default ``cfg.n_samples``, 150).
        out_dir: output folder (created).
        log: progress and table sink.
        data_root: dataset root (default: the checkpoint's training config).
        cfg: sweep settings (``n`` overrides its ``n_samples``).
    """
    import dataclasses
    import json

    from rramcim.apps.prime.train import (
        ASSET,
        PrimeTrainConfig,
        calibration_frames,
        load_checkpoint,
        load_data,
    )

    cfg = cfg or RobustnessConfig()
    if n is not None:
        cfg = dataclasses.replace(cfg, n_samples=int(n))
    masks, summary = load_checkpoint(ASSET)
    tcfg = PrimeTrainConfig(**{**summary["config"], **({"data": data_root} if data_root else {})})
    cfg = dataclasses.replace(cfg, seed=tcfg.seed, device=tcfg.device)
    _, _, xte, yte = load_data(tcfg)
    calib = calibration_frames(tcfg)
    res = robustness_sweep(masks, xte, yte, calib, cfg, log=log)
    log(format_table(res))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "robustness.json").write_text(json.dumps(res, indent=2))
    plot_robustness(res, out / "prime_robustness.png")
    plot_theta_curve(res["theta_sweep_sw"], out / "prime_theta_hw.png", res["theta_sweep_hw"])
    log(f"wrote {out / 'robustness.json'}, prime_robustness.png, prime_theta_hw.png")
    return res
