"""Unit tests of rramcim.golden.spike_router (reference of rtl/cim_spike_router.sv); no simulator.

Emit side: the vectors equal the columns of ``torch.nn.functional.unfold`` (ordering
``(c, ky, kx)``) for random frames, kernels and paddings, including the fully connected case
and PRIME's three layers; the tiles are those vectors cut into ``TR``-element pieces (zero
tail, last / end flags); the timing helpers count one cycle per kernel-row segment plus one
per tile boundary inside a segment (hand-counted cases). Write side: pooling, saturation
(also after the width was lowered), bad addresses and counters, and the vectorised
:func:`apply_events` agrees with the beat-by-beat :class:`SpikeRouterModel` in any event
order. Configuration checks: one case per rule of ``err_cfg_wr_o`` / ``err_cfg_rd_o``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rramcim.golden.spike_router import (
    COUNTER_MAX,
    PRIME_ROUTER,
    ReadConfig,
    RouterParams,
    SpikeRouterModel,
    WriteConfig,
    apply_events,
    emit_tiles,
    pack_elements,
    split_tiles,
    tile_valid_edges,
    unpack_elements,
    window_vectors,
)

#: PRIME's layers (PAPERS.md §1.3) as emit configurations on the 512-row macro.
PRIME_CONV0 = ReadConfig(c=2, h=34, w=34, k=5, pad=1, tile=512)
PRIME_CONV1 = ReadConfig(c=12, h=16, w=16, k=5, pad=0, tile=512)
PRIME_FC = ReadConfig(c=64, h=6, w=6, k=6, pad=0, tile=512)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20260530)


@pytest.fixture
def params() -> RouterParams:
    """The RTL defaults."""
    return RouterParams()


def _unfold(frame: np.ndarray, k: int, pad: int) -> np.ndarray:
    """``[OH*OW, C*k*k]`` from torch: the reference for the vector ordering."""
    t = torch.from_numpy(frame.astype(np.float64))[None]
    cols = torch.nn.functional.unfold(t, k, padding=pad)  # [1, C*k*k, L]
    return cols[0].T.numpy().astype(np.int64)


# ------------------------------------------------------------------------------------------
# Emit side
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c", "h", "w", "k", "pad"),
    [
        (1, 5, 5, 3, 0),
        (2, 6, 7, 3, 1),
        (3, 4, 9, 2, 2),
        (2, 5, 5, 5, 4),  # padding as large as possible: corner vectors see one element
        (4, 6, 6, 6, 0),  # fully connected: one vector
        (1, 3, 3, 1, 0),
        (3, 8, 5, 4, 3),
    ],
)
def test_window_vectors_equal_unfold(
    rng: np.random.Generator, c: int, h: int, w: int, k: int, pad: int
) -> None:
    frame = rng.integers(0, 8, size=(c, h, w))
    got = window_vectors(frame, k, pad)
    assert got.shape == ((h + 2 * pad - k + 1) * (w + 2 * pad - k + 1), c * k * k)
    np.testing.assert_array_equal(got, _unfold(frame, k, pad))


def test_window_vector_formula(rng: np.random.Generator) -> None:
    """The contract's formula, element by element."""
    c, h, w, k, pad = 2, 4, 5, 3, 1
    frame = rng.integers(0, 8, size=(c, h, w))
    v = window_vectors(frame, k, pad)
    ow = w + 2 * pad - k + 1
    for p in range(v.shape[0]):
        oy, ox = divmod(p, ow)
        for ci in range(c):
            for ky in range(k):
                for kx in range(k):
                    y, x = oy + ky - pad, ox + kx - pad
                    want = frame[ci, y, x] if 0 <= y < h and 0 <= x < w else 0
                    assert v[p, (ci * k + ky) * k + kx] == want


