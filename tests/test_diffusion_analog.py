"""Diffusion on the analogue solver through the sequencer (rramcim.apps.diffusion.analog)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rramcim.apps.diffusion import analog as dha
from rramcim.apps.diffusion.samplers import prior_samples
from rramcim.apps.diffusion.train import load_hku, load_ring
from rramcim.golden import ode_seq, ode_top


@pytest.fixture(scope="module")
def ring():  # noqa: ANN201
    torch.set_num_threads(1)
    return load_ring()[0]


@pytest.fixture(scope="module")
def hku():  # noqa: ANN201
    return load_hku()


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="mode"):
        dha.DiffusionHw(mode="euler")
    with pytest.raises(ValueError, match="n_ticks"):
        dha.DiffusionHw(n_ticks=300)
    with pytest.raises(ValueError, match="noise_sigma"):
        dha.DiffusionHw(noise_sigma=0.4)
    hw = dha.DiffusionHw()
    assert hw.d_sigma == pytest.approx(0.005)
    assert hw.tau_int_s == pytest.approx(1.2e-3)


@pytest.mark.parametrize("mode", ["ode", "sde"])
def test_fast_model_equals_the_top_model(ring, mode: str) -> None:  # noqa: ANN001
    """sample_hw (template traces) equals golden.ode_top.simulate (full sequencer, SPI frames,
    DAC registers) bit for bit, so the quality numbers are those of the RTL."""
    exp = ring.analog_export()
    hw = dha.DiffusionHw(mode=mode, n_ticks=40, t_end=0.8)
    solver, mp = dha.make_solver(exp, hw, seed=1)
    x0 = prior_samples(3, 5)
    runs = dha.top_runs(exp, mp, x0, None, seed=5)
    res = ode_top.simulate(dha.BOARD, runs, solver, dha.CHANNEL_MAP)
    want = np.array([r.samples[-1].codes for r in res]) * solver.cfg.adc_lsb_V / hw.g_x_V
    got = dha.sample_hw(exp, solver, mp, x0, None, seed=5)
    assert np.array_equal(want.astype(np.float32), got.numpy())
    # the template codes equal the sequencer's own trace for every run
    seq = dha.BOARD.seq()
    proto = ode_seq.run(seq, runs[0].channels, runs[0].table, runs[0].runcfg)
    for r in runs:
        full = ode_seq.run(seq, r.channels, r.table, r.runcfg).codes
        assert np.array_equal(dha.run_codes(r, proto), full)


def test_channel_values_fit_the_dacs(ring, hku) -> None:  # noqa: ANN001
    """Coefficients and embeddings use at most the headroom of the DAC range (no saturation),
    for the ring and every letter class."""
    for exp, classes, beta in ((ring.analog_export(), [None], 2.0),
                               (hku[0]["score"].analog_export(), [0, 1, 2], 1.5)):  # fmt: skip
        for mode in ("ode", "sde"):
            hw = dha.DiffusionHw(mode=mode, beta_scale=beta)
            mp = dha.hw_mapping(exp, hw)
            for c in classes:
                ch = dha.channels(exp, mp, [0.0, 0.0], c)
                tr = ode_seq.run(dha.BOARD.seq(), ch, dha.table(mp), hw.runcfg(7))
                assert tr.dac_sat_count == 0
                assert np.abs(tr.values[2:, list(dha.CH_EMBED)]).max() <= 0.9 * 32768 + 64


def test_schedule_reproduces_the_coefficients(ring) -> None:  # noqa: ANN001
    """The sequencer's RAMP and SINE channels give A_k, B_k and the embedding of every tick
    to within the 12-bit DAC step."""
    from rramcim.apps.diffusion.nets import export_embedding

    exp = ring.analog_export()
    hw = dha.DiffusionHw(mode="ode")
    mp = dha.hw_mapping(exp, hw)
    sc = mp.solver_cfg
    tr = ode_seq.run(dha.BOARD.seq(), dha.channels(exp, mp, [0.0, 0.0], None), dha.table(mp),
                     hw.runcfg(3))  # fmt: skip
    volts = sc.dac_volts(tr.codes[2:])  # integrate ticks
    beta = dha._betas(hw)
    a = sc.coef_a_gain_per_V * volts[:, dha.CH_A]
    assert np.allclose(a, hw.k_t * 0.5 * beta, atol=sc.coef_a_gain_per_V * sc.dac_lsb_V)
    tau = hw.t_start - np.arange(hw.n_ticks) * hw.d_sigma
    e = export_embedding(exp, torch.from_numpy(tau)).double().numpy()
    e_hw = sc.embed_gain_per_V * volts[:, list(dha.CH_EMBED)]
    assert np.abs(e_hw - e).max() < 0.01


def test_ring_quality_close_to_software(ring) -> None:  # noqa: ANN001
    """Acceptance on a reduced sample (make sim runs more): the hardware model's histogram KL
    to the ring data is within 1.5x of the software Euler baseline's (10 000 steps), PF-ODE
    and SDE, with no rail clipping."""
    res = dha.evaluate_ring_hw(ring, n_samples=1000, n_steps=10000)
    for mode in ("ode", "sde"):
        r = res[mode]
        assert r["kl_ratio"] <= 1.5, (mode, r["software"], r["hardware"])
        assert r["clips"] == {"stage": 0, "state": 0, "adc": 0}
        assert abs(r["hardware"]["radius_mean"] - 0.7) < 0.05


def test_letters_decoded_to_the_requested_class(hku) -> None:  # noqa: ANN001
    nets, info = hku
    from rramcim.apps.diffusion.train import HKUConfig

    cfg = HKUConfig.from_json(info["config"]) if "config" in info else HKUConfig()
    res = dha.evaluate_hku_hw(nets, cfg, n_per_class=100, n_steps=2000)
    assert min(res["hardware"]["per_class"]) >= 0.9, res["hardware"]
    assert res["clips"]["stage"] == 0


def test_device_noise_changes_samples_not_quality(ring) -> None:  # noqa: ANN001
    exp = ring.analog_export()
    hw = dha.DiffusionHw(mode="ode")
    x0 = prior_samples(200, 0)
    outs = []
    for dev_seed in (0, 1):
        solver, mp = dha.make_solver(exp, hw, seed=dev_seed)
        outs.append(dha.sample_hw(exp, solver, mp, x0, None, 0))
    assert not torch.equal(outs[0], outs[1])
    r = [o.norm(dim=1).mean().item() for o in outs]
    assert abs(r[0] - r[1]) < 0.03
    assert dataclasses.replace(hw, mode="sde").mode == "sde"
