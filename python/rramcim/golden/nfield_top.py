"""Bit-exact hardware model of the neural-field datapath: the contract of ``cim_nfield_top``.

The future RTL top chains the Gaussian encoder macro, the Fourier encoder (``cim_fourier_enc``),
one HAQ-programmed MLP macro per layer with its read path (``cim_xbar_ctrl`` + ``cim_adc_if``,
:mod:`rramcim.golden.xbar_path`), the HAQ combiner (``cim_haq_combine``) and a SIREN activation
(``cim_fourier_enc`` again, sine only). This module holds the integer pipeline and the
constants; :mod:`rramcim.apps.nfield.hw` maps a trained :class:`~rramcim.nn.field.NeuralField`
onto macros and computes the constants. Everything here is normative for the RTL top.

Contract (normative)
--------------------

Formats: ``round_shift(v, s) = floor((v + 2**(s-1)) / 2**s)`` (half up; ``v`` for s = 0),
``sat_w`` clamps to the signed w-bit range (every clamp is counted), ``wrap_w`` keeps the low
w bits as two's complement (an exact whole-turn wrap of a phase; not a saturation).

1. **Coordinates.** ``x in [0, 1)`` enters as the unsigned ``COORD_BITS`` code
   ``c = floor(x * 2**COORD_BITS)`` (pixel centres of a 2**(COORD_BITS-1) grid are exact; a
   coordinate outside [0, 1) is rejected).
2. **Encoder macro** (macro id 0): ``rows = max(n_in, 2)`` (unused rows are driven with 0),
   ``cols = n_freq`` padded to a multiple of
   ``n_adc``; G+ of (row i, col j) is the formed conductance that defines ``B[j, i]``, G- the
   mean reference. Read path: ``tiles = 1``, ``groups = cols / n_adc``, ``in_bits =
   COORD_BITS``, unsigned -> ``acc_j`` (``COORD_BITS + ENC_ADC_BITS`` bits signed).
3. **Encoder phase**: ``P_j = wrap_PHASE_W(round_shift(acc_j * ENC_GAIN, ENC_SHIFT))``, a phase
   in units of ``2**-PHASE_F`` turn. ``ENC_GAIN`` (unsigned ``GAIN_BITS`` bits, in
   [2**(GAIN_BITS-2), 2**(GAIN_BITS-1)]) and ``ENC_SHIFT`` are CSR constants:
   :func:`quantize_gain` of ``sigma g_step 2**PHASE_F / (std_G code_per_unit 2**COORD_BITS)``
   (the nominal calibration of the macro: mean ADC gain, no noise; ``sigma`` = std of B,
   ``std_G`` = unbiased std of the formed conductances).
4. **sin/cos**: ``fourier_enc(P)`` with ``PHASE_W, PHASE_F, OUT_W = SIN_W, ITERS`` gives
   Q1.(SIN_W-1) codes; a layer input is ``sat_IN_BITS(round_shift(v, SIN_W - IN_BITS))``
   (``+1.0`` rounds to ``2**(IN_BITS-1)`` and clamps to the largest code: counted in
   ``act_clamp`` per stage; this one-LSB clamp is expected, not an error).
5. **Layer inputs** are signed Q1.(L-1) codes, ``L = IN_BITS`` for layers >= 1 and
   ``L0 = max(IN_BITS, COORD_BITS + 1)`` for layer 0, whose inputs are ``[c, sin, cos, bias]``
   with ``c << (L0 - 1 - COORD_BITS)`` (the coordinate exactly, never saturating) and the
   sin/cos codes ``<< (L0 - IN_BITS)``. The last row of every layer is the bias row driven with
   ``2**(L-2)`` (= 0.5), so the mapped matrix is ``[W | 2b]``.
6. **MLP macro** of layer l (macro id l+1): ``rows = in_l + 1``; weight (j, i) is cell k on
   G+ of column ``j*N_CELLS + k``, row i; every G- is a RESET cell; column ``n_out*N_CELLS``
   is the reference column (every G+ SET). Each macro has ``min(n_adc, columns needed)`` ADC
   channels and its columns are padded (RESET cells) to a multiple of that.
   Read path: ``tiles = 1``, ``groups = cols / n_adc``, ``in_bits = L``, signed ->
   ``acc`` (``L + MLP_ADC_BITS`` bits signed).
7. **Pre-shift**: cim_haq_combine accepts codes of at most 16 bits, so every accumulator is
   ``a = round_shift(acc, PRE_l)`` with ``PRE_l = max(0, L + MLP_ADC_BITS - 16)`` (layer 0 of
   the defaults: 17 -> 16 bits, PRE = 1) and the combiner runs with ``ADC_BITS = A_l =
   L + MLP_ADC_BITS - PRE_l``.
8. **Combination**: for output j, ``y_j = haq_combine(a[j*N .. j*N+N-1], offset)`` with
   ``offset = (a_ref * sum_k R_k + 1) >> 1`` (golden ``offset_for_ref`` vectorised), ``RATIO_Q8
   = 384``, ``RADIX_F = COMB_RADIX_F``, ``OUT_SHIFT = COMB_OUT_SHIFT``, ``OFF_W = A + RADIX_F +
   1`` and ``OUT_W = A + RADIX_F + 3 - OUT_SHIFT``: neither can overflow (|a| < 2**(A-1),
   sum R_k < 2.97 * 2**RADIX_F at ratio 1.5), saturation is still counted.
   ``y_j * 2**(OUT_SHIFT - RADIX_F + PRE)`` approximates ``cpc * sum_i x_i w~_ji`` with
   ``cpc`` the ADC codes of one nominal SET cell driven by input LSB and ``w~ = [W|2b]/M_l``,
   ``M_l = max |[W | 2b]|``.
9. **Activation** (every layer but the last): ``P = wrap_PHASE_W(round_shift(y *
   ACT_GAIN_l, ACT_SHIFT_l))`` with (:func:`quantize_gain`) ``w0 * M_l *
   2**(OUT_SHIFT - RADIX_F + PRE_l + PHASE_F) / (2 pi cpc_l 2**(L-1))`` -> ``fourier_enc``
   sine -> the next layer's input code as in 4.
10. **Output** (last layer, linear): ``out = sat_OUT_W(round_shift(y * OUT_GAIN,
    OUT_GSHIFT))``, a Q(OUT_W-OUT_FRAC).OUT_FRAC code: value = ``out / 2**OUT_FRAC`` image
    units (default Q2.14, range [-2, 2)).
11. **Read numbering**: each macro has its own read counter after reset (epoch e); vector v
    (coordinates in order, from the first coordinate after reset) starts at read
    ``v * T*B*G`` of that macro, so a batch that starts at coordinate v0 passes
    ``first_read = v0 * reads_per_vector`` to every macro (batch-split invariant).

Counters (nothing saturates silently): per stage, ADC conversions outside the code range
(``adc_clipped``) and extreme codes (``adc_sat_flags``), pre-shift clamps, combiner
saturations, sin/cos saturations of ``fourier_enc``, input clamps of the IN_BITS rounding and
output clamps.

Pure Python + numpy/torch; no cocotb import.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from rramcim.analog.crossbar import CrossbarMacro
from rramcim.fixedpoint import round_half_up_shift, wrap
from rramcim.golden.fourier_enc import FourierEncConfig, fourier_enc
from rramcim.golden.haq_combine import HaqCombineConfig, haq_combine
from rramcim.golden.haq_quant import HaqQuantParams
from rramcim.golden.xbar_path import ReadPathConfig, run_read_path

#: Widest code cim_haq_combine accepts (its ADC_BITS range ends at 16).
COMBINE_MAX_BITS = 16

#: Reference modes of the encoder's G- cells.
ENC_REF_MODES = ("programmed", "exact")


def _chk_int(name: str, v: object, lo: int, hi: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or not lo <= int(v) <= hi:
        raise ValueError(f"NfieldHwConfig.{name} = {v!r} is outside [{lo}, {hi}]")


def _chk_float(name: str, v: object, lo: float, hi: float) -> None:
    if not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
        raise ValueError(f"NfieldHwConfig.{name} = {v!r} is outside [{lo}, {hi}]")


@dataclass(frozen=True)
class NfieldHwConfig:
    """Parameters of the neural-field hardware (HDL parameters and mapping choices).

    Attributes:
        coord_bits: coordinate code width (``COORD_BITS``), unsigned, [4, 15].
        in_bits: layer input width (``IN_BITS``), signed Q1.(IN_BITS-1), [4, 15].
        n_cells: binary cells per weight (``N_CELLS``), [2, 16].
        enc_adc_bits: ADC resolution of the encoder macro, [4, 16] bits.
        mlp_adc_bits: ADC resolution of the MLP macros, [4, 16] bits.
        n_adc: ADC channels per macro (column-mux width), [1, 64].
        cordic_iters: CORDIC iterations of cim_fourier_enc (``ITERS``), [8, 20].
        sin_w: sin/cos output width of cim_fourier_enc (``OUT_W``), [8, 24], >= in_bits.
        phase_w: phase width (``PHASE_W``), [8, 32].
        phase_f: phase fraction bits (``PHASE_F``, turns), [4, phase_w].
        gain_bits: width of the unsigned gain constants ENC_GAIN/ACT_GAIN/OUT_GAIN, [8, 24].
        comb_radix_f: ``RADIX_F`` of cim_haq_combine, [4, 20].
        comb_out_shift: ``OUT_SHIFT`` of cim_haq_combine, [0, comb_radix_f].
        ratio_q8: HAQ radix in Q8, [288, 512] (384 = 1.5).
        tgt_w: HAQ target width (``TGT_W`` of cim_haq_quant), [4, 16].
        haq_radix_f: ``RADIX_F`` of cim_haq_quant, [tgt_w - 2, 24].
        verify_bits: verify ADC resolution of the macros, [4, 16] bits.
        out_w: output code width, [8, 32]; out_frac: its fraction bits, [1, out_w - 1].
        enc_fs_margin: encoder ADC full scale / largest possible column current, [0.1, 4].
        mlp_fs_margin: MLP ADC full scale / largest calibration column current, [0.1, 4].
        n_cal: calibration coordinates of the MLP ADC full scale, [1, 65536].
        enc_ref: ``"programmed"`` (G- cells programmed to the mean formed conductance with the
            device's level quantisation and programming noise) or ``"exact"`` (a trimmed
            reference: G- = the mean on the state grid, no noise).
        compensate: shift each HAQ target by the measured G- and reference cells
            (:func:`rramcim.apps.nfield.hw.target_compensation`).
        device: device preset of every macro.
        encoder_seed: seed of :func:`rramcim.nn.field.formed_conductances_S` that made B.
    """

    coord_bits: int = 8
    in_bits: int = 8
    n_cells: int = 12
    enc_adc_bits: int = 12
    mlp_adc_bits: int = 8
    n_adc: int = 32
    cordic_iters: int = 12
    sin_w: int = 12
    phase_w: int = 24
    phase_f: int = 16
    gain_bits: int = 16
    comb_radix_f: int = 12
    comb_out_shift: int = 10
    ratio_q8: int = 384
    tgt_w: int = 12
    haq_radix_f: int = 16
    verify_bits: int = 12
    out_w: int = 16
    out_frac: int = 14
    enc_fs_margin: float = 1.0
    mlp_fs_margin: float = 1.25
    n_cal: int = 256
    enc_ref: str = "programmed"
    compensate: bool = True
    device: str = "rram_40nm"
    encoder_seed: int = 0

    def __post_init__(self) -> None:
        _chk_int("coord_bits", self.coord_bits, 4, 15)
        _chk_int("in_bits", self.in_bits, 4, 15)
        _chk_int("n_cells", self.n_cells, 2, 16)
        _chk_int("enc_adc_bits", self.enc_adc_bits, 4, 16)
        _chk_int("mlp_adc_bits", self.mlp_adc_bits, 4, 16)
        _chk_int("n_adc", self.n_adc, 1, 64)
        _chk_int("cordic_iters", self.cordic_iters, 8, 20)
        _chk_int("sin_w", self.sin_w, max(8, self.in_bits), 24)
        _chk_int("phase_w", self.phase_w, 8, 32)
        _chk_int("phase_f", self.phase_f, 4, self.phase_w)
        _chk_int("gain_bits", self.gain_bits, 8, 24)
        _chk_int("comb_radix_f", self.comb_radix_f, 4, 20)
        _chk_int("comb_out_shift", self.comb_out_shift, 0, self.comb_radix_f)
        _chk_int("ratio_q8", self.ratio_q8, 288, 512)
        _chk_int("tgt_w", self.tgt_w, 4, 16)
        _chk_int("haq_radix_f", self.haq_radix_f, self.tgt_w - 2, 24)
        _chk_int("verify_bits", self.verify_bits, 4, 16)
        _chk_int("out_w", self.out_w, 8, 32)
        _chk_int("out_frac", self.out_frac, 1, self.out_w - 1)
        _chk_float("enc_fs_margin", self.enc_fs_margin, 0.1, 4.0)
        _chk_float("mlp_fs_margin", self.mlp_fs_margin, 0.1, 4.0)
        _chk_int("n_cal", self.n_cal, 1, 65536)
        if self.enc_ref not in ENC_REF_MODES:
            raise ValueError(
                f"NfieldHwConfig.enc_ref = {self.enc_ref!r} is not one of {ENC_REF_MODES}"
            )
        if not isinstance(self.compensate, bool):
            raise ValueError(f"NfieldHwConfig.compensate = {self.compensate!r} must be a bool")
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(f"NfieldHwConfig.device = {self.device!r} must be a preset name")
        _chk_int("encoder_seed", self.encoder_seed, -(2**63), 2**63 - 1)
        if self.l0_bits > 16:
            raise ValueError(
                f"NfieldHwConfig.coord_bits = {self.coord_bits}: layer 0 needs "
                f"max(in_bits, coord_bits + 1) = {self.l0_bits} > 16 input bits"
            )

    @property
    def l0_bits(self) -> int:
        """Input width of layer 0: ``max(IN_BITS, COORD_BITS + 1)``."""
        return max(self.in_bits, self.coord_bits + 1)

    def layer_bits(self, layer: int) -> int:
        """Input width ``L`` of a layer."""
        return self.l0_bits if layer == 0 else self.in_bits

    def fourier(self) -> FourierEncConfig:
        """The cim_fourier_enc instance parameters."""
        return FourierEncConfig(
            phase_w=self.phase_w, phase_f=self.phase_f, out_w=self.sin_w, iters=self.cordic_iters
        )

    def haq_params(self) -> HaqQuantParams:
        """The cim_haq_quant parameters of the MLP macros (12-bit row / column addresses)."""
        return HaqQuantParams(
            n_cells=self.n_cells,
            tgt_w=self.tgt_w,
            verify_bits=self.verify_bits,
            radix_f=self.haq_radix_f,
            ratio_q8=self.ratio_q8,
            row_w=12,
            col_w=12,
        )

    def replace(self, **changes: object) -> NfieldHwConfig:
        """A copy with fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def quantize_gain(g: float, gain_bits: int) -> tuple[int, int]:
    """``(GAIN, SHIFT)`` with ``GAIN / 2**SHIFT ~ g``: ``SHIFT = gain_bits - 2 -
    floor(log2 g)``, ``GAIN = floor(g 2**SHIFT + 1/2)`` (so ``2**(gain_bits-2) <= GAIN <=
    2**(gain_bits-1)``, relative error <= 2**-(gain_bits-1)).

    Raises:
        ValueError: ``g`` not finite and > 0, or a negative shift (gain too large).
    """
    if not (math.isfinite(g) and g > 0):
        raise ValueError(f"quantize_gain: gain {g!r} must be finite and > 0")
    shift = gain_bits - 2 - math.floor(math.log2(g))
    if shift < 0:
        raise ValueError(f"quantize_gain: gain {g!r} needs a negative shift ({shift})")
    return int(math.floor(g * 2.0**shift + 0.5)), shift


