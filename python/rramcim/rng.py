"""Keyed, counter-based random numbers.

Every random quantity in rramcim is a pure function of a *key* and an integer *counter*:
``value = f(key(seed, purpose, *indices), counter)``. The key names what the number is for
(e.g. ``(seed, "read", macro_id, epoch)``) and the counter which element it is (e.g.
``read_index * cols_pad + column``). Nothing depends on call order, batch size or on how
work is split between the batched hardware model and a co-simulation that asks for one read
at a time: both get the same numbers bit for bit.

Construction:
    * the key tuple is hashed with BLAKE2b into 64 bits (Python side, once per key);
    * counters are hashed with the SplitMix64 output function,
      ``h = mix64(key + (counter >> 2) * 0x9E3779B97F4A7C15)``, vectorised in torch int64;
    * each 64-bit hash gives four 16-bit lanes; element ``counter`` uses lane ``counter & 3``;
    * a lane is mapped to a standard normal through a 2^16-entry inverse-CDF table at the bin
      mid-points, ``z = Phi^-1((i + 0.5) / 65536)``.

The normal variates are therefore exact Gaussian quantiles on a 65536-point grid (spacing
3.8e-5 sigma near the mean) with tails truncated at +-4.42 sigma (probability 3.1e-5 in all).
The table is stored in float32 (its values are the definition). Only integer operations
and a table look-up are involved, so results are identical on every
CPU and for every tensor size (no vectorised-vs-scalar transcendental-function differences).
Uniform variates use the top 53 bits of the hash.
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache

import torch

_GAMMA = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
LANES = 4
_LITTLE = sys.byteorder == "little"
"""Normal variates per 64-bit hash; counters are grouped in blocks of this size."""


def _s64(v: int) -> int:
    """Reinterpret an unsigned 64-bit integer as signed (torch has no full uint64 arithmetic)."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= (1 << 63) else v


_GAMMA_S = _s64(_GAMMA)
_C1_S = _s64(_C1)
_C2_S = _s64(_C2)


def make_key(*parts: object) -> int:
    """64-bit key of a tuple of semantic parts (ints, strings, floats).

    Args:
        *parts: e.g. ``(seed, "read", macro_id, epoch)``. Order and types matter.

    Returns:
        A signed 64-bit integer.
    """
    text = repr(tuple(parts)).encode()
    return _s64(int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little"))


def _lsr(z: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of int64 values by ``s`` bits."""
    return (z >> s) & ((1 << (64 - s)) - 1)


def mix64(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64 output function on int64 tensors (wrapping arithmetic); modifies ``z``."""
    z.bitwise_xor_(_lsr(z, 30)).mul_(_C1_S)
    z.bitwise_xor_(_lsr(z, 27)).mul_(_C2_S)
    return z.bitwise_xor_(_lsr(z, 31))


def hash64(key: int, counter: torch.Tensor) -> torch.Tensor:
    """64-bit hash of ``(key, counter)`` for every element of an int64 counter tensor."""
    return mix64(counter.to(torch.int64).mul(_GAMMA_S).add_(key))


@lru_cache(maxsize=1)
def _normal_table() -> torch.Tensor:
    """The 2^16 inverse-CDF mid-points, rounded to float32 (this table *is* the definition)."""
    i = torch.arange(1 << 16, dtype=torch.float64)
    return torch.special.ndtri((i + 0.5) / float(1 << 16)).to(torch.float32)


def normal(key: int, counter: torch.Tensor) -> torch.Tensor:
    """Standard normal variates (float64) for arbitrary counters.

    Args:
        key: from :func:`make_key`.
        counter: int64 tensor of non-negative element numbers, any shape.

    Returns:
        float64 tensor of the same shape (exact table values).
    """
    return normal_keyed(torch.tensor(key, dtype=torch.int64), counter)


def normal_keyed(keys: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
    """:func:`normal` with one key per element: ``normal(keys[i], counter[i])`` for every i
    (``keys`` broadcasts against ``counter``), e.g. one key per cell and one draw number each.

    Args:
        keys: int64 tensor of keys from :func:`make_key`.
        counter: int64 tensor of non-negative element numbers.

    Returns:
        float64 tensor of the broadcast shape (exact table values).
    """
    counter = counter.to(torch.int64)
    h = mix64((counter >> 2).mul(_GAMMA_S).add_(keys.to(torch.int64)))
    lane = (counter & 3) * 16
    idx = (h >> lane) & 0xFFFF
    return _normal_table()[idx].to(torch.float64)


def normal_rows(key: int, rows: torch.Tensor, n: int) -> torch.Tensor:
    """Normal variates for a block ``[rows.numel(), n]`` with counter ``row * n_pad + col``.

    ``n_pad`` is ``n`` rounded up to a multiple of :data:`LANES`; this is the fast path for
    the batched hardware model (one hash per four variates) and gives exactly the numbers
    :func:`normal` gives for the same counters.

    Args:
        key: from :func:`make_key`.
        rows: int64 tensor of row numbers (e.g. read indices), shape ``[R]``.
        n: columns per row.

    Returns:
        float32 tensor ``[R, n]`` (exact table values; the same numbers as :func:`normal`,
        kept in float32 to halve memory traffic on the hot path).
    """
    n_pad = -(-n // LANES) * LANES
    blocks = n_pad // LANES
    base = rows.to(torch.int64).reshape(-1, 1) * blocks
    h = hash64(key, base + torch.arange(blocks, dtype=torch.int64))
    if _LITTLE:
        # lane j of a 64-bit word is its j-th 16-bit half-word on a little-endian machine
        idx = h.view(torch.uint16).to(torch.int32)
    else:  # pragma: no cover - big-endian hosts
        shifts = torch.arange(0, 16 * LANES, 16, dtype=torch.int64)
        idx = ((h.unsqueeze(-1) >> shifts) & 0xFFFF).reshape(h.shape[0], n_pad)
    z = _normal_table().index_select(0, idx.reshape(-1)).reshape(rows.numel(), n_pad)
    return z[:, :n]


def row_pad(n: int) -> int:
    """Counter stride of :func:`normal_rows` for rows of ``n`` elements."""
    return -(-n // LANES) * LANES


def uniform(key: int, counter: torch.Tensor) -> torch.Tensor:
    """Uniform variates in [0, 1) (float64, 53-bit resolution) for int64 counters."""
    h = hash64(key, counter)
    return _lsr(h, 11).to(torch.float64) * (1.0 / float(1 << 53))


def normal_like(key: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Normal variates for a dense tensor whose counter is the row-major element number."""
    numel = 1
    for s in shape:
        numel *= s
    return normal(key, torch.arange(numel, dtype=torch.int64)).reshape(shape)


def uniform_like(key: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Uniform variates for a dense tensor whose counter is the row-major element number."""
    numel = 1
    for s in shape:
        numel *= s
    return uniform(key, torch.arange(numel, dtype=torch.int64)).reshape(shape)
