"""Host side of ``cim_nfield_top`` (rramcim.apps.nfield.rtl) without a simulator: HDL
parameters, register words, and the programming plan executed on Python macros."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rramcim.apps.nfield import rtl
from rramcim.apps.nfield.hw import map_field
from rramcim.apps.nfield.train import load_ct_tiny
from rramcim.golden.nfield_top import NfieldHwConfig


@pytest.fixture(scope="module")
def tiny():  # noqa: ANN201
    torch.set_num_threads(1)
    net, info = load_ct_tiny()
    hw = map_field(net, NfieldHwConfig(encoder_seed=int(info["config"]["encoder_seed"])))
    return net, hw


def test_tiny_checkpoint_loads_and_maps(tiny) -> None:  # noqa: ANN001
    net, hw = tiny
    shapes = [tuple(w.shape) for w in net.weight_matrices()]
    assert shapes == [(16, 19), (4, 16), (16, 4), (1, 16)]
    assert len(hw.macros) == 4
    r = hw.evaluate_codes(np.array([[10, 20, 128], [200, 100, 128]]))
    assert r.out.shape == (2, 1)


def test_params(tiny) -> None:  # noqa: ANN001
    _, hw = tiny
    p = rtl.top_params(hw)
    assert p["N_IN"] == 3 and p["N_FREQ"] == 8 and p["N_LAYERS"] == 4
    assert p["M_ROWS"] == 20 and p["M_N_ADC"] == 32 and p["M_GROUPS"] == 7
    assert p["E_N_ADC"] == 8 and p["E_GROUPS"] == 1 and p["E_ADC_BITS"] == 12
    assert p["N_CELLS"] == 12 and p["M_ADC_BITS"] == 8 and p["OUT_W"] == 16
    with pytest.raises(ValueError, match="n_layers"):
        rtl.top_params(hw, n_layers=5)
    with pytest.raises(ValueError, match="haq_fifo_depth"):
        rtl.top_params(hw, haq_fifo_depth=48)


def test_params_refuse_narrow_multi_group_macro(tiny) -> None:  # noqa: ANN001
    _, hw = tiny
    m = hw.macros[1]
    narrow = dataclasses.replace(m.cfg, n_adc=16)  # 64 columns: 4 groups of 16 < 32 channels
    saved = m.cfg
    try:
        m.cfg = narrow
        with pytest.raises(ValueError, match="layer 1.*16 ADC channels"):
            rtl.top_params(hw)
    finally:
        m.cfg = saved


def test_params_refuse_combine_width(tiny) -> None:  # noqa: ANN001
    _, hw = tiny
    k = hw.consts
    lc = k.layers[2]
    bad = dataclasses.replace(lc, comb=dataclasses.replace(lc.comb, adc_bits=15))
    hw2 = dataclasses.replace(
        hw, consts=dataclasses.replace(k, layers=(*k.layers[:2], bad, k.layers[3]))
    )
    with pytest.raises(ValueError, match="layer 2 combines 15-bit"):
        rtl.top_params(hw2)


def test_register_words(tiny) -> None:  # noqa: ANN001
    _, hw = tiny
    regs = dict(rtl.top_registers(hw))
    assert rtl.top_registers(hw)[-1] == ("CTRL", 1)
    assert regs["NET"] == 4 | 8 << 4 | 1 << 16
    k = hw.consts
    assert regs["ENC_GAIN"] == k.enc_gain | k.enc_shift << 24
    p0 = hw.programs[0]
    assert regs["HAQ_CFG"] == p0.code_unit | p0.code_reset << 16
    for li, lc in enumerate(k.layers):
        g = hw.macros[li].cfg.n_groups
        assert regs[f"L_SHAPE{li}"] == lc.n_in | lc.n_out << 12 | g << 24
        assert regs[f"L_GAIN{li}"] == lc.gain | lc.shift << 24
    assert rtl.prog_addr_word(5, 17, 1, 3) == 5 | 17 << 12 | 1 << 24 | 3 << 25
    assert rtl.prog_cmd_word(3, True) == 0x13
    assert rtl.tgt_word(-1, 12) == 0xFFFF
    with pytest.raises(ValueError, match="does not fit"):
        rtl.tgt_word(2048, 12)
    assert {rtl.REG[f"L_SHAPE{i}"] for i in range(4)} == {16, 18, 20, 22}


def test_plan_on_python_macros_equals_map_field(tiny) -> None:  # noqa: ANN001
    net, hw = tiny
    macros = rtl.fresh_macros(hw)
    rtl.check_nominal_codes(macros, hw)
    model = rtl.ProgPortModel(macros, hw)
    rec = rtl.run_plan(rtl.program_plan(hw, net, fifo_depth=64), model.do)
    for li, (m, ref, prog) in enumerate(zip(macros, hw.macros, hw.programs, strict=True)):
        assert rtl.macros_equal(m, ref), f"layer {li}"
        np.testing.assert_array_equal(rec.neg_verify[li], prog.neg_verify)
        np.testing.assert_array_equal(rec.ref_verify[li], prog.ref_verify)
        np.testing.assert_array_equal(rec.targets[li], prog.targets)
        assert rec.zero_targets[li] == prog.zero_targets
    assert model.haq_weights == sum(t.size for t in rec.targets)
    rtl.finish_macros(hw, macros)
    codes = np.array([[3, 250, 128], [77, 9, 128], [128, 128, 128]])
    a = hw.evaluate_codes(codes).out
    saved = hw.macros
    try:
        hw.macros = macros
        b = hw.evaluate_codes(codes).out
    finally:
        hw.macros = saved
    np.testing.assert_array_equal(a, b)


def test_finish_macros_names_a_difference(tiny) -> None:  # noqa: ANN001
    _, hw = tiny
    macros = rtl.fresh_macros(hw)
    with pytest.raises(ValueError, match="layer 0: G\\+ differs"):
        rtl.finish_macros(hw, macros)


def test_reset_epoch_keys() -> None:
    from rramcim.cosim.xbar import ResetEpochKeys

    k = ResetEpochKeys()
    k.new_epoch()
    assert [k(), k()] == [(0, 0), (0, 1)]
    k.new_epoch()
    assert k() == (1, 0) and k.reads == 1
