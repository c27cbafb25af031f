"""Software baselines of the diffusion tasks and the tick-held (analogue-like) variant.

Ring (unconditional): ``n_samples`` (10 000) samples with the reverse-time Euler PF-ODE and
SDE samplers, ``n_steps`` (10 000) steps, beta x 2, against ``n_samples`` fresh ring points
(keyed ``(seed, "ring", "reference")``, never used in training): 2-D histogram KL (50 bins
over [-1, 1]^2) and L2 (100 bins), plus the mean and standard deviation of the sample radius
(data: 0.7 and 0.04). ``floor`` holds the metrics between two independent fresh ring sets of
the same size: the finite-sample value a perfect model would get.

Letters (conditional): ``n_per_class`` samples of each class with the PF-ODE (5000 steps,
beta x 1.5, guidance w = 0); per class the accuracy of the classifier on the decoded samples
and the KL / L2 of the generated latents against the class's training latents (encoder means
/ 8, the score net's training data). ``floor`` compares the training latents with the test
latents of the same class (fewer samples: an upper reference, not a limit).

Tick-held variant (:func:`rramcim.apps.diffusion.samplers.sample_ticks`): the paper's MCU
schedule, 240 ticks over tau in [1, -0.2] (tick 0.005; the 40 ticks with tau < eps hold x,
``tail = "stop"``), 20 Euler sub-steps a tick, with float held values and with 12-bit and
8-bit DAC quantisation; coarser schedules (60 and 12 ticks over [1, eps]) show the trend.

Prior: the samplers start from N(0, prior_std^2 I) (the configs' ``prior_std``, default 1); the
PF-ODE from the alternative N(0, 0.471^2 I) (the training SDE's marginal std at t = 1) is
reported next to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from rramcim.apps.diffusion.data import CLASSES, make_letters, ring_samples
from rramcim.apps.diffusion.metrics import classify, hist_kl, hist_l2, letter_accuracy
from rramcim.apps.diffusion.nets import ScoreMLP, ScoreMLPCond
from rramcim.apps.diffusion.samplers import (
    EPS,
    MARGINAL_STD_1,
    PRIOR_STD,
    Mode,
    net_score_fn,
    sample_euler,
    sample_ticks,
    tick_schedule,
)
from rramcim.apps.diffusion.train import (
    HKU_ASSET,
    RING_ASSET,
    HKUConfig,
    RingConfig,
    encode_latents,
    load_hku,
    load_ring,
)
from rramcim.report.text import text_table
from rramcim.threads import torch_threads

TICK_VARIANTS = (
    # (name, n_ticks, t_start, t_end, dac_bits)
    ("240 ticks [1, -0.2], float", 240, 1.0, -0.2, None),
    ("240 ticks [1, -0.2], 12-bit", 240, 1.0, -0.2, 12),
    ("240 ticks [1, -0.2], 8-bit", 240, 1.0, -0.2, 8),
    ("60 ticks [1, eps], 12-bit", 60, 1.0, EPS, 12),
    ("12 ticks [1, eps], 12-bit", 12, 1.0, EPS, 12),
)
"""Tick-held variants of the evaluation."""
TICK_SUBSTEPS = 20
"""Euler sub-steps per tick in the evaluation."""


def _ring_stats(ref: torch.Tensor, x: torch.Tensor) -> dict:
    r = torch.linalg.norm(x.double(), dim=1)
    return {
        "kl": hist_kl(ref, x),
        "l2": hist_l2(ref, x),
        "radius_mean": float(r.mean()),
        "radius_std": float(r.std()),
    }


def evaluate_ring(
    net: ScoreMLP,
    n_samples: int = 10000,
    n_steps: int = 10000,
    beta_scale: float = 2.0,
    seed: int = 0,
    ticks: bool = True,
    tick_variants: tuple = TICK_VARIANTS,
    return_samples: bool = False,
    prior_std: float = PRIOR_STD,
    alt_prior: bool = True,
) -> dict:
    """Metrics of the unconditional net (see the module docstring).

    Returns:
        ``{"ode": {kl, l2, radius_mean, radius_std}, "sde": {..}, "floor": {..}, "data":
        {..}, "ticks": {"<variant> <mode>": {..}}, "settings": {..}}``; with
        ``return_samples`` also ``"samples"``: name -> [n, 2] tensors (not JSON-able).
    """
    ref = ring_samples(n_samples, seed, "reference")
    other = ring_samples(n_samples, seed, "reference-2")
    out: dict = {
        "settings": {
            "n_samples": n_samples,
            "n_steps": n_steps,
            "beta_scale": beta_scale,
            "prior_std": prior_std,
            "eps": EPS,
            "seed": seed,
        },
        "floor": {"kl": hist_kl(ref, other), "l2": hist_l2(ref, other)},
        "data": _ring_stats(ref, ref),
    }
    samples = {"data": ref}
    fn = net_score_fn(net)
    for mode in (Mode.ODE, Mode.SDE):
        x = sample_euler(fn, n_samples, n_steps, mode, beta_scale, seed, prior_std=prior_std)
        out[mode.value] = _ring_stats(ref, x)
        samples[f"euler {mode.value}"] = x
    if alt_prior:
        x = sample_euler(
            fn, n_samples, n_steps, Mode.ODE, beta_scale, seed, prior_std=MARGINAL_STD_1
        )
        out["ode_alt_prior"] = _ring_stats(ref, x)
        samples["euler ode, x(1) ~ N(0, 0.471^2 I)"] = x
    if ticks:
        exp = net.analog_export()
        out["ticks"] = {}
        for name, n_ticks, t0, t1, bits in tick_variants:
            for mode in (Mode.ODE, Mode.SDE):
                sch = tick_schedule(n_ticks, t0, t1, beta_scale, mode)
                x = sample_ticks(
                    exp, n_samples, sch, TICK_SUBSTEPS, bits, seed, prior_std=prior_std
                )
                out["ticks"][f"{name} {mode.value}"] = _ring_stats(ref, x)
                samples[f"{name} {mode.value}"] = x
    if return_samples:
        out["samples"] = samples
    return out


def evaluate_hku(
    nets: Mapping,
    cfg: HKUConfig | None = None,
    n_per_class: int = 1000,
    n_steps: int = 5000,
    seed: int = 0,
    ticks: bool = True,
    tick_variants: tuple = TICK_VARIANTS,
    return_samples: bool = False,
    alt_prior: bool = True,
) -> dict:
    """Metrics of the conditional latent diffusion (see the module docstring).

    Args:
        nets: ``{"vae", "classifier", "score"}``.
        cfg: the task config (latent scale, beta scale, guidance; default :class:`HKUConfig`).
        n_per_class: samples per class.
        n_steps: Euler steps.
        seed: keys the sampling noise.
        ticks: also run the tick-held variants.
        tick_variants: their list.
        return_samples: add ``"samples"`` (latents per sampler, and the classes).

    Returns:
        ``{"ode": {"accuracy": {...}, "kl": [per class], "l2": [per class]}, "floor": {...},
        "vae": {...}, "ticks": {...}, "settings": {...}}``.
    """
    cfg = cfg or HKUConfig()
    vae, clf, net = nets["vae"], nets["classifier"], nets["score"]
    if not isinstance(net, ScoreMLPCond):
        raise ValueError("evaluate_hku: nets['score'] must be a ScoreMLPCond")
    data = make_letters(cfg.letters)
    z_tr = encode_latents(vae, data.x_train, cfg.latent_scale)
    z_te = encode_latents(vae, data.x_test, cfg.latent_scale)
    K = len(CLASSES)
    classes = torch.arange(K).repeat_interleave(n_per_class)

    def scores(z: torch.Tensor) -> dict:
        acc = letter_accuracy(vae, clf, z, classes, cfg.latent_scale)
        kl, l2 = [], []
        for k in range(K):
            zk = z[classes == k]
            kl.append(hist_kl(z_tr[data.y_train == k], zk))
            l2.append(hist_l2(z_tr[data.y_train == k], zk))
        return {"accuracy": acc, "kl": kl, "l2": l2}

    with torch.no_grad():
        rec = vae.decode(z_te * cfg.latent_scale)
    out: dict = {
        "settings": {
            "n_per_class": n_per_class,
            "n_steps": n_steps,
            "beta_scale": cfg.beta_scale,
            "guidance_w": cfg.guidance_w,
            "prior_std": cfg.prior_std,
            "eps": EPS,
            "seed": seed,
        },
        "classifier_test_accuracy": float(
            (classify(clf, data.x_test) == data.y_test).float().mean()
        ),
        "vae": {
            "test_mse_per_pixel": float(((rec - data.x_test) ** 2).mean()),
            "test_recon_accuracy": float((classify(clf, rec) == data.y_test).float().mean()),
        },
        "floor": {
            "kl": [hist_kl(z_tr[data.y_train == k], z_te[data.y_test == k]) for k in range(K)],
            "l2": [hist_l2(z_tr[data.y_train == k], z_te[data.y_test == k]) for k in range(K)],
        },
    }
    samples = {"classes": classes}
    fn = net_score_fn(net, classes, cfg.guidance_w)
    z = sample_euler(
        fn, classes.numel(), n_steps, Mode.ODE, cfg.beta_scale, seed, prior_std=cfg.prior_std
    )
    out["ode"] = scores(z)
    samples["euler ode"] = z
    if alt_prior:
        z = sample_euler(
            fn, classes.numel(), n_steps, Mode.ODE, cfg.beta_scale, seed, prior_std=MARGINAL_STD_1
        )
        out["ode_alt_prior"] = scores(z)
        samples["euler ode, x(1) ~ N(0, 0.471^2 I)"] = z
    if ticks:
        exp = net.analog_export()
        out["ticks"] = {}
        for name, n_ticks, t0, t1, bits in tick_variants:
            sch = tick_schedule(n_ticks, t0, t1, cfg.beta_scale, Mode.ODE)
            z = sample_ticks(
                exp,
                classes.numel(),
                sch,
                TICK_SUBSTEPS,
                bits,
                seed,
                classes,
                cfg.guidance_w,
                prior_std=cfg.prior_std,
            )
            out["ticks"][f"{name} ode"] = scores(z)
            samples[f"{name} ode"] = z
    if return_samples:
        out["samples"] = samples
    return out


# ------------------------------------------------------------------------------ tables, plots
def ring_table(res: dict) -> str:
    """The ring metrics as a text table."""
    st = res["settings"]
    rows = [("sampler", "KL", "L2", "radius mean", "radius std")]

    def add(name: str, r: dict) -> None:
        rows.append(
            (
                name,
                f"{r['kl']:.4f}",
                f"{r['l2']:.4f}",
                f"{r['radius_mean']:.4f}" if "radius_mean" in r else "-",
                f"{r['radius_std']:.4f}" if "radius_std" in r else "-",
            )
        )

    add("data (fresh ring)", res["data"])
    add("floor: two fresh ring sets", res["floor"])
    add(f"Euler PF-ODE, {st['n_steps']} steps", res["ode"])
    add(f"Euler SDE, {st['n_steps']} steps", res["sde"])
    if "ode_alt_prior" in res:
        add("Euler PF-ODE, x(1) ~ N(0, 0.471^2 I)", res["ode_alt_prior"])
    for name, r in res.get("ticks", {}).items():
        add(f"tick-held: {name}", r)
    return text_table(
        rows,
        f"Ring diffusion: {st['n_samples']} samples, beta x {st['beta_scale']:g}, KL 50 bins / "
        "L2 100 bins over [-1, 1]^2",
    )


def hku_table(res: dict) -> str:
    """The letter metrics as a text table."""
    st = res["settings"]
    rows = [("sampler", *(f"acc {c}" for c in CLASSES), *(f"KL {c}" for c in CLASSES))]

    def add(name: str, r: dict) -> None:
        acc = r["accuracy"]["per_class"] if "accuracy" in r else ["-"] * len(CLASSES)
        rows.append(
            (
                name,
                *(a if isinstance(a, str) else f"{100 * a:.1f} %" for a in acc),
                *(f"{v:.3f}" for v in r["kl"]),
            )
        )

    add("floor: train vs test latents", res["floor"])
    add(f"Euler PF-ODE, {st['n_steps']} steps", res["ode"])
    if "ode_alt_prior" in res:
        add("Euler PF-ODE, x(1) ~ N(0, 0.471^2 I)", res["ode_alt_prior"])
    for name, r in res.get("ticks", {}).items():
        add(f"tick-held: {name}", r)
    title = (
        f"HKU latent diffusion: {st['n_per_class']} samples per class, beta x "
        f"{st['beta_scale']:g}, w = {st['guidance_w']:g}; classifier test accuracy "
        f"{100 * res['classifier_test_accuracy']:.2f} %, VAE test MSE "
        f"{res['vae']['test_mse_per_pixel']:.4f} / pixel, recon accuracy "
        f"{100 * res['vae']['test_recon_accuracy']:.2f} %"
    )
    return text_table(rows, title)


def save_scatter(
    samples: Mapping[str, torch.Tensor],
    path: Path | str,
    title: str = "",
    classes: Mapping[str, torch.Tensor] | None = None,
    lim: float = 1.0,
) -> Path:
    """Scatter plots of sample sets side by side (the first normally the data); PNG (Agg).

    Args:
        samples: name -> points [N, 2].
        path: output file.
        title: figure title.
        classes: name -> class per point [N] (points coloured by class: 0 blue, 1 red,
            2 green); sets not in it are drawn in one colour.
        lim: axis half-range.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = classes or {}
    n = len(samples)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.4), squeeze=False)
    for ax, (name, x) in zip(axes[0], samples.items(), strict=True):
        a = np.asarray(x, dtype=np.float64)
        if name in classes:
            c = np.asarray(classes[name])
            ax.scatter(a[:, 0], a[:, 1], s=1, c=c, cmap="brg", vmin=0, vmax=2, alpha=0.4)
        else:
            ax.scatter(a[:, 0], a[:, 1], s=1, alpha=0.4)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _write(out_dir: str | Path | None, name: str, res: dict) -> None:
    if out_dir is None:
        return
    p = Path(out_dir)
    p.mkdir(parents=True, exist_ok=True)
    (p / name).write_text(json.dumps(res, indent=2, default=float))
    print(f"wrote {p / name}")


