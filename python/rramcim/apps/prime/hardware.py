"""Bit-exact, batched hardware model of the PRIME classifier.

The chain per timestep t, for a batch of samples (every step in integers except the analogue
reads, which are the keyed macro model):

1. conv0: binary event frame -> 5x5 patches (50 rows) -> binary read of the formed, pruned
   macro -> ADC codes -> membrane current ``I = round(acc * MUL >> SH)`` (fixed point,
   ``frac`` fractional bits) -> fixed-point LIF (:mod:`rramcim.golden.lif_array`).
2. 2x2 average pooling as a *count* of spikes (0..4); the 1/4 goes into the next layer's MUL.
3. conv1: count patches (300 rows, 3-bit inputs applied bit-serially) -> reads -> LIF.
4. pooling count -> fc (2304 rows over 5 row tiles, 3-bit) -> output integrator.
5. early stop (:mod:`rramcim.golden.early_stop`) on the summed output membranes.

Read-noise keys: layer ``l``'s macros have ids ``100 l + i``; the read epoch is the timestep
``t``; the vector id is ``sample_id * positions + position`` (positions = output pixels of a
convolution, 1 for fc), so a sample's numbers do not depend on the batch it is evaluated in.

The ADC full scale of each layer is calibrated once, on the ideal column currents of
representative layer inputs from the software model (``k_sigma`` standard deviations); the
current scale ``MUL`` converts ADC codes to membrane LSBs with the *nominal* ADC gain (the
per-channel gain and offset errors stay uncorrected, as on a chip without trimming).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from rramcim.analog.tiling import TiledCrossbar
from rramcim.apps.prime.model import CONV_LAYERS, PrimeConvNet
from rramcim.fixedpoint import saturate

POOL_DIV = 4
"""A 2x2 average pool is a count of spikes 0..4 divided by 4."""


@dataclass(frozen=True)
class PrimeHwConfig:
    """Fixed-point and read-out settings of the PRIME hardware model.

    Attributes:
        u_w: membrane width in bits.
        frac: fractional bits of the membrane (LSB = 2^-frac).
        in_w: width of the current input of the LIF array.
        leak: membrane retention per step (0.2), rounded to Q0.8 (51/256).
        neg_slope: LeakyReLU slope (0.1), rounded to Q0.8 (26/256).
        vth: threshold of the spiking layers (membrane units).
        scale_shift: SH of the current scale ``acc * MUL >> SH``.
        adc_k_sigma: ADC full scale in standard deviations of the calibration currents.
        alpha: early-stop temperature.
        theta: early-stop confidence threshold.
        early_stop: apply the early stop (else run all T steps).
    """

    u_w: int = 16
    frac: int = 10
    in_w: int = 24
    leak: float = 0.2
    neg_slope: float = 0.1
    vth: float = 0.2
    scale_shift: int = 16
    adc_k_sigma: float = 4.0
    alpha: float = 2.0
    theta: float = 0.8
    early_stop: bool = True


@dataclass
class PrimeHwResult:
    """Outputs of :meth:`PrimeHardware.run`.

    Attributes:
        pred: predicted class at the stop step ``[N]``.
        stop_step: stop step 1..T ``[N]``.
        pred_all: predicted class after all T steps ``[N]``.
        out_mem: output membranes (fixed point) ``[N, T, 10]`` (all T steps are computed).
        spikes: spikes per layer per step ``[N, T]`` for conv0 and conv1 (counts).
        counts: operation counts (reads, conversions, ...) up to the stop step.
    """

    pred: np.ndarray
    stop_step: np.ndarray
    pred_all: np.ndarray
    out_mem: np.ndarray
    spikes: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)


def _patches(x: torch.Tensor, k: int, pad: int) -> torch.Tensor:
    """``[B, C, H, W]`` -> ``[B * P, C*k*k]`` with rows ordered (c, ky, kx), P = output pixels."""
    u = torch.nn.functional.unfold(x.float(), k, padding=pad)  # [B, C*k*k, P]
    return u.transpose(1, 2).reshape(-1, u.shape[1])


class PrimeHardware:
    """PRIME on formed, pruned macros with fixed-point periphery.

    Args:
        arrays: the three formed layers (:func:`rramcim.apps.prime.train.form_arrays`).
        masks: bool ``[fan_in, out]`` per layer (True = keep); pruned pairs are RESET.
        net: the software model with the same masks (for ADC calibration inputs).
        calib_frames: binary frames ``[N, T, 2, 34, 34]`` for the calibration.
        cfg: fixed-point settings.
    """

    def __init__(
        self,
        arrays: list[TiledCrossbar],
        masks: list[torch.Tensor],
        net: PrimeConvNet,
        calib_frames: torch.Tensor,
        cfg: PrimeHwConfig | None = None,
    ) -> None:
        from rramcim.golden.early_stop import EarlyStopConfig
        from rramcim.golden.lif_array import LifConfig, LifMode

        self.cfg = cfg or PrimeHwConfig()
        c = self.cfg
        self.arrays = arrays
        self.pruned = [a.prune(m) for a, m in zip(arrays, masks, strict=True)]
        kw = dict(
            u_w=c.u_w, frac=c.frac, in_w=c.in_w, leak=c.leak, neg_slope=c.neg_slope, vth=c.vth
        )
        self.lif = LifConfig.from_float(mode=LifMode.LIF, **kw)
        self.integ = LifConfig.from_float(mode=LifMode.INTEGRATOR, **kw)
        self._es_base = EarlyStopConfig(n_classes=10, u_w=c.u_w, frac=c.frac, enable=c.early_stop)
        self.mul = self._calibrate(net, calib_frames)

    # -- calibration ---------------------------------------------------------------------
    def _layer_inputs(self, net: PrimeConvNet, frames: torch.Tensor) -> list[torch.Tensor]:
        """Representative binary row planes of every layer from the software model."""
        g0, g1 = CONV_LAYERS
        ins: list[list[torch.Tensor]] = [[], [], []]
        with torch.no_grad():
            s0 = s1 = None
            for t in range(frames.shape[1]):
                x0 = frames[:, t]
                ins[0].append(_patches(x0, g0.k, g0.pad))
                z, s0 = net.lif0(net.conv0(x0), s0)
                c1 = torch.nn.functional.avg_pool2d(z, 2) * POOL_DIV
                ins[1].append(_patches(c1, g1.k, g1.pad))
                z, s1 = net.lif1(net.conv1(c1 / POOL_DIV), s1)
                c2 = torch.nn.functional.avg_pool2d(z, 2) * POOL_DIV
                ins[2].append(c2.flatten(1))
        # the LSB plane of the counts is a fair sample of a binary row drive
        return [
            (torch.cat(v) > 0).float() if i == 0 else (torch.cat(v).round().long() & 1).float()
            for i, v in enumerate(ins)
        ]

    def _calibrate(self, net: PrimeConvNet, frames: torch.Tensor) -> list[int]:
        c = self.cfg
        planes = self._layer_inputs(net, frames)
        muls = []
        for li, (arr, pl) in enumerate(zip(self.arrays, planes, strict=True)):
            sel = pl[
                torch.randperm(pl.shape[0], generator=torch.Generator().manual_seed(li))[:4096]
            ]
            cur = []
            for p in arr.plan:
                m = arr.macros[p.macro]
                xi = sel[:, p.k0 : p.k1]
                c0 = p.group0 * arr.cfg.n_adc
                cur.append(m.ideal_currents_A(xi)[:, c0 : c0 + p.m1 - p.m0].reshape(-1))
            fs = c.adc_k_sigma * float(torch.cat(cur).std())
            for m in arr.macros:
                m.set_adc_full_scale(fs)
            m0 = arr.macros[0]
            d = m0.device
            # codes per (input 1) x (software weight 1), nominal ADC gain; w = dG[uS] * 0.01
            codes_per_w = d.read_gain * d.v_read_V * 1e-4 / m0.cfg.adc_lsb_A
            in_div = 1 if li == 0 else POOL_DIV
            muls.append(int(round(2 ** (c.frac + c.scale_shift) / (in_div * codes_per_w))))
        return muls

    def _stats(self) -> dict[str, int]:
        """Sum of the read counters of every macro (all layers)."""
        tot: dict[str, int] = {}
        for a in self.arrays:
            for m in a.macros:
                for k, v in vars(m.stats).items():
                    tot[k] = tot.get(k, 0) + int(v)
        return tot

    def current(self, layer: int, acc: np.ndarray) -> np.ndarray:
        """ADC accumulation -> membrane current in LSBs: ``floor((acc * MUL + 2^(SH-1)) >> SH)``,
        saturated to the LIF array's ``in_w``-bit input (as the scaling stage in RTL must)."""
        sh = self.cfg.scale_shift
        cur = (acc.astype(np.int64) * self.mul[layer] + (1 << (sh - 1))) >> sh
        return saturate(cur, self.cfg.in_w, signed=True)

    # -- evaluation ----------------------------------------------------------------------------
    def run(
        self,
        frames: torch.Tensor,
        sample_ids: np.ndarray | None = None,
        chunk: int = 32,
        record: dict | None = None,
    ) -> PrimeHwResult:
        """Evaluate binary frames ``[N, T, 2, 34, 34]``; ``sample_ids`` key the read noise.

        ``record`` (one sample only): filled with the integer crossbar inputs,
        ``record[(t, layer)]`` = int64 ``[positions, fan_in]`` (what the top's router emits).
        """
        n = frames.shape[0]
        if record is not None and n != 1:
            raise ValueError(f"record needs exactly one sample, got {n}")
        ids = np.arange(n) if sample_ids is None else np.asarray(sample_ids)
        parts = [
            self._run_chunk(frames[i : i + chunk], ids[i : i + chunk], record)
            for i in range(0, n, chunk)
        ]
        counts: dict[str, int] = {}
        for p in parts:
            for k, v in p.counts.items():
                counts[k] = counts.get(k, 0) + v
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts])  # noqa: E731
        return PrimeHwResult(
            cat("pred"), cat("stop_step"), cat("pred_all"), cat("out_mem"), cat("spikes"), counts
        )

    def _run_chunk(
        self, frames: torch.Tensor, ids: np.ndarray, record: dict | None = None
    ) -> PrimeHwResult:
        from rramcim.golden.early_stop import confidence_step
        from rramcim.golden.lif_array import integrator_step, lif_step

        g0, g1 = CONV_LAYERS
        B, T = frames.shape[0], frames.shape[1]
        es = self._es_base.replace(t_max=max(T, 1), t_steps=T).with_float(
            alpha=self.cfg.alpha, theta=self.cfg.theta
        )
        p0, p1 = g0.size_out**2, g1.size_out**2
        vid0 = torch.from_numpy((ids[:, None] * p0 + np.arange(p0)).reshape(-1)).long()
        vid1 = torch.from_numpy((ids[:, None] * p1 + np.arange(p1)).reshape(-1)).long()
        vid2 = torch.from_numpy(ids.astype(np.int64))
        u0 = np.zeros((B, 12 * p0), np.int64)
        s0 = np.zeros_like(u0)
        u1 = np.zeros((B, 64 * p1), np.int64)
        s1 = np.zeros_like(u1)
        u2 = np.zeros((B, 10), np.int64)
        S = np.zeros((B, 10), np.int64)
        out_mem = np.zeros((B, T, 10), np.int64)
        spikes = np.zeros((B, T, 2), np.int64)
        stop = np.zeros(B, np.int64)
        pred = np.zeros(B, np.int64)
        before = self._stats()
        for t in range(T):
            x0 = _patches(frames[:, t], g0.k, g0.pad).round().long().numpy()
            if record is not None:
                record[(t, 0)] = x0
            acc = self.arrays[0].mvm(x0, 1, False, epoch=t, vector_ids=vid0)  # [B*P0, 12]
            cur = self.current(0, acc).reshape(B, p0, 12).transpose(0, 2, 1).reshape(B, -1)
            u0, s0, _ = lif_step(u0, s0, cur, self.lif)
            sp0 = torch.from_numpy(s0.reshape(B, 12, g0.size_out, g0.size_out).astype(np.float32))
            c1 = torch.nn.functional.avg_pool2d(sp0, 2) * POOL_DIV
            x1 = _patches(c1, g1.k, g1.pad).round().long().numpy()
            if record is not None:
                record[(t, 1)] = x1
            acc = self.arrays[1].mvm(x1, 3, False, epoch=t, vector_ids=vid1)  # [B*P1, 64]
            cur = self.current(1, acc).reshape(B, p1, 64).transpose(0, 2, 1).reshape(B, -1)
            u1, s1, _ = lif_step(u1, s1, cur, self.lif)
            sp1 = torch.from_numpy(s1.reshape(B, 64, g1.size_out, g1.size_out).astype(np.float32))
            x2 = (
                (torch.nn.functional.avg_pool2d(sp1, 2) * POOL_DIV)
                .round()
                .long()
                .flatten(1)
                .numpy()
            )
            if record is not None:
                record[(t, 2)] = x2
            acc = self.arrays[2].mvm(x2, 3, False, epoch=t, vector_ids=vid2)  # [B, 10]
            u2, _ = integrator_step(u2, self.current(2, acc), self.integ)
            out_mem[:, t] = u2
            spikes[:, t, 0] = s0.sum(1)
            spikes[:, t, 1] = s1.sum(1)
            S = S + u2
            st, am, _ = confidence_step(S, t + 1, es)
            new = (stop == 0) & (np.asarray(st, bool) | (t == T - 1))
            stop[new] = t + 1
            pred[new] = np.asarray(am)[new]
        pred_all = S.argmax(1)
        after = self._stats()
        counts = {k: after[k] - before[k] for k in after}
        return PrimeHwResult(pred, stop, pred_all, out_mem, spikes, counts)
