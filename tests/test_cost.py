"""Tests of the cost model core (rramcim.cost)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from rramcim.cost import (
    A100_FP32,
    A100_FP32_FMA,
    PRESETS,
    RRAM_40NM_NF,
    RRAM_40NM_NF_TIMING,
    CostModel,
    DigitalBaseline,
    EnergyBreakdown,
    OpCounts,
    OpEnergies,
    ReadTiming,
    default_cost_model,
    mvm_counts,
)

REL = 1e-12


@pytest.fixture
def model() -> CostModel:
    return default_cost_model()


# ----------------------------------------------------------------- pinned constants


def test_cell_read_energy_pinned() -> None:
    assert RRAM_40NM_NF.cell_read_J == pytest.approx(3.4e-15, rel=2e-3)
    assert RRAM_40NM_NF.cell_read_J == pytest.approx(0.1**2 * 34.05538e-6 * 10e-9, rel=REL)


def test_adc_energy_pinned() -> None:
    assert RRAM_40NM_NF.adc_J == pytest.approx(2.58e-12, rel=2e-3)
    assert RRAM_40NM_NF.adc_J == pytest.approx(3.1e-3 / 1.2e9, rel=REL)


def test_a100_mac_energy_pinned() -> None:
    assert A100_FP32.flops_per_mac == 1
    assert A100_FP32.energy_per_mac_J == pytest.approx(15.4e-12, rel=2e-3)
    assert A100_FP32.energy_per_mac_J == pytest.approx(300.0 / 19.5e12, rel=REL)
    assert A100_FP32_FMA.energy_per_mac_J == pytest.approx(2 * A100_FP32.energy_per_mac_J)


def test_other_constants_pinned() -> None:
    o = RRAM_40NM_NF
    assert o.dac_J == pytest.approx(227e-15, rel=REL)
    assert o.decoder_J == pytest.approx(0.42e-15, rel=REL)
    assert o.mux_J == pytest.approx(14.06e-15, rel=REL)
    assert o.driver_J == pytest.approx(0.18e-15, rel=REL)
    assert o.amplifier_J == pytest.approx(14.75e-12, rel=REL)
    assert o.reading_J == pytest.approx(49.5e-15, rel=REL)
    assert o.vcmac_J == pytest.approx(54e-15, rel=REL)
    assert o.vcmac_fraction == 0.5
    assert o.activation_J == pytest.approx(0.81e-6 / 254e6, rel=REL)
    assert RRAM_40NM_NF_TIMING.t_read_s == pytest.approx(10e-9, rel=REL)
    assert RRAM_40NM_NF_TIMING.t_activation_s == pytest.approx(1 / 254e6, rel=REL)


def test_every_preset_constant_is_cited() -> None:
    for preset in (RRAM_40NM_NF, RRAM_40NM_NF_TIMING):
        for f in dataclasses.fields(preset):
            if "unit" in f.metadata:
                src = preset.sources[f.name]
                assert src.startswith(("[C]", "[I]", "[S]")), (f.name, src)
    assert A100_FP32.source.startswith("[C]")
    assert set(PRESETS) == {"rram_40nm_nf", "rram_40nm_nf_timing", "a100_fp32", "a100_fp32_fma"}
    assert "run_nerf_hpo.py" in RRAM_40NM_NF.table()


# ------------------------------------------------------------- paper-code formulas


def test_layer_energy_paper_hand_computed(model: CostModel) -> None:
    # in=4, out=3, res=5 samples, bits=2; numbers worked out by hand from the
    # raw constants of run_nerf_hpo.py.
    p = model.layer_energy_paper(4, 3, 5, 2)
    h = p.hardware
    assert h.dac_J == pytest.approx(4.54e-12, rel=REL)  # 4*5*227 fJ
    assert h.cell_J == pytest.approx(4.0866456e-13, rel=REL)  # 120 * 3.405538 fJ
    assert h.adc_J == pytest.approx(7.75e-11, rel=REL)  # 3*5*2 * 3.1mW/1.2GHz
    assert h.mux_J == pytest.approx(4.218e-13, rel=REL)  # 30 * 14.06 fJ
    assert h.decoder_J == pytest.approx(8.4e-15, rel=REL)  # 20 * 0.42 fJ
    assert h.driver_J == pytest.approx(2.16e-14, rel=REL)  # 120 * 0.18 fJ
    # E_vcmac = (4*5*54fJ/2 + 14.75pJ + 49.5fJ) * 3*2 = 15.3395 pJ * 6
    assert p.vcmac_paper_J == pytest.approx(9.2037e-11, rel=REL)
    assert h.vcmac_J == pytest.approx(3.24e-12, rel=REL)
    assert h.amplifier_J == pytest.approx(8.85e-11, rel=REL)
    assert h.reading_J == pytest.approx(2.97e-13, rel=REL)
    assert h.activation_J == 0.0 and h.digital_add_J == 0.0
    total = 4.54e-12 + 4.0866456e-13 + 7.75e-11 + 4.218e-13 + 8.4e-15 + 2.16e-14 + 9.2037e-11
    assert h.total_J == pytest.approx(total, rel=REL)
    assert p.gpu_J == pytest.approx(60 * 300.0 / 19.5e12, rel=REL)  # in*out*res * P/thr
    assert p.latency_s == pytest.approx(5 * 10e-9 * 2, rel=REL)  # res * 10 ns * bits
    assert p.energy_ratio == pytest.approx(p.gpu_J / total, rel=REL)


def test_mvm_counts_dense() -> None:
    c = mvm_counts(4, 3, 5, 2)
    assert c == OpCounts(
        cell_reads=120,
        row_activations=20,
        column_reads=30,
        reads=10,
        adc_conversions=30,
        dac_conversions=20,
        mux_switches=30,
        digital_adds=15,
        activations=0,
        macs_equivalent=60,
    )
    b = mvm_counts(4, 3, 5, 2, adc_per_bit_plane=True, cells_per_weight=2)
    assert b.adc_conversions == 3 * 5 * 2 * 2
    assert b.digital_adds == 3 * 5 * (4 - 1)
    assert b.cell_reads == 240
    with pytest.raises(ValueError, match="in_bits"):
        mvm_counts(4, 3, 5, 0)
    with pytest.raises(ValueError, match="rows"):
        mvm_counts(2.5, 3, 5, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("in_f", "out_f", "res", "bits"), [(4, 3, 1, 2), (64, 32, 1, 8)])
def test_energy_of_counts_equals_paper_for_one_sample(
    model: CostModel, in_f: int, out_f: int, res: int, bits: int
) -> None:
    e = model.energy(mvm_counts(in_f, out_f, res, bits))
    p = model.layer_energy_paper(in_f, out_f, res, bits)
    for name, value in p.hardware:
        assert getattr(e, f"{name}_J") == pytest.approx(value, rel=REL, abs=0.0), name
    assert e.total_J == pytest.approx(p.hardware.total_J, rel=REL)


@pytest.mark.parametrize(("in_f", "out_f", "res", "bits"), [(4, 3, 5, 2), (256, 128, 1000, 8)])
def test_energy_of_counts_vs_paper_differs_only_in_amp_and_reading(
    model: CostModel, in_f: int, out_f: int, res: int, bits: int
) -> None:
    # The paper's code charges the amplifier and reading terms once per
    # (output, bit), independent of res; the count model charges them per sensed
    # column per array read, i.e. res times. Every other term is identical.
    counts = mvm_counts(in_f, out_f, res, bits)
    e = model.energy(counts)
    p = model.layer_energy_paper(in_f, out_f, res, bits)
    for name, value in p.hardware:
        if name in ("amplifier", "reading"):
            assert getattr(e, f"{name}_J") == pytest.approx(res * value, rel=REL), name
        else:
            assert getattr(e, f"{name}_J") == pytest.approx(value, rel=REL), name
    extra = (res - 1) * out_f * bits * (RRAM_40NM_NF.amplifier_J + RRAM_40NM_NF.reading_J)
    assert e.total_J - p.hardware.total_J == pytest.approx(extra, rel=1e-9)
    assert model.latency_counts(counts) == pytest.approx(p.latency_s, rel=REL)
    assert model.baseline_energy(counts.macs_equivalent) == pytest.approx(p.gpu_J, rel=REL)


# -------------------------------------------------------------- latency and gain


def test_latency_and_baseline(model: CostModel) -> None:
    assert model.latency(10) == pytest.approx(100e-9, rel=REL)
    assert model.latency(10, serial_adc_conversions=12, serial_activations=254) == pytest.approx(
        100e-9 + 10e-9 + 1e-6, rel=REL
    )
    assert model.baseline_latency(19.5e12) == pytest.approx(1.0, rel=REL)
    assert CostModel(RRAM_40NM_NF, A100_FP32_FMA).baseline_latency(19.5e12) == pytest.approx(2.0)
    assert CostModel(RRAM_40NM_NF, A100_FP32).timing == RRAM_40NM_NF_TIMING
    with pytest.raises(ValueError, match="n_reads"):
        model.latency(-1)


def test_gain(model: CostModel) -> None:
    c = mvm_counts(256, 256, 100, 8)
    g = model.gain(c)
    assert g.analog_energy_J == pytest.approx(model.energy(c).total_J, rel=REL)
    assert g.baseline_energy_J == pytest.approx(256 * 256 * 100 * 300 / 19.5e12, rel=REL)
    assert g.energy_ratio == pytest.approx(g.baseline_energy_J / g.analog_energy_J, rel=REL)
    assert g.analog_latency_s == pytest.approx(100 * 8 * 10e-9, rel=REL)
    assert g.speed_ratio == pytest.approx(g.baseline_latency_s / g.analog_latency_s, rel=REL)
    assert g.energy_ratio > 1.0
    g2 = model.gain(c, latency_s=1e-6)
    assert g2.analog_latency_s == 1e-6
    with pytest.raises(ValueError, match="macs_equivalent"):
        model.gain(OpCounts(cell_reads=1))


# --------------------------------------------------------------------- validation


@pytest.mark.parametrize("bad", [-1e-15, math.nan, math.inf])
@pytest.mark.parametrize("field_name", ["cell_read_J", "adc_J", "vcmac_fraction"])
def test_invalid_op_energy_raises(field_name: str, bad: float) -> None:
    with pytest.raises(ValueError, match=field_name):
        RRAM_40NM_NF.replace(**{field_name: bad})


def test_invalid_timing_and_baseline_raise() -> None:
    with pytest.raises(ValueError, match="t_read_s"):
        ReadTiming("t", t_read_s=0.0, t_adc_conv_s=1e-9, t_activation_s=1e-9)
    with pytest.raises(ValueError, match="t_adc_conv_s"):
        ReadTiming("t", t_read_s=1e-8, t_adc_conv_s=math.nan, t_activation_s=1e-9)
    with pytest.raises(ValueError, match="power_W"):
        DigitalBaseline("gpu", throughput_flops=1e12, power_W=-5.0)
    with pytest.raises(ValueError, match="throughput_flops"):
        DigitalBaseline("gpu", throughput_flops=0.0, power_W=5.0)
    with pytest.raises(ValueError, match="flops_per_mac"):
        DigitalBaseline("gpu", throughput_flops=1e12, power_W=5.0, flops_per_mac=3)
    with pytest.raises(ValueError, match="unknown field"):
        RRAM_40NM_NF.replace(sources={"no_such_field": "[I] x"})
    with pytest.raises(ValueError, match="cell_reads"):
        OpCounts(cell_reads=-1)
    with pytest.raises(ValueError, match="adc_conversions"):
        OpCounts(adc_conversions=math.nan)


def test_op_energies_frozen_and_replace_keeps_sources() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RRAM_40NM_NF.adc_J = 0.0  # type: ignore[misc]
    o = RRAM_40NM_NF.replace(adc_J=1e-12)
    assert isinstance(o, OpEnergies)
    assert o.adc_J == 1e-12 and o.sources == RRAM_40NM_NF.sources
    assert o != RRAM_40NM_NF
    assert isinstance(hash(o), int)


# ------------------------------------------------------------------ counts algebra


def test_opcounts_add_and_scale() -> None:
    a = OpCounts(cell_reads=10, reads=2, adc_conversions=4, macs_equivalent=5)
    b = OpCounts(cell_reads=1, row_activations=3, activations=7, macs_equivalent=1)
    s = a + b
    assert s == OpCounts(
        cell_reads=11,
        row_activations=3,
        reads=2,
        adc_conversions=4,
        activations=7,
        macs_equivalent=6,
    )
    assert sum([a, b]) == s
    assert 2 * a == a * 2 == a + a == a.scaled(2)
    assert (0.5 * a).cell_reads == 5.0
    with pytest.raises(ValueError, match="scale factor"):
        a.scaled(-1)
    with pytest.raises(TypeError):
        _ = a + 1  # type: ignore[operator]
    # Counts are additive, so energy is additive too.
    m = default_cost_model()
    c1, c2 = mvm_counts(8, 4, 3, 2), mvm_counts(16, 8, 2, 4)
    assert m.energy(c1 + c2).total_J == pytest.approx(
        (m.energy(c1) + m.energy(c2)).total_J, rel=REL
    )
    assert m.energy(3 * c1).total_J == pytest.approx(3 * m.energy(c1).total_J, rel=REL)


def test_breakdown_table() -> None:
    e = EnergyBreakdown(cell_J=1e-12, adc_J=3e-12)
    assert e.total_J == pytest.approx(4e-12)
    t = e.table()
    lines = t.splitlines()
    assert lines[0].split() == ["component", "energy", "[J]", "share", "[%]"]
    row = {ln.split()[0]: ln.split()[1:] for ln in lines if ln and ln[0].isalpha()}
    assert float(row["adc"][0]) == pytest.approx(3e-12)
    assert float(row["adc"][1]) == pytest.approx(75.0)
    assert float(row["total"][1]) == pytest.approx(100.0)
    assert EnergyBreakdown().table().splitlines()[-1].split()[-1] == "0.00"
    with pytest.raises(ValueError, match="adc_J"):
        EnergyBreakdown(adc_J=-1.0)


def test_numpy_scalars_accepted() -> None:
    np = pytest.importorskip("numpy")
    c = OpCounts(cell_reads=np.int64(3), reads=np.float32(2.0))
    assert c.cell_reads == 3.0 and isinstance(c.cell_reads, float)
    assert (np.float64(2.0) * c).reads == 4.0
    assert mvm_counts(np.int64(4), 3, 5, 2) == mvm_counts(4, 3, 5, 2)
    with pytest.raises(ValueError, match="cell_reads"):
        OpCounts(cell_reads="3")  # type: ignore[arg-type]
