"""PRIME in ``make sim``: software baseline, hardware model and RTL co-simulation side by side.

:func:`run_prime_sim` runs, from the shipped checkpoints:

1. the software baseline and the hardware model on the whole N-Digits test split
   (:func:`rramcim.apps.prime.evaluate.run_evaluation`: accuracy, early stop, theta sweep,
   energy projection);
2. the RTL co-simulation of ``cim_prime_top`` on ``n_rtl`` test samples (the pyuvm bench of
   ``tb/cim_prime_top`` with its scoreboard: class, stop step and every step's output
   membranes equal to the hardware model's), in ``shards`` simulator processes on one build
   of the top, which load the bench's golden context (hardware model and its test-split
   results) that this process builds once (:func:`write_context`) for both simulators;
3. the hardware-level robustness sweep (small default for ``make sim``);
4. the inpainting evaluation (pruned spiking VAE), if its checkpoint is shipped;

and prints one summary table. Results go to ``<out>/sim/prime*.json`` and the plots next to
them, where :func:`rramcim.report.html.write_report` finds them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from rramcim.apps.prime.rtl import PRIME_TOP_PARAMS

REPO = Path(__file__).resolve().parents[4]


def write_context(path: Path, data_root: str | Path) -> Path:
    """Build the PRIME bench's golden context once and pickle it to ``path``.

    The context (:func:`rramcim.apps.prime.rtl.build_context`: the hardware model and its
    results on the whole test split, about 10-25 s) is what every ``cim_prime_top`` shard
    needs before it picks its samples; the shards load this file (``RRAMCIM_PRIME_CONTEXT``)
    instead of each building it again. Built on one torch thread, as the bench builds it.

    Args:
        path: the pickle file (its folder is made).
        data_root: N-Digits root (generated there if missing).

    Returns:
        ``path``.
    """
    import pickle

    from rramcim.apps.prime.rtl import build_context
    from rramcim.threads import torch_threads

    with torch_threads():
        ctx = build_context(data_root, log=lambda *_: None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(ctx, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return path


def rtl_shards(shards: int, n: int) -> int:
    """Simulator processes that :func:`run_rtl_subset` uses for ``n`` samples: ``shards``,
    at most ``n`` (a shard without a sample would fail its bench), at least 1."""
    return max(1, min(int(shards), int(n)))


def run_rtl_subset(
    out_dir: Path,
    n: int,
    sim: str = "icarus",
    shards: int = 1,
    seed: int | None = None,
    context: Path | None = None,
) -> dict:
    """``n`` test samples through the RTL top; returns the merged bench summary.

    Args:
        out_dir: where the shard summaries go (``prime_rtl_<i>.json``).
        n: samples (early stop on), split over the shards (shard ``i`` takes every
            ``shards``-th sample of one selection, so the shards are disjoint).
        sim: ``icarus`` or ``verilator``.
        shards: parallel simulator processes, at most ``n`` (a shard without a sample would
            fail its bench); they run one build of the top (made first), except with
            ``WAVES=1``, where each shard builds its own (one waveform file each)
            (:func:`tb.vip.runner.run_shared`).
        seed: ``COCOTB_RANDOM_SEED`` of the benches (default: random, logged).
        context: the bench's golden context written by :func:`write_context`, which the
            shards load; None: each shard builds it.
    """
    from tb.vip.runner import SIM_BUILD, run_shared

    here = REPO / "tb" / "cim_prime_top"
    import sys

    if str(here) not in sys.path:
        sys.path.insert(0, str(here))
    from test_cim_prime_top import PARAM_SETS, bench_params, sources

    if seed is not None:
        os.environ["SEED"] = str(seed)
    shards = rtl_shards(shards, n)
    out_dir.mkdir(parents=True, exist_ok=True)
    bench = {
        "sim": sim,
        "toplevel": "tb_cim_prime_top",
        "module": "test_cim_prime_top",
        "sources": sources(),
        "parameters": bench_params(PARAM_SETS["prime"]),
        "bench_dir": here,
        "icarus_always_star": True,
    }
    paths = [out_dir / f"prime_rtl_{i}.json" for i in range(shards)]
    runs = [
        {
            "nodeid": f"make_sim_prime_{sim}_{i}",  # its own build (WAVES=1 or one shard)
            "testcase": "PrimeSamplesTest",
            "extra_env": {
                "RRAMCIM_PRIME_SAMPLES": str(n),
                "RRAMCIM_PRIME_ES_OFF": "0",
                "RRAMCIM_PRIME_SHARD": f"{i}/{shards}",
                "RRAMCIM_PRIME_SELECT_SEED": "0",
                "RRAMCIM_PRIME_OUT": str(path),
                "RRAMCIM_PRIME_DATA": str(SIM_BUILD / "ndigits"),
                **({"RRAMCIM_PRIME_CONTEXT": str(context)} if context else {}),
            },
        }
        for i, path in enumerate(paths)
    ]
    times: dict[str, float] = {}
    parts = run_shared(
        bench,
        runs,
        nodeid=f"make_sim_prime_{sim}",
        results=paths,
        max_workers=shards,
        timings=times,
    )
    wall = times["run_s"]  # the shards, without the shared build
    res = [p for p, _ in parts if p is not None]
    errors = [e for _, e in parts if e]
    rows = [r for p in res for r in p["results"]]
    merged: dict = {
        "simulator": sim,
        "shards": shards,
        "samples": len(rows),
        "matches": sum(r["match"] for r in rows),
        "errors": errors + ([] if len(res) == shards else ["a shard produced no summary"]),
        "wall_s": wall,
        "cycles": sum(p["cycles"] for p in res),
        "results": rows,
    }
    if rows:
        merged["rtl_accuracy"] = sum(r["rtl_class"] == r["label"] for r in rows) / len(rows)
        merged["model_accuracy_same_samples"] = sum(
            r["model_class"] == r["label"] for r in rows
        ) / len(rows)
        merged["rtl_mean_steps"] = sum(r["rtl_stop"] for r in rows) / len(rows)
        merged["counters"] = {k: sum(r["counters"][k] for r in rows) for k in rows[0]["counters"]}
    return merged


def run_prime_sim(
    out: str | Path,
    sim: str = "icarus",
    n_rtl: int = 100,
    shards: int = 2,
    robustness_samples: int = 60,
    seed: int | None = None,
    log=print,  # noqa: ANN001
    cross_sim: str | None = None,
    n_cross: int = 0,
) -> tuple[dict, bool]:
    """All PRIME results for ``make sim``; returns ``(summary, ok)``.

    ``n_rtl`` samples run on ``sim``; ``n_cross`` more (the first of the same selection order)
    run on ``cross_sim`` as well, so that both simulators are exercised by every ``make sim``.
    """
    from rramcim.apps.prime.evaluate import run_evaluation
    from rramcim.apps.prime.robustness import RobustnessConfig, robustness_cli

    out_dir = Path(out) / "sim"
    out_dir.mkdir(parents=True, exist_ok=True)
    data = str(REPO / "sim_build" / "ndigits")
    t0 = time.perf_counter()
    log("rramcim sim: PRIME software baseline and hardware model (N-Digits test split) ...")
    ev = run_evaluation(data, out_dir=str(out_dir), log=lambda *_: None)
    t_eval = time.perf_counter() - t0

    # The bench's golden context (hardware model and its test-split results), built once here
    # for every shard of both simulators instead of once in each shard.
    t1 = time.perf_counter()
    ctx = write_context(REPO / "sim_build" / "make_sim_prime" / "context.pkl", data)
    t_ctx = time.perf_counter() - t1
    log(
        f"rramcim sim: PRIME RTL co-simulation, {n_rtl} samples on {sim} "
        f"({rtl_shards(shards, n_rtl)} shards) ..."
    )
    rtl = run_rtl_subset(out_dir, n_rtl, sim=sim, shards=shards, seed=seed, context=ctx)
    (out_dir / "prime_rtl.json").write_text(json.dumps(rtl, indent=2))
    cross = None
    if n_cross > 0 and cross_sim:
        log(
            f"rramcim sim: PRIME RTL co-simulation, {n_cross} samples on {cross_sim} "
            f"({rtl_shards(shards, n_cross)} shards) ..."
        )
        cross = run_rtl_subset(
            out_dir / cross_sim, n_cross, sim=cross_sim, shards=shards, seed=seed, context=ctx
        )
        (out_dir / f"prime_rtl_{cross_sim}.json").write_text(json.dumps(cross, indent=2))

    log(f"rramcim sim: PRIME robustness sweep ({robustness_samples} samples) ...")
    t1 = time.perf_counter()
    rcfg = RobustnessConfig(
        n_samples=robustness_samples,
        sigmas=(0.0, 0.1, 0.2),
        read_noise_scales=(0.0, 1.0, 4.0),
        reset_noise_scales=(1.0, 4.0),
        stuck_fractions=(0.0, 0.01, 0.05),
        sw_repeats=1,
    )
    rob = robustness_cli(out_dir=str(out_dir), log=lambda *_: None, data_root=data, cfg=rcfg)
    t_rob = time.perf_counter() - t1

    inp = None
    try:
        from rramcim.apps.prime.inpaint import run_inpaint_evaluation
    except ImportError:  # pragma: no cover (inpainting not shipped)
        run_inpaint_evaluation = None
    if run_inpaint_evaluation is not None:
        log("rramcim sim: PRIME inpainting (pruned spiking VAE) ...")
        inp = run_inpaint_evaluation(out_dir=str(out_dir), log=lambda *_: None)

    # energy from the RTL run's own read counter, at the hardware model's energy per read
    e = ev["energy"]
    reads_step = ev["counts_all_steps"]["reads"] / (ev["n_hw"] * ev["steps"])
    e_read = e["analog_J_per_step"] / reads_step
    rtl_energy = None
    if rtl.get("counters"):
        reads_per_inf = rtl["counters"]["READS"] / rtl["samples"]
        e_inf = reads_per_inf * e_read
        rtl_energy = {
            "reads_per_inference": reads_per_inf,
            "J_per_inference": e_inf,
            "gain_vs_gpu_all_steps": e["gpu_J_per_inference_all_steps"] / e_inf,
        }
    summary = {
        "software": {
            "accuracy_all_steps": ev["software_acc_all_steps"],
            "accuracy_early_stop": ev["software_acc_early_stop"],
            "mean_steps": ev["software_mean_steps"],
        },
        "hardware_model": {
            "accuracy_all_steps": ev["hw_acc_all_steps"],
            "accuracy_early_stop": ev["hw_acc_early_stop"],
            "mean_steps": ev["hw_mean_steps"],
            "load_saving": ev["hw_load_saving"],
        },
        "rtl": {k: v for k, v in rtl.items() if k != "results"},
        "rtl_cross": {k: v for k, v in cross.items() if k != "results"} if cross else None,
        "energy": e,
        "energy_rtl_counters": rtl_energy,
        "robustness": {"rows": robustness_rows(rob)} if rob else None,
        "inpainting": inp,
        "wall_s": {
            "eval": t_eval,
            "rtl_context": t_ctx,
            "rtl": rtl["wall_s"],
            "rtl_cross": cross["wall_s"] if cross else 0.0,
            "robustness": t_rob,
        },
        "steps": ev["steps"],
        "params": PRIME_TOP_PARAMS,
    }
    (out_dir / "prime_summary.json").write_text(json.dumps(summary, indent=2, default=float))

    def all_equal(res: dict, n: int) -> bool:
        return not res["errors"] and res["samples"] == n and res["matches"] == res["samples"]

    ok = all_equal(rtl, n_rtl) and (cross is None or all_equal(cross, n_cross))
    return summary, ok


def robustness_rows(rob: dict) -> list[tuple[str, str]]:
    """The strongest point of every robustness series (hardware model, early stop)."""
    from rramcim.apps.prime.robustness import robustness_table

    last: dict[str, tuple[float, dict]] = {}
    for name, v, p in robustness_table(rob):
        last[name] = (v, p)
    out = []
    for name, (v, p) in last.items():
        acc = p.get("acc_early_stop", p["acc_all_steps"])
        out.append((f"{name} = {v:g}", f"{100 * acc:.1f} % accuracy"))
    return out


def prime_summary_rows(s: dict) -> list[tuple[str, str]]:
    """The rows of the PRIME table of ``make sim``."""

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.2f} %"

    sw, hw, rtl = s["software"], s["hardware_model"], s["rtl"]
    T = s["steps"]
    rows = [
        (
            "accuracy, software (all T / early stop)",
            f"{pct(sw['accuracy_all_steps'])} / {pct(sw['accuracy_early_stop'])}",
        ),
        (
            "accuracy, hardware model (all T / early stop)",
            f"{pct(hw['accuracy_all_steps'])} / {pct(hw['accuracy_early_stop'])}",
        ),
        (
            f"accuracy, RTL subset ({rtl.get('samples', 0)} samples, {rtl.get('simulator')})",
            f"{pct(rtl.get('rtl_accuracy'))} "
            f"(model on them {pct(rtl.get('model_accuracy_same_samples'))})",
        ),
        (
            f"RTL samples equal to the model (class, stop, every membrane), {rtl.get('simulator')}",
            f"{rtl.get('matches', 0)} / {rtl.get('samples', 0)}",
        ),
        (
            "mean steps at theta 0.8: software / model / RTL subset",
            f"{sw['mean_steps']:.2f} / {hw['mean_steps']:.2f} / "
            f"{rtl.get('rtl_mean_steps', float('nan')):.2f}",
        ),
        ("load saving (model; paper 77 %)", f"{100 * (1 - hw['mean_steps'] / T):.1f} %"),
    ]
    cr = s.get("rtl_cross")
    if cr:
        rows.insert(
            4,
            (
                f"RTL samples equal to the model, {cr.get('simulator')} (accuracy on them)",
                f"{cr.get('matches', 0)} / {cr.get('samples', 0)} ({pct(cr.get('rtl_accuracy'))})",
            ),
        )
    e = s["energy"]
    rows += [
        ("energy per inference (model, early stop)", f"{e['analog_J_per_inference'] * 1e6:.2f} uJ"),
        (
            "projected gain vs A100 (all T / same steps)",
            f"{e['gain_vs_gpu_all_steps']:.1f} x / {e['gain_vs_gpu_same_steps']:.1f} x "
            "(paper 37.8 x)",
        ),
    ]
    er = s.get("energy_rtl_counters")
    if er:
        rows.append(
            (
                "gain from the RTL read counters (all T)",
                f"{er['gain_vs_gpu_all_steps']:.1f} x ({er['reads_per_inference']:.0f} reads)",
            )
        )
    rob = s.get("robustness")
    if rob:
        rows += [(f"robustness: {name}", val) for name, val in rob["rows"]]
    inp = s.get("inpainting")
    if inp:
        rows += [
            (
                "inpainting PSNR, masked square (all T / stop)",
                f"{inp['psnr_masked_all_steps']:.2f} / {inp['psnr_masked_early_stop']:.2f} dB",
            ),
            (
                "inpainting score (local digit classifier)",
                f"{inp['score_recon']:.2f} (clean {inp['score_clean']:.2f}, "
                f"masked input {inp['score_masked_input']:.2f})",
            ),
            ("inpainting load saving (paper 12.5 %)", f"{100 * inp['load_saving']:.1f} %"),
            ("inpainting energy gain (paper 62.5 x)", f"{inp['energy']['gain']:.1f} x"),
        ]
    w = s["wall_s"]
    rows.append(
        (
            "wall time eval / RTL / RTL second simulator / robustness",
            f"{w['eval']:.0f} s / {w['rtl']:.0f} s / {w.get('rtl_cross', 0.0):.0f} s / "
            f"{w['robustness']:.0f} s",
        )
    )
    return rows
