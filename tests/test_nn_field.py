"""Tests of rramcim.nn.field: encoder formula and shape, RRAM frequency matrix, SIREN init."""

from __future__ import annotations

import math

import pytest
import torch

from rramcim.analog.device import DeviceModel, load_device
from rramcim.nn.field import (
    EncoderVariant,
    FieldConfig,
    GaussianEncoder,
    NeuralField,
    SirenLinear,
    formed_conductances_S,
    rram_fourier_matrix,
)


def test_encoder_shape_and_formula() -> None:
    b = torch.tensor([[1.0, 0.0], [0.5, -2.0], [0.25, 3.0]])
    enc = GaussianEncoder(b)
    x = torch.tensor([[0.1, 0.2], [0.7, 0.3], [0.0, 0.0]])
    y = enc(x)
    assert y.shape == (3, 2 + 2 * 3) and enc.n_out == 8
    phase = 2 * math.pi * x @ b.t()
    torch.testing.assert_close(y[:, :2], x)
    torch.testing.assert_close(y[:, 2:5], torch.sin(phase))
    torch.testing.assert_close(y[:, 5:], torch.cos(phase))
    assert not any(p.requires_grad for p in enc.parameters())
    with pytest.raises(ValueError, match="3 inputs"):
        enc(torch.zeros(1, 3))


def test_formed_conductances_come_from_the_device_model() -> None:
    g = formed_conductances_S(200, seed=5)
    model = DeviceModel(load_device("rram_40nm"), 5)
    cells = torch.arange(400, dtype=torch.int64)
    g_all, formed, _ = model.form(cells)
    ok = formed & (model.stuck(cells) == 0)
    torch.testing.assert_close(g, g_all[ok][:200])
    cfg = load_device("rram_40nm")
    assert (
        abs(float(g.mean()) - cfg.g_formed_mean_S) < 3 * cfg.g_formed_std_S / math.sqrt(200) + 1e-7
    )


def test_rram_matrix_zero_mean_target_sigma_keyed() -> None:
    b = rram_fourier_matrix(64, 3, 4.0, "rram", seed=1)
    assert b.shape == (64, 3) and b.dtype == torch.float32
    assert abs(float(b.mean())) < 1e-5
    assert float(b.std()) == pytest.approx(4.0, rel=1e-5)
    torch.testing.assert_close(b, rram_fourier_matrix(64, 3, 4.0, "rram", seed=1))
    assert not torch.equal(b, rram_fourier_matrix(64, 3, 4.0, "rram", seed=2))
    ideal = rram_fourier_matrix(64, 3, 4.0, EncoderVariant.IDEAL, seed=1)
    assert 3.0 < float(ideal.std()) < 5.0


def test_robustness_variants() -> None:
    s, k = 4.0, 2.0
    rc = rram_fourier_matrix(64, 3, s, "right_censored", k_sigma=k)
    lc = rram_fourier_matrix(64, 3, s, "left_censored", k_sigma=k)
    assert float(rc.max()) == pytest.approx(s * k) and float(lc.min()) == pytest.approx(-s * k)
    rt = rram_fourier_matrix(2048, 3, s, "right_truncated", k_sigma=k)
    lt = rram_fourier_matrix(2048, 3, s, "left_truncated", k_sigma=k)
    assert float(rt.max()) <= s * k and float(lt.min()) >= -s * k
    assert float(rt.min()) < -s * k and float(lt.max()) > s * k
    # truncating one tail at 2 sigma shifts the mean by -+0.055 sigma (sampling sigma 0.02)
    assert float(rt.mean()) < float(lt.mean())
    rs = rram_fourier_matrix(2048, 3, s, "right_skewed")
    ls = rram_fourier_matrix(64, 3, s, "left_skewed")
    # skew-normal(alpha = 2): mean sqrt(2/pi) delta sigma = 0.714 sigma
    assert float(rs.mean()) > 1.5 and float(ls.mean()) < -1.5
    skew = float((((rs - rs.mean()) / rs.std()) ** 3).mean())
    assert 0.3 < skew < 0.6  # theory 0.454


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"sigma": 0.0}, "sigma = 0.0"),
        ({"n_freq": 0}, "n_freq = 0"),
        ({"k_sigma": -1.0}, "k_sigma"),
    ],
)
def test_bad_matrix_args_raise(kwargs: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        rram_fourier_matrix(**kwargs)


def test_siren_init_bounds() -> None:
    gen = torch.Generator().manual_seed(0)
    first = SirenLinear(131, 100, 30.0, is_first=True, generator=gen)
    hidden = SirenLinear(100, 10, 30.0, generator=gen)
    assert float(first.linear.weight.detach().abs().max()) <= 1 / 131
    assert float(first.linear.weight.detach().abs().max()) > 0.9 / 131
    bound = math.sqrt(6 / 100) / 30
    assert float(hidden.linear.weight.detach().abs().max()) <= bound
    assert float(hidden.linear.weight.detach().abs().max()) > 0.9 * bound
    x = torch.randn(4, 100, generator=gen)
    with torch.no_grad():
        torch.testing.assert_close(hidden(x), torch.sin(30 * hidden.linear(x)))
        last = SirenLinear(100, 1, is_last=True, generator=gen)
        torch.testing.assert_close(last(x), last.linear(x))


def test_default_field_is_the_paper_ct_network() -> None:
    cfg = FieldConfig()
    assert cfg.widths == [131, 100, 10, 100, 1]
    net = NeuralField(cfg, rram_fourier_matrix())
    shapes = [tuple(w.shape) for w in net.weight_matrices()]
    assert shapes == [(100, 131), (10, 100), (100, 10), (1, 100)]
    assert sum(w.numel() for w in net.weight_matrices()) == 15_200
    assert sum(b.numel() for b in net.biases()) == 211
    assert net(torch.rand(7, 3)).shape == (7, 1)
    # keyed init: same seed, same weights
    net2 = NeuralField(cfg, rram_fourier_matrix())
    for a, b in zip(net.weight_matrices(), net2.weight_matrices(), strict=True):
        torch.testing.assert_close(a, b)


def test_field_config_variants_and_errors() -> None:
    assert FieldConfig(rank=0, depth=4).widths == [131, 100, 100, 100, 1]
    assert FieldConfig(n_in=2, n_freq=16, depth=4).widths == [34, 100, 10, 100, 10, 100, 1]
    with pytest.raises(ValueError, match=r"FieldConfig\.rank = 200"):
        FieldConfig(rank=200)
    with pytest.raises(ValueError, match=r"FieldConfig\.w0 = -1\.0"):
        FieldConfig(w0=-1.0)
    with pytest.raises(ValueError, match="B must be"):
        NeuralField(FieldConfig(), torch.zeros(10, 3))
