"""PRIME on the RTL top ``cim_prime_top``: register values, AER streams and read-noise keys.

The bench (``tb/cim_prime_top``) and ``rramcim sim`` use this module to configure the top for
the network the hardware model (:class:`rramcim.apps.prime.hardware.PrimeHardware`) evaluates,
so that the RTL co-simulation and the hardware model run the same arithmetic on the same macro
objects:

* :func:`layer_descriptors` turns the hardware model's layers into the top's per-layer
  registers (geometry, tiling, current scale, threshold, neuron base index);
* :func:`top_registers` adds the global registers (T, early stop, LIF constants);
* :func:`sample_aer_frames` cuts one recording into the AER frames the top takes per timestep
  (the same binning as :func:`rramcim.data.nmnist.load_frames`);
* :class:`ReadKeys` maps a read of macro ``l`` in the co-simulation onto the hardware model's
  read-noise key: epoch = timestep and read number = ``sample * P_l * R_l + r`` where ``r``
  counts the reads of that macro since the timestep began (P_l positions, R_l reads per
  vector).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rramcim.apps.prime.model import CONV_LAYERS, FC_IN, N_CLASSES

#: HDL parameters of the PRIME instance of ``cim_prime_top`` (the bench and ``rramcim sim``).
PRIME_TOP_PARAMS: dict[str, int] = {
    "N_LAYERS": 3,
    "N_ROWS": 512,
    "N_COLS": 256,
    "N_ADC": 32,
    "ADC_BITS": 8,
    "N_TILES": 5,
    "T_SETTLE_CYC": 1,
    "T_TIMEOUT_CYC": 1024,
    "IN_BITS": 3,
    "MAX_W": 34,
    "MAX_CH_ROWS": 384,
    "MAX_K": 6,
    "RT_FIFO_DEPTH": 16,
    "AER_FIFO_DEPTH": 64,
    "ADDR_W": 8,
    "N_NEURONS": 21514,
    "U_W": 16,
    "F": 10,
    "IN_W": 24,
    "MUL_W": 24,
    "T_MAX": 16,
    "N_CLASSES": 10,
}

#: Register indices of ``cim_prime_top`` (byte address = 4 * index); see the RTL header.
REG = {
    "ID": 0,
    "CMD": 1,
    "STATUS": 2,
    "RESULT": 3,
    "ES_CFG": 4,
    "ES_THETA": 5,
    "NEURON": 6,
    "LAYER0": 8,
    "READS": 40,
    "CONVERSIONS": 41,
    "ADC_SAT": 42,
    "LIF_UPDATES": 43,
    "SPIKES": 44,
    "LIF_SAT": 45,
    "AER_EVENTS": 46,
    "AER_STALLS": 47,
    "AER_DROPPED": 48,
    "ROUTED": 49,
    "ROUTE_SAT": 50,
    "ROUTE_BAD": 51,
    "VECTORS": 52,
    "STEPS": 53,
    "SAMPLES": 54,
    "CSR_ERRORS": 55,
    "CSR_ERR_ADDR": 56,
    "BUSY_CYCLES": 57,
}
ID_VALUE = 0x50524D01
CMD_START, CMD_FLUSH, CMD_CLEAR = 1, 2, 4
STATUS_BITS = {
    "busy": 0,
    "done": 1,
    "err_cfg": 2,
    "err_start": 3,
    "err_csr": 4,
    "aer_full": 5,
    "err_route": 6,
    "err_lif": 7,
    "err_es": 8,
    "err_adc": 9,
}


@dataclass(frozen=True)
class LayerDesc:
    """One layer of the top (the fields of registers ``8 + 8 l + 0 .. 6``).

    Attributes:
        c, h, w: input frame channels and size (elements).
        bits: element bits of the input frame (counts saturate at ``2^bits - 1``).
        shift: pooling shift applied to the events routed into this layer's frame.
        k, pad: kernel and zero padding (a fully connected layer: ``k = h = w``, ``pad = 0``).
        c_out: output channels.
        integrator: output integrator (last layer) instead of LIF.
        tile_rows, tiles, groups: crossbar tiling (row tile size, row tiles, column groups).
        mul, sh: current scale ``I = sat((acc * mul + 2^(sh-1)) >> sh)``.
        vth: LIF threshold (membrane LSBs, two's complement ``u_w`` bits).
        base: index of the layer's first neuron in the LIF array.
    """

    c: int
    h: int
    w: int
    bits: int
    shift: int
    k: int
    pad: int
    c_out: int
    integrator: bool
    tile_rows: int
    tiles: int
    groups: int
    mul: int
    sh: int
    vth: int
    base: int

    @property
    def out_h(self) -> int:
        return self.h + 2 * self.pad - self.k + 1

    @property
    def out_w(self) -> int:
        return self.w + 2 * self.pad - self.k + 1

    @property
    def positions(self) -> int:
        """Output positions ``P`` (vectors per timestep)."""
        return self.out_h * self.out_w

    @property
    def reads_per_vector(self) -> int:
        """``R = tiles * bits * groups``."""
        return self.tiles * self.bits * self.groups

    def words(self, u_w: int = 16) -> list[int]:
        """The seven register words of the layer."""
        return [
            self.c | self.h << 8 | self.w << 16 | self.bits << 24 | self.shift << 28,
            self.k | self.pad << 4 | self.c_out << 8 | int(self.integrator) << 16,
            self.tile_rows | self.tiles << 16 | self.groups << 20,
            self.mul,
            self.sh,
            self.vth & ((1 << u_w) - 1),
            self.base,
        ]


def layer_descriptors(hw) -> list[LayerDesc]:  # noqa: ANN001 (PrimeHardware)
    """The three PRIME layers of a :class:`PrimeHardware` as top registers.

    Raises:
        ValueError: a layer's tiling does not fit the top's layout (one macro per layer, row
            tiles in consecutive column groups from group 0).
    """
    g0, g1 = CONV_LAYERS
    geo = [
        # c, h, w, bits, shift, k, pad, c_out, integrator
        (g0.c_in, g0.size_in, g0.size_in, 1, 0, g0.k, g0.pad, g0.c_out, False),
        (g1.c_in, g1.size_in, g1.size_in, 3, 1, g1.k, g1.pad, g1.c_out, False),
        (64, 6, 6, 3, 1, 6, 0, N_CLASSES, True),
    ]
    assert FC_IN == 64 * 6 * 6
    out, base = [], 0
    for li, (arr, g) in enumerate(zip(hw.arrays, geo, strict=True)):
        if len(arr.macros) != 1:
            raise ValueError(f"layer {li}: {len(arr.macros)} macros, the top has one per layer")
        groups = arr.plan[0].groups
        for t, p in enumerate(arr.plan):
            if p.row_tile != t or p.col_block != 0 or p.group0 != t * groups:
                raise ValueError(f"layer {li}: placement {p} is not the top's tile layout")
        d = LayerDesc(
            *g,
            tile_rows=arr.cfg.rows,
            tiles=len(arr.plan),
            groups=groups,
            mul=int(hw.mul[li]),
            sh=int(hw.cfg.scale_shift),
            vth=int(hw.lif.vth),
            base=base,
        )
        base += d.c_out * d.positions
        out.append(d)
    return out


def top_registers(hw, steps: int, early_stop: bool = True) -> dict[int, int]:  # noqa: ANN001
    """Register index -> value for the configuration registers of the PRIME network.

    Args:
        hw: the hardware model.
        steps: timesteps T.
        early_stop: enable the early stop (else every sample runs T steps).
    """
    from rramcim.golden.early_stop import alpha_ln2_code, inv_theta_code

    c = hw.cfg
    regs = {
        REG["ES_CFG"]: steps | int(early_stop) << 8 | alpha_ln2_code(c.alpha) << 16,
        REG["ES_THETA"]: inv_theta_code(c.theta, N_CLASSES),
        REG["NEURON"]: hw.lif.leak_q8 | hw.lif.neg_q8 << 8 | 3 << 16,
    }
    for li, d in enumerate(layer_descriptors(hw)):
        for w, v in enumerate(d.words(c.u_w)):
            regs[REG["LAYER0"] + 8 * li + w] = v
    return regs


def sample_aer_frames(path: str | Path, steps: int, split: str = "number") -> list[np.ndarray]:
    """The AER events of one recording, cut into ``steps`` frames.

    Returns:
        one int64 array ``[n_t, 3]`` of ``(c = polarity, y, x)`` per frame, in file order (the
        binning of :func:`rramcim.data.nmnist.load_frames` with the same ``split``).
    """
    from rramcim.data.events import time_bins
    from rramcim.data.nmnist import read_nmnist

    ev = read_nmnist(path)
    b = time_bins(ev, steps, split)
    cyx = np.stack([ev["p"], ev["y"], ev["x"]], axis=1).astype(np.int64)
    return [cyx[b == t] for t in range(steps)]


class ReadKeys:
    """Read-noise keys of the co-simulation, equal to the hardware model's.

    The hardware model reads vector ``v = sample * P_l + p`` of layer ``l`` at epoch ``t`` with
    read numbers ``v * R_l + r`` (``r`` = 0 .. R_l - 1 in the controller's order). The top
    emits the positions of a layer in order, so the ``j``-th read of macro ``l`` since the
    timestep began is read number ``sample * P_l * R_l + j``.

    Args:
        layers: the top's layer descriptors.
    """

    def __init__(self, layers: list[LayerDesc]) -> None:
        self.layers = layers
        self.sample = 0
        self._step = [-1] * len(layers)
        self._count = [0] * len(layers)

    def start_sample(self, sample_id: int) -> None:
        """A new sample starts (its reads are numbered from its own base)."""
        self.sample = int(sample_id)
        self._step = [-1] * len(self.layers)
        self._count = [0] * len(self.layers)

    def key(self, layer: int, step: int) -> tuple[int, int]:
        """``(epoch, read number)`` of the next read of ``layer`` during timestep ``step``."""
        if step != self._step[layer]:
            self._step[layer], self._count[layer] = step, 0
        d = self.layers[layer]
        k = self.sample * d.positions * d.reads_per_vector + self._count[layer]
        self._count[layer] += 1
        if self._count[layer] > d.positions * d.reads_per_vector:
            raise RuntimeError(
                f"macro {layer}: {self._count[layer]} reads in step {step}, more than the "
                f"{d.positions * d.reads_per_vector} of one timestep"
            )
        return step, k


@dataclass
class PrimeRtlContext:
    """The hardware model of the shipped checkpoint and its results on the test split.

    Attributes:
        hw: the hardware model (its macro objects are the ones the co-simulation reads).
        layers: the top's layer descriptors.
        items: ``(path, label)`` of the test recordings, in split order (= sample ids).
        labels: labels ``[N]``.
        result: :class:`rramcim.apps.prime.hardware.PrimeHwResult` of the whole split.
        steps: timesteps T.
        split: frame binning of the test split (``number``).
    """

    hw: object
    layers: list[LayerDesc]
    items: list
    labels: np.ndarray
    result: object
    steps: int
    split: str

    def expected(
        self, sid: int, early_stop: bool, steps: int | None = None
    ) -> tuple[int, int, np.ndarray]:
        """(class, stop step, output membranes ``[stop, 10]``) of sample ``sid``.

        With the early stop off the sample runs ``steps`` (default T) steps and the class is
        the argmax of the summed membranes (lowest index on ties, as the RTL's).
        """
        r = self.result
        if early_stop:
            s = int(r.stop_step[sid])
            return int(r.pred[sid]), s, r.out_mem[sid, :s]
        n = self.steps if steps is None else int(steps)
        if not 1 <= n <= self.steps:
            raise ValueError(f"steps = {n} outside 1..{self.steps}")
        return int(r.out_mem[sid, :n].sum(0).argmax()), n, r.out_mem[sid, :n]

    @property
    def counts_per_step(self) -> dict[str, int]:
        """Reads and LIF updates of one timestep (what the RTL counters must show)."""
        return {
            "reads": sum(d.positions * d.reads_per_vector for d in self.layers),
            "lif_updates": sum(d.positions * d.c_out for d in self.layers),
        }


def build_context(data_root: str | Path, log=print) -> PrimeRtlContext:  # noqa: ANN001
    """Rebuild the hardware model of the shipped checkpoint and run the test split.

    The same construction as ``rramcim eval prime`` (forming seed, masks, ADC calibration on
    :func:`rramcim.apps.prime.train.calibration_frames`), without the software evaluation.
    N-Digits is generated under ``data_root`` if missing (guarded by a lock file, so parallel
    benches share it).
    """
    import fcntl
    import time

    import torch

    from rramcim.apps.prime.evaluate import build_hardware
    from rramcim.apps.prime.train import ASSET, PrimeTrainConfig, load_checkpoint
    from rramcim.data.ndigits import make_ndigits
    from rramcim.data.nmnist import list_dataset, load_frames

    t0 = time.perf_counter()
    root = Path(data_root)
    masks, summary = load_checkpoint(ASSET)
    cfg = PrimeTrainConfig(**{**summary["config"], "data": str(root)})
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "Test").exists():
            make_ndigits(root, seed=cfg.seed)
    xte, yte = load_frames(root, "Test", T=cfg.steps, split_mode=cfg.eval_split)
    xte_t = torch.from_numpy((xte > 0).astype(np.float32))
    hw = build_hardware(cfg, masks)
    res = hw.run(xte_t, sample_ids=np.arange(xte_t.shape[0]))
    ctx = PrimeRtlContext(
        hw=hw,
        layers=layer_descriptors(hw),
        items=list_dataset(root, "Test"),
        labels=np.asarray(yte),
        result=res,
        steps=cfg.steps,
        split=cfg.eval_split,
    )
    log(
        f"hardware model on {len(ctx.labels)} test samples in {time.perf_counter() - t0:.1f} s: "
        f"accuracy {100 * float((res.pred == ctx.labels).mean()):.2f} % with early stop, "
        f"mean stop step {float(res.stop_step.mean()):.2f}"
    )
    return ctx


class PrefetchedReads:
    """The reads one sample will make on every macro, computed in batches ahead of time.

    A co-simulated read is ``macro.read(plane, group, k, epoch)`` of the plane the RTL drives.
    For the sample being simulated, the hardware model knows the crossbar inputs of every
    layer and step (:meth:`PrimeHardware.run` with ``record``), so all reads of one (step,
    layer) are evaluated in one batched call per (tile, plane, group) instead of one call per
    read (about 100x less Python time). :meth:`lookup` returns the batch result only when the
    read the RTL makes has exactly the key, group and word-line bits the batch used; the
    macro model is batch-independent (keyed noise), so the codes are the same numbers a
    single read returns. Any other read returns ``None`` and is computed live.

    Args:
        ctx: the PRIME context (hardware model, layers, test recordings).
    """

    def __init__(self, ctx: PrimeRtlContext) -> None:
        self.ctx = ctx
        self.sample = -1
        self._inputs: dict[tuple[int, int], np.ndarray] = {}
        self._cache: dict[tuple[int, int], tuple[list[int], np.ndarray]] = {}
        self.hits = 0
        self.misses = 0

    def start_sample(self, sample_id: int) -> None:
        """Record the crossbar inputs of every step and layer of ``sample_id``."""
        import torch

        from rramcim.data.events import events_to_frames
        from rramcim.data.nmnist import read_nmnist

        path, _ = self.ctx.items[sample_id]
        f = events_to_frames(read_nmnist(path), self.ctx.steps, 34, 34, split=self.ctx.split)
        x = torch.from_numpy((f[None] > 0).astype(np.float32))
        rec: dict = {}
        self.ctx.hw.run(x, sample_ids=np.array([sample_id]), record=rec)
        self.sample, self._inputs, self._cache = int(sample_id), rec, {}

    def _batch(self, step: int, layer: int) -> tuple[list[int], np.ndarray]:
        import torch

        d = self.ctx.layers[layer]
        arr = self.ctx.hw.arrays[layer]
        mac = arr.macros[0]
        x = self._inputs[(step, layer)]  # [P, K]
        P, R, rows = x.shape[0], d.reads_per_vector, mac.cfg.rows
        base = self.sample * d.positions * R
        wl: list[int] = [0] * (P * R)
        codes = np.zeros((P * R, mac.cfg.n_adc), np.int64)
        for t in range(d.tiles):
            seg = x[:, t * d.tile_rows : (t + 1) * d.tile_rows]
            for b in range(d.bits):
                bits = np.zeros((P, rows), np.uint8)
                bits[:, : seg.shape[1]] = (seg >> b) & 1
                packed = np.packbits(bits, axis=1, bitorder="little")
                ints = [int.from_bytes(row.tobytes(), "little") for row in packed]
                plane = torch.from_numpy(bits.astype(np.float32))
                for g in range(d.groups):
                    r = (np.arange(P) * d.tiles + t) * d.bits * d.groups + b * d.groups + g
                    k = torch.from_numpy(base + r).reshape(P, 1)
                    c = mac.read(plane, t * d.groups + g, k, epoch=step, check_binary=False).codes
                    codes[r] = c.reshape(P, -1).numpy()
                    for i, ri in enumerate(r.tolist()):
                        wl[ri] = ints[i]
        return wl, codes

    def lookup(self, layer: int, epoch: int, k: int, wl: int, group: int) -> list[int] | None:
        """The batched codes of this read, or ``None`` if the read is not the expected one."""
        d = self.ctx.layers[layer]
        r = k - self.sample * d.positions * d.reads_per_vector
        if (epoch, layer) not in self._inputs or not 0 <= r < d.positions * d.reads_per_vector:
            self.misses += 1
            return None
        if (epoch, layer) not in self._cache:
            self._cache[(epoch, layer)] = self._batch(epoch, layer)
        exp_wl, codes = self._cache[(epoch, layer)]
        t = r // (d.bits * d.groups) % d.tiles
        if exp_wl[r] != wl or group != t * d.groups + r % d.groups:
            self.misses += 1
            return None
        self.hits += 1
        return codes[r].tolist()
