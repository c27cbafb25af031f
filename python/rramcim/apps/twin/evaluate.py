"""Evaluation of the neural-ODE twins (software level): extrapolation and valid prediction time.

HP twin. The twin is started from the true x(0) and integrated (torchdiffeq fixed-step RK4,
step = the data grid, float64 arithmetic on the float32 weights) alongside the ground truth
(scipy DOP853, rtol 1e-10). The error measure is the normalised RMSE of the state,

    NRMSE = sqrt(mean_t (x_twin - x_true)^2) / std_t(x_true)        (std over the same segment)

(std, not range: the stricter of the two for these trajectories; the range-normalised value
is reported too). Three segments:

* (a) training window [0, t_train] of every training drive;
* (b) extrapolation (t_train, horizon_factor * t_train] of the same drives (the twin runs
  freely from t = 0; only the part beyond the training window is scored);
* (c) unseen drive families (two-tone, smoothed pulse train) over [0, horizon_factor * t_train].

Lorenz96 twin. Starts on the attractor from a test trajectory the training never saw (keyed by
``seed + 1000``, one start every 10 time units); the valid prediction time of each start in
Lyapunov times (:func:`rramcim.apps.twin.lorenz96.valid_prediction_time`, threshold 0.4);
mean, standard deviation, minimum and maximum over the starts.

The prediction functions take any ``field(h, u) -> dh/dt`` callable, so the analogue solver
model can be scored by the same code.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from rramcim.apps.twin.hp import TRAIN_DRIVES, UNSEEN_DRIVES, Drive, simulate_hp
from rramcim.apps.twin.lorenz96 import (
    attractor_state,
    simulate_l96,
    valid_prediction_time,
)
from rramcim.apps.twin.node import MLPVectorField, integrate, load_checkpoint
from rramcim.apps.twin.train import HP_ASSET, L96_ASSET, HPTwinConfig, L96TwinConfig
from rramcim.report.text import text_table
from rramcim.threads import torch_threads

Field = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]


def _f64(fld: Field) -> Field:
    """A float64 copy of an :class:`MLPVectorField` (other callables are returned as is)."""
    if isinstance(fld, MLPVectorField):
        return copy.deepcopy(fld).double()
    return fld


def nrmse(pred: np.ndarray, true: np.ndarray, norm: str = "std") -> float:
    """RMSE / std(true) (``norm="std"``) or RMSE / (max - min)(true) (``norm="range"``)."""
    pred, true = np.asarray(pred, dtype=np.float64), np.asarray(true, dtype=np.float64)
    rmse = float(np.sqrt(np.mean((pred - true) ** 2)))
    if norm == "std":
        den = float(np.std(true))
    elif norm == "range":
        den = float(np.max(true) - np.min(true))
    else:
        raise ValueError(f"nrmse: norm = {norm!r} must be 'std' or 'range'")
    if den <= 0:
        raise ValueError("nrmse: the true trajectory is constant")
    return rmse / den


def predict_hp(
    fld: Field, drives: Sequence[Drive], t_s: np.ndarray, x0: float, step_s: float | None = None
) -> np.ndarray:
    """Free run of the HP twin under each drive from ``x0``: states [T, n_drives].

    Args:
        fld: ``(h [B, 1], u [B, 1]) -> dh/dt [B, 1]`` (an :class:`MLPVectorField` is run in
            float64).
        drives: voltage waveforms, one batch element each.
        t_s: output grid (s), starting at 0.
        x0: initial state w/D of every run.
        step_s: RK4 step (default: the grid spacing).
    """
    f = _f64(fld)
    t = torch.as_tensor(np.asarray(t_s, dtype=np.float64))
    h0 = torch.full((len(drives), 1), float(x0), dtype=torch.float64)

    def u_fn(tt: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.as_tensor(d(tt), dtype=torch.float64) for d in drives])[:, None]

    with torch.no_grad():
        h = integrate(f, h0, t, u_fn, method="rk4", step_size=step_s or float(t[1] - t[0]))
    return h[:, :, 0].numpy()


def hp_steps(cfg: HPTwinConfig, horizon_factor: float) -> tuple[int, int]:
    """Data steps of the HP twin's training window and of a horizon of ``horizon_factor``
    training windows (both rounded to whole ``dt_s`` steps)."""
    n_train = int(round(cfg.t_train_s / cfg.dt_s))
    return n_train, int(round(horizon_factor * n_train))


def evaluate_hp(
    fld: Field,
    cfg: HPTwinConfig | None = None,
    horizon_factor: float | None = None,
    train_drives: Sequence[Drive] = TRAIN_DRIVES,
    unseen_drives: Sequence[Drive] = UNSEEN_DRIVES,
) -> dict:
    """NRMSE of the HP twin on (a) the training window, (b) extrapolation, (c) unseen drives.

    Args:
        fld: the twin's vector field.
        cfg: the twin config (grid, training window, device; default :class:`HPTwinConfig`).
        horizon_factor: horizon / t_train (default ``cfg.horizon_factor``; > 1).
        train_drives, unseen_drives: the drives of (a, b) and of (c).

    Returns:
        ``per_drive`` rows and the mean/max of each segment (``train_nrmse_max``, ...), as
        fractions (0.01 = 1 %); ``*_range`` keys hold the range-normalised values.
    """
    cfg = cfg or HPTwinConfig()
    hf = cfg.horizon_factor if horizon_factor is None else float(horizon_factor)
    if not hf > 1:
        raise ValueError(f"evaluate_hp: horizon_factor = {hf!r} must be > 1")
    n_train, n_steps = hp_steps(cfg, hf)
    t = np.arange(n_steps + 1) * cfg.dt_s
    drives = list(train_drives) + list(unseen_drives)
    pred = predict_hp(fld, drives, t, cfg.device.x0, cfg.dt_s)
    rows = []
    for j, d in enumerate(drives):
        true = simulate_hp(d, t, cfg.device).x
        p = pred[:, j]
        row: dict = {"drive": d.name, "repr": repr(d), "x_max": float(true.max())}
        if j < len(train_drives):
            a, b = slice(0, n_train + 1), slice(n_train + 1, None)
            row["kind"] = "train"
            row["train_nrmse"] = nrmse(p[a], true[a])
            row["extrap_nrmse"] = nrmse(p[b], true[b])
            row["train_nrmse_range"] = nrmse(p[a], true[a], "range")
            row["extrap_nrmse_range"] = nrmse(p[b], true[b], "range")
        else:
            row["kind"] = "unseen"
            row["unseen_nrmse"] = nrmse(p, true)
            row["unseen_nrmse_range"] = nrmse(p, true, "range")
        rows.append(row)
    out: dict = {
        "norm": "std",
        "t_train_s": cfg.t_train_s,
        "horizon_s": float(t[-1]),
        "horizon_factor": hf,
        "per_drive": rows,
    }
    for key in ("train_nrmse", "extrap_nrmse", "unseen_nrmse"):
        for suffix in ("", "_range"):
            vals = [r[key + suffix] for r in rows if key + suffix in r]
            out[f"{key}{suffix}_mean"] = float(np.mean(vals))
            out[f"{key}{suffix}_max"] = float(np.max(vals))
    return out


def l96_test_starts(cfg: L96TwinConfig, n: int) -> np.ndarray:
    """``n`` states [n, N] on the attractor, 10 time units apart, from a test trajectory that
    starts from the attractor state keyed by ``cfg.seed + 1000`` (not the training data)."""
    x0 = attractor_state(cfg.system, seed=cfg.seed + 1000)
    t = np.arange(n) * 10.0
    if n == 1:
        return x0[None]
    return simulate_l96(x0, t, cfg.system)


def predict_l96(fld: Field, x0: np.ndarray, t: np.ndarray, step: float | None = None) -> np.ndarray:
    """Free runs of the Lorenz96 twin from the starts ``x0`` [B, N]: states [T, B, N]."""
    f = _f64(fld)
    tt = torch.as_tensor(np.asarray(t, dtype=np.float64))
    with torch.no_grad():
        h = integrate(
            f, torch.as_tensor(np.asarray(x0, dtype=np.float64)), tt, None, "rk4",
            step or float(tt[1] - tt[0]),
        )  # fmt: skip
    return h.numpy()


def evaluate_l96(
    fld: Field,
    cfg: L96TwinConfig | None = None,
    lambda1: float = 0.95,
    rms: float = 1.0,
    n_starts: int = 10,
    horizon_lyap: float = 15.0,
    threshold: float = 0.4,
) -> dict:
    """Valid prediction time of the Lorenz96 twin, in Lyapunov times, over ``n_starts``.

    Args:
        fld: the twin's vector field.
        cfg: the twin config (system, grid, seed; default :class:`L96TwinConfig`).
        lambda1: largest Lyapunov exponent (1 / time unit; the checkpoint stores it).
        rms: the attractor RMS sqrt(<||x||^2>) (the checkpoint stores it).
        n_starts: number of test starts.
        horizon_lyap: length of each run in Lyapunov times (bounds the VPT from above).
        threshold: normalised-error threshold of the VPT.

    Returns:
        ``vpt_lyap`` per start and its ``vpt_lyap_mean/std/min/max``; ``vpt_time_mean`` in
        time units.
    """
    cfg = cfg or L96TwinConfig()
    if not lambda1 > 0:
        raise ValueError(f"evaluate_l96: lambda1 = {lambda1!r} must be > 0 (chaotic system)")
    starts = l96_test_starts(cfg, n_starts)
    t = np.arange(int(round(horizon_lyap / lambda1 / cfg.dt)) + 1) * cfg.dt
    pred = predict_l96(fld, starts, t, cfg.dt)
    vpt = []
    for b in range(n_starts):
        true = simulate_l96(starts[b], t, cfg.system)
        vpt.append(valid_prediction_time(pred[:, b], true, t, rms, threshold))
    v = np.asarray(vpt) * lambda1
    return {
        "lambda1": lambda1,
        "attractor_rms": rms,
        "threshold": threshold,
        "n_starts": n_starts,
        "horizon_lyap": horizon_lyap,
        "vpt_lyap": v.tolist(),
        "vpt_lyap_mean": float(v.mean()),
        "vpt_lyap_std": float(v.std()),
        "vpt_lyap_min": float(v.min()),
        "vpt_lyap_max": float(v.max()),
        "vpt_time_mean": float(np.mean(vpt)),
    }


# ------------------------------------------------------------------------------ CLI tables
def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f} %"


def run_hp_evaluation(
    path: Path = HP_ASSET, horizon_factor: float | None = None, out_dir: str | None = None
) -> dict:
    """Evaluate a shipped/trained HP twin; print the table; write ``twin_hp.json`` to out_dir."""
    with torch_threads():
        fld, info = load_checkpoint(path)
        cfg = HPTwinConfig.from_json(info["config"])
        res = evaluate_hp(fld, cfg, horizon_factor)
    rows = [("drive", "x max", "train window", "extrapolation", "unseen drive")]
    for r in res["per_drive"]:
        rows.append(
            (
                r["repr"].replace(", name='" + r["drive"] + "'", ""),
                f"{r['x_max']:.3f}",
                _pct(r.get("train_nrmse")),
                _pct(r.get("extrap_nrmse")),
                _pct(r.get("unseen_nrmse")),
            )
        )
    rows.append(
        (
            "max (NRMSE = RMSE / std of the truth)",
            "",
            _pct(res["train_nrmse_max"]),
            _pct(res["extrap_nrmse_max"]),
            _pct(res["unseen_nrmse_max"]),
        )
    )
    title = (
        f"HP memristor twin ({path.name}, {fld.cfg.input_mode.value} field, "
        f"{info['n_params']} parameters): state NRMSE, "
        f"training window {cfg.t_train_s:g} s, horizon {res['horizon_s']:g} s"
    )
    print(text_table(rows, title))
    _write(out_dir, "twin_hp.json", res)
    return res


def run_l96_evaluation(
    path: Path = L96_ASSET, n_starts: int = 10, out_dir: str | None = None
) -> dict:
    """Evaluate a shipped/trained Lorenz96 twin; print the table; write ``twin_l96.json``."""
    with torch_threads():
        fld, info = load_checkpoint(path)
        cfg = L96TwinConfig.from_json(info["config"])
        lam = float(info["lyapunov"]["lambda1"])
        res = evaluate_l96(fld, cfg, lam, float(info["attractor_rms"]), n_starts=n_starts)
    rows = [
        ("quantity", "value"),
        ("system", f"N = {cfg.system.n}, F = {cfg.system.forcing:g}"),
        (
            "largest Lyapunov exponent",
            f"{lam:.4f} +- {info['lyapunov']['lambda1_std']:.4f} / time unit",
        ),
        ("attractor RMS sqrt(<|x|^2>)", f"{res['attractor_rms']:.3f}"),
        ("test starts", str(n_starts)),
        (
            "valid prediction time (error > 0.4)",
            f"{res['vpt_lyap_mean']:.2f} +- {res['vpt_lyap_std']:.2f} Lyapunov times",
        ),
        ("  min / max", f"{res['vpt_lyap_min']:.2f} / {res['vpt_lyap_max']:.2f}"),
        ("  in time units (mean)", f"{res['vpt_time_mean']:.2f}"),
    ]
    print(text_table(rows, f"Lorenz96 twin ({path.name}, {info['n_params']} parameters)"))
    _write(out_dir, "twin_l96.json", res)
    return res


def _write(out_dir: str | None, name: str, res: dict) -> None:
    if out_dir is None:
        return
    p = Path(out_dir)
    p.mkdir(parents=True, exist_ok=True)
    (p / name).write_text(json.dumps(res, indent=2, default=float))
    print(f"wrote {p / name}")
