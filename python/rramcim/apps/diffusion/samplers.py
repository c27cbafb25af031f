"""Reverse-time samplers of the VP-SDE: Euler (PF-ODE and reverse SDE) and the tick-held variant.

Reverse-time Euler (PAPERS.md §4.2). Sampling uses ``beta_s(t) = beta_scale * beta(t)`` (2 for
the ring, 1.5 for the letters, as in the paper's notebooks; the score network is the one
trained with beta). From x(1) ~ N(0, prior_std^2 I), n steps of dt = (1 - eps) / n,
t_k = 1 - k dt, k = 0..n-1 (eps = 1e-4)::

    PF-ODE:  x <- x + dt * (1/2 beta_s(t_k) x + 1/2 beta_s(t_k) s(x, t_k))
    SDE:     x <- x + dt * (1/2 beta_s(t_k) x + beta_s(t_k) s(x, t_k)) + sqrt(beta_s(t_k) dt) z_k

(the Euler steps of dx = [f - c g^2 s] dt backwards in time with f = -1/2 beta_s x, g^2 = beta_s,
c = 1/2 for the probability-flow ODE, c = 1 for the reverse SDE). The result is x at t = eps.

Prior [I]: with beta(1) = 0.5 the forward process is far from N(0, I) at t = 1 (x(1) = 0.882 x0 +
0.471 z), and the start distribution is not stated in the sources read. The default
``prior_std`` = :data:`PRIOR_STD` = 1 is the VP-SDE prior N(0, I) of score-SDE code; the
alternative :data:`MARGINAL_STD_1` = 0.4714 (the training SDE's marginal std at t = 1) gives
worse KL with the shipped nets (the evaluation reports both; measured values in
:mod:`rramcim.apps.diffusion.train`).

Tick-held ("piecewise constant coefficients") variant: the discretisation an analogue closed
loop driven by DACs sees. The reverse time tau runs from ``t_start`` to ``t_end`` in n_ticks
ticks of d_tau = (t_start - t_end) / n_ticks; during tick k every coefficient is held at its
value at the tick's start tau_k = t_start - k d_tau (a DAC updated once per tick, optionally
quantised), while x evolves continuously -- here integrated with ``substeps`` Euler sub-steps
of h = d_tau / substeps::

    dx/dsigma = a_k x + b_k s_hat(x; e_k) + u_k              sigma: elapsed reverse time
    beta_k = beta_scale * beta(tau_k)
    a_k = 1/2 beta_k                                          (drift coefficient)
    b_k = 1/2 beta_k (PF-ODE) or beta_k (SDE)                 (score gain)
    e_k = temb(tau_k) + cemb(c)                               (embedding, 14 DAC channels)
    u_k = noise_std_k / d_tau * z_k,  noise_std_k = sqrt(beta_k d_tau)  (SDE; 0 for the ODE)

The noise drive u_k is held over the tick like the other DAC signals; its increment over the
tick, d_tau u_k, has exactly the variance beta_k d_tau of the Brownian increment it stands for.
In the paper's MCU firmware (PAPERS.md §4.5) tau goes from 1 down to -0.2 in 240 ticks of
0.005 and the board drives fx = -0.25 beta(tau) and g2 = 0.5 beta(tau) coef; those are a_k and
b_k up to the loop's voltage scaling and sign convention [I]. beta(tau) turns negative for
tau < -b0 / (b1 - b0) = -0.002 and the net was never trained at tau < 0, so the ticks beyond
the end of the diffusion are handled by ``tail``:

* ``"stop"`` (default): every tick with tau_k < eps has a_k = b_k = noise = 0: the integrator
  holds x (the 40 MCU ticks past tau = 0 are idle time). With t_start = 1 the last active tick
  (tau_k = 0.005) integrates down to tau = 0, 5e-3 further than the Euler baseline's eps;
* ``"clamp"``: those ticks use the coefficients and embedding of tau = eps (the loop keeps
  integrating with the smallest beta).

DAC quantisation (``dac_bits``): a held value v is replaced by
``fs * clip(round(v / fs * 2^(B-1)), -2^(B-1), 2^(B-1) - 1) / 2^(B-1)`` (mid-tread, 2^B codes
over [-fs, fs); the MCU's code 2048 (1 + v) is the B = 12 case with fs = 1). Full scales
(default: automatic) are the largest |value| of the schedule: one for the two coefficients
(a_k, b_k), one for all 14 embedding channels (over all ticks and the classes sampled), and
4.5 times the largest noise-drive std (the keyed normal variates are bounded by 4.42).

Noise is keyed: x(1) of sample i is ``rng.normal_rows(make_key(seed, "prior"), i, 2)``, the
SDE noise of step (tick) k of sample i ``rng.normal_rows(make_key(seed, <sampler>, k), i, 2)``:
the samples do not depend on the batch size or on how a run is split
(``first_index`` offsets i).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

import numpy as np
import torch
from tqdm import tqdm

from rramcim import rng
from rramcim.apps.diffusion.nets import (
    NULL_CLASS,
    ScoreMLP,
    ScoreMLPCond,
    export_embedding,
    export_score,
)
from rramcim.apps.diffusion.sde import VPSDE

EPS = 1e-4
"""End time of the reverse integration."""
PRIOR_STD = 1.0
"""Default standard deviation of x(1): N(0, I), the VP-SDE prior."""
MARGINAL_STD_1 = float(VPSDE().std(torch.tensor(1.0, dtype=torch.float64)))
"""The training SDE's marginal standard deviation at t = 1 (0.4714): the alternative prior."""

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``(x [B, 2], t [B]) -> score [B, 2]``."""


class Mode(enum.Enum):
    """Reverse-time dynamics: probability-flow ODE or reverse SDE."""

    ODE = "ode"
    SDE = "sde"


def _mode(mode: Mode | str) -> Mode:
    return mode if isinstance(mode, Mode) else Mode(mode)


def prior_samples(
    n: int, seed: int, first_index: int = 0, prior_std: float = PRIOR_STD
) -> torch.Tensor:
    """x(1) ~ N(0, prior_std^2 I) [n, 2] (float32), keyed by ``(seed, "prior")`` and the
    sample index."""
    rows = torch.arange(first_index, first_index + n, dtype=torch.int64)
    return prior_std * rng.normal_rows(rng.make_key(seed, "prior"), rows, 2)


def _noise(seed: int, purpose: str, k: int, n: int, first_index: int) -> torch.Tensor:
    rows = torch.arange(first_index, first_index + n, dtype=torch.int64)
    return rng.normal_rows(rng.make_key(seed, purpose, k), rows, 2)


def net_score_fn(
    net: ScoreMLP, classes: torch.Tensor | None = None, guidance_w: float = 0.0
) -> ScoreFn:
    """Score callable of a net: unconditional, or conditional on fixed ``classes`` [B] with
    classifier-free guidance weight ``guidance_w`` (0 in the paper)."""
    if isinstance(net, ScoreMLPCond):
        if classes is None:
            raise ValueError("net_score_fn: a conditional net needs classes")
        cls = torch.as_tensor(classes, dtype=torch.int64)
        return lambda x, t: net.guided(x, t, cls, guidance_w)
    if classes is not None:
        raise ValueError("net_score_fn: an unconditional net takes no classes")
    return lambda x, t: net(x, t)


def sample_euler(
    score_fn: ScoreFn,
    n: int,
    n_steps: int,
    mode: Mode | str = Mode.ODE,
    beta_scale: float = 2.0,
    seed: int = 0,
    sde: VPSDE | None = None,
    eps: float = EPS,
    first_index: int = 0,
    progress: bool = False,
    prior_std: float = PRIOR_STD,
) -> torch.Tensor:
    """Reverse-time Euler sampling from t = 1 to ``eps`` (see the module docstring).

    Args:
        score_fn: the score.
        n: number of samples, >= 1.
        n_steps: Euler steps, >= 1.
        mode: PF-ODE or reverse SDE.
        beta_scale: beta multiplier at sampling, > 0.
        seed: keys the prior and the SDE noise.
        sde: the forward process (default :class:`VPSDE`).
        eps: end time, in (0, 1).
        first_index: index of the first sample (for split runs).
        progress: show a tqdm bar.
        prior_std: standard deviation of x(1), > 0.

    Returns:
        Samples [n, 2] (float32).
    """
    mode = _mode(mode)
    sde = sde or VPSDE()
    if n < 1 or n_steps < 1 or not beta_scale > 0 or not 0 < eps < 1:
        raise ValueError(
            f"sample_euler: n = {n}, n_steps = {n_steps}, beta_scale = {beta_scale}, "
            f"eps = {eps}: need n, n_steps >= 1, beta_scale > 0, 0 < eps < 1"
        )
    dt = (1.0 - eps) / n_steps
    x = prior_samples(n, seed, first_index, prior_std)
    c = 0.5 if mode is Mode.ODE else 1.0
    with torch.no_grad():
        for k in tqdm(range(n_steps), disable=not progress, desc=f"euler {mode.value}"):
            t = 1.0 - k * dt
            b = beta_scale * float(sde.beta(t))
            s = score_fn(x, torch.full((n,), t, dtype=x.dtype))
            x = x + dt * (0.5 * b * x + c * b * s)
            if mode is Mode.SDE:
                x = x + (b * dt) ** 0.5 * _noise(seed, "euler-sde", k, n, first_index)
    return x


# ------------------------------------------------------------------------------ tick-held
def tick_schedule(
    n_ticks: int,
    t_start: float = 1.0,
    t_end: float = EPS,
    beta_scale: float = 2.0,
    mode: Mode | str = Mode.ODE,
    sde: VPSDE | None = None,
    eps: float = EPS,
    tail: str = "stop",
) -> dict[str, np.ndarray]:
    """Per-tick held values of the tick-held sampler (pure function; see the module docstring).

    Args:
        n_ticks: number of ticks, >= 1 (240 in the paper's firmware).
        t_start: reverse time of the first tick (1).
        t_end: reverse time after the last tick, < t_start (-0.2 in the firmware, or eps).
        beta_scale: beta multiplier at sampling, > 0.
        mode: PF-ODE or reverse SDE (sets b_k and the noise).
        sde: the forward process (default :class:`VPSDE`).
        eps: ticks with tau_k < eps are handled by ``tail``.
        tail: ``"stop"`` or ``"clamp"``.

    Returns:
        float64 arrays [n_ticks]: ``t_k`` (held tau_k), ``t_embed_k`` (time fed to the
        embedding: tau_k, or eps for clamped ticks), ``beta_k``, ``a_k`` (drift coefficient),
        ``b_k`` (score gain), ``noise_std_k`` (std of the noise increment over the tick),
        ``active_k`` (1.0 where tau_k >= eps); and 0-d ``d_tau`` (tick length in diffusion
        time).
    """
    mode = _mode(mode)
    sde = sde or VPSDE()
    if int(n_ticks) != n_ticks or n_ticks < 1:
        raise ValueError(f"tick_schedule: n_ticks = {n_ticks!r} must be an integer >= 1")
    if not t_end < t_start or not beta_scale > 0:
        raise ValueError(
            f"tick_schedule: need t_end < t_start and beta_scale > 0, got t_start = {t_start}, "
            f"t_end = {t_end}, beta_scale = {beta_scale}"
        )
    if tail not in ("stop", "clamp"):
        raise ValueError(f"tick_schedule: tail = {tail!r} must be 'stop' or 'clamp'")
    d_tau = (t_start - t_end) / n_ticks
    tau = t_start - np.arange(n_ticks, dtype=np.float64) * d_tau
    active = tau >= eps
    t_emb = np.where(active, tau, eps)
    beta = beta_scale * (sde.beta_min + t_emb * (sde.beta_max - sde.beta_min))
    if tail == "stop":
        beta = np.where(active, beta, 0.0)
    a = 0.5 * beta
    b = (0.5 if mode is Mode.ODE else 1.0) * beta
    noise = np.sqrt(beta * d_tau) if mode is Mode.SDE else np.zeros_like(beta)
    return {
        "t_k": tau,
        "t_embed_k": t_emb,
        "beta_k": beta,
        "a_k": a,
        "b_k": b,
        "noise_std_k": noise,
        "active_k": active.astype(np.float64),
        "d_tau": np.asarray(d_tau),
    }


def dac_quantise(v: torch.Tensor, bits: int, full_scale: float) -> torch.Tensor:
    """Mid-tread DAC: ``fs * clip(round(v / fs * 2^(B-1)), -2^(B-1), 2^(B-1) - 1) / 2^(B-1)``."""
    if int(bits) != bits or bits < 2:
        raise ValueError(f"dac_quantise: bits = {bits!r} must be an integer >= 2")
    if not full_scale > 0:
        raise ValueError(f"dac_quantise: full_scale = {full_scale!r} must be > 0")
    half = float(1 << (bits - 1))
    code = torch.clamp(torch.round(v / full_scale * half), -half, half - 1.0)
    return code * (full_scale / half)


def sample_ticks(
    exp: Mapping,
    n: int,
    schedule: Mapping[str, np.ndarray],
    substeps: int = 20,
    dac_bits: int | None = 12,
    seed: int = 0,
    classes: torch.Tensor | None = None,
    guidance_w: float = 0.0,
    full_scale: Mapping[str, float] | None = None,
    first_index: int = 0,
    prior_std: float = PRIOR_STD,
) -> torch.Tensor:
    """Tick-held sampling with the float layers of an analog export (see the module docstring).

    Args:
        exp: :meth:`ScoreMLP.analog_export` dict (its float weights are used as they are).
        n: number of samples, >= 1.
        schedule: from :func:`tick_schedule`.
        substeps: Euler sub-steps per tick, >= 1.
        dac_bits: DAC resolution of the held values (None: no quantisation).
        seed: keys the prior and the tick noise.
        classes: class index per sample [n] (conditional export; None otherwise).
        guidance_w: classifier-free guidance weight (two embeddings per tick when != 0).
        full_scale: optional ``{"coef": .., "embed": .., "noise": ..}`` overriding the
            automatic full scales.
        first_index: index of the first sample.
        prior_std: standard deviation of x(t_start), > 0.

    Returns:
        Samples [n, 2] (float32).
    """
    if n < 1 or substeps < 1:
        raise ValueError(f"sample_ticks: n = {n}, substeps = {substeps} must be >= 1")
    conditional = exp.get("class_embed") is not None
    if conditional != (classes is not None):
        raise ValueError("sample_ticks: pass classes exactly when the export is conditional")
    d_tau = float(schedule["d_tau"])
    h = d_tau / substeps
    t_emb = torch.as_tensor(schedule["t_embed_k"], dtype=torch.float32)
    a = torch.as_tensor(schedule["a_k"], dtype=torch.float32)
    b = torch.as_tensor(schedule["b_k"], dtype=torch.float32)
    u_std = torch.as_tensor(schedule["noise_std_k"], dtype=torch.float32) / d_tau
    K = t_emb.numel()

    # embeddings of every tick: [K, n_embed_rows, hidden], rows = distinct classes (+ null)
    if conditional:
        cls = torch.as_tensor(classes, dtype=torch.int64).reshape(-1)
        if cls.numel() != n:
            raise ValueError(f"sample_ticks: {cls.numel()} classes for {n} samples")
        rows = torch.unique(cls)
        if guidance_w != 0.0:
            rows = torch.unique(torch.cat((rows, torch.tensor([NULL_CLASS]))))
        emb = torch.stack([export_embedding(exp, tk.expand(rows.numel()), rows) for tk in t_emb])
        pos = {int(r): j for j, r in enumerate(rows)}
        idx_c = torch.tensor([pos[int(c)] for c in cls])
        idx_0 = torch.full_like(idx_c, pos.get(NULL_CLASS, 0))
    else:
        emb = torch.stack([export_embedding(exp, tk.reshape(1)) for tk in t_emb])
        idx_c = torch.zeros(n, dtype=torch.int64)
        idx_0 = idx_c

    fs = dict(full_scale or {})
    if dac_bits is not None:
        fs_coef = fs.get("coef", float(torch.max(torch.cat((a.abs(), b.abs())))) or 1.0)
        fs_emb = fs.get("embed", float(emb.abs().max()) or 1.0)
        fs_noise = fs.get("noise", 4.5 * float(u_std.max()) or 1.0)
        a = dac_quantise(a, dac_bits, fs_coef)
        b = dac_quantise(b, dac_bits, fs_coef)
        emb = dac_quantise(emb, dac_bits, fs_emb)

    x = prior_samples(n, seed, first_index, prior_std)
    with torch.no_grad():
        for k in range(K):
            if float(a[k]) == 0.0 and float(b[k]) == 0.0 and float(u_std[k]) == 0.0:
                continue
            e_c = emb[k][idx_c]
            e_0 = emb[k][idx_0]
            u = 0.0
            if float(u_std[k]) > 0.0:
                u = u_std[k] * _noise(seed, "tick-sde", k, n, first_index)
                if dac_bits is not None:
                    u = dac_quantise(u, dac_bits, fs_noise)
            for _ in range(substeps):
                s = export_score(exp, x, e_c)
                if guidance_w != 0.0:
                    s = (1.0 + guidance_w) * s - guidance_w * export_score(exp, x, e_0)
                x = x + h * (a[k] * x + b[k] * s + u)
    return x
