"""`make sim` demo of the read path: a 512 x 256 layer on the 40 nm macro, through the RTL.

Run by ``rramcim sim`` (not part of the pytest regression; the scoreboarded tests are in
``test_cim_xbar_path.py``). One random Gaussian weight layer is programmed on the macro model
(all non-idealities of the 40 nm preset on), and ``RRAMCIM_DEMO_VECTORS`` unsigned 4-bit
activation vectors are streamed through cim_xbar_ctrl + cim_adc_if with the Python macro
attached. The three levels are recorded side by side:

1. software baseline: ``x @ W`` in float64;
2. hardware model: :func:`rramcim.golden.xbar_path.run_read_path` on the same macro object;
3. RTL co-simulation: the output words of the RTL, compared bit for bit with level 2.

Results go to ``RRAMCIM_DEMO_OUT`` (JSON) and the arrays for the plots to the same path with
``.npz``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
import torch
from cocotb.simtime import get_sim_time
from test_cim_xbar_path import TB

from rramcim.analog.crossbar import CrossbarConfig, CrossbarMacro
from rramcim.golden.xbar_path import ReadPathConfig, run_read_path


class DemoTB(TB):
    """The read-path bench with a Gaussian layer and calibrated ADC."""

    def make_macro(self, seed: int) -> CrossbarMacro:
        cfg = CrossbarConfig(
            rows=self.n_rows,
            cols=self.n_cols,
            n_adc=self.n_adc,
            adc_bits=self.adc_bits,
            adc_full_scale_A=1.0,
            adc_offset_sigma_lsb=0.3,
            adc_gain_sigma=0.01,
        )
        m = CrossbarMacro(cfg, seed=seed)
        g = torch.Generator().manual_seed(seed)
        self.w = torch.randn(self.n_rows, self.n_cols, generator=g, dtype=torch.float64)
        # map +-3 sigma onto the conductance window; the few larger weights are clipped and
        # counted (ProgramReport.n_clipped, printed in the summary)
        self.report = m.program_weights(self.w, w_max=3.0 * float(self.w.std()))
        self.calib_planes = (torch.rand(256, self.n_rows, generator=g) < 0.25).float()
        m.calibrate_adc(self.calib_planes, k_sigma=3.0)
        return m

    def activations(self, n: int) -> np.ndarray:
        """ReLU-like 4-bit activations: about half zeros, the rest uniform in 1..15."""
        rng = np.random.default_rng(self.seed + 17)
        x = rng.integers(1, 1 << self.in_bits, size=(n, self.n_rows))
        x[rng.random(x.shape) < 0.5] = 0
        return x


def error_budget(tb: DemoTB, x: np.ndarray, c: ReadPathConfig) -> list[dict[str, object]]:
    """NRMSE of the hardware model against software with one non-ideality removed at a time.

    Each variant is a fresh macro with the same seed, weights, mapping and ADC calibration, so
    the rows differ only in the named device or ADC setting.
    """
    dev = tb.macro.device
    ideal = dev.replace(
        prog_noise_rel=0.0,
        prog_noise_abs_S=0.0,
        read_noise_S=0.0,
        drift_nu_mean=0.0,
        drift_nu_std=0.0,
        p_stuck_lrs=0.0,
        p_stuck_hrs=0.0,
        d2d_sigma_rel=0.0,
    )
    adc = {
        "adc_offset_sigma_lsb": tb.macro.cfg.adc_offset_sigma_lsb,
        "adc_gain_sigma": tb.macro.cfg.adc_gain_sigma,
    }
    variants = [
        ("as simulated (all non-idealities)", dev, adc),
        ("without stuck-at faults", dev.replace(p_stuck_lrs=0.0, p_stuck_hrs=0.0), adc),
        ("without programming noise", dev.replace(prog_noise_rel=0.0, prog_noise_abs_S=0.0), adc),
        ("without read noise", dev.replace(read_noise_S=0.0), adc),
        ("without d2d variation", dev.replace(d2d_sigma_rel=0.0), adc),
        (
            "without ADC offset/gain errors",
            dev,
            {"adc_offset_sigma_lsb": 0.0, "adc_gain_sigma": 0.0},
        ),
        (
            "ideal device, ADC errors off (level + ADC quantisation only)",
            ideal,
            {"adc_offset_sigma_lsb": 0.0, "adc_gain_sigma": 0.0},
        ),
        (
            "ideal device, 4096 levels (ADC quantisation only)",
            ideal.replace(n_levels=4096),
            {"adc_offset_sigma_lsb": 0.0, "adc_gain_sigma": 0.0},
        ),
    ]
    sw = x @ tb.w.numpy()
    out = []
    for name, d, a in variants:
        m = CrossbarMacro(tb.macro.cfg.replace(**a), d, seed=tb.seed)
        rep = m.program_weights(tb.w, w_max=3.0 * float(tb.w.std()))
        m.calibrate_adc(tb.calib_planes, k_sigma=3.0)
        acc = run_read_path(m, x, c).acc
        hw = acc / m.codes_per_weight(rep.g_per_w_S)
        out.append({"variant": name, "nrmse": float(np.sqrt(np.mean((hw - sw) ** 2)) / np.std(sw))})
    return out


@cocotb.test()
async def run_demo(dut) -> None:  # noqa: ANN001
    """Stream the demo vectors through the RTL; record the three levels."""
    n_vec = int(os.environ.get("RRAMCIM_DEMO_VECTORS", "64"))
    out = Path(os.environ["RRAMCIM_DEMO_OUT"])
    tb = DemoTB(dut)
    await tb.start()
    tb.expected_sat = tb.expected_conv = 0
    c = ReadPathConfig(tiles=1, groups=tb.n_groups, in_bits=tb.in_bits, signed=False)
    tb.set_cfg(c)
    x = tb.activations(n_vec)
    tb.macro.stats.reset()
    t0 = time.perf_counter()
    send = cocotb.start_soon(tb.send_vectors(x, c))
    got = await tb.recv_vectors(n_vec, c, tb.timeout_for(n_vec, c))
    await send
    wall_rtl = time.perf_counter() - t0
    stats_rtl = dict(vars(tb.macro.stats))
    cycles = int(get_sim_time("ns") / 10)
    # level 2 on the same vectors (same macro object, same read numbers) and on a larger batch
    t0 = time.perf_counter()
    exp = run_read_path(tb.macro, x, c, epoch=tb.adapter.epoch, first_read=0)
    wall_hw = time.perf_counter() - t0
    rtl = np.asarray(got, dtype=np.int64)
    mismatch_vectors = int((rtl != exp.acc).any(axis=1).sum())
    mismatch_words = int((rtl != exp.acc).sum())
    first = None
    if mismatch_words:
        v, o = (int(i) for i in np.argwhere(rtl != exp.acc)[0])
        first = {"vector": v, "output": o, "rtl": int(rtl[v, o]), "golden": int(exp.acc[v, o])}
    big = tb.activations(1024)
    hw_big = run_read_path(tb.macro, big, c, epoch=99, first_read=0)
    scale = tb.macro.codes_per_weight(tb.report.g_per_w_S)
    w = tb.w.numpy()

    def err(xx: np.ndarray, acc: np.ndarray) -> dict[str, float]:
        sw = xx @ w
        hw = acc / scale
        return {
            "nrmse": float(np.sqrt(np.mean((hw - sw) ** 2)) / np.std(sw)),
            "corr": float(np.corrcoef(hw.ravel(), sw.ravel())[0, 1]),
        }

    budget = error_budget(tb, big, c)
    result = {
        "block": "cim_xbar_path",
        "simulator": os.environ.get("SIM", ""),
        "seed": tb.seed,
        "params": {
            k: int(os.environ[f"PARAM_{k}"])
            for k in (
                "N_ROWS",
                "N_COLS",
                "N_ADC",
                "ADC_BITS",
                "IN_BITS",
                "N_TILES",
                "T_SETTLE_CYC",
                "T_CONV_CYC",
            )
        },
        "device": tb.macro.device.name,
        "adc_full_scale_A": tb.macro.cfg.adc_full_scale_A,
        "weights": "N(0, 1) random layer, mapped with w_max = 3 std(w)",
        "inputs": "unsigned 4-bit, 50 % zeros",
        "vectors_rtl": n_vec,
        "reads_rtl": int(tb.adapter.read_index),
        "reads_golden": int(exp.reads),
        "mismatch_vectors": mismatch_vectors,
        "mismatch_words": mismatch_words,
        "first_mismatch": first,
        "adc_sat_flags_rtl": int(dut.sat_count_o.value),
        "adc_sat_flags_golden": exp.n_sat_flags,
        "clipped_conversions": exp.n_clipped,
        "conversions": exp.conversions,
        "protocol_errors": tb.adapter.errors[:10],
        "cycles": cycles,
        "wall_s_rtl": wall_rtl,
        "wall_s_hw_model": wall_hw,
        "stats_rtl_run": stats_rtl,
        "macs_per_vector": tb.n_rows * tb.n_cols,
        "error_rtl_vs_software": err(x, rtl),
        "error_hw_model_vs_software_1024": err(big, hw_big.acc),
        "program_report": dataclasses.asdict(tb.report),
        "error_budget_hw_model_1024": budget,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=float))
    np.savez_compressed(
        out.with_suffix(".npz"),
        x=x,
        rtl=rtl,
        golden=exp.acc,
        sw=x @ w,
        scale=scale,
        big_sw=big @ w,
        big_hw=hw_big.acc / scale,
    )
    assert mismatch_words == 0, f"RTL differs from the hardware model: {first}"
    assert not tb.adapter.errors, tb.adapter.errors[:5]