@pytest.mark.parametrize(
    ("cfg", "n_rows"),
    [
        (ReadConfig(c=2, h=6, w=6, k=3, pad=1, tile=7), 8),  # TR not a multiple of K
        (ReadConfig(c=2, h=5, w=4, k=3, pad=0, tile=18), 32),  # one tile, room to spare
        (ReadConfig(c=3, h=4, w=4, k=4, pad=2, tile=2), 4),  # TR < K: segments span tiles
        (ReadConfig(c=2, h=3, w=3, k=3, pad=0, tile=6), 6),  # fc, tiles end on segments
        (ReadConfig(c=1, h=3, w=3, k=1, pad=0, tile=1), 2),  # 1 x 1 kernel, one-element tiles
    ],
)
def test_emit_tiles_are_unfold_columns_split(
    rng: np.random.Generator, cfg: ReadConfig, n_rows: int
) -> None:
    frame = rng.integers(0, 4, size=(cfg.c, cfg.h, cfg.w))
    tiles = emit_tiles(frame, cfg, n_rows)
    cols = _unfold(frame, cfg.k, cfg.pad)
    assert len(tiles) == cfg.n_vectors * cfg.n_tiles
    for i, t in enumerate(tiles):
        p, ti = divmod(i, cfg.n_tiles)
        assert (t.oy, t.ox, t.index) == (p // cfg.ow, p % cfg.ow, ti)
        piece = cols[p, ti * cfg.tile : (ti + 1) * cfg.tile]
        np.testing.assert_array_equal(t.data[: len(piece)], piece)
        assert not t.data[len(piece) :].any()  # every other position is zero
        assert t.data.shape == (n_rows,)
        assert t.last == (ti == cfg.n_tiles - 1)
        assert t.end == (i == len(tiles) - 1)
    # the tiles of a vector put together give the vector again
    joined = np.concatenate([t.data[: cfg.tile] for t in tiles[: cfg.n_tiles]])[: cfg.kv]
    np.testing.assert_array_equal(joined, cols[0])


def test_prime_layers(rng: np.random.Generator) -> None:
    """The three PRIME layers: sizes, tiles and unfold equality on random spike counts."""
    p = PRIME_ROUTER
    for cfg, kv, n_vec, n_tiles in (
        (PRIME_CONV0, 50, 1024, 1),
        (PRIME_CONV1, 300, 144, 1),
        (PRIME_FC, 2304, 1, 5),
    ):
        assert cfg.errors(p) == []
        assert (cfg.kv, cfg.n_vectors, cfg.n_tiles) == (kv, n_vec, n_tiles)
        frame = rng.integers(0, 8, size=(cfg.c, cfg.h, cfg.w))
        tiles = emit_tiles(frame, cfg, p.n_rows)
        cols = _unfold(frame, cfg.k, cfg.pad)
        per_vec = [tiles[i : i + n_tiles] for i in range(0, len(tiles), n_tiles)]
        got = np.stack([np.concatenate([t.data for t in ts]) for ts in per_vec])[:, :kv]
        np.testing.assert_array_equal(got, cols)
    # fc: 4 full tiles and one of 256 elements; 6-element rows straddle 512-row tiles
    fc_tiles = emit_tiles(np.ones((64, 6, 6), dtype=np.int64), PRIME_FC, p.n_rows)
    assert [int(t.data.sum()) for t in fc_tiles] == [512] * 4 + [256]
    assert PRIME_FC.straddles and not PRIME_CONV1.straddles
    # MAX_K must be 6 for the fc layer: the default 5 refuses it
    p5 = RouterParams(**{**p.__dict__, "max_k": 5})
    assert any("K = 6" in e for e in PRIME_FC.errors(p5))


def test_split_tiles_shapes() -> None:
    v = np.arange(1, 11)[None]  # KV = 10
    t = split_tiles(v, 4, 6)
    assert t.shape == (1, 3, 6)
    assert t[0].tolist() == [[1, 2, 3, 4, 0, 0], [5, 6, 7, 8, 0, 0], [9, 10, 0, 0, 0, 0]]
    with pytest.raises(ValueError, match="tile"):
        split_tiles(v, 7, 6)


def test_tile_chunks_and_timing() -> None:
    # K = 3, TR = 7, C = 2: KV = 18 -> tiles [0,7) [7,14) [14,18); boundaries 7, 14 are
    # inside segments -> 6 + 2 chunks
    cfg = ReadConfig(c=2, h=6, w=6, k=3, pad=1, tile=7)
    assert cfg.tile_chunks() == [3, 3, 2]
    assert cfg.chunks_per_vector == 8 and cfg.straddles
    edges = tile_valid_edges(cfg)
    assert edges[:4] == [4, 7, 9, 12]  # 1 + cumulative chunks
    assert len(edges) == cfg.n_vectors * 3
    # TR = 2 < K = 4: each 4-element segment spans two tiles exactly (no straddle cost)
    assert ReadConfig(c=1, h=4, w=4, k=4, tile=2).tile_chunks() == [1] * 8
    # TR = 3 < K = 4: KV = 16, boundaries 3, 6, 9, 12, 15 -> 4 + 4 (12 is a multiple of 4)
    assert sum(ReadConfig(c=1, h=4, w=4, k=4, tile=3).tile_chunks()) == 8
    # PRIME: conv0 10 chunks per vector, conv1 60, fc 384 + 3 (boundaries 512, 1024, 2048
    # fall inside 6-element segments, 1536 = 256*6 does not)
    assert PRIME_CONV0.chunks_per_vector == 10
    assert PRIME_CONV1.chunks_per_vector == 60
    assert PRIME_FC.tile_chunks() == [86, 86, 86, 86, 43]
    assert tile_valid_edges(PRIME_FC) == [87, 173, 259, 345, 388]


def test_pack_unpack_roundtrip(rng: np.random.Generator) -> None:
    for el_w, n in ((1, 2), (3, 512), (8, 20), (2, 7)):
        d = rng.integers(0, 1 << el_w, size=n)
        v = pack_elements(d, el_w)
        assert v < 1 << (n * el_w)
        np.testing.assert_array_equal(unpack_elements(v, n, el_w), d)
        assert v == sum(int(e) << (r * el_w) for r, e in enumerate(d))
    with pytest.raises(ValueError, match="fit"):
        pack_elements([4], 2)


# ------------------------------------------------------------------------------------------
# Write side
# ------------------------------------------------------------------------------------------


def test_apply_events_pooling_saturation_bad() -> None:
    cfg = WriteConfig(c=2, h=3, w=4, shift=1, bits=2)  # counts saturate at 3
    frame = np.zeros((2, 3, 4), dtype=np.int64)
    events = [
        (0, 0, 0),
        (0, 1, 1),  # pooled onto (0, 0, 0)
        (1, 5, 7),  # (1, 2, 3)
        (0, 1, 0),  # (0, 0, 0): third
        (0, 0, 1),  # (0, 0, 0): fourth -> saturated
        (2, 0, 0),  # c >= C
        (0, 6, 0),  # y >> 1 = 3 >= H
        (1, 0, 8),  # x >> 1 = 4 >= W
    ]
    f, cnt = apply_events(frame, events, cfg)
    assert cnt == {"events": 8, "bad": 3, "sat": 1}
    assert f[0, 0, 0] == 3 and f[1, 2, 3] == 1 and f.sum() == 4


def test_apply_events_lowered_width_keeps_value() -> None:
    """An element above 2^bits - 1 (bits lowered without a clear) stays, every event
    saturates."""
    frame = np.full((1, 1, 2), 6)
    f, cnt = apply_events(frame, [(0, 0, 0), (0, 0, 0), (0, 0, 1)], WriteConfig(1, 1, 2, bits=2))
    assert f.tolist() == [[[6, 6]]] and cnt["sat"] == 3


def test_apply_events_matches_model_any_order(rng: np.random.Generator) -> None:
    p = RouterParams(max_w=8, max_ch_rows=24, el_w=3, addr_w=5)
    for trial in range(20):
        cfg = WriteConfig(
            c=int(rng.integers(1, 4)),
            h=int(rng.integers(1, 7)),
            w=int(rng.integers(1, 9)),
            shift=int(rng.integers(0, 4)),
            bits=int(rng.integers(1, 4)),
            bank=trial % 2,
        ).check(p)
        n = int(rng.integers(0, 200))
        lim = [cfg.c + 1, (cfg.h << cfg.shift) + 2, (cfg.w << cfg.shift) + 2]
        ev = np.stack([rng.integers(0, min(m, 32), size=n) for m in lim], axis=1)
        f, cnt = apply_events(np.zeros((cfg.c, cfg.h, cfg.w), dtype=np.int64), ev, cfg)
        m = SpikeRouterModel(p)
        kinds = [m.apply(tuple(e), cfg).kind for e in rng.permutation(ev)]
        rd = ReadConfig(c=cfg.c, h=cfg.h, w=cfg.w, k=1, tile=1, bank=cfg.bank)
        np.testing.assert_array_equal(m.read_frame(rd), f)
        assert (m.ev_count, m.bad_count, m.sat_count) == (cnt["events"], cnt["bad"], cnt["sat"])
        assert kinds.count("bad") == cnt["bad"] and kinds.count("sat") == cnt["sat"]
        assert m.err_addr == (cnt["bad"] > 0)
        assert not m.banks[1 - cfg.bank].any()


def test_model_clear_reset_counters_and_start() -> None:
    p = RouterParams(n_rows=8, max_w=4, max_ch_rows=8, max_k=3)
    m = SpikeRouterModel(p)
    wr = WriteConfig(c=2, h=2, w=3, bits=3, bank=1)
    for e in [(0, 0, 0), (1, 1, 2), (1, 1, 2)]:
        m.apply(e, wr)
    assert m.apply(None, wr).kind == "eof" and m.frame_count == 1
    rd = ReadConfig(c=2, h=2, w=3, k=2, pad=0, tile=4, bank=1)
    tiles = m.start(rd)
    assert tiles is not None and len(tiles) == 2 * 2
    assert tiles[-1].end and tiles[0].data[0] == 1  # (c0, ky0, kx0) of position (0, 0)
    assert m.start(rd, busy=True) is None and m.err_start
    m.clear(1, legal=False)
    assert m.err_clr and m.banks[1].sum() == 3
    m.clear(1)
    assert not m.banks.any()
    # counters stick at 2^32 - 1
    m.ev_count = m.frame_count = m.vec_count = COUNTER_MAX
    m.apply((0, 0, 0), wr)
    m.apply(None, wr)
    m.count_vector()
    assert (m.ev_count, m.frame_count, m.vec_count) == (COUNTER_MAX,) * 3
    m.reset()
    assert (m.ev_count, m.err_start, m.err_clr) == (0, False, False)


def test_read_frame_masks_columns_beyond_w() -> None:
    """A frame read with a smaller W sees zeros for x >= W, with another H other words."""
    p = RouterParams(max_w=4, max_ch_rows=8)
    m = SpikeRouterModel(p)
    wr = WriteConfig(c=2, h=2, w=4, bits=3)
    for x in range(4):
        m.apply((1, 1, x), wr)  # word 3
    f = m.read_frame(ReadConfig(c=1, h=4, w=2, k=1, tile=1))
    assert f.shape == (1, 4, 2) and f[0, 3].tolist() == [1, 1] and f.sum() == 2


# ------------------------------------------------------------------------------------------
# Parameters and configuration checks
# ------------------------------------------------------------------------------------------


def test_params_from_hdl_and_ranges() -> None:
    p = RouterParams.from_hdl(
        {
            "N_ROWS": 512,
            "EL_W": 3,
            "MAX_W": 34,
            "MAX_CH_ROWS": 384,
            "MAX_K": 6,
            "FIFO_DEPTH": 16,
            "ADDR_W": 8,
        }
    )
    assert p == PRIME_ROUTER and p.hdl()["MAX_CH_ROWS"] == 384
    assert (p.bits_w, p.k_w, p.tile_w) == (2, 3, 10)
    assert RouterParams().hdl() == {
        "N_ROWS": 64,
        "EL_W": 3,
        "MAX_W": 16,
        "MAX_CH_ROWS": 64,
        "MAX_K": 5,
        "FIFO_DEPTH": 8,
        "ADDR_W": 8,
    }
    for bad in ({"fifo_depth": 12}, {"n_rows": 1}, {"el_w": 9}, {"max_k": 17}, {"addr_w": 1}):
        with pytest.raises(ValueError):
            RouterParams(**bad)
    with pytest.raises(ValueError, match="unknown"):
        RouterParams.from_hdl({"N_COLS": 4})


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"c": 0}, "dimension is 0"),
        ({"h": 0}, "dimension is 0"),
        ({"w": 17}, "MAX_W"),
        ({"h": 17}, "MAX_W"),
        ({"c": 5, "h": 13}, "MAX_CH_ROWS"),
        ({"bits": 0}, "bits"),
    ],
)
def test_write_config_errors(params: RouterParams, kw: dict[str, int], why: str) -> None:
    good = WriteConfig(c=4, h=16, w=16, bits=3)
    assert good.errors(params) == []
    errs = WriteConfig(**{**good.__dict__, **kw}).errors(params)
    assert any(why in e for e in errs), errs
    with pytest.raises(ValueError, match="illegal write"):
        WriteConfig(**{**good.__dict__, **kw}).check(params)


