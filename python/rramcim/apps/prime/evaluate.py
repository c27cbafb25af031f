"""PRIME evaluation: software baseline vs hardware model, early-stop sweep, noise robustness.

Levels (ARCHITECTURE.md): the software baseline is the float network with the trained masks on
the formed conductances (ideal reads); the hardware model is :class:`PrimeHardware` (read
noise, ADC, pruning by RESET, fixed-point LIF and early stop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rramcim.apps.prime.model import PrimeConvNet
from rramcim.apps.prime.train import early_stop_float, evaluate, form_arrays


def net_from_masks(dg_uS: list[torch.Tensor], masks: list[torch.Tensor]) -> PrimeConvNet:
    """The software network whose masks are exactly ``masks`` (crossbar orientation)."""
    net = PrimeConvNet([d.float() for d in dg_uS], sparsity=0.5)
    with torch.no_grad():
        for layer, m in zip((net.conv0, net.conv1, net.fc), masks, strict=True):
            mm = m.t().reshape(layer.scores.shape).float()
            if abs(float(mm.mean()) - (1 - layer.sparsity)) > 1e-3:
                raise ValueError(
                    f"mask keeps {float(mm.mean()):.4f} of the edges, "
                    f"the layer {1 - layer.sparsity}"
                )
            layer.scores.copy_(mm)
    net.eval()
    return net


@dataclass
class ThetaPoint:
    """One point of the early-stop sweep."""

    theta: float
    accuracy: float
    mean_steps: float
    load_saving: float


def theta_sweep(
    out: torch.Tensor, y: torch.Tensor, thetas: list[float], alpha: float = 2.0
) -> list[ThetaPoint]:
    """Accuracy and load saving (1 - mean steps / T) against the confidence threshold."""
    T = out.shape[1]
    pts = []
    for th in thetas:
        pred, step = early_stop_float(out, alpha, th)
        ms = float(step.float().mean())
        pts.append(ThetaPoint(th, float((pred == y).float().mean()), ms, 1 - ms / T))
    return pts


def multiplicative_noise_sweep(
    dg_uS: list[torch.Tensor],
    masks: list[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    sigmas: list[float],
    repeats: int = 3,
    seed: int = 0,
) -> list[tuple[float, float, float]]:
    """Software accuracy with ``W <- W (1 + sigma N(0, 1))`` at test time (PRIME's noise test).

    Returns:
        (sigma, mean accuracy, std over ``repeats`` draws) per sigma.
    """
    res = []
    for s in sigmas:
        accs = []
        for r in range(repeats):
            g = torch.Generator().manual_seed(seed * 1000 + r)
            noisy = [d * (1 + s * torch.randn(d.shape, generator=g, dtype=d.dtype)) for d in dg_uS]
            accs.append(evaluate(net_from_masks(noisy, masks), x, y)[0])
        res.append((s, float(np.mean(accs)), float(np.std(accs))))
    return res


def software_baseline(
    seed: int,
    masks: list[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    device: str = "rram_40nm",
) -> tuple[PrimeConvNet, list[torch.Tensor], float, torch.Tensor]:
    """Rebuild the formed arrays and the masked network; return (net, dG, accuracy, outputs)."""
    arrays = form_arrays(seed, device)
    dg = [a.conductance_matrix_S() * 1e6 for a in arrays]
    net = net_from_masks(dg, masks)
    acc, out = evaluate(net, x, y)
    return net, dg, acc, out


def build_hardware(
    tcfg,  # noqa: ANN001 (PrimeTrainConfig)
    masks: list[torch.Tensor],
    net: PrimeConvNet | None = None,
    seed: int | None = None,
):  # noqa: ANN201 (PrimeHardware)
    """The hardware model of a checkpoint: formed arrays (``seed``, default ``tcfg.seed``),
    pruned by ``masks``, ADC calibrated on :func:`~rramcim.apps.prime.train.calibration_frames`.

    ``net`` is the software network used for the calibration inputs (default: built from the
    same formed arrays before pruning). ``rramcim eval prime``, the RTL context and ``make sim``
    all build the model here, so their numbers refer to one and the same model.
    """
    from rramcim.apps.prime.hardware import PrimeHardware, PrimeHwConfig
    from rramcim.apps.prime.train import calibration_frames

    arrays = form_arrays(tcfg.seed if seed is None else seed, tcfg.device)
    if net is None:
        net = net_from_masks([a.conductance_matrix_S() * 1e6 for a in arrays], masks)
    return PrimeHardware(arrays, masks, net, calibration_frames(tcfg), PrimeHwConfig())


def run_evaluation(
    data_root: str,
    n_hw: int | None = None,
    seed: int = 0,
    robustness: bool = False,
    out_dir: str | None = None,
    log=print,
) -> dict:  # noqa: ANN001
    """Software baseline and hardware model side by side on the N-Digits (or N-MNIST) test split.

    Args:
        data_root: dataset root (N-Digits is generated there if missing).
        n_hw: test samples through the hardware model (default: all).
        seed: forming seed of the shipped checkpoint.
        robustness: also run the multiplicative-noise sweep (software level).
        out_dir: write ``prime.json`` and plots there.
    """
    import json
    import time
    from pathlib import Path

    from rramcim.apps.prime.robustness import select_subset
    from rramcim.apps.prime.train import ASSET, PrimeTrainConfig, load_checkpoint, load_data

    masks, summary = load_checkpoint(ASSET)
    tcfg = PrimeTrainConfig(**{**summary["config"], "data": data_root})
    xtr, _, xte, yte = load_data(tcfg)
    net, dg, acc_sw, out = software_baseline(seed, masks, xte, yte, tcfg.device)
    pred_es, step_es = early_stop_float(out)
    sweep = theta_sweep(out, yte, [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99])
    n = xte.shape[0] if n_hw is None else min(n_hw, xte.shape[0])
    t0 = time.perf_counter()
    # a class-balanced subset when not the whole split (the split is stored class by class)
    sub = np.arange(n) if n == xte.shape[0] else select_subset(yte, n)
    hw = build_hardware(tcfg, masks, net, seed)
    r = hw.run(xte[sub], sample_ids=sub)
    t_hw = time.perf_counter() - t0
    y = yte[sub].numpy()
    T = xte.shape[1]
    res = {
        "n_test": int(xte.shape[0]),
        "n_hw": n,
        "steps": T,
        "software_acc_all_steps": acc_sw,
        "software_acc_early_stop": float((pred_es == yte).float().mean()),
        "software_mean_steps": float(step_es.float().mean()),
        "software_acc_on_hw_subset": float((out[sub].mean(1).argmax(1).numpy() == y).mean()),
        "hw_acc_all_steps": float((r.pred_all == y).mean()),
        "hw_acc_early_stop": float((r.pred == y).mean()),
        "hw_mean_steps": float(r.stop_step.mean()),
        "hw_load_saving": 1 - float(r.stop_step.mean()) / T,
        "hw_time_s": t_hw,
        "pruned_pairs": hw.pruned,
        "current_mul": hw.mul,
        "theta_sweep": [vars(p) for p in sweep],
        "counts_all_steps": r.counts,
        "train_summary": {
            k: summary[k] for k in ("test_acc_all_steps", "mean_steps", "train_time_s")
        },
    }
    res["energy"] = energy_projection(r.counts, n, T, res["hw_mean_steps"])
    if robustness:
        res["noise_sweep"] = multiplicative_noise_sweep(
            dg, masks, xte, yte, [0, 0.02, 0.05, 0.1, 0.15, 0.2]
        )
    for k, v in res.items():
        if not isinstance(v, (list, dict)):
            log(f"{k:28s} {v}")
    if out_dir:
        p = Path(out_dir)
        p.mkdir(parents=True, exist_ok=True)
        (p / "prime.json").write_text(json.dumps(res, indent=2, default=float))
        _plot(res, p / "prime_theta.png")
    return res


#: Dense MACs of one timestep of the conv SNN (conv0 + conv1 + fc), the digital baseline's work.
DENSE_MACS_PER_STEP = 32 * 32 * 50 * 12 + 12 * 12 * 300 * 64 + 2304 * 10


def energy_projection(counts: dict[str, int], n: int, T: int, mean_steps: float) -> dict:
    """Energy per inference of the hardware model against the A100 baseline (rramcim.cost).

    Assumptions (stated in the report): the analogue side is charged with the 40 nm macro's
    per-operation constants (PAPERS.md §3.7) for every read, conversion and cell read the
    hardware model performed, scaled to the early-stop steps; every column group of a read is
    converted (32 ADC channels, even where a layer uses fewer columns); the digital periphery
    (LIF updates, pooling, early stop) is not charged. The A100 runs the dense network
    (``DENSE_MACS_PER_STEP`` MACs per step) at 19.5 TFLOP/s and 300 W, one MAC per FLOP as the
    paper's code charges it, for all T steps and, in a second figure, for the same early-stop
    steps.
    """
    from rramcim.analog.crossbar import ReadStats
    from rramcim.cost import default_cost_model

    model = default_cost_model()
    oc = ReadStats(**counts).op_counts(DENSE_MACS_PER_STEP * n * T).scaled(1.0 / (n * T))
    e_step = model.energy(oc).total_J
    e_inf = e_step * mean_steps
    gpu_all = model.baseline_energy(DENSE_MACS_PER_STEP * T)
    gpu_same = model.baseline_energy(DENSE_MACS_PER_STEP * mean_steps)
    return {
        "analog_J_per_step": e_step,
        "analog_J_per_inference": e_inf,
        "gpu_J_per_inference_all_steps": gpu_all,
        "gain_vs_gpu_all_steps": gpu_all / e_inf,
        "gain_vs_gpu_same_steps": gpu_same / e_inf,
        "paper_gain": 37.8,
    }


def _plot(res: dict, path) -> None:  # noqa: ANN001
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(
        1,
        2 if "noise_sweep" in res else 1,
        figsize=(11 if "noise_sweep" in res else 5.5, 4),
        squeeze=False,
    )
    sw = res["theta_sweep"]
    ax[0, 0].plot([100 * p["load_saving"] for p in sw], [100 * p["accuracy"] for p in sw], "o-")
    for p in sw:
        ax[0, 0].annotate(
            f"{p['theta']:g}", (100 * p["load_saving"], 100 * p["accuracy"]), fontsize=8
        )
    ax[0, 0].set(
        xlabel="load saving (%)", ylabel="accuracy (%)", title="early stop: theta sweep (software)"
    )
    if "noise_sweep" in res:
        s = res["noise_sweep"]
        ax[0, 1].errorbar(
            [v[0] for v in s], [100 * v[1] for v in s], [100 * v[2] for v in s], marker="o"
        )
        ax[0, 1].set(
            xlabel="multiplicative weight noise sigma",
            ylabel="accuracy (%)",
            title="robustness (software, W(1 + sigma N))",
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
