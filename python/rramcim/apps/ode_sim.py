"""The closed-loop solver workloads in ``make sim``: twins and diffusion at three levels.

:func:`run_ode_sim` runs, from the shipped checkpoints:

1. software baseline and hardware model (analogue solver model driven by the sequencer's
   channel programs, the same object the RTL bench attaches):
   - diffusion, ring: 2-D histogram KL / L2 to fresh ring data and the sample radius, for the
     Euler PF-ODE and reverse SDE (10 000 steps) and the hardware model (200 ticks);
   - diffusion, letters: decoded-letter accuracy per class (PF-ODE, 5 000 steps vs hardware);
   - HP twin: extrapolation and unseen-drive NRMSE, software vs analogue (programming seeds);
   - Lorenz96 twin: valid prediction time in Lyapunov times, software vs analogue;
2. the RTL co-simulation of ``cim_ode_top`` (pyuvm bench ``tb/cim_ode_top``, test
   ``OdeBatchTest``): the first ring samples and a few samples of each letter of the hardware
   model's batch on the diffusion board, and one HP twin run on the twin board; every SPI frame,
   LDAC tick and sample word must equal the hardware model, and the decoded RTL samples are
   checked against the hardware model's samples of the same index;
3. the speed / energy projections of :mod:`rramcim.cost.ode` next to the papers' figures;
4. plots (ring and letter samples at the three levels, the HP trajectory) and
   ``<out>/sim/ode_summary.json`` for the report.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from rramcim.golden.ode_top import sample_codes

REPO = Path(__file__).resolve().parents[3]
RING_N = 2000
LETTERS_N_PER_CLASS = 200


def _bench_module():  # noqa: ANN202
    here = REPO / "tb" / "cim_ode_top"
    for p in (REPO, here):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    import test_cim_ode_top

    return test_cim_ode_top


def run_batch(
    out_dir: Path, sim: str, pset: str, scenarios: list[dict], name: str
) -> tuple[dict | None, str | None]:
    """Run ``scenarios`` (see ``batch_scenarios`` of the bench) through the RTL on ``sim``."""
    bench = _bench_module()
    from tb.vip.runner import run_bench

    spec = out_dir / f"ode_batch_{name}.json"
    res = out_dir / f"ode_rtl_{name}.json"
    spec.write_text(json.dumps({"scenarios": scenarios}))
    if res.exists():
        res.unlink()
    err = None
    try:
        run_bench(
            sim=sim,
            nodeid=f"make_sim_ode_{name}",
            toplevel="tb_cim_ode_top",
            module="test_cim_ode_top",
            testcase="OdeBatchTest",
            sources=bench.sources(),
            parameters=bench.PARAM_SETS[pset],
            bench_dir=bench.HERE,
            extra_env={"RRAMCIM_ODE_BATCH": str(spec), "RRAMCIM_ODE_OUT": str(res)},
            icarus_always_star=True,
        )
    except SystemExit as e:  # cocotb-test reports failing tests this way
        err = str(e)
    if not res.exists():
        return None, err or "the bench wrote no result"
    return json.loads(res.read_text()), err


def run_ode_sim(
    out_dir: Path,
    sim: str = "verilator",
    n_ring: int = 8,
    n_letters: int = 2,
    cross_sim: str | None = "icarus",
    n_cross: int = 1,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> tuple[dict, bool]:
    """The ODE workloads at three levels (see the module docstring).

    Args:
        out_dir: build folder (results under ``<out>/sim``).
        sim: simulator of the RTL runs.
        n_ring: ring samples through the RTL (the first of the hardware model's batch).
        n_letters: samples of each letter through the RTL.
        cross_sim: the other simulator (None: none), which runs ``n_cross`` ring samples and
            ``n_cross`` letter samples again.
        seed: keys the samples (prior and noise).
        log: progress printer.

    Returns:
        ``(summary, ok)``: ``ok`` is False when an RTL run differs from the hardware model.
    """
    from rramcim.apps.diffusion import analog as dha
    from rramcim.apps.diffusion.train import HKUConfig, load_hku, load_ring
    from rramcim.apps.twin import analog as twa
    from rramcim.apps.twin.hp import TRAIN_DRIVES
    from rramcim.apps.twin.rtl import hp_top_run

    torch.set_num_threads(1)
    sim_dir = Path(out_dir) / "sim"
    sim_dir.mkdir(parents=True, exist_ok=True)
    summ: dict = {"simulator": sim, "seed": seed}
    t0 = time.perf_counter()
    # -- software and hardware model
    log("rramcim sim: diffusion ring, software Euler vs hardware model ...")
    ring_net, _ = load_ring()
    ring = dha.evaluate_ring_hw(ring_net, n_samples=RING_N, n_steps=10000, seed=seed)
    log("rramcim sim: diffusion letters, software Euler vs hardware model ...")
    nets, info = load_hku()
    hcfg = HKUConfig.from_json(info["config"]) if "config" in info else HKUConfig()
    let = dha.evaluate_hku_hw(nets, hcfg, n_per_class=LETTERS_N_PER_CLASS, seed=seed)
    log("rramcim sim: HP and Lorenz96 twins, software vs analogue solver model ...")
    hp = twa.evaluate_hp_analog(seeds=(0, 1, 2))
    l96 = twa.evaluate_l96_analog(n_starts=5)
    t_model = time.perf_counter() - t0
    # -- RTL
    ring_idx = list(range(n_ring))
    let_idx = [k * LETTERS_N_PER_CLASS + j for k in range(3) for j in range(n_letters)]
    classes = let["samples"]["classes"]
    diff_sc = [
        {"task": "ring", "mode": "ode", "beta_scale": 2.0, "device_seed": 0, "seed": seed,
         "prior_std": 1.0, "n_total": RING_N, "indices": ring_idx, "classes": None},
        {"task": "letters", "mode": "ode", "beta_scale": hcfg.beta_scale, "device_seed": 0,
         "seed": seed, "prior_std": hcfg.prior_std, "n_total": int(classes.numel()),
         "indices": let_idx, "classes": [int(classes[i]) for i in let_idx]},
    ]  # fmt: skip
    hp_steps = 300
    hp_sc = [{"task": "hp", "device_seed": 0, "drive": 0, "n_steps": hp_steps, "run_id": 0}]
    l96_steps = 500
    l96_sc = [{"task": "l96", "device_seed": 0, "start": 0, "n_steps": l96_steps, "run_id": 0}]
    ok = True
    rtl: dict = {}
    t1 = time.perf_counter()
    n_let = 3 * n_letters
    log(f"rramcim sim: {n_ring} ring + {n_let} letter samples through cim_ode_top on {sim} ...")
    rtl["diffusion"], e1 = run_batch(sim_dir, sim, "diffusion", diff_sc, f"diffusion_{sim}")
    log(f"rramcim sim: one HP twin run ({hp_steps} steps) through cim_ode_top on {sim} ...")
    rtl["twin"], e2 = run_batch(sim_dir, sim, "twin", hp_sc, f"twin_{sim}")
    log(f"rramcim sim: one Lorenz96 twin run ({l96_steps} steps) through cim_ode_top on {sim} ...")
    rtl["l96"], e4 = run_batch(sim_dir, sim, "l96", l96_sc, f"l96_{sim}")
    cross = None
    if cross_sim and n_cross > 0:
        cs = [dict(diff_sc[0], indices=ring_idx[:n_cross]),
              dict(diff_sc[1], indices=let_idx[:n_cross],
                   classes=diff_sc[1]["classes"][:n_cross])]  # fmt: skip
        log(f"rramcim sim: {2 * n_cross} of them again on {cross_sim} ...")
        cross, e3 = run_batch(sim_dir, cross_sim, "diffusion", cs, f"diffusion_{cross_sim}")
        if e3 or cross is None or not all(r["match"] for r in cross["runs"]):
            ok = False
    t_rtl = time.perf_counter() - t1
    for k, e in (("diffusion", e1), ("twin", e2), ("l96", e4)):
        if e or rtl[k] is None or not all(r["match"] for r in rtl[k]["runs"]):
            ok = False
    # decode the RTL samples and check them against the hardware model's
    hwd = dha.DiffusionHw()
    lsb = dha.hw_mapping(ring_net.analog_export(), hwd).solver_cfg.adc_lsb_V / hwd.g_x_V
    runs = rtl["diffusion"]["runs"] if rtl["diffusion"] else []
    final = {lab: np.array([sample_codes(r["words"], 2)[-1] for r in runs if r["label"] == lab])
             for lab in ("ring", "letters")}  # fmt: skip
    x_ring, x_let = final["ring"] * lsb, final["letters"] * lsb
    hw_ring = ring["ode"]["samples"]["hardware"].numpy()[ring_idx]
    hw_let = let["samples"]["hardware"].numpy()[let_idx]
    same = (
        x_ring.shape == hw_ring.shape
        and np.array_equal(x_ring.astype(np.float32), hw_ring)
        and x_let.shape == hw_let.shape
        and np.array_equal(x_let.astype(np.float32), hw_let)
    )
    ok = ok and same
    from rramcim.apps.diffusion.metrics import letter_accuracy

    rtl_acc = None
    if x_let.size:
        rtl_acc = letter_accuracy(
            nets["vae"], nets["classifier"], torch.from_numpy(x_let).float(),
            torch.tensor([int(classes[i]) for i in let_idx]), hcfg.latent_scale,
        )  # fmt: skip
    # HP twin through the RTL: NRMSE of the RTL run against the HP ground truth
    solver, mp, _, tcfg = twa.hp_solver(seed=0)
    drive = TRAIN_DRIVES[0]
    run, _ = hp_top_run(mp, tcfg.device.x0, hp_steps, twa.drive_samples([drive]))
    ref = twa.run_twin(solver, mp, np.array([[tcfg.device.x0]]), hp_steps,
                       twa.drive_samples([drive]))[1:, 0, 0]  # fmt: skip
    hp_rtl = None
    if rtl["twin"]:
        w = rtl["twin"]["runs"][0]["words"]
        codes = sample_codes(w, 1)
        h_rtl = mp.V_to_h(codes * solver.cfg.adc_lsb_V)[:, 0]
        same_hp = h_rtl.shape == ref.shape and np.array_equal(h_rtl, ref)
        ok = ok and same_hp
        from rramcim.apps.twin.evaluate import nrmse
        from rramcim.apps.twin.hp import simulate_hp

        t = np.arange(hp_steps + 1) * tcfg.dt_s
        truth = np.asarray(simulate_hp(drive, t, tcfg.device).x)[1:]
        hp_rtl = {"steps": hp_steps, "drive": drive.name, "nrmse": nrmse(h_rtl, truth),
                  "equal_to_model": bool(same_hp), "h": h_rtl.tolist(),
                  "truth": truth.tolist()}  # fmt: skip
    # Lorenz96 through the RTL: valid prediction time of the RTL run from test start 0
    l96_rtl = None
    if rtl["l96"]:
        from rramcim.apps.twin.evaluate import l96_test_starts
        from rramcim.apps.twin.lorenz96 import simulate_l96, valid_prediction_time

        lsolver, lmp, _, lcfg = twa.l96_solver(seed=0)
        h0 = l96_test_starts(lcfg, 1)[0]
        w = rtl["l96"]["runs"][0]["words"]
        codes = sample_codes(w, lcfg.system.n)
        h_rtl = lmp.V_to_h(codes * lsolver.cfg.adc_lsb_V)
        ref_l96 = twa.run_twin(lsolver, lmp, h0[None], l96_steps)[1:, 0]
        same_l96 = h_rtl.shape == ref_l96.shape and np.array_equal(h_rtl, ref_l96)
        ok = ok and same_l96
        lsw = l96["software"]  # the checkpoint's exponent and attractor RMS, and the threshold
        lam, rms, thr = lsw["lambda1"], lsw["attractor_rms"], lsw["threshold"]
        t = np.arange(l96_steps + 1) * lcfg.dt
        truth = simulate_l96(h0, t, lcfg.system)
        # the start state, then the RTL's samples (the RTL samples after every step)
        vpt = valid_prediction_time(np.vstack([h0[None], h_rtl]), truth, t, rms, thr) * lam
        l96_rtl = {"steps": l96_steps, "vpt_lyap": float(vpt), "equal_to_model": bool(same_l96)}
    # -- projections
    from rramcim.cost.ode import diffusion_projection, render_table, twin_projection

    proj = [
        twin_projection("hp"),
        twin_projection("l96"),
        diffusion_projection("ring", n_ticks=hwd.n_ticks, horizon_units=1.0),
        diffusion_projection("hku", n_ticks=hwd.n_ticks, horizon_units=1.0),
    ]
    proj_text = render_table(proj)
    summ.update(
        {
            "ring": _strip(ring),
            "letters": _strip(let),
            "hp": _strip(hp),
            "l96": _strip(l96),
            "rtl": {
                "ring_samples": x_ring.tolist(),
                "letter_samples": x_let.tolist(),
                "letter_accuracy": rtl_acc,
                "runs": sum(len(v["runs"]) for v in rtl.values() if v),
                "matches": sum(r["match"] for v in rtl.values() if v for r in v["runs"]),
                "cross_runs": len(cross["runs"]) if cross else 0,
                "cross_matches": sum(r["match"] for r in cross["runs"]) if cross else 0,
                "cross_sim": cross_sim,
                "decoded_equal_to_model": bool(same),
                "hp": hp_rtl,
                "l96": l96_rtl,
                "errors": [e for e in (e1, e2, e4) if e],
            },
            "projections": [
                {
                    "name": p.name,
                    "speed_ratio": p.speed_ratio,
                    "energy_ratio": p.energy_ratio,
                    "analog_s": p.analog.total_s,
                    "analog_J": p.analog.total_J,
                    "digital_s": p.digital.total_s,
                    "digital_J": p.digital.total_J,
                }
                for p in proj
            ],  # fmt: skip
            "projection_table": proj_text,
            "wall_s": {"model": t_model, "rtl": t_rtl},
            "ok": ok,
        }
    )
    (sim_dir / "ode_summary.json").write_text(json.dumps(summ, indent=1, default=_json))
    _plots(sim_dir, ring, let, x_ring, x_let, classes, let_idx, hp_rtl)
    return summ, ok


def _json(o: object) -> object:
    if isinstance(o, torch.Tensor):
        return o.tolist()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return str(o)


def _strip(d: object) -> object:
    """A result without its sample tensors (JSON-able)."""
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k != "samples"}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def _plots(sim_dir: Path, ring, let, x_ring, x_let, classes, let_idx, hp_rtl) -> None:  # noqa: ANN001
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(13, 4.3), sharex=True, sharey=True)
    s = ring["ode"]["samples"]
    ax[0].plot(*s["software"].numpy().T, ".", ms=1.5, alpha=0.5)
    ax[0].set_title(f"software Euler PF-ODE (KL {ring['ode']['software']['kl']:.3f})")
    ax[1].plot(*s["hardware"].numpy().T, ".", ms=1.5, alpha=0.5, color="C1")
    ax[1].set_title(f"hardware model, 200 ticks (KL {ring['ode']['hardware']['kl']:.3f})")
    ax[2].plot(*s["hardware"].numpy().T, ".", ms=1, alpha=0.15, color="C1", label="hardware model")
    if len(x_ring):
        ax[2].plot(*x_ring.T, "kx", ms=7, label="RTL (cim_ode_top)")
    ax[2].set_title(f"RTL co-simulation: {len(x_ring)} samples")
    ax[2].legend(loc="lower right", fontsize=8)
    for a in ax:
        a.set_aspect("equal")
        a.set(xlim=(-1.3, 1.3), ylim=(-1.3, 1.3))
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(sim_dir / "ode_ring.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(1, 3, figsize=(13, 4.3), sharex=True, sharey=True)
    ls = let["samples"]
    c = ls["classes"].numpy()
    for i, (name, z) in enumerate((("software Euler", ls["software"]),
                                   ("hardware model", ls["hardware"]))):  # fmt: skip
        for k, letter in enumerate("HKU"):
            ax[i].plot(*z.numpy()[c == k].T, ".", ms=2, alpha=0.5, label=letter)
        ax[i].set_title(f"{name}: accuracy {100 * let[['software', 'hardware'][i]]['mean']:.1f} %")
        ax[i].legend(fontsize=8)
    for k, letter in enumerate("HKU"):
        sel = np.array([int(classes[i]) == k for i in let_idx])
        if len(x_let):
            ax[2].plot(*x_let[sel].T, "x", ms=8, label=f"RTL {letter}")
    ax[2].set_title("RTL co-simulation (latents)")
    ax[2].legend(fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(sim_dir / "ode_letters.png", dpi=100)
    plt.close(fig)

    if hp_rtl:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        t = np.arange(1, hp_rtl["steps"] + 1) * 0.01
        ax.plot(t, hp_rtl["truth"], "k-", lw=1, label="HP model (ground truth)")
        ax.plot(t, hp_rtl["h"], "C3.", ms=2, label="RTL co-simulation (ADC samples)")
        title = f"HP twin through cim_ode_top: NRMSE {100 * hp_rtl['nrmse']:.2f} %"
        ax.set(xlabel="t (s)", ylabel="w / D", title=title)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(sim_dir / "ode_hp.png", dpi=100)
        plt.close(fig)


def ode_summary_rows(s: dict) -> list[tuple[str, str]]:
    """The ``make sim`` table of the ODE workloads."""
    r, lt, hp, l96, rtl = s["ring"], s["letters"], s["hp"], s["l96"], s["rtl"]

    def ring_row(mode: str) -> tuple[str, str]:
        m = r[mode]
        return (
            f"ring {mode.upper()}: KL software / hardware (ratio)",
            f"{m['software']['kl']:.3f} / {m['hardware']['kl']:.3f} ({m['kl_ratio']:.2f}x)",
        )

    rows = [
        (f"ring: samples (floor KL {r['floor']['kl']:.3f})", f"{r['settings']['n_samples']}"),
        ring_row("ode"),
        ring_row("sde"),
        (
            "ring ODE radius software / hardware (data 0.70)",
            f"{r['ode']['software']['radius_mean']:.3f} / "
            f"{r['ode']['hardware']['radius_mean']:.3f}",
        ),
        (
            "ring RTL subset: samples, mean radius",
            f"{len(rtl['ring_samples'])}, "
            + (
                f"{float(np.linalg.norm(np.asarray(rtl['ring_samples']), axis=1).mean()):.3f}"
                if rtl["ring_samples"]
                else "-"
            ),
        ),
        (
            "letters accuracy software / hardware / RTL",
            f"{100 * lt['software']['mean']:.1f} / {100 * lt['hardware']['mean']:.1f} / "
            + (f"{100 * rtl['letter_accuracy']['mean']:.1f} %" if rtl["letter_accuracy"] else "-"),
        ),
        (
            "HP extrapolation NRMSE software / analogue (worst seed)",
            f"{100 * hp['software']['extrap_nrmse_max']:.2f} / "
            f"{100 * hp['analog_extrap_nrmse_max']:.2f} % ({hp['extrap_ratio']:.1f}x)",
        ),
        (
            "HP RTL run (3 s, drive 0): NRMSE",
            f"{100 * rtl['hp']['nrmse']:.2f} %" if rtl.get("hp") else "-",
        ),
        (
            "L96 RTL run (start 0): valid time",
            f"{rtl['l96']['vpt_lyap']:.2f} Lyapunov times" if rtl.get("l96") else "-",
        ),
        (
            "L96 valid time software / analogue (Lyapunov times)",
            f"{l96['software']['vpt_lyap_mean']:.2f} / {l96['analog']['vpt_lyap_mean']:.2f}",
        ),
        (
            "RTL runs equal to the hardware model",
            f"{rtl['matches']} / {rtl['runs']} on {s['simulator']}, "
            f"{rtl['cross_matches']} / {rtl['cross_runs']} on {rtl['cross_sim']}",
        ),
        (
            "RTL samples decoded = hardware model samples",
            "yes" if rtl["decoded_equal_to_model"] else "NO",
        ),
        ("wall time model / RTL", f"{s['wall_s']['model']:.0f} s / {s['wall_s']['rtl']:.0f} s"),
    ]
    return rows


def projection_summary(s: dict) -> str:
    """The projection table of ``make sim`` (without the assumption list, which the report
    and ``ode_summary.json`` carry)."""
    text = s["projection_table"]
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("speed ="):
            return "\n".join(lines[: i + 1] + ["(assumptions: build/report/index.html)"])
    return text