@dataclass(frozen=True)
class LayerConsts:
    """Constants of one MLP layer (CSR values / HDL parameters of its slice of the top).

    Attributes:
        n_in, n_out: matrix shape (without the bias row).
        in_bits: input width L.
        bias_code: the bias row's constant input ``2**(L-2)``.
        pre_shift: PRE (contract item 7).
        comb: the cim_haq_combine parameters.
        gain, shift: ACT_GAIN/ACT_SHIFT (hidden layers) or OUT_GAIN/OUT_GSHIFT (last layer).
        last: linear output layer.
        w_max: M_l, the normalisation of ``[W | 2b]``.
        cpc: nominal ADC codes of one SET cell per input LSB.
    """

    n_in: int
    n_out: int
    in_bits: int
    bias_code: int
    pre_shift: int
    comb: HaqCombineConfig
    gain: int
    shift: int
    last: bool
    w_max: float
    cpc: float

    @property
    def ref_col(self) -> int:
        """The reference column."""
        return self.n_out * self.comb.n_cells

    @property
    def rows(self) -> int:
        """Macro rows (inputs + the bias row)."""
        return self.n_in + 1


@dataclass(frozen=True)
class NfieldConsts:
    """Every constant of the datapath (what the mapper writes into the top's CSRs).

    Attributes:
        cfg: the configuration.
        n_in, n_freq: encoder shape.
        enc_gain, enc_shift: ENC_GAIN / ENC_SHIFT.
        layers: per-layer constants in evaluation order.
    """

    cfg: NfieldHwConfig
    n_in: int
    n_freq: int
    enc_gain: int
    enc_shift: int
    layers: tuple[LayerConsts, ...]


