"""HTML report of ``make sim``: ``build/report/index.html`` with tables and plots.

Reads the result files the demos write under ``build/sim/`` and renders, for every workload,
the three levels side by side (software baseline, hardware model, RTL co-simulation), the
cost-model projection with its assumptions, and plots (matplotlib, Agg backend).
"""

from __future__ import annotations

import html
import json
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
