"""Bit-exact reference of ``rtl/cim_early_stop.sv``: PRIME's input-aware early stop.

Two rules (PAPERS.md §1.5), selected per sample by ``cfg_rule_i``:

**Classification (softmax confidence), rule 0.** At step ``t = 1..T`` the output layer delivers
the membranes ``U_j(t)`` of the ``n_classes`` output integrators (``u_w``-bit signed, ``frac``
fractional bits). The float rule is ``out = mean_{tau<=t} U(tau)``, ``p = softmax(out/alpha)``,
stop when ``max p > theta``, predict ``argmax out`` (lowest index on ties). Exact integer form
used here and in the RTL:

* ``S_j = sum_{tau<=t} U_j(tau)`` (``s_w`` bits signed, no overflow possible);
  ``c = argmax_j S_j`` (lowest index on ties), ``D_j = S_c - S_j >= 0``.
* ``max p > theta  <=>  sum_j exp(-x_j) < 1/theta`` with ``x_j = D_j / (t * alpha * 2**frac)``.
  The sum is evaluated in base 2: ``exp(-x) = 2**(-y)``, ``y = x / ln 2``.
* ``alpha`` enters as the run-time code ``A = round(alpha * ln2 * 2**12)`` (``cfg_alpha_ln2_i``,
  16 bits unsigned, 1..65535, i.e. alpha up to 23.08), so no logarithm is taken in hardware.
* ``y`` in unsigned fixed point with ``Y_FRAC = 8`` fractional bits, rounded to nearest, saturated
  to ``Q_W = 13`` bits (``y < 32``)::

      num = D_j * 2**max(20 - frac, 0)          # 20 = Y_FRAC + ALPHA_FRAC
      den = t * A * 2**max(frac - 20, 0)
      q_j = min(floor((2*num + den) / (2*den)), 2**13 - 1)     # = round(num/den), half up

  (the RTL computes ``q_j`` with a restoring divider, one quotient bit per cycle).
* ``term_j = EXP2_LUT[q_j mod 256] >> (q_j >> 8)`` with
  ``EXP2_LUT[f] = round(2**16 * 2**(-f/256))`` (256 entries, 17 bits, ``EXP2_LUT[0] = 2**16``);
  so ``term_j ~= 2**16 * exp(-x_j)``, exactly ``2**16`` for the winning class and 0 once
  ``y >= 17`` (saturation: the true term is then below ``2**-17``).
* confidence sum ``conf = sum_j term_j`` (``conf_w = 17 + clog2(n_classes)`` bits); the rule
  fires when ``conf < I`` with the run-time code ``I = round(2**16 / theta)``
  (``cfg_inv_theta_i``, ``conf_w`` bits).

Error budget against the float rule on the same integer sums (:func:`decision_margin`): per
term, a relative ``2**(1/512) - 1 = 0.136 %`` from the rounding of ``y``, ``1.5 * 2**-16``
absolute from the table and the shift, and at most ``e**-1 * |A / (alpha*ln2*2**12) - 1|``
from the code of ``alpha``; so the fixed-point and float decisions can differ only when
``max p`` is within
``theta * 0.00136 + theta**2 * (n_classes * (1.5*2**-16 + 0.37*da) + 2**-17)`` of ``theta``
(``da`` = that relative error of alpha). Measured on 9.6 M random decisions (2/10/64 classes,
alpha 0.5..5, theta 0.5..0.95, Q5.10 logits over 10 steps): 2.8e-4 of them differ from the
float rule, all with ``|max p - theta| <= 4e-4`` (at most half the bound);
``tests/test_golden_early_stop.py`` checks the bound on random logits.

**Convergence (inpainting), rule 1.** At step ``t`` the datapath streams the reconstruction
``x_t`` (``n_pix`` pixels, ``pix_w``-bit signed). Index convention (1-based ``t``):
``m_t = sum_pixels |x_t - x_{t-1}|`` for ``t >= 2`` (``m_w = pix_w + clog2(n_pix)`` bits, in
pixel LSBs); ``m_1`` does not exist and counts as ``+inf``. Stop at step ``t`` when

    ``t >= 3  and  m_t < m_{t-1}  and  (t == 3 or m_{t-1} < m_{t-2})  and  m_t < thr``

i.e. ``m_t < m_{t-1} < m_{t-2}`` with ``m_1 = +inf`` (at ``t = 3`` the middle comparison
``m_2 < m_1`` always holds). The paper's code counts steps from 0 and requires ``t > 1``:
its ``t_paper = t - 1 > 1`` is our ``t >= 3``, the first step at which two real metrics
(``m_2, m_3``) exist, with the never-computed first metric taken as infinite. ``thr`` is the
integer ``cfg_conv_thr_i`` in pixel LSBs; the float code's ``m/100 < thr`` becomes
``conv_thr ~= ceil(thr * 100 * 2**pix_frac)`` (exactly: :func:`conv_thr_code`). The decision's
metric at ``t = 1`` is the all-ones word of ``met_w`` bits (no metric).

**Both rules.** The sample ends at the first step whose rule fires (only with ``enable``) or at
``t = t_steps`` (forced stop); the decision beat of every step carries ``(stop, t, class,
metric)``; ``class`` is 0 for rule 1.

Everything is vectorised over a batch (first axis). Pure integer numpy; no cocotb import.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from rramcim.fixedpoint import clog2

#: Fractional bits of ``y = x / ln 2`` (the exponent argument), i.e. table resolution 1/256.
Y_FRAC = 8
#: Integer bits of ``y``; ``q`` saturates at ``2**Q_W - 1`` (``y < 32``).
Y_INT_W = 5
#: Width of the exponent-argument code ``q``.
Q_W = Y_FRAC + Y_INT_W
#: Fractional bits of the ``alpha * ln 2`` code (``cfg_alpha_ln2_i``).
ALPHA_FRAC = 12
#: Width of the ``alpha * ln 2`` code.
ALPHA_W = 16
#: Fractional bits of the exponential terms and of the ``1/theta`` code (1.0 = 2**16).
E_FRAC = 16
#: ``EXP2_LUT[f] = round(2**E_FRAC * 2**(-f / 2**Y_FRAC))``, f = 0 .. 255 (17-bit entries).
EXP2_LUT: np.ndarray = np.round(
    np.exp2(E_FRAC - np.arange(1 << Y_FRAC, dtype=np.float64) / (1 << Y_FRAC))
).astype(np.int64)
EXP2_LUT.setflags(write=False)
#: Width of an ``EXP2_LUT`` entry.
LUT_W = E_FRAC + 1
#: Largest S_W the golden model supports (keeps every intermediate inside int64).
S_W_MAX = 40

#: Legal ranges of the HDL parameters (inclusive).
N_CLASSES_RANGE = (2, 64)
U_W_RANGE = (8, 32)
T_MAX_RANGE = (1, 255)
N_PIX_RANGE = (1, 4096)
PIX_W_RANGE = (2, 16)


class EarlyStopRule(enum.IntEnum):
    """Value of ``cfg_rule_i``."""

    CLASSIFICATION = 0
    CONVERGENCE = 1


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} = {v} is outside [{lo}, {hi}]")
    return v


def sum_width_min(u_w: int, t_max: int) -> int:
    """Smallest legal ``S_W``: ``u_w + clog2(t_max)`` bits hold any sum of ``t_max`` membranes."""
    return u_w + clog2(t_max)


def conf_width(n_classes: int) -> int:
    """Width of the confidence sum and of ``cfg_inv_theta_i``: ``17 + clog2(n_classes)``."""
    return E_FRAC + 1 + clog2(n_classes)


def metric_width(pix_w: int, n_pix: int) -> int:
    """Width of the convergence metric and of ``cfg_conv_thr_i``: ``pix_w + clog2(n_pix)``."""
    return pix_w + clog2(n_pix)


# ------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------


def alpha_ln2_code(alpha: float) -> int:
    """``cfg_alpha_ln2_i`` for softmax temperature ``alpha``: ``round(alpha * ln2 * 2**12)``.

    Args:
        alpha: temperature (dimensionless), such that the code is 1 .. 65535
            (about 1.8e-4 .. 23.08).

    Raises:
        ValueError: alpha not finite or its code out of range.
    """
    if not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha = {alpha!r} must be finite and > 0")
    code = round(alpha * math.log(2.0) * (1 << ALPHA_FRAC))
    if not 1 <= code < (1 << ALPHA_W):
        raise ValueError(
            f"alpha = {alpha} gives cfg_alpha_ln2 code {code}, outside 1..{(1 << ALPHA_W) - 1}"
        )
    return code


def alpha_from_code(code: int) -> float:
    """Temperature the hardware actually uses for ``cfg_alpha_ln2_i = code``."""
    code = _check_int("alpha_ln2", code, 1, (1 << ALPHA_W) - 1)
    return code / (1 << ALPHA_FRAC) / math.log(2.0)


def inv_theta_code(theta: float, n_classes: int) -> int:
    """``cfg_inv_theta_i`` for confidence threshold ``theta``: ``round(2**16 / theta)``,
    saturated to the ``conf_w``-bit port (a threshold that small stops every sample at step 1,
    exactly like the float rule, since ``max p >= 1/n_classes``).

    Args:
        theta: threshold on ``max p``, in (0, 1] (1 never stops early).
        n_classes: classes, 2..64 (sets the port width).

    Raises:
        ValueError: theta outside (0, 1] or n_classes out of range.
    """
    n_classes = _check_int("n_classes", n_classes, *N_CLASSES_RANGE)
    if not math.isfinite(theta) or not 0 < theta <= 1:
        raise ValueError(f"theta = {theta!r} must be in (0, 1]")
    return min(round((1 << E_FRAC) / theta), (1 << conf_width(n_classes)) - 1)


def conv_thr_code(thr: float, pix_frac: int, n_pix: int, pix_w: int, scale: float = 100.0) -> int:
    """``cfg_conv_thr_i`` for the float rule ``sum|dx| / scale < thr`` on pixels with
    ``pix_frac`` fractional bits: ``ceil(thr * scale * 2**pix_frac)`` (the metric is an integer,
    so ``m < X <=> m < ceil(X)``; the code is corrected so that the float predicate
    ``(m / 2**pix_frac) / scale < thr`` and ``m < code`` agree for every integer ``m``).

    Args:
        thr: float threshold (PRIME: 0.2), >= 0.
        pix_frac: fractional bits of the pixel format, 0 .. pix_w - 1.
        n_pix: pixels per image (sets the port width).
        pix_w: pixel width in bits.
        scale: the float code's divisor (PRIME: 100).

    Raises:
        ValueError: a negative/non-finite threshold or a code that does not fit ``m_w`` bits.
    """
    pix_w = _check_int("pix_w", pix_w, *PIX_W_RANGE)
    n_pix = _check_int("n_pix", n_pix, *N_PIX_RANGE)
    pix_frac = _check_int("pix_frac", pix_frac, 0, pix_w - 1)
    if not math.isfinite(thr) or thr < 0 or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"thr = {thr!r} must be >= 0 and scale = {scale!r} > 0")
    # smallest integer k with  m < k  <=>  (m / 2**pix_frac) / scale < thr  for every metric m
    # (the float predicate itself decides, so a rounding of thr * scale cannot shift it)
    k = math.ceil(thr * scale * (1 << pix_frac))
    while k > 0 and not ((k - 1) / (1 << pix_frac)) / scale < thr:
        k -= 1
    while (k / (1 << pix_frac)) / scale < thr:
        k += 1
    code = k
    m_w = metric_width(pix_w, n_pix)
    if code > (1 << m_w) - 1:
        raise ValueError(f"conv_thr code {code} does not fit cfg_conv_thr_i ({m_w} bits)")
    return code


@dataclass(frozen=True)
class EarlyStopConfig:
    """HDL parameters and run-time configuration of one ``cim_early_stop``.

    HDL parameters (elaboration time; names in the RTL in capitals):

    Attributes:
        n_classes: output classes ``N_CLASSES``, 2 .. 64.
        u_w: membrane width ``U_W`` in bits (signed), 8 .. 32.
        frac: fractional bits ``F`` of the membranes, 0 .. u_w - 1.
        t_max: longest sample ``T_MAX`` in steps, 1 .. 255.
        n_pix: pixels per reconstruction ``N_PIX``, 1 .. 4096.
        pix_w: pixel width ``PIX_W`` in bits (signed), 2 .. 16.
        s_w: sum width ``S_W`` in bits, ``u_w + clog2(t_max)`` .. 40; 0 selects the minimum.

    Run-time configuration (the ``cfg_*`` ports, sampled by ``start_i``):

    Attributes:
        t_steps: ``cfg_steps_i``, steps of a sample without early stop, 1 .. t_max; 0 selects
            t_max (PRIME: 10 for classification, 16 for inpainting).
        rule: ``cfg_rule_i``.
        enable: ``cfg_enable_i``; off: every sample runs ``t_steps`` steps (decisions still carry
            class and metric).
        alpha_ln2: ``cfg_alpha_ln2_i``, ``round(alpha * ln2 * 2**12)``, 1 .. 65535
            (:func:`alpha_ln2_code`; default alpha = 2).
        inv_theta: ``cfg_inv_theta_i``, ``round(2**16 / theta)``, 0 .. 2**conf_w - 1
            (:func:`inv_theta_code`; default theta = 0.8).
        conv_thr: ``cfg_conv_thr_i``, metric threshold in pixel LSBs, 0 .. 2**m_w - 1.
    """

    n_classes: int = 10
    u_w: int = 16
    frac: int = 10
    t_max: int = 16
    n_pix: int = 1024
    pix_w: int = 8
    s_w: int = 0
    t_steps: int = 0
    rule: EarlyStopRule = EarlyStopRule.CLASSIFICATION
    enable: bool = True
    alpha_ln2: int = 5678  # alpha_ln2_code(2.0)
    inv_theta: int = 81920  # round(2**16 / 0.8)
    conv_thr: int = 0

    def __post_init__(self) -> None:
        n = _check_int("n_classes", self.n_classes, *N_CLASSES_RANGE)
        u_w = _check_int("u_w", self.u_w, *U_W_RANGE)
        _check_int("frac", self.frac, 0, u_w - 1)
        t_max = _check_int("t_max", self.t_max, *T_MAX_RANGE)
        n_pix = _check_int("n_pix", self.n_pix, *N_PIX_RANGE)
        pix_w = _check_int("pix_w", self.pix_w, *PIX_W_RANGE)
        s_min = sum_width_min(u_w, t_max)
        if self.s_w == 0:
            object.__setattr__(self, "s_w", s_min)
        _check_int("s_w", self.s_w, s_min, S_W_MAX)
        if self.t_steps == 0:
            object.__setattr__(self, "t_steps", t_max)
        _check_int("t_steps", self.t_steps, 1, t_max)
        try:
            object.__setattr__(self, "rule", EarlyStopRule(self.rule))
        except ValueError as e:
            raise ValueError(f"rule = {self.rule!r} is not an EarlyStopRule") from e
        if not isinstance(self.enable, bool | np.bool_):
            raise ValueError(f"enable must be a bool, got {self.enable!r}")
        object.__setattr__(self, "enable", bool(self.enable))
        _check_int("alpha_ln2", self.alpha_ln2, 1, (1 << ALPHA_W) - 1)
        _check_int("inv_theta", self.inv_theta, 0, (1 << conf_width(n)) - 1)
        _check_int("conv_thr", self.conv_thr, 0, (1 << metric_width(pix_w, n_pix)) - 1)

    # -- widths -----------------------------------------------------------------------------

    @property
    def conf_w(self) -> int:
        """Width of the confidence sum / ``cfg_inv_theta_i``."""
        return conf_width(self.n_classes)

    @property
    def m_w(self) -> int:
        """Width of the convergence metric / ``cfg_conv_thr_i``."""
        return metric_width(self.pix_w, self.n_pix)

    @property
    def met_w(self) -> int:
        """Width of ``dec_metric_o``: ``max(conf_w, m_w)``."""
        return max(self.conf_w, self.m_w)

    @property
    def metric_none(self) -> int:
        """``dec_metric_o`` at convergence step 1 (no metric): all ones."""
        return (1 << self.met_w) - 1

    @property
    def t_w(self) -> int:
        """Width of ``cfg_steps_i``, ``dec_step_o``, ``steps_o``: ``clog2(t_max + 1)``."""
        return clog2(self.t_max + 1)

    @property
    def cls_w(self) -> int:
        """Width of ``dec_class_o``: ``clog2(n_classes)``."""
        return clog2(self.n_classes)

    # -- conversions ------------------------------------------------------------------------

    def hdl_params(self) -> dict[str, int]:
        """HDL parameter overrides of this instance (``N_CLASSES``, ..., ``S_W``)."""
        return {
            "N_CLASSES": self.n_classes,
            "U_W": self.u_w,
            "F": self.frac,
            "T_MAX": self.t_max,
            "N_PIX": self.n_pix,
            "PIX_W": self.pix_w,
            "S_W": self.s_w,
        }

    @classmethod
    def from_hdl(cls, params: dict[str, int], **runtime: object) -> EarlyStopConfig:
        """Build from HDL parameter names (missing ones default) and run-time fields."""
        names = {
            "N_CLASSES": "n_classes",
            "U_W": "u_w",
            "F": "frac",
            "T_MAX": "t_max",
            "N_PIX": "n_pix",
            "PIX_W": "pix_w",
            "S_W": "s_w",
        }
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"unknown cim_early_stop parameter(s): {', '.join(sorted(unknown))}")
        kw: dict[str, object] = {names[k]: int(v) for k, v in params.items()}
        kw.update(runtime)
        return cls(**kw)  # type: ignore[arg-type]

    def with_float(
        self,
        *,
        alpha: float | None = None,
        theta: float | None = None,
        conv_thr: float | None = None,
        pix_frac: int = 0,
        scale: float = 100.0,
    ) -> EarlyStopConfig:
        """Copy with the float ``alpha``, ``theta`` and convergence threshold turned into codes."""
        kw: dict[str, object] = {}
        if alpha is not None:
            kw["alpha_ln2"] = alpha_ln2_code(alpha)
        if theta is not None:
            kw["inv_theta"] = inv_theta_code(theta, self.n_classes)
        if conv_thr is not None:
            kw["conv_thr"] = conv_thr_code(conv_thr, pix_frac, self.n_pix, self.pix_w, scale)
        return self.replace(**kw)

    def replace(self, **kw: object) -> EarlyStopConfig:
        """Copy with fields changed (validated again). An ``s_w`` at its minimum follows
        changes of ``u_w`` / ``t_max`` (it stays the minimum) unless ``s_w`` is given."""
        if "s_w" not in kw and self.s_w == sum_width_min(self.u_w, self.t_max):
            kw["s_w"] = 0
        return replace(self, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Classification rule
# ------------------------------------------------------------------------------------------


def _as_int_array(name: str, x: npt.ArrayLike) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def _check_signed(name: str, a: np.ndarray, bits: int) -> None:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    bad = np.flatnonzero((a < lo) | (a > hi))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name}: element {np.unravel_index(i, a.shape)} = {int(a.flat[i])} outside the "
            f"{bits}-bit signed range [{lo}, {hi}]"
        )


def accumulate_sums(S: npt.ArrayLike, U: npt.ArrayLike, cfg: EarlyStopConfig) -> np.ndarray:
    """``S + U``: add one step's membranes to the running sums (exact, checked).

    Args:
        S: sums so far, int [batch, n_classes] (zeros before step 1).
        U: membranes of this step, int [batch, n_classes], each ``u_w``-bit signed.
        cfg: configuration.

    Raises:
        ValueError: a shape mismatch, a membrane outside ``u_w`` bits, or a sum outside ``s_w``
            bits (impossible within ``t_max`` steps).
    """
    s = _as_int_array("S", S)
    u = _as_int_array("U", U)
    if u.shape != s.shape or u.shape[-1:] != (cfg.n_classes,):
        raise ValueError(f"S {s.shape} and U {u.shape} must both be [batch, {cfg.n_classes}]")
    _check_signed("U", u, cfg.u_w)
    out = s + u
    _check_signed("S + U", out, cfg.s_w)
    return out


def exp_arg_code(D: npt.ArrayLike, t: npt.ArrayLike, cfg: EarlyStopConfig) -> np.ndarray:
    """``q = min(round(D * 2**(20 - F) / (t * A)), 2**13 - 1)``, the exponent-argument code.

    ``q / 256`` approximates ``y = D / (t * alpha * 2**F * ln 2)``; round half up, computed as
    ``floor((2*num + den) / (2*den))`` with ``num = D * 2**max(20-F, 0)`` and
    ``den = t * A * 2**max(F-20, 0)``.

    Args:
        D: ``S_max - S_j``, int >= 0, any shape broadcastable with ``t``.
        t: step (1-based), int >= 1.
        cfg: configuration (``frac``, ``alpha_ln2``).
    """
    d = _as_int_array("D", D)
    tt = _as_int_array("t", t)
    if (d < 0).any() or d.size and int(d.max()) >= (1 << S_W_MAX):
        raise ValueError(f"D must be in [0, 2**{S_W_MAX})")
    if (tt < 1).any() or (tt > T_MAX_RANGE[1]).any():
        raise ValueError(f"t must be in [1, {T_MAX_RANGE[1]}]")
    sh = Y_FRAC + ALPHA_FRAC - cfg.frac
    num = d << max(sh, 0)
    den = (tt * cfg.alpha_ln2) << max(-sh, 0)
    q = (2 * num + den) // (2 * den)
    return np.minimum(q, (1 << Q_W) - 1)


def exp_term(q: npt.ArrayLike) -> np.ndarray:
    """``EXP2_LUT[q mod 256] >> (q >> 8)`` ~= ``2**16 * 2**(-q/256)`` (0 for ``q >= 17*256``)."""
    qq = _as_int_array("q", q)
    if (qq < 0).any() or (qq >= (1 << Q_W)).any():
        raise ValueError(f"q must be in [0, {(1 << Q_W) - 1}]")
    return EXP2_LUT[qq & ((1 << Y_FRAC) - 1)] >> (qq >> Y_FRAC)


def argmax_low(S: np.ndarray) -> np.ndarray:
    """Index of the largest element along the last axis, lowest index on ties."""
    return np.argmax(S, axis=-1)


def confidence_terms(
    S: npt.ArrayLike, t: npt.ArrayLike, cfg: EarlyStopConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Winner, exponent codes and terms of the confidence sum.

    Args:
        S: sums, int [batch, n_classes].
        t: step (1-based), int or int [batch].
        cfg: configuration.

    Returns:
        ``(argmax [batch], q [batch, n_classes], term [batch, n_classes])``.
    """
    s = _as_int_array("S", S)
    if s.ndim != 2 or s.shape[1] != cfg.n_classes:
        raise ValueError(f"S must be [batch, {cfg.n_classes}], got {s.shape}")
    _check_signed("S", s, cfg.s_w)
    cls = argmax_low(s)
    smax = np.take_along_axis(s, cls[:, None], axis=1)
    tt = np.broadcast_to(_as_int_array("t", t), (s.shape[0],))[:, None]
    q = exp_arg_code(smax - s, tt, cfg)
    return cls, q, exp_term(q)


