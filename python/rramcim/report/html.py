"""HTML report of ``make sim``: ``build/report/index.html`` with tables and plots.

Reads the result files the demos write under ``build/sim/`` and renders, for every workload,
the three levels side by side (software baseline, hardware model, RTL co-simulation), the
cost-model projection with its assumptions, and plots (matplotlib, Agg backend).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np


def _plot_xbar(npz: Path, out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = np.load(npz)
    fig, ax = plt.subplots(1, 3, figsize=(13, 4))
    sw, hw_big = d["big_sw"].ravel(), d["big_hw"].ravel()
    sel = np.random.default_rng(0).choice(sw.size, size=min(20000, sw.size), replace=False)
    ax[0].plot(sw[sel], hw_big[sel], ".", ms=1, alpha=0.4)
    lim = float(np.abs(sw).max())
    ax[0].plot([-lim, lim], [-lim, lim], "k-", lw=0.8)
    ax[0].set(
        xlabel="software x @ W",
        ylabel="hardware model (code units / scale)",
        title="hardware model vs software (1024 vectors)",
    )
    ax[1].hist((hw_big - sw) / sw.std(), bins=100, color="C1")
    ax[1].set(
        xlabel="(hardware - software) / std(software)", ylabel="outputs", title="error distribution"
    )
    rtl, gold = d["rtl"].ravel(), d["golden"].ravel()
    ax[2].plot(gold, rtl, ".", ms=2)
    ax[2].set(
        xlabel="hardware model (integer output word)",
        ylabel="RTL co-simulation output word",
        title=f"RTL vs hardware model: {int((rtl != gold).sum())} of {rtl.size} differ",
    )
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def _table_html(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _grid_html(header: list[str], rows: list[list[str]]) -> str:
    """A table with a header row."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _pct(v: object) -> str:
    return f"{100 * float(v):.2f} %" if isinstance(v, (int, float)) else "-"


PRIME_IMAGES = ("prime_theta.png", "prime_theta_hw.png", "prime_robustness.png")
"""Plots of the PRIME section, in display order, as written under ``build/sim/``."""


def prime_section(prime: dict | None, robustness: dict | None, images: list[str]) -> str:
    """HTML of the PRIME section: headline numbers, theta sweep, robustness table and plots.

    Args:
        prime: contents of ``prime.json`` (:func:`rramcim.apps.prime.evaluate.run_evaluation`),
            or None.
        robustness: contents of ``robustness.json``
            (:func:`rramcim.apps.prime.robustness.robustness_cli`), or None.
        images: file names of the plots, relative to the report page.

    Returns:
        An HTML fragment (empty when there is nothing to show).
    """
    if not prime and not robustness and not images:
        return ""
    parts = [
        "<h2>PRIME: input-aware dynamic SNN on formed, pruned RRAM</h2>",
        "<p>N-Digits stand-in for N-MNIST (PAPERS.md section 6.1). Software baseline: the float "
        "network with the trained masks on the formed conductances; hardware model: the "
        "bit-exact <code>PrimeHardware</code> (read noise, ADC, pruning by RESET, fixed-point "
        "LIF, early stop at theta = 0.8). Load saving = 1 - mean stop step / T.</p>",
    ]
    if prime:
        rows = [
            (
                "test samples (software / hardware model)",
                f"{prime.get('n_test')} / {prime.get('n_hw')}",
            ),
            ("software accuracy, all T steps", _pct(prime.get("software_acc_all_steps"))),
            ("software accuracy, early stop", _pct(prime.get("software_acc_early_stop"))),
            ("software mean stop step", f"{prime.get('software_mean_steps', float('nan')):.2f}"),
            ("hardware accuracy, all T steps", _pct(prime.get("hw_acc_all_steps"))),
            ("hardware accuracy, early stop", _pct(prime.get("hw_acc_early_stop"))),
            ("hardware mean stop step", f"{prime.get('hw_mean_steps', float('nan')):.2f}"),
            ("hardware load saving (paper: 77.0 %)", _pct(prime.get("hw_load_saving"))),
        ]
        e = prime.get("energy") or {}
        if "gain_vs_gpu_all_steps" in e:
            rows.append(
                (
                    "energy gain vs A100 (paper: 37.8x)",
                    f"{e['gain_vs_gpu_all_steps']:.1f}x (all steps), "
                    f"{e.get('gain_vs_gpu_same_steps', float('nan')):.1f}x (same steps)",
                )
            )
        parts.append(_table_html(rows))
        if prime.get("theta_sweep"):
            parts.append("<h3>Early stop: theta sweep (software, whole test split)</h3>")
            parts.append(
                _grid_html(
                    ["theta", "accuracy", "mean steps", "load saving"],
                    [
                        [
                            f"{p['theta']:g}",
                            _pct(p["accuracy"]),
                            f"{p['mean_steps']:.2f}",
                            _pct(p["load_saving"]),
                        ]
                        for p in prime["theta_sweep"]
                    ],
                )
            )
    for im in images:
        parts.append(f'<p><img src="{html.escape(im)}" alt="{html.escape(im)}"></p>')
    if robustness:
        n = robustness.get("n_samples")
        sn = robustness.get("stuck_nominal", {})
        f_nom = 100 * (sn.get("p_stuck_lrs", 0.0) + sn.get("p_stuck_hrs", 0.0))
        parts.append(
            f"<h3>Robustness (hardware model, {n} class-stratified test samples)</h3><p>(a) "
            "multiplicative noise before pruning: <i>weight</i> W(1 + sigma N) as in PRIME's "
            "code (software sweep alongside), <i>cell</i> G(1 + sigma N) on each of G+ and G-; "
            "(b) the device preset's read noise and RESET programming noise scaled; (c) cells "
            "stuck at LRS or HRS (the device model's fault map; the masks were trained with "
            f"the preset's {f_nom:g} % of faults in place). The ADC is recalibrated on every "
            "perturbed chip.</p>"
        )
        rows = []
        for series, key in (
            *(
                (f"sigma, hardware {m}", ("multiplicative", m))
                for m in robustness.get("multiplicative", {})
            ),
            ("sigma, software weight", ("software_multiplicative",)),
            ("read noise x", ("read_noise",)),
            ("RESET noise x", ("reset_noise",)),
            ("stuck at LRS", ("stuck_lrs",)),
            ("stuck at HRS", ("stuck_hrs",)),
        ):
            pts = robustness
            for k in key:
                pts = pts.get(k, {}) if isinstance(pts, dict) else {}
            for p in pts or []:
                v = p["value"]
                rows.append(
                    [
                        series,
                        f"{100 * v:g} %" if series.startswith("stuck") else f"{v:g}",
                        _pct(p.get("acc_early_stop")),
                        _pct(p.get("acc_all_steps")),
                        f"{p['mean_steps']:.2f}" if "mean_steps" in p else "-",
                        _pct(p.get("load_saving")),
                    ]
                )
        parts.append(
            _grid_html(
                [
                    "series",
                    "value",
                    "acc. early stop",
                    "acc. all T steps",
                    "mean steps",
                    "load saving",
                ],
                rows,
            )
        )
        if "time_s" in robustness:
            parts.append(f"<p>Sweep time: {robustness['time_s']:.0f} s.</p>")
    return "".join(parts)


