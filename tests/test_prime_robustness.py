"""Tests of the PRIME robustness sweep (hardware-model level) and its report section.

Testplan:
    * config validation and the class-stratified subset;
    * multiplicative perturbation: keyed (same key -> same cells, new repeat -> new draw),
      sigma = 0 leaves the formed chip bit for bit, the weight mode scales G+ - G- and keeps
      G+ + G-, stuck cells stay stuck;
    * a hardware model built on a sigma = 0 chip gives the nominal membranes, and a perturbed
      one is reproducible;
    * a miniature sweep through ``robustness_cli``: every series present, sigma = 0 and noise
      scale 1 are the nominal point, the hardware theta sweep at theta = 0.8 is the run's own
      early stop, 5 % stuck-at-LRS cells cost accuracy, JSON and plots written;
    * the HTML report shows the PRIME section with tables and images.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from rramcim.analog.device import load_device
from rramcim.apps.prime.robustness import (
    NoiseMode,
    RobustnessConfig,
    form_chip,
    perturb_multiplicative,
    plot_robustness,
    plot_theta_curve,
    robustness_cli,
    select_subset,
)

MINI = RobustnessConfig(
    n_samples=10,
    sigmas=(0.0, 0.2),
    modes=(NoiseMode.WEIGHT,),
    sw_repeats=1,
    read_noise_scales=(1.0,),
    reset_noise_scales=(1.0,),
    stuck_fractions=(0.05,),
    thetas=(0.5, 0.8),
)
"""Five hardware-model runs on ten samples."""


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """One torch thread, as the sweep itself uses (two threads on two shared cores ran the
    hardware model several times slower)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three samples per class of N-Digits (train and test)."""
    from rramcim.data.ndigits import make_ndigits

    root = tmp_path_factory.mktemp("ndigits")
    make_ndigits(root, seed=0, per_class_limit=3, progress=False)
    return root


@pytest.fixture(scope="module")
def frames(data_root: Path) -> torch.Tensor:
    from rramcim.data.nmnist import load_frames

    f, _ = load_frames(data_root, "Test", T=10, split_mode="number")
    return torch.from_numpy((np.asarray(f) > 0).astype(np.float32))


@pytest.fixture(scope="module")
def mini(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("robust")
    lines: list[str] = []
    torch.set_num_threads(2)
    res = robustness_cli(out_dir=out, log=lines.append, data_root=str(data_root), cfg=MINI)
    assert torch.get_num_threads() == 2  # the sweep's own setting (1) is restored
    torch.set_num_threads(1)
    assert any("robustness sweep" in s for s in lines)
    return res, out


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="n_samples"):
        RobustnessConfig(n_samples=0)
    with pytest.raises(ValueError, match="sigmas"):
        RobustnessConfig(sigmas=(-0.1,))
    with pytest.raises(ValueError, match="stuck_fractions"):
        RobustnessConfig(stuck_fractions=(0.6,))
    with pytest.raises(ValueError, match="modes"):
        RobustnessConfig(modes=("weight",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="repeats"):
        RobustnessConfig(repeats=0)


def test_subset_is_class_stratified() -> None:
    y = np.repeat(np.arange(10), 36)  # sorted by class, as the splits are stored
    idx = select_subset(y, 150)
    assert idx.size == 150 and np.all(np.diff(idx) > 0)
    assert np.bincount(y[idx], minlength=10).tolist() == [15] * 10
    assert select_subset(y, 10_000).size == y.size


def _conductances(arrays: list) -> list[torch.Tensor]:  # noqa: ANN001
    return [torch.stack(m.programmed_conductances()) for a in arrays for m in a.macros]


def test_perturbation_is_keyed_and_zero_is_identity() -> None:
    dev = load_device("rram_40nm")
    ref = _conductances(form_chip(dev, 0))
    for mode in NoiseMode:
        zero = form_chip(dev, 0, lambda a, mode=mode: perturb_multiplicative(a, 0.0, mode, 0, 0))
        assert all(torch.equal(a, b) for a, b in zip(ref, _conductances(zero), strict=True))
    p = lambda r: lambda a: perturb_multiplicative(a, 0.1, NoiseMode.WEIGHT, 0, r)  # noqa: E731
    a0, a0b, a1 = (_conductances(form_chip(dev, 0, p(r))) for r in (0, 0, 1))
    assert all(torch.equal(a, b) for a, b in zip(a0, a0b, strict=True))
    assert not torch.equal(a0[0], a1[0])


def test_weight_mode_scales_the_differential_weight() -> None:
    dev = load_device("rram_40nm")
    ref = form_chip(dev, 0)
    noisy = form_chip(dev, 0, lambda a: perturb_multiplicative(a, 0.2, NoiseMode.WEIGHT, 3, 0))
    m0, m1 = ref[1].macros[0], noisy[1].macros[0]
    gp0, gn0 = m0.programmed_conductances()
    gp1, gn1 = m1.programmed_conductances()
    rows, cols = torch.arange(512).reshape(-1, 1), torch.arange(256).reshape(1, -1)
    s_pos = m0.dev.stuck(m0.cell_index(0, rows, cols)) != 0
    s_neg = m0.dev.stuck(m0.cell_index(1, rows, cols)) != 0
    assert int(s_pos.sum()) > 0 and int(s_neg.sum()) > 0
    ok = ~(s_pos | s_neg)
    step = dev.g_step_S
    # the common mode is kept (up to the state grid), the weight moves by sigma z W
    assert float(((gp1 + gn1) - (gp0 + gn0))[ok].abs().max()) <= 2 * step
    rel = ((gp1 - gn1) - (gp0 - gn0))[ok] / (gp0 - gn0)[ok].abs().clamp(min=1e-6)
    assert float(rel.std()) == pytest.approx(0.2, rel=0.05)
    # stuck cells stay stuck
    assert torch.equal(gp1[s_pos], gp0[s_pos]) and torch.equal(gn1[s_neg], gn0[s_neg])


def test_hardware_on_zero_sigma_chip_is_nominal_and_reproducible(frames: torch.Tensor) -> None:
    from rramcim.apps.prime.evaluate import net_from_masks
    from rramcim.apps.prime.hardware import PrimeHardware
    from rramcim.apps.prime.train import ASSET, load_checkpoint

    masks, _ = load_checkpoint(ASSET)
    dev = load_device("rram_40nm")
    dg = [a.conductance_matrix_S() * 1e6 for a in form_chip(dev, 0)]
    net = net_from_masks(dg, masks)
    x, ids = frames[[0, 11, 25]], np.array([0, 11, 25])

    def out(perturb=None) -> np.ndarray:  # noqa: ANN001
        hw = PrimeHardware(form_chip(dev, 0, perturb), masks, net, frames[::3])
        return hw.run(x, sample_ids=ids).out_mem

    nominal = out()
    zero = out(lambda a: perturb_multiplicative(a, 0.0, NoiseMode.CELL, 0, 0))
    np.testing.assert_array_equal(zero, nominal)
    noisy = lambda a: perturb_multiplicative(a, 0.2, NoiseMode.CELL, 0, 0)  # noqa: E731
    first = out(noisy)
    np.testing.assert_array_equal(out(noisy), first)
    assert not np.array_equal(first, nominal)


def test_mini_sweep_series_and_nominal_points(mini: tuple[dict, Path]) -> None:
    res, _ = mini
    nom = res["nominal"]
    assert res["n_samples"] == 10 and len(res["subset"]) == 10
    keys = ("acc_early_stop", "acc_all_steps", "mean_steps", "load_saving")
    w = res["multiplicative"]["weight"]
    assert [p["value"] for p in w] == [0.0, 0.2]
    assert all(w[0][k] == nom[k] for k in keys)
    assert all(res["read_noise"][0][k] == nom[k] for k in keys)
    assert all(res["reset_noise"][0][k] == nom[k] for k in keys)
    assert [p["value"] for p in res["software_multiplicative"]] == [0.0, 0.2]
    for p in [nom, *w, *res["stuck_lrs"], *res["stuck_hrs"]]:
        assert 0 <= p["acc_early_stop"] <= 1 and 1 <= p["mean_steps"] <= res["steps"]
        assert p["load_saving"] == pytest.approx(1 - p["mean_steps"] / res["steps"])
    th = {p["theta"]: p for p in res["theta_sweep_hw"]}
    assert th[0.8]["accuracy"] == nom["acc_early_stop"]
    assert th[0.8]["mean_steps"] == pytest.approx(nom["mean_steps"])
    assert th[0.5]["mean_steps"] <= th[0.8]["mean_steps"]


def test_stuck_at_lrs_costs_accuracy(mini: tuple[dict, Path]) -> None:
    """Measured on 150 samples: 98 % nominal, 15 % with 5 % of cells stuck at LRS."""
    res, _ = mini
    nom, lrs = res["nominal"], res["stuck_lrs"][-1]
    assert lrs["value"] == 0.05
    assert lrs["acc_all_steps"] <= nom["acc_all_steps"] - 0.2


def test_outputs_written(mini: tuple[dict, Path], tmp_path: Path) -> None:
    res, out = mini
    back = json.loads((out / "robustness.json").read_text())
    assert back["nominal"] == res["nominal"]
    for name in ("prime_robustness.png", "prime_theta_hw.png"):
        assert (out / name).stat().st_size > 10_000
    p = plot_robustness(res, tmp_path / "r.png")
    q = plot_theta_curve(res["theta_sweep_sw"], tmp_path / "t.png")
    assert p.stat().st_size > 10_000 and q.stat().st_size > 5_000


def test_report_has_prime_section(mini: tuple[dict, Path], tmp_path: Path) -> None:
    from rramcim.report.html import prime_section, write_report

    res, out = mini
    prime = {
        "n_test": 359,
        "n_hw": 359,
        "software_acc_all_steps": 0.98,
        "hw_acc_early_stop": 0.97,
        "hw_mean_steps": 3.0,
        "hw_load_saving": 0.7,
        "theta_sweep": [{"theta": 0.8, "accuracy": 0.98, "mean_steps": 3.0, "load_saving": 0.7}],
    }
    frag = prime_section(prime, res, ["prime_robustness.png"])
    assert '<img src="prime_robustness.png"' in frag
    assert "stuck at LRS" in frag and "theta" in frag and "70.00 %" in frag
    assert prime_section(None, None, []) == ""
    sim = tmp_path / "sim"
    sim.mkdir()
    (sim / "prime.json").write_text(json.dumps(prime))
    for name in ("robustness.json", "prime_robustness.png", "prime_theta_hw.png"):
        (sim / name).write_bytes((out / name).read_bytes())
    page = write_report(tmp_path)
    text = page.read_text()
    assert "PRIME" in text and 'src="prime_theta_hw.png"' in text
    assert (page.parent / "prime_robustness.png").exists()