def layer_combine_config(cfg: NfieldHwConfig, in_bits: int) -> tuple[HaqCombineConfig, int]:
    """cim_haq_combine parameters of a layer with input width ``in_bits`` and the pre-shift."""
    acc_bits = in_bits + cfg.mlp_adc_bits
    pre = max(0, acc_bits - COMBINE_MAX_BITS)
    a = acc_bits - pre
    rf = cfg.comb_radix_f
    comb = HaqCombineConfig(
        n_cells=cfg.n_cells,
        adc_bits=a,
        ratio_q8=cfg.ratio_q8,
        radix_f=rf,
        off_w=min(48, a + rf + 1),
        out_w=min(32, a + rf + 3 - cfg.comb_out_shift),
        out_shift=cfg.comb_out_shift,
    )
    return comb, pre


def input_code(v: np.ndarray, cfg: NfieldHwConfig) -> tuple[np.ndarray, int]:
    """A SIN_W-bit sin/cos code rounded to an IN_BITS layer input; returns (code, clamps)."""
    r = round_half_up_shift(np.asarray(v, dtype=np.int64), cfg.sin_w - cfg.in_bits)
    hi, lo = (1 << (cfg.in_bits - 1)) - 1, -(1 << (cfg.in_bits - 1))
    n = int(np.count_nonzero((r > hi) | (r < lo)))
    return np.clip(r, lo, hi), n


