"""Tests of rramcim.apps.nfield.patch (make sim's RTL patches) and rtl.PrefetchedReads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rramcim.apps.nfield.ct import pixel_coords
from rramcim.apps.nfield.hw import map_field
from rramcim.apps.nfield.nvs import render_rays
from rramcim.apps.nfield.nvs_hw import HardwareNerf, load_nvs_hw, nvs_hw_config
from rramcim.apps.nfield.patch import (
    BOUND_PARAMS,
    CT_PATCH,
    ct_patch_codes,
    job_hardware,
    render_patch,
    shared_params,
    view_patch,
    write_patch_jobs,
)
from rramcim.apps.nfield.rtl import PrefetchedReads
from rramcim.apps.nfield.sim import nfield_summary_rows
from rramcim.apps.nfield.train import load_ct_tiny
from rramcim.cosim.xbar import _bits_to_plane
from rramcim.golden.nfield_top import NfieldHwConfig, coord_codes


def test_ct_patch_codes_are_the_pixels_of_the_patch() -> None:
    r0, c0, s = CT_PATCH
    codes = ct_patch_codes()
    assert codes.shape == (s * s, 3)  # (x, y, z = 0.5) of the slice
    full = coord_codes(pixel_coords(128).double().numpy(), 8).reshape(128, 128, 3)
    assert np.array_equal(codes, full[r0 : r0 + s, c0 : c0 + s].reshape(-1, 3))


def test_job_with_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind 'mri'"):
        job_hardware({"kind": "mri", "out": "x.json"})


def test_view_patch_renders_as_the_hardware_field() -> None:
    net = load_nvs_hw()[0]["static"]
    vp = view_patch("static", (14, 15, 2))
    assert vp.codes.shape == (int(vp.inside.sum()), 3)
    assert vp.codes.min() >= 0 and vp.codes.max() < 256
    hw = map_field(net.field, NfieldHwConfig(encoder_seed=net.cfg.encoder_seed), 0)
    out = hw.evaluate_codes(vp.codes).out
    img = render_patch(vp, out, "static")
    cfg = nvs_hw_config("static")
    ref = render_rays(
        HardwareNerf(hw, net.cfg, False),
        vp.orig,
        vp.dirs,
        near=cfg.near,
        far=cfg.far,
        n_samples=cfg.n_samples,
    ).reshape(2, 2, 3)
    assert torch.allclose(img, ref, rtol=0.0, atol=1e-6)


@pytest.fixture(scope="module")
def tiny():  # noqa: ANN201
    net, info = load_ct_tiny()
    return map_field(net, NfieldHwConfig(encoder_seed=int(info["config"]["encoder_seed"])))


def test_prefetched_reads_equal_live_reads_and_check_the_word_lines(tiny) -> None:  # noqa: ANN001
    hw = tiny
    codes = np.array([[10, 200, 128], [255, 0, 128], [77, 77, 128]], dtype=np.int64)
    pre = PrefetchedReads(hw, codes, epoch=2, first_vector=5)
    for mi, m in enumerate([hw.enc_macro, *hw.macros]):
        wl_tab, _, n_b, n_g = pre._tables[mi]
        look = pre.lookup_for(mi)
        per = n_b * n_g
        for v, b, g in ((0, 0, 0), (2, n_b - 1, n_g - 1), (1, n_b // 2, 0)):
            k = (5 + v) * per + b * n_g + g
            wl = wl_tab[v][b]
            got = look(2, k, wl, g)
            live = m.read(_bits_to_plane(wl, m.cfg.rows), g, k, epoch=2, check_binary=False)
            assert got == live.codes.reshape(-1).tolist()
            assert look(3, k, wl, g) is None  # another epoch
            assert look(2, k, wl ^ 1, g) is None  # other word lines
            if n_g > 1:
                assert look(2, k, wl, (g + 1) % n_g) is None  # another group
        assert look(2, 4 * per, wl_tab[0][0], 0) is None  # before the stream
        assert look(2, 8 * per, wl_tab[0][0], 0) is None  # after it
    assert pre.misses > 0 and pre.hits > 0


def test_written_job_carries_the_mapped_field_and_its_parameters(tiny, tmp_path) -> None:  # noqa: ANN001
    (job,) = write_patch_jobs(tmp_path, ("ct",), hardware={"ct": tiny})
    assert job["params"]["N_LAYERS"] == len(tiny.macros) and job["params"]["T_CONV_CYC"] == 4
    hw = job_hardware(job)  # loaded, not mapped again (the tiny field is not the job's CT field)
    assert hw.consts == tiny.consts
    codes = np.load(job["codes"])
    a, b = hw.evaluate_codes(codes), tiny.evaluate_codes(codes)
    assert np.array_equal(a.out, b.out) and a.counters == b.counters


def test_shared_params_bound_the_fields_and_keep_the_datapath() -> None:
    a = {"N_IN": 3, "OUT_W": 16, "N_LAYERS": 3, "N_FREQ": 64, "E_GROUPS": 2, "M_ROWS": 68}
    a["M_GROUPS"] = 25
    b = {**a, "N_LAYERS": 4, "N_FREQ": 32, "E_GROUPS": 1, "M_ROWS": 132, "M_GROUPS": 38}
    s = shared_params([a, b])
    assert s == {**a, "N_LAYERS": 4, "N_FREQ": 64, "E_GROUPS": 2, "M_ROWS": 132, "M_GROUPS": 38}
    assert set(BOUND_PARAMS) <= set(s)
    assert shared_params([a, {**b, "OUT_W": 12}]) is None  # a datapath parameter differs


def test_summary_rows_report_the_rtl_patches() -> None:
    s = {
        "ct": {
            "size": 128,
            "views": 20,
            "fbp_psnr_dB": 21.0,
            "fbp_ssim": 0.6,
            "field_psnr_dB": 29.0,
            "field_ssim": 0.8,
            "haq_cells": 12,
            "haq_psnr_dB": 28.9,
            "ptq_psnr_dB": 13.0,
            "ptq_ideal_psnr_dB": 29.0,
            "hw_psnr_dB": 12.8,
            "hw_ideal16_psnr_dB": 28.5,
        },
        "nvs": {},
        "cost": {"ct": {"cells": 1, "cell_fraction": 0.5, "energy_ratio": 2.0, "speed_ratio": 1.0}},
        "rtl": {
            "simulator": "verilator",
            "wall_s": 1.0,
            "patches": {
                "ct": {
                    "coordinates": 64,
                    "mismatches": 0,
                    "patch": [10, 36, 8],
                    "psnr_software_dB": 28.2,
                    "psnr_hardware_model_dB": 12.2,
                    "psnr_RTL_dB": 12.2,
                },
                "nvs-static": {"error": "the simulation wrote no result"},
            },
        },
    }
    rows = dict(nfield_summary_rows(s))
    assert rows["RTL patch ct (8x8 pixels, verilator): equal to hw model"].startswith(
        "64 / 64 coordinates"
    )
    assert rows["RTL patch nvs-static"].startswith("FAILED")
    s["rtl"] = None
    assert "not run" in dict(nfield_summary_rows(s))["RTL (cim_nfield_top)"]
