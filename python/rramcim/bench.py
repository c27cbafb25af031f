"""Speed of the hardware model against plain torch, measured side by side in one run.

Every row times one hardware-model operation and the plain float32 ``torch.matmul`` of the
same shapes, interleaved (reference, model, reference, model, ...) after a warm-up, and
reports the medians and their ratio. No timing is asserted anywhere; ``make bench`` prints the
table and the README records it with the machine it ran on.
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from rramcim.analog.crossbar import CrossbarConfig, CrossbarMacro
from rramcim.analog.tiling import TiledCrossbar
from rramcim.golden.xbar_path import ReadPathConfig, run_read_path


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):  # noqa: SIM115
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _pair(
    ref: Callable[[], object], model: Callable[[], object], repeat: int
) -> tuple[float, float]:
    for _ in range(3):
        ref()
        model()
    tr, tm = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        ref()
        tr.append(time.perf_counter() - t)
        t = time.perf_counter()
        model()
        tm.append(time.perf_counter() - t)
    return statistics.median(tr), statistics.median(tm)


def run_mvm_bench(batch: int = 1024, repeat: int = 20, threads: int = 0) -> tuple[str, list[dict]]:
    """Run the MVM benchmark; returns (printable table, rows as dicts)."""
    if threads > 0:
        torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    cfg = CrossbarConfig(rows=512, cols=256, n_adc=32, adc_bits=8)
    macro = CrossbarMacro(cfg, seed=1)
    w = torch.randn(512, 256, generator=g)
    macro.program_weights(w.double())
    x_bin = (torch.rand(batch, 512, generator=g) < 0.5).float()
    macro.calibrate_adc(x_bin[:256], 3.0)
    groups = torch.arange(cfg.n_groups)
    k = torch.arange(batch * cfg.n_groups).reshape(batch, cfg.n_groups)
    ideal = CrossbarMacro(cfg, macro.device.replace(read_noise_S=0.0), seed=1)
    ideal.program_weights(w.double())
    ideal.set_adc_full_scale(macro.cfg.adc_full_scale_A)

    x4 = np.random.default_rng(0).integers(0, 16, size=(batch, 512))
    x4f = torch.from_numpy(x4.astype(np.float32))
    rp4 = ReadPathConfig(1, cfg.n_groups, 4, False)

    w2 = torch.randn(512, 512, generator=g)
    tiled = TiledCrossbar(w2.double(), cfg, seed=2)
    for mac in tiled.macros:
        mac.set_adc_full_scale(macro.cfg.adc_full_scale_A)
    x_bin_np = x_bin.numpy().astype(np.int64)

    rows = []
    cases = [
        (
            "binary input, 512x256 macro, read noise + ADC",
            lambda: x_bin @ w,
            lambda: macro.read(x_bin, groups, k, check_binary=False),
            1,
        ),
        (
            "binary input, 512x256, public read() with input check",
            lambda: x_bin @ w,
            lambda: macro.read(x_bin, groups, k),
            1,
        ),
        (
            "binary input, 512x256, no read noise (ADC only)",
            lambda: x_bin @ w,
            lambda: ideal.read(x_bin, groups, k, check_binary=False),
            1,
        ),
        (
            "4-bit input, 512x256, bit-serial (4 reads) + shift-add",
            lambda: x4f @ w,
            lambda: run_read_path(macro, x4, rp4),
            4,
        ),
        (
            "binary input, 512x512 weights tiled on 2 macros",
            lambda: x_bin @ w2,
            lambda: tiled.mvm(x_bin_np, 1, False),
            1,
        ),
    ]
    for name, ref, model, planes in cases:
        tr, tm = _pair(ref, model, repeat)
        rows.append(
            {
                "case": name,
                "batch": batch,
                "torch_matmul_ms": tr * 1e3,
                "model_ms": tm * 1e3,
                "ratio": tm / tr,
                "ratio_per_plane": tm / tr / planes,
            }
        )
    head = (
        f"hardware-model MVM vs float32 torch.matmul (median of {repeat}, batch {batch}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {_cpu_name()})"
    )
    lines = [
        head,
        f"{'case':58s} {'matmul ms':>10s} {'model ms':>10s} {'ratio':>7s} {'per plane':>9s}",
    ]
    for r in rows:
        lines.append(
            f"{r['case']:58s} {r['torch_matmul_ms']:10.3f} {r['model_ms']:10.3f} "
            f"{r['ratio']:7.2f} {r['ratio_per_plane']:9.2f}"
        )
    lines.append(
        "ratio = model time / matmul time of the same shapes (target <= 3 per read); "
        "multi-bit inputs need one read per bit plane, as the hardware does."
    )
    return "\n".join(lines), rows