def run_ring_evaluation(
    path: Path = RING_ASSET,
    n_samples: int = 10000,
    n_steps: int = 10000,
    out_dir: str | Path | None = None,
) -> dict:
    """Evaluate a ring checkpoint; print the table; write ``diffusion_ring.json`` and
    ``diffusion_ring.png`` (scatter) to ``out_dir``."""
    with torch_threads():
        net, info = load_ring(path)
        cfg = RingConfig.from_json(info["config"])
        res = evaluate_ring(
            net,
            n_samples,
            n_steps,
            cfg.beta_scale,
            return_samples=True,
            prior_std=cfg.prior_std,
        )
    samples = res.pop("samples")
    print(ring_table(res))
    _write(out_dir, "diffusion_ring.json", res)
    if out_dir is not None:
        p = save_scatter(samples, Path(out_dir) / "diffusion_ring.png", f"ring ({path.name})")
        print(f"wrote {p}")
    return res


def run_hku_evaluation(
    path: Path = HKU_ASSET,
    n_per_class: int = 1000,
    n_steps: int = 5000,
    out_dir: str | Path | None = None,
) -> dict:
    """Evaluate a letters checkpoint; print the table; write ``diffusion_hku.json`` and
    ``diffusion_hku.png`` (latent scatter, coloured by class) to ``out_dir``."""
    with torch_threads():
        nets, info = load_hku(path)
        cfg = HKUConfig.from_json(info["config"])
        res = evaluate_hku(nets, cfg, n_per_class, n_steps, return_samples=True)
        data = make_letters(cfg.letters)
        z_tr = encode_latents(nets["vae"], data.x_train, cfg.latent_scale)
    samples = res.pop("samples")
    classes = samples.pop("classes")
    print(hku_table(res))
    _write(out_dir, "diffusion_hku.json", res)
    if out_dir is not None:
        sets = {"training latents": z_tr, **samples}
        cls = {name: classes for name in samples}
        cls["training latents"] = data.y_train
        p = save_scatter(
            sets, Path(out_dir) / "diffusion_hku.png", f"HKU latents ({path.name})", cls
        )
        print(f"wrote {p}")
    return res
