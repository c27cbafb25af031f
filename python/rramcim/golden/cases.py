"""Generators of the committed golden-vector cases (``tests/vectors/<module>/<case>``).

Each generator is deterministic (keyed noise, seeded weights), writes one case with
:func:`rramcim.golden.vectors.save_vectors` and can rebuild the model it used from the
manifest alone (:func:`xbar_path_macro_from_manifest`), which is how a bench or another tool
consumes the case.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rramcim.analog.crossbar import CrossbarConfig, CrossbarMacro
from rramcim.analog.device import load_device
from rramcim.golden.vectors import save_vectors
from rramcim.golden.xbar_ctrl import acc_width
from rramcim.golden.xbar_path import ReadPathConfig, run_read_path

VECTOR_ROOT = Path(__file__).resolve().parents[3] / "tests" / "vectors"
"""Committed vector root of the repository checkout."""

G_UNITS_W = 24
"""Width of the conductance arrays (units of the device's g_step_S)."""


def xbar_path_macro_from_manifest(params: dict[str, Any]) -> tuple[CrossbarMacro, ReadPathConfig]:
    """Rebuild the macro (configuration, device, seed) and read-path configuration of a case.

    The conductances are loaded separately from the case's ``g_pos``/``g_neg`` arrays.
    """
    cfg = CrossbarConfig(
        rows=params["N_ROWS"],
        cols=params["N_COLS"],
        n_adc=params["N_ADC"],
        adc_bits=params["ADC_BITS"],
        adc_full_scale_A=params["adc_full_scale_A"],
        adc_offset_sigma_lsb=params["adc_offset_sigma_lsb"],
        adc_gain_sigma=params["adc_gain_sigma"],
    )
    macro = CrossbarMacro(
        cfg, load_device(params["device"]), seed=params["seed"], macro_id=params["macro_id"]
    )
    rp = ReadPathConfig(
        params["cfg_tiles"],
        params["cfg_groups"],
        params["cfg_in_bits"],
        bool(params["cfg_in_signed"]),
    )
    return macro, rp


def xbar_path_smoke(root: Path | str = VECTOR_ROOT) -> Path:
    """Read path, 32 x 16 macro, 4 ADCs, 2 row tiles of 4-bit signed inputs, 8 vectors."""
    seed = 1
    params: dict[str, Any] = {
        "N_ROWS": 32,
        "N_COLS": 16,
        "N_ADC": 4,
        "ADC_BITS": 6,
        "IN_BITS": 4,
        "N_TILES": 2,
        "T_SETTLE_CYC": 1,
        "T_CONV_CYC": 3,
        "cfg_tiles": 2,
        "cfg_groups": 2,
        "cfg_in_bits": 4,
        "cfg_in_signed": 1,
        "device": "rram_40nm",
        "seed": seed,
        "macro_id": 0,
        "epoch": 0,
        "first_read": 0,
        "adc_full_scale_A": 3.0e-5,
        "adc_offset_sigma_lsb": 0.7,
        "adc_gain_sigma": 0.02,
    }
    macro, rp = xbar_path_macro_from_manifest(params)
    gen = torch.Generator().manual_seed(seed)
    macro.program_weights(torch.rand(32, 16, generator=gen, dtype=torch.float64) * 2 - 1)
    x = torch.randint(-8, 8, (8, rp.tiles * 32), generator=gen).numpy().astype(np.int64)
    res = run_read_path(macro, x, rp, keep_codes=True)
    gp, gn = macro.programmed_conductances()
    d = macro.device
    acc_w = acc_width(params["ADC_BITS"], params["IN_BITS"], params["N_TILES"])
    params["ACC_W"] = acc_w
    return save_vectors(
        root,
        "cim_xbar_path",
        "smoke",
        "rramcim.golden.cases:xbar_path_smoke",
        seed,
        params,
        {
            "g_pos": (d.to_units(gp).numpy(), G_UNITS_W, False),
            "g_neg": (d.to_units(gn).numpy(), G_UNITS_W, False),
            "x": (x, params["IN_BITS"], True),
            "codes": (res.codes, params["ADC_BITS"], True),
            "acc": (res.acc, acc_w, True),
        },
    )


CASES: dict[str, Callable[..., Path]] = {
    "cim_xbar_path/smoke": xbar_path_smoke,
}
"""Every committed case, by ``<module>/<case>``."""
