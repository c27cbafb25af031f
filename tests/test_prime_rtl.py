"""Tests of rramcim.apps.prime.rtl: the top's registers, AER frames and read-noise keys."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rramcim.apps.prime.evaluate import net_from_masks
from rramcim.apps.prime.hardware import PrimeHardware
from rramcim.apps.prime.rtl import (
    PRIME_TOP_PARAMS,
    REG,
    ReadKeys,
    layer_descriptors,
    sample_aer_frames,
    top_registers,
)
from rramcim.apps.prime.train import ASSET, form_arrays, load_checkpoint


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from rramcim.data.ndigits import make_ndigits

    r = tmp_path_factory.mktemp("ndigits")
    make_ndigits(r, seed=0, per_class_limit=2, progress=False)
    return r


@pytest.fixture(scope="module")
def hw(root) -> PrimeHardware:  # noqa: ANN001
    from rramcim.data.nmnist import load_frames

    masks, _ = load_checkpoint(ASSET)
    arrays = form_arrays(0)
    net = net_from_masks([a.conductance_matrix_S() * 1e6 for a in arrays], masks)
    f, _ = load_frames(root, "Train", T=10, split_mode="time")
    return PrimeHardware(arrays, masks, net, torch.from_numpy((f > 0).astype(np.float32)))


def test_layer_descriptors_match_the_network(hw: PrimeHardware) -> None:
    d0, d1, d2 = layer_descriptors(hw)
    assert (d0.positions, d0.c_out, d0.reads_per_vector) == (32 * 32, 12, 1)
    assert (d1.positions, d1.c_out, d1.reads_per_vector) == (12 * 12, 64, 3 * 2)
    assert (d2.positions, d2.c_out, d2.reads_per_vector) == (1, 10, 5 * 3)
    assert d2.integrator and not d0.integrator and not d1.integrator
    # each layer feeds the next exactly (the top's consistency rule)
    for a, b in ((d0, d1), (d1, d2)):
        assert b.c == a.c_out
        assert (b.h, b.w) == (a.out_h >> b.shift, a.out_w >> b.shift)
    assert d2.base + d2.c_out * d2.positions == PRIME_TOP_PARAMS["N_NEURONS"]
    assert max(d.tiles for d in (d0, d1, d2)) <= PRIME_TOP_PARAMS["N_TILES"]


def test_register_words_pack_the_fields(hw: PrimeHardware) -> None:
    regs = top_registers(hw, 10, early_stop=True)
    d1 = layer_descriptors(hw)[1]
    w = regs[REG["LAYER0"] + 8]
    assert (w & 0xFF, w >> 8 & 0xFF, w >> 16 & 0xFF, w >> 24 & 7, w >> 28 & 3) == (
        d1.c,
        d1.h,
        d1.w,
        d1.bits,
        d1.shift,
    )
    assert regs[REG["ES_CFG"]] & 0xFF == 10 and regs[REG["ES_CFG"]] >> 8 & 1 == 1
    assert top_registers(hw, 10, early_stop=False)[REG["ES_CFG"]] >> 8 & 1 == 0
    assert regs[REG["NEURON"]] >> 16 & 7 == 3
    assert all(0 <= v < 2**32 for v in regs.values())


def test_aer_frames_bin_like_the_dataset_loader(root) -> None:  # noqa: ANN001
    from rramcim.data.nmnist import list_dataset, load_frames

    frames, _ = load_frames(root, "Test", T=10, split_mode="number")
    for i, (path, _) in enumerate(list_dataset(root, "Test")[:3]):
        got = np.zeros((10, 2, 34, 34), np.int64)
        for t, ev in enumerate(sample_aer_frames(path, 10, "number")):
            np.add.at(got[t], (ev[:, 0], ev[:, 1], ev[:, 2]), 1)
        np.testing.assert_array_equal(got, frames[i])


def test_read_keys_reproduce_the_hardware_model_reads(hw: PrimeHardware) -> None:
    """Reads numbered as the co-simulation numbers them give the hardware model's codes."""
    from rramcim.golden.xbar_ctrl import plane_weights

    layers = layer_descriptors(hw)
    keys = ReadKeys(layers)
    rng = np.random.default_rng(3)
    for li in (1, 2):  # several planes / groups (conv1) and several row tiles (fc)
        d, arr = layers[li], hw.arrays[li]
        mac = arr.macros[0]
        sid, step, n_vec = 5, 2, min(3, d.positions)
        x = rng.integers(0, 1 << d.bits, size=(n_vec, arr.k))
        vids = torch.tensor([sid * d.positions + p for p in range(n_vec)])
        want = arr.mvm(x, d.bits, False, epoch=step, vector_ids=vids)
        keys.start_sample(sid)
        pw = plane_weights(d.bits, False).tolist()
        for p in range(n_vec):
            acc = np.zeros(d.groups * arr.cfg.n_adc, np.int64)
            for t in range(d.tiles):  # the controller's order: tiles, planes, groups
                seg = x[p, t * d.tile_rows : (t + 1) * d.tile_rows]
                for b in range(d.bits):
                    plane = torch.zeros(1, arr.cfg.rows)
                    plane[0, : seg.size] = torch.from_numpy(((seg >> b) & 1).astype(np.float32))
                    for g in range(d.groups):
                        epoch, k = keys.key(li, step)
                        codes = mac.read(plane, t * d.groups + g, k, epoch=epoch).codes
                        acc[g * 32 : (g + 1) * 32] += pw[b] * codes.reshape(-1).numpy()
            np.testing.assert_array_equal(acc[: d.c_out], want[p])