def gain_phase(v: np.ndarray, gain: int, shift: int, cfg: NfieldHwConfig) -> np.ndarray:
    """``wrap_PHASE_W(round_shift(v * gain, shift))`` (contract items 3 and 9)."""
    p = round_half_up_shift(np.asarray(v, dtype=np.int64) * int(gain), shift)
    return wrap(p, cfg.phase_w, True)


def coord_codes(x: np.ndarray, coord_bits: int) -> np.ndarray:
    """``floor(x 2**COORD_BITS)`` of coordinates in [0, 1).

    Raises:
        ValueError: a coordinate that is not finite or outside [0, 1).
    """
    a = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(a) | (a < 0) | (a >= 1)
    if bad.any():
        raise ValueError(f"coordinates: {a[bad].ravel()[0]!r} is outside [0, 1)")
    return np.floor(a * float(1 << coord_bits)).astype(np.int64)


def combine_layer(acc: np.ndarray, lc: LayerConsts) -> tuple[np.ndarray, dict[str, int]]:
    """Pre-shift + cim_haq_combine of one layer's accumulators ``[V, cols]`` -> ``y [V, n_out]``."""
    n = lc.comb.n_cells
    a = round_half_up_shift(acc[:, : lc.ref_col + 1].astype(np.int64), lc.pre_shift)
    lo, hi = lc.comb.code_min, lc.comb.code_max
    n_pre = int(np.count_nonzero((a < lo) | (a > hi)))
    a = np.clip(a, lo, hi)
    codes = a[:, : lc.ref_col].reshape(a.shape[0], lc.n_out, n)
    off = (a[:, lc.ref_col] * sum(lc.comb.radix) + 1) >> 1
    n_off = int(np.count_nonzero((off < lc.comb.off_min) | (off > lc.comb.off_max)))
    off = np.clip(off, lc.comb.off_min, lc.comb.off_max)
    y, sat = haq_combine(codes, off[:, None], lc.comb)
    return y, {"pre_clamp": n_pre, "offset_clamp": n_off, "comb_sat": int(sat.sum())}