def confidence_step(
    S: npt.ArrayLike, t: npt.ArrayLike, cfg: EarlyStopConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decision of the classification rule at step ``t``.

    Args:
        S: sums of the membranes over steps 1..t, int [batch, n_classes].
        t: step (1-based, 1 .. cfg.t_steps), int or int [batch].
        cfg: configuration.

    Returns:
        ``(stop [batch] bool, argmax [batch] int, metric [batch] int)``: ``stop`` is
        ``(enable and conf < inv_theta) or t == t_steps``; ``metric`` is the confidence sum
        ``conf`` (``dec_metric_o``); ``argmax`` the predicted class (``dec_class_o``).
    """
    tt = _as_int_array("t", t)
    if (tt < 1).any() or (tt > cfg.t_steps).any():
        raise ValueError(f"t must be in [1, t_steps = {cfg.t_steps}]")
    cls, _, term = confidence_terms(S, tt, cfg)
    conf = term.sum(axis=1)
    stop = ((conf < cfg.inv_theta) & cfg.enable) | (tt == cfg.t_steps)
    return np.broadcast_to(stop, conf.shape).copy(), cls, conf


# ------------------------------------------------------------------------------------------
# Convergence rule
# ------------------------------------------------------------------------------------------


def convergence_metric(prev_img: npt.ArrayLike, img: npt.ArrayLike) -> np.ndarray:
    """``m = sum_pixels |img - prev_img|`` per sample, int [batch]."""
    a = _as_int_array("prev_img", prev_img)
    b = _as_int_array("img", img)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"prev_img {a.shape} and img {b.shape} must both be [batch, n_pix]")
    return np.abs(b - a).sum(axis=1)


def convergence_step(
    prev_img: npt.ArrayLike | None,
    img: npt.ArrayLike,
    metric_hist: npt.ArrayLike,
    t: int,
    cfg: EarlyStopConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decision of the convergence rule at step ``t`` (same ``t`` for the whole batch).

    Args:
        prev_img: reconstruction of step ``t - 1``, int [batch, n_pix] (ignored at ``t = 1``,
            may be ``None`` there).
        img: reconstruction of step ``t``, int [batch, n_pix], ``pix_w``-bit signed.
        metric_hist: ``(m_{t-1}, m_{t-2})``, int [batch, 2]; entries for steps without a
            metric are ignored (use :func:`convergence_init`).
        t: step, 1 .. cfg.t_steps.
        cfg: configuration.

    Returns:
        ``(stop [batch] bool, metric [batch] int, new_hist [batch, 2])``; ``metric`` is
        ``dec_metric_o`` (``m_t``, or ``cfg.metric_none`` at ``t = 1``); ``new_hist`` is
        ``(m_t, m_{t-1})`` for the next step.
    """
    t = _check_int("t", t, 1, cfg.t_steps)
    x = _as_int_array("img", img)
    if x.ndim != 2 or x.shape[1] != cfg.n_pix:
        raise ValueError(f"img must be [batch, {cfg.n_pix}], got {x.shape}")
    _check_signed("img", x, cfg.pix_w)
    hist = _as_int_array("metric_hist", metric_hist)
    if hist.shape != (x.shape[0], 2):
        raise ValueError(f"metric_hist must be [{x.shape[0]}, 2], got {hist.shape}")
    batch = x.shape[0]
    if t == 1:
        metric = np.full(batch, cfg.metric_none, dtype=np.int64)
        rule = np.zeros(batch, dtype=bool)
    else:
        if prev_img is None:
            raise ValueError("prev_img is required for t >= 2")
        metric = convergence_metric(prev_img, x)
        m1, m2 = hist[:, 0], hist[:, 1]
        rule = (metric < m1) & ((m1 < m2) | (t == 3)) & (metric < cfg.conv_thr) & (t >= 3)
    stop = (rule & cfg.enable) | (t == cfg.t_steps)
    new_hist = np.stack([metric, hist[:, 0]], axis=1)
    return stop, metric, new_hist


@dataclass(frozen=True)
class ConvergenceState:
    """What the block keeps between convergence steps.

    Attributes:
        t: steps done (0 for a new sample).
        prev_img: last reconstruction (the block's pixel buffer), int [batch, n_pix].
        hist: ``(m_t, m_{t-1})`` of the last two steps, int [batch, 2].
    """

    t: int
    prev_img: np.ndarray
    hist: np.ndarray

    def step(
        self, img: npt.ArrayLike, cfg: EarlyStopConfig
    ) -> tuple[ConvergenceState, np.ndarray, np.ndarray]:
        """Feed step ``t + 1``; returns ``(new state, stop [batch], metric [batch])``."""
        t = self.t + 1
        x = _as_int_array("img", img)
        stop, metric, hist = convergence_step(self.prev_img, x, self.hist, t, cfg)
        return ConvergenceState(t, x.copy(), hist), stop, metric


def convergence_init(batch: int, cfg: EarlyStopConfig) -> ConvergenceState:
    """State of a new sample (after ``start_i``) for ``batch`` samples."""
    return ConvergenceState(
        t=0,
        prev_img=np.zeros((batch, cfg.n_pix), dtype=np.int64),
        hist=np.full((batch, 2), cfg.metric_none, dtype=np.int64),
    )


# ------------------------------------------------------------------------------------------
# Whole samples
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRun:
    """Decisions of whole samples, evaluated at every step 1..t_steps (those after the stop
    step are what the rule would have said; the block never produces them).

    Attributes:
        stop_step: step of the stop decision, int [batch], 1 .. t_steps.
        pred: class at the stop step, int [batch] (0 for rule 1).
        stop: ``dec_stop_o`` per step, bool [batch, t_steps].
        cls: ``dec_class_o`` per step, int [batch, t_steps].
        metric: ``dec_metric_o`` per step, int [batch, t_steps].
        q_sat: some exponent code saturated at that step (coverage), bool [batch, t_steps].
    """

    stop_step: np.ndarray
    pred: np.ndarray
    stop: np.ndarray
    cls: np.ndarray
    metric: np.ndarray
    q_sat: np.ndarray

    def decisions(self, b: int) -> list[tuple[int, int, int, int]]:
        """Decision beats ``(stop, step, class, metric)`` sample ``b`` produces, in order."""
        return [
            (int(self.stop[b, i]), i + 1, int(self.cls[b, i]), int(self.metric[b, i]))
            for i in range(int(self.stop_step[b]))
        ]


def _finish(stop: np.ndarray, cls: np.ndarray, metric: np.ndarray, q_sat: np.ndarray) -> SampleRun:
    first = np.argmax(stop, axis=1)  # the last step always stops
    pred = np.take_along_axis(cls, first[:, None], axis=1)[:, 0]
    return SampleRun(first + 1, pred, stop, cls, metric, q_sat)


def run_classification(U: npt.ArrayLike, cfg: EarlyStopConfig) -> SampleRun:
    """Classification rule over whole samples.

    Args:
        U: membranes, int [batch, steps, n_classes] with ``steps >= cfg.t_steps`` (extra
            steps are ignored).
        cfg: configuration (rule field ignored).
    """
    u = _as_int_array("U", U)
    if u.ndim != 3 or u.shape[2] != cfg.n_classes or u.shape[1] < cfg.t_steps:
        raise ValueError(f"U must be [batch, >= {cfg.t_steps}, {cfg.n_classes}], got {u.shape}")
    batch, T = u.shape[0], cfg.t_steps
    stop = np.zeros((batch, T), dtype=bool)
    cls = np.zeros((batch, T), dtype=np.int64)
    metric = np.zeros((batch, T), dtype=np.int64)
    q_sat = np.zeros((batch, T), dtype=bool)
    S = np.zeros((batch, cfg.n_classes), dtype=np.int64)
    for i in range(T):
        S = accumulate_sums(S, u[:, i], cfg)
        stop[:, i], cls[:, i], metric[:, i] = confidence_step(S, i + 1, cfg)
        q_sat[:, i] = (confidence_terms(S, i + 1, cfg)[1] == (1 << Q_W) - 1).any(axis=1)
    return _finish(stop, cls, metric, q_sat)


def run_convergence(imgs: npt.ArrayLike, cfg: EarlyStopConfig) -> SampleRun:
    """Convergence rule over whole samples.

    Args:
        imgs: reconstructions, int [batch, steps, n_pix] with ``steps >= cfg.t_steps``.
        cfg: configuration (rule field ignored).
    """
    x = _as_int_array("imgs", imgs)
    if x.ndim != 3 or x.shape[2] != cfg.n_pix or x.shape[1] < cfg.t_steps:
        raise ValueError(f"imgs must be [batch, >= {cfg.t_steps}, {cfg.n_pix}], got {x.shape}")
    batch, T = x.shape[0], cfg.t_steps
    stop = np.zeros((batch, T), dtype=bool)
    metric = np.zeros((batch, T), dtype=np.int64)
    state = convergence_init(batch, cfg)
    for i in range(T):
        state, stop[:, i], metric[:, i] = state.step(x[:, i], cfg)
    zeros = np.zeros((batch, T), dtype=np.int64)
    return _finish(stop, zeros, metric, zeros.astype(bool))


def run_sample(data: npt.ArrayLike, cfg: EarlyStopConfig) -> SampleRun:
    """:func:`run_classification` or :func:`run_convergence`, by ``cfg.rule``."""
    if cfg.rule == EarlyStopRule.CLASSIFICATION:
        return run_classification(data, cfg)
    return run_convergence(data, cfg)


# ------------------------------------------------------------------------------------------
# Float references (the paper's rules) and the agreement bound
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FloatRun:
    """Float rule over whole samples.

    Attributes:
        stop_step: step of the stop, int [batch].
        pred: class at the stop step (argmax of the running mean), int [batch].
        maxp: ``max softmax(out/alpha)`` per step (classification) or the metric ``m_t``
            (convergence, ``inf`` at t = 1), float [batch, t_steps].
        rule: the rule fired at that step (before forcing at t_steps), bool [batch, t_steps].
    """

    stop_step: np.ndarray
    pred: np.ndarray
    maxp: np.ndarray
    rule: np.ndarray


def float_classification(
    U: npt.ArrayLike, *, alpha: float, theta: float, t_steps: int, enable: bool = True
) -> FloatRun:
    """The paper's classification rule in float64 on real membranes.

    Args:
        U: membrane values (real units), [batch, steps >= t_steps, n_classes].
        alpha: softmax temperature.
        theta: threshold on ``max p``.
        t_steps: steps without early stop.
        enable: early stop on.
    """
    u = np.asarray(U, dtype=np.float64)[:, :t_steps]
    out = np.cumsum(u, axis=1) / np.arange(1, t_steps + 1)[None, :, None]
    z = out / alpha
    z = z - z.max(axis=2, keepdims=True)
    e = np.exp(z)
    maxp = 1.0 / e.sum(axis=2)  # the winner's exp is 1
    rule = maxp > theta
    stop = (rule & enable) | (np.arange(t_steps) == t_steps - 1)[None, :]
    first = np.argmax(stop, axis=1)
    pred = np.argmax(out[np.arange(u.shape[0]), first], axis=1)
    return FloatRun(first + 1, pred, maxp, rule)


def float_convergence(
    imgs: npt.ArrayLike, *, thr: float, t_steps: int, enable: bool = True, scale: float = 100.0
) -> FloatRun:
    """The paper's convergence rule in float64: ``m_t = sum|x_t - x_{t-1}| / scale``,
    stop when ``m_t < m_{t-1} < m_{t-2}`` and ``m_t < thr`` (``m_1 = m_0 = inf``)."""
    x = np.asarray(imgs, dtype=np.float64)[:, :t_steps]
    batch = x.shape[0]
    m = np.full((batch, t_steps), np.inf)
    m[:, 1:] = np.abs(np.diff(x, axis=1)).sum(axis=2) / scale
    m1 = np.concatenate([np.full((batch, 1), np.inf), m[:, :-1]], axis=1)
    m2 = np.concatenate([np.full((batch, 1), np.inf), m1[:, :-1]], axis=1)
    t = np.arange(1, t_steps + 1)[None, :]
    rule = (m < m1) & ((m1 < m2) | (t == 3)) & (m < thr) & (t >= 3)
    stop = (rule & enable) | (t == t_steps)
    first = np.argmax(stop, axis=1)
    return FloatRun(first + 1, np.zeros(batch, dtype=np.int64), m, rule)


def decision_margin(theta: float, n_classes: int, alpha: float) -> float:
    """Bound on ``|max p - theta|`` below which the fixed-point and float classification
    decisions may differ (on the same integer sums); see the module docstring.

    Args:
        theta: threshold, (0, 1].
        n_classes: classes.
        alpha: float temperature (its code's rounding error enters the bound).
    """
    code = alpha_ln2_code(alpha)
    d_alpha = abs(code / (alpha * math.log(2.0) * (1 << ALPHA_FRAC)) - 1.0)
    rel = 2.0 ** (1.0 / (1 << (Y_FRAC + 1))) - 1.0
    per_term = 1.5 * 2.0**-E_FRAC + math.exp(-1.0) * d_alpha / (1.0 - d_alpha)
    return theta * rel + theta**2 * (n_classes * per_term + 2.0 ** -(E_FRAC + 1))


# ------------------------------------------------------------------------------------------
# RTL table (the RTL's case table must equal EXP2_LUT; tests/test_golden_early_stop.py checks)
# ------------------------------------------------------------------------------------------


def rtl_lut_lines(per_line: int = 4) -> list[str]:
    """The RTL's ``case`` items of the exponent table, ``per_line`` entries per line."""
    items = [f"8'd{f:<3d}: lut = 17'h{int(v):05x};" for f, v in enumerate(EXP2_LUT)]
    return [" ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