def _prime_part(build: Path, rep: Path) -> str:
    """PRIME section from ``<build>/sim/{prime,robustness}.json``; copies its plots."""
    import shutil

    sim = build / "sim"
    docs = {}
    for name in ("prime", "robustness"):
        f = sim / f"{name}.json"
        docs[name] = json.loads(f.read_text()) if f.exists() else None
    images = []
    extra = sorted(p.name for p in sim.glob("inpaint*.png"))
    for im in list(PRIME_IMAGES) + extra:
        if (sim / im).exists():
            shutil.copyfile(sim / im, rep / im)
            images.append(im)
    out = prime_section(docs["prime"], docs["robustness"], images)
    summ = sim / "prime_summary.json"
    if summ.exists():
        from rramcim.apps.prime.sim import prime_summary_rows

        rows = prime_summary_rows(json.loads(summ.read_text()))
        out += "<h3>PRIME: three levels side by side (make sim)</h3>" + _table_html(rows)
    return out


ODE_IMAGES = ("ode_ring.png", "ode_letters.png", "ode_hp.png")
NFIELD_IMAGES = (
    "nfield_ct.png",
    "nfield_haq.png",
    "nfield_views.png",
    "nfield_views_datapath.png",
    "nfield_rtl_patch.png",
)

_ODE_INTRO = (
    "<p>cim_ode_top RTL (sequencer, SPI DAC driver, ADC interface, sample FIFO) with the "
    "Python solver board attached (DAC registers, programmed crossbar MLP with analogue "
    "activations, integrators, state ADC). Level 1: software Euler / neural ODE; level 2: "
    "the hardware model (the sequencer's channel programs, the DAC codes and the solver "
    "model); level 3: RTL co-simulation, every SPI frame, LDAC tick and sample word equal "
    "to level 2.</p>"
)
_NFIELD_INTRO = (
    "<p>The CT field (RRAM Gaussian encoder, SIREN 131-100-10-100-1) against filtered "
    "back-projection from the same 20 views; its weights mapped onto binary cells by HAQ "
    "(radix 1.5, programming noise 0.15 on set cells) and by uniform binary quantization "
    "with the same cells; novel views of two procedural scenes by a pruned low-rank field, "
    "and by a SIREN radiance field that runs on the chip's datapath. Levels shown: software, "
    "weight mapping, the bit-exact hardware model of the datapath (encoder macro, ADCs, "
    "fixed-point sin/cos, HAQ cells programmed through verify reads) and the RTL top "
    "cim_nfield_top on image patches (every output equal to the hardware model).</p>"
)