@dataclass
class NfieldResult:
    """Outputs of :func:`run_nfield`.

    Attributes:
        out: int64 ``[V, n_out]`` output codes (Q(out_w-out_frac).out_frac).
        value: float64 ``[V, n_out]``, ``out / 2**out_frac`` (image units).
        counters: ``{stage: {counter: count}}``; stages ``enc``, ``layer0`` ...
        stages: with ``keep``: intermediate codes, e.g. ``enc_acc``, ``enc_phase``,
            ``enc_sin``, ``enc_cos``, ``in0``, ``acc0``, ``y0``, ``phase0``, ``in1``, ...
    """

    out: np.ndarray
    value: np.ndarray
    counters: dict[str, dict[str, int]]
    stages: dict[str, np.ndarray] = field(default_factory=dict)

    def total(self, name: str) -> int:
        """Sum of one counter over every stage."""
        return sum(c.get(name, 0) for c in self.counters.values())


def run_nfield(
    enc_macro: CrossbarMacro,
    macros: list[CrossbarMacro],
    k: NfieldConsts,
    codes: np.ndarray,
    first_vector: int = 0,
    epoch: int = 0,
    keep: bool = False,
) -> NfieldResult:
    """Evaluate coordinate codes ``[V, n_in]`` (unsigned COORD_BITS) through the datapath.

    Args:
        enc_macro, macros: the programmed encoder and layer macros (the same objects a
            co-simulation drives).
        k: the constants.
        codes: coordinate codes, e.g. :func:`coord_codes`.
        first_vector: number of the first coordinate since the last reset (read numbering).
        epoch: reset epoch.
        keep: keep every intermediate code in ``stages``.
    """
    cfg = k.cfg
    c = np.asarray(codes, dtype=np.int64)
    if c.ndim != 2 or c.shape[1] != k.n_in:
        raise ValueError(f"run_nfield: codes must be [V, {k.n_in}], got {c.shape}")
    if c.size and (int(c.min()) < 0 or int(c.max()) >= (1 << cfg.coord_bits)):
        raise ValueError(f"run_nfield: a coordinate code is outside [0, 2**{cfg.coord_bits})")
    fe = cfg.fourier()
    counters: dict[str, dict[str, int]] = {}
    st: dict[str, np.ndarray] = {}
    # encoder
    rp = ReadPathConfig(groups=enc_macro.cfg.n_groups, in_bits=cfg.coord_bits, signed=False)
    ce = np.pad(c, ((0, 0), (0, enc_macro.cfg.rows - k.n_in)))
    r = run_read_path(enc_macro, ce, rp, epoch=epoch, first_read=first_vector * rp.reads_per_vector)
    acc = r.acc[:, : k.n_freq]
    ph = gain_phase(acc, k.enc_gain, k.enc_shift, cfg)
    s, co, ss, sc = fourier_enc(ph, fe)
    si, n1 = input_code(s, cfg)
    ci, n2 = input_code(co, cfg)
    counters["enc"] = {
        "adc_clipped": r.n_clipped,
        "adc_sat_flags": r.n_sat_flags,
        "cordic_sat": int(ss.sum() + sc.sum()),
        "act_clamp": n1 + n2,
    }
    if keep:
        st.update(enc_acc=r.acc, enc_phase=ph, enc_sin=s, enc_cos=co)
    l0 = cfg.l0_bits
    x = np.concatenate(
        [c << (l0 - 1 - cfg.coord_bits), si << (l0 - cfg.in_bits), ci << (l0 - cfg.in_bits)],
        axis=1,
    )
    y = x
    for li, (lc, m) in enumerate(zip(k.layers, macros, strict=True)):
        xin = np.concatenate([x, np.full((x.shape[0], 1), lc.bias_code, dtype=np.int64)], axis=1)
        rp = ReadPathConfig(groups=m.cfg.n_groups, in_bits=lc.in_bits, signed=True)
        r = run_read_path(m, xin, rp, epoch=epoch, first_read=first_vector * rp.reads_per_vector)
        y, cnt = combine_layer(r.acc, lc)
        cnt = {"adc_clipped": r.n_clipped, "adc_sat_flags": r.n_sat_flags, **cnt}
        if keep:
            st[f"in{li}"] = xin
            st[f"acc{li}"] = r.acc
            st[f"y{li}"] = y
        if not lc.last:
            ph = gain_phase(y, lc.gain, lc.shift, cfg)
            s, _, ss, _ = fourier_enc(ph, fe)
            x, n1 = input_code(s, cfg)
            cnt.update(cordic_sat=int(ss.sum()), act_clamp=n1)
            if keep:
                st[f"phase{li}"] = ph
        counters[f"layer{li}"] = cnt
    last = k.layers[-1]
    o = round_half_up_shift(y * int(last.gain), last.shift)
    hi, lo = (1 << (cfg.out_w - 1)) - 1, -(1 << (cfg.out_w - 1))
    counters["out"] = {"out_sat": int(np.count_nonzero((o > hi) | (o < lo)))}
    o = np.clip(o, lo, hi)
    return NfieldResult(out=o, value=o / float(1 << cfg.out_frac), counters=counters, stages=st)