def test_write_config_bits_above_el_w_and_port_fit() -> None:
    p = RouterParams(el_w=4)  # bits port is 3 bits: 5..7 reach the RTL
    assert WriteConfig(1, 1, 1, bits=5).errors(p)
    with pytest.raises(ValueError, match="does not fit"):
        WriteConfig(1, 1, 1, bits=8).errors(p)
    with pytest.raises(ValueError, match="does not fit"):
        WriteConfig(256, 1, 1).errors(p)
    with pytest.raises(ValueError):
        WriteConfig(1, 1, 1, shift=4)


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"c": 0}, "dimension is 0"),
        ({"w": 0}, "dimension is 0"),
        ({"w": 17}, "MAX_W"),
        ({"c": 5, "h": 13}, "MAX_CH_ROWS"),
        ({"k": 0}, "K = 0"),
        ({"k": 6}, "K = 6"),
        ({"pad": 5}, "PAD"),
        ({"h": 2, "k": 4, "pad": 0}, "output size"),
        ({"tile": 0}, "TR"),
        ({"tile": 65}, "TR"),
    ],
)
def test_read_config_errors(params: RouterParams, kw: dict[str, int], why: str) -> None:
    good = ReadConfig(c=4, h=16, w=16, k=5, pad=2, tile=64)
    assert good.errors(params) == []
    errs = ReadConfig(**{**good.__dict__, **kw}).errors(params)
    assert any(why in e for e in errs), errs


def test_read_config_output_size_limit() -> None:
    """OH, OW must fit ADDR_W bits as OH-1 / OW-1: 2^ADDR_W is the largest output size."""
    p = RouterParams(max_w=8, max_ch_rows=8, max_k=3, addr_w=3)
    assert ReadConfig(c=1, h=6, w=6, k=1, pad=1, tile=1).errors(p) == []  # OH = 8 = 2^3
    assert ReadConfig(c=1, h=7, w=6, k=1, pad=1, tile=1).errors(p)  # OH = 9
    assert ReadConfig(c=1, h=7, w=6, k=1, pad=1, tile=1).oh == 9