def _summary_part(
    build: Path,
    rep: Path,
    name: str,
    title: str,
    intro: str,
    rows: Callable[[dict], list[tuple[str, str]]],
    images: tuple[str, ...],
    projection_title: str,
) -> str:
    """A make-sim section from ``<build>/sim/<name>.json``: title, intro, the summary table,
    the plots (copied into the report) and the projection table."""
    import shutil

    sim = build / "sim"
    f = sim / f"{name}.json"
    if not f.exists():
        return ""
    s = json.loads(f.read_text())
    parts = [f"<h2>{title}</h2>", intro, _table_html(rows(s))]
    for im in images:
        if (sim / im).exists():
            shutil.copyfile(sim / im, rep / im)
            parts.append(f'<img src="{im}" alt="{im}">')
    parts.append(f"<h3>{projection_title}</h3>")
    parts.append("<pre>" + html.escape(s.get("projection_table", "")) + "</pre>")
    return "".join(parts)


def _ode_part(build: Path, rep: Path) -> str:
    """Twins and diffusion from ``<build>/sim/ode_summary.json``; copies their plots."""
    from rramcim.apps.ode_sim import ode_summary_rows

    return _summary_part(
        build,
        rep,
        "ode_summary",
        "Neural-ODE twins and score-based diffusion (closed-loop analogue solver)",
        _ODE_INTRO,
        ode_summary_rows,
        ODE_IMAGES,
        "Speed and energy projections (rramcim.cost.ode)",
    )


def _nfield_part(build: Path, rep: Path) -> str:
    """Neural field from ``<build>/sim/nfield_summary.json``; copies its plots."""
    from rramcim.apps.nfield.sim import nfield_summary_rows

    return _summary_part(
        build,
        rep,
        "nfield_summary",
        "Neural field: sparse-view CT and novel views (HAQ weight mapping)",
        _NFIELD_INTRO,
        nfield_summary_rows,
        NFIELD_IMAGES,
        "Cells, energy and speed (rramcim.cost.nfield)",
    )


def write_report(build: Path) -> Path:
    """Write ``<build>/report/index.html`` from ``<build>/sim/*.json``; returns its path."""
    from rramcim.cli import energy_rows, summary_text
    from rramcim.cost import default_cost_model

    rep = build / "report"
    rep.mkdir(parents=True, exist_ok=True)
    parts = ["<h1>rramcim simulation report</h1>"]
    xjson = build / "sim" / "xbar_path.json"
    if xjson.exists():
        res = json.loads(xjson.read_text())
        parts.append("<h2>Crossbar read path</h2>")
        parts.append(
            "<p>cim_xbar_ctrl + cim_adc_if RTL with the Python model of the 40 nm RRAM macro "
            "attached (programming noise, device-to-device variation, stuck-at faults, drift off, "
            "per-read noise, ADC offset and gain errors). Level 1: software <code>x @ W</code>; "
            "level 2: the batched hardware model; level 3: the RTL co-simulation, compared bit "
            "for bit with level 2.</p>"
        )
        parts.append("<pre>" + html.escape(summary_text(res)) + "</pre>")
        npz = xjson.with_suffix(".npz")
        if npz.exists():
            _plot_xbar(npz, rep / "xbar_path.png")
            parts.append('<img src="xbar_path.png" alt="read path plots">')
        if res.get("error_budget_hw_model_1024"):
            parts.append(
                "<h3>Error budget (hardware model, 1024 vectors)</h3><p>Normalised RMS error "
                "against <code>x @ W</code> with one non-ideality removed at a time (same seed, "
                "weights, mapping and ADC calibration).</p>"
            )
            parts.append(
                _table_html(
                    [
                        (r["variant"], f"{100 * r['nrmse']:.2f} %")
                        for r in res["error_budget_hw_model_1024"]
                    ]
                )
            )
        _, e = energy_rows(res)
        parts.append(
            "<h3>Energy model</h3><p>Per-operation constants and their sources "
            "(PAPERS.md section 3.7); the digital baseline is an A100 at 19.5 TFLOP/s FP32 "
            "and 300 W, charged one MAC per FLOP as the paper's code does. Assumptions: binary "
            "word-line drive (no DAC), every converted column is one amplifier read and one ADC "
            "conversion, no leakage, programming or data movement.</p>"
        )
        parts.append(_table_html([(k, f"{v:.3e} J") for k, v in e["energy_J"].items()]))
        parts.append("<pre>" + html.escape(default_cost_model().ops.table()) + "</pre>")
    parts.append(_prime_part(build, rep))
    parts.append(_ode_part(build, rep))
    parts.append(_nfield_part(build, rep))
    bjson = build / "bench" / "mvm.json"
    if bjson.exists():
        rows = json.loads(bjson.read_text())
        parts.append("<h2>Benchmark (make bench)</h2>")
        parts.append(
            _table_html(
                [(r["case"], f"{r['ratio']:.2f}x matmul ({r['model_ms']:.2f} ms)") for r in rows]
            )
        )
    style = (
        "body{font-family:sans-serif;max-width:1300px;margin:2em auto}"
        "table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}img{max-width:100%}"
    )
    page = rep / "index.html"
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>rramcim report</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n"
    )
    return page
