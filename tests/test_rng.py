"""Tests of rramcim.rng: keyed counter-based random numbers."""

from __future__ import annotations

import math

import torch
from scipy import stats

from rramcim import rng


def test_same_key_same_numbers_any_order() -> None:
    k = rng.make_key(7, "read", 0, 1)
    c = torch.arange(1000)
    a = rng.normal(k, c)
    perm = torch.randperm(1000, generator=torch.Generator().manual_seed(1))
    b = rng.normal(k, c[perm])
    assert torch.equal(a[perm], b)
    assert torch.equal(rng.normal(k, c[10:11]), a[10:11])


def test_keys_differ() -> None:
    c = torch.arange(64)
    assert not torch.equal(rng.normal(rng.make_key(1, "a"), c), rng.normal(rng.make_key(2, "a"), c))
    assert not torch.equal(rng.normal(rng.make_key(1, "a"), c), rng.normal(rng.make_key(1, "b"), c))


def test_normal_rows_matches_normal() -> None:
    k = rng.make_key(3, "x")
    rows = torch.tensor([0, 5, 17, 1 << 33])
    for n in (1, 3, 4, 7, 32):
        pad = rng.row_pad(n)
        ref = rng.normal(k, rows.reshape(-1, 1) * pad + torch.arange(n))
        assert torch.equal(rng.normal_rows(k, rows, n).double(), ref)


def test_normal_distribution() -> None:
    z = rng.normal_like(rng.make_key(11, "dist"), (400_000,)).double()
    assert abs(float(z.mean())) < 4 / math.sqrt(4e5)
    assert abs(float(z.var()) - 1.0) < 4 * math.sqrt(2 / 4e5)
    # table tails: truncated at the last quantile mid-point
    assert float(z.abs().max()) <= 4.43
    ks = stats.kstest(z[:50_000].numpy(), "norm")
    assert ks.pvalue > 1e-3


def test_uniform_range_and_mean() -> None:
    u = rng.uniform_like(rng.make_key(5, "u"), (200_000,))
    assert float(u.min()) >= 0.0 and float(u.max()) < 1.0
    assert abs(float(u.mean()) - 0.5) < 4 * math.sqrt(1 / 12 / 2e5)