def test_read_keys_refuse_more_reads_than_a_step(hw: PrimeHardware) -> None:
    keys = ReadKeys(layer_descriptors(hw))
    keys.start_sample(0)
    for _ in range(15):
        keys.key(2, 0)
    with pytest.raises(RuntimeError, match="more than"):
        keys.key(2, 0)
    assert keys.key(2, 1) == (1, 0)  # a new step starts from the sample's base


def test_prefetched_reads_equal_single_reads(hw: PrimeHardware, root) -> None:  # noqa: ANN001
    """The batched codes handed to the co-simulation are those of single live reads."""
    from rramcim.apps.prime.rtl import PrefetchedReads, PrimeRtlContext
    from rramcim.data.nmnist import list_dataset

    items = list_dataset(root, "Test")
    ctx = PrimeRtlContext(
        hw, layer_descriptors(hw), items, np.zeros(len(items)), None, 10, "number"
    )
    pre = PrefetchedReads(ctx)
    pre.start_sample(1)
    keys = ReadKeys(ctx.layers)
    keys.start_sample(1)
    for li in (0, 1, 2):
        d, mac = ctx.layers[li], hw.arrays[li].macros[0]
        x = pre._inputs[(0, li)]
        for r in (0, 1, d.reads_per_vector * d.positions - 1):
            p, rr = divmod(r, d.reads_per_vector)
            t, b, g = rr // (d.bits * d.groups), rr // d.groups % d.bits, rr % d.groups
            seg = x[p, t * d.tile_rows : (t + 1) * d.tile_rows]
            plane = torch.zeros(1, mac.cfg.rows)
            plane[0, : seg.size] = torch.from_numpy(((seg >> b) & 1).astype(np.float32))
            k = 1 * d.positions * d.reads_per_vector + r
            wl = int(sum(1 << i for i in range(mac.cfg.rows) if plane[0, i] > 0))
            got = pre.lookup(li, 0, k, wl, t * d.groups + g)
            want = mac.read(plane, t * d.groups + g, k, epoch=0).codes.reshape(-1).tolist()
            assert got == want
            assert pre.lookup(li, 0, k, wl ^ 1, t * d.groups + g) is None  # other bits: live
    assert pre.hits == 9 and pre.misses == 9
