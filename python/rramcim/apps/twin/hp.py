"""HP memristor ground truth (Strukov et al. 2008 with a Joglekar window) and its drive waveforms.

Model (PAPERS.md §2.3, [I]; nothing here is read from the twin paper, whose device parameters,
drive and window are NF)::

    x = w / D in [0, 1]                        (normalised width of the doped region)
    M(x)  = R_on x + R_off (1 - x)            memristance, Ohm
    i(t)  = v(t) / M(x)                       A
    dx/dt = k i(t) F_p(x),  k = mu_v R_on / D^2   (1/C; 1e4 C^-1 with the textbook values)
    F_p(x) = 1 - (2x - 1)^(2p)                Joglekar window

Because ``dx/dt = k v(t) F_p(x) / M(x)`` separates, the state is a function of the flux
``Phi(t) = int_0^t v dt'`` alone: ``G(x(t)) - G(x(0)) = k Phi(t)`` with ``G(x) = int M / F_p dx``
(:func:`flux_potential`). The window makes both boundaries fixed points that are reached only
asymptotically (G diverges there), so x stays in (0, 1) for any finite flux.

Assumptions (all [I], chosen here and used by the shipped twin):

* textbook parameters R_on = 100 Ohm, R_off = 16 kOhm, D = 10 nm, mu_v = 1e-14 m^2 / (V s),
  x(0) = w(0) / D = 0.1;
* Joglekar window with p = 1, F_1(x) = 4 x (1 - x): the shape of Strukov et al.'s own
  nonlinear-drift window w (D - w) / D^2, normalised to 1 at the centre. (p = 2 was tried: its
  flatter middle and sharper shoulders made the state so sensitive to the flux near saturation
  that a 0.3 % field error already gave > 5 % extrapolation error.);
* drives ([I]; the paper's are NF): 0.5-1 Hz, 1.8-3.4 V, all starting at v = 0 with zero
  mean, so the flux stays >= 0 and the state oscillates between x(0) and a drive-dependent
  maximum, returning to x(0) after every full period. With k = 1e4 C^-1 the state is a steep
  function of the flux near switching (the memristance falls as x grows, so current and rate
  grow: positive feedback): a 1 Hz sinusoid of 2.5 V carries x from 0.1 to 0.726 (M 14.4 kOhm
  -> 4.5 kOhm), 2.85 V to 0.949 (M 0.91 kOhm, F_1 = 0.19) and 2.9 V to 0.981 (M 0.40 kOhm,
  F_1 = 0.074): the window's saturation region, where further flux barely moves the state.
  The i-v curves are strongly pinched hysteresis loops (i = 0 whenever v = 0). Amplitudes stay
  below the flux at which x comes within ~1e-3 of 1 (2.95 V gives 1 - 6e-4, a 0.5 Hz triangle
  of 2 V 1 - 2e-14): there the Joglekar window locks the state at the boundary, a known
  artefact of that window that no twin (nor a float64 solver) can follow.

Drives are frozen dataclasses callable on a float, a numpy array or a torch tensor of times
(seconds), so the same object drives the scipy ground truth and the torch neural ODE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy.integrate import solve_ivp


def _check(cls: str, name: str, value: float, lo: float, hi: float, lo_open: bool = True) -> None:
    """Raise ``ValueError`` naming ``cls.name`` and the value unless it lies in the range."""
    ok = (value > lo if lo_open else value >= lo) and value <= hi and math.isfinite(value)
    if not ok:
        br = "(" if lo_open else "["
        raise ValueError(f"{cls}.{name} = {value!r} is out of range {br}{lo}, {hi}]")


@dataclass(frozen=True)
class HPConfig:
    """HP memristor parameters (textbook values of PAPERS.md §2.3, [I]).

    Attributes:
        r_on_Ohm: memristance of the fully doped device, (0, 1e9] Ohm; 100.
        r_off_Ohm: memristance of the undoped device, > r_on_Ohm, <= 1e9 Ohm; 16e3.
        d_m: device thickness D, (0, 1e-6] m; 10e-9.
        mu_v_m2_per_Vs: dopant mobility, (0, 1e-8] m^2 / (V s); 1e-14.
        x0: initial state w(0) / D, (0, 1) (open: the window pins the boundaries); 0.1.
        window_p: Joglekar window exponent p, integer in [1, 20]; 1.
    """

    r_on_Ohm: float = 100.0
    r_off_Ohm: float = 16e3
    d_m: float = 10e-9
    mu_v_m2_per_Vs: float = 1e-14
    x0: float = 0.1
    window_p: int = 1

    def __post_init__(self) -> None:
        _check("HPConfig", "r_on_Ohm", self.r_on_Ohm, 0.0, 1e9)
        _check("HPConfig", "r_off_Ohm", self.r_off_Ohm, self.r_on_Ohm, 1e9)
        _check("HPConfig", "d_m", self.d_m, 0.0, 1e-6)
        _check("HPConfig", "mu_v_m2_per_Vs", self.mu_v_m2_per_Vs, 0.0, 1e-8)
        if not 0.0 < self.x0 < 1.0:
            raise ValueError(f"HPConfig.x0 = {self.x0!r} is out of range (0, 1)")
        if int(self.window_p) != self.window_p or not 1 <= self.window_p <= 20:
            raise ValueError(f"HPConfig.window_p = {self.window_p!r} must be an integer in [1, 20]")

    @property
    def k_per_C(self) -> float:
        """Rate constant k = mu_v R_on / D^2 of dx/dt = k i F_p(x), 1/C."""
        return self.mu_v_m2_per_Vs * self.r_on_Ohm / self.d_m**2


# ------------------------------------------------------------------------------------ drives
def _is_torch(t: object) -> bool:
    return type(t).__module__.startswith("torch")


def _sin(t):  # noqa: ANN001, ANN202 - numpy or torch
    if _is_torch(t):
        import torch

        return torch.sin(t)
    return np.sin(t)


def _tanh(t):  # noqa: ANN001, ANN202 - numpy or torch
    if _is_torch(t):
        import torch

        return torch.tanh(t)
    return np.tanh(t)


class Drive(Protocol):
    """A voltage waveform v(t) in V of time in s; numpy or torch in, same kind out."""

    name: str

    def __call__(self, t_s):  # noqa: ANN001, ANN204, D102
        ...


@dataclass(frozen=True)
class SineDrive:
    """v(t) = A sin(2 pi f t) (A < 0: the negative half-cycle first).

    Attributes:
        amplitude_V: A, [-100, 100] V, non-zero.
        frequency_Hz: f, (0, 1e12] Hz.
    """

    amplitude_V: float = 2.0
    frequency_Hz: float = 1.0
    name: str = field(default="sine", init=False)

    def __post_init__(self) -> None:
        _check("SineDrive", "|amplitude_V|", abs(self.amplitude_V), 0.0, 100.0)
        _check("SineDrive", "frequency_Hz", self.frequency_Hz, 0.0, 1e12)

    def __call__(self, t_s):  # noqa: ANN001, ANN204
        return self.amplitude_V * _sin(2.0 * math.pi * self.frequency_Hz * t_s)


@dataclass(frozen=True)
class TriangleDrive:
    """Symmetric triangle, zero at t = 0 and rising (in phase with :class:`SineDrive`).

    v(t) = A (4 |((f t - 1/4) mod 1) - 1/2| - 1).

    Attributes:
        amplitude_V: A, (0, 100] V.
        frequency_Hz: f, (0, 1e12] Hz.
    """

    amplitude_V: float = 2.8
    frequency_Hz: float = 1.0
    name: str = field(default="triangle", init=False)

    def __post_init__(self) -> None:
        _check("TriangleDrive", "amplitude_V", self.amplitude_V, 0.0, 100.0)
        _check("TriangleDrive", "frequency_Hz", self.frequency_Hz, 0.0, 1e12)

    def __call__(self, t_s):  # noqa: ANN001, ANN204
        ph = (self.frequency_Hz * t_s - 0.25) % 1.0
        return self.amplitude_V * (4.0 * abs(ph - 0.5) - 1.0)


@dataclass(frozen=True)
class TwoToneDrive:
    """Sum of two sinusoids, v(t) = A1 sin(2 pi f1 t) + A2 sin(2 pi f2 t) (unseen family).

    Attributes:
        amplitude1_V, amplitude2_V: A1, A2, (0, 100] V.
        frequency1_Hz, frequency2_Hz: f1, f2, (0, 1e12] Hz.
    """

    amplitude1_V: float = 2.0
    frequency1_Hz: float = 1.0
    amplitude2_V: float = 0.6
    frequency2_Hz: float = 3.0
    name: str = field(default="two-tone", init=False)

    def __post_init__(self) -> None:
        for n in ("amplitude1_V", "amplitude2_V"):
            _check("TwoToneDrive", n, getattr(self, n), 0.0, 100.0)
        for n in ("frequency1_Hz", "frequency2_Hz"):
            _check("TwoToneDrive", n, getattr(self, n), 0.0, 1e12)

    def __call__(self, t_s):  # noqa: ANN001, ANN204
        w1 = 2.0 * math.pi * self.frequency1_Hz
        w2 = 2.0 * math.pi * self.frequency2_Hz
        return self.amplitude1_V * _sin(w1 * t_s) + self.amplitude2_V * _sin(w2 * t_s)


@dataclass(frozen=True)
class PulseDrive:
    """Smoothed bipolar square wave (pulse train), v(t) = A tanh(b sin(2 pi f t)) / tanh(b).

    Unseen family: flat tops with rounded edges; b sets the edge sharpness (b -> 0 gives the
    sinusoid, large b the square wave).

    Attributes:
        amplitude_V: A, (0, 100] V.
        frequency_Hz: f, (0, 1e12] Hz.
        sharpness: b, (0, 100].
    """

    amplitude_V: float = 1.6
    frequency_Hz: float = 1.0
    sharpness: float = 3.0
    name: str = field(default="pulse", init=False)

    def __post_init__(self) -> None:
        _check("PulseDrive", "amplitude_V", self.amplitude_V, 0.0, 100.0)
        _check("PulseDrive", "frequency_Hz", self.frequency_Hz, 0.0, 1e12)
        _check("PulseDrive", "sharpness", self.sharpness, 0.0, 100.0)

    def __call__(self, t_s):  # noqa: ANN001, ANN204
        s = _sin(2.0 * math.pi * self.frequency_Hz * t_s)
        return self.amplitude_V * _tanh(self.sharpness * s) / math.tanh(self.sharpness)


TRAIN_DRIVES: tuple[Drive, ...] = (
    SineDrive(2.5, 1.0),
    SineDrive(2.85, 1.0),
    TriangleDrive(3.4, 1.0),
    TriangleDrive(1.8, 0.5),
    SineDrive(2.9, 1.0),
)
"""Drives of the training trajectories ([I]); peak states x = 0.726, 0.949, 0.829, 0.934 and
0.981 (the last covers the saturation region above every evaluated trajectory, so a twin that
slightly overshoots still sees a learned field there)."""

UNSEEN_DRIVES: tuple[Drive, ...] = (
    TwoToneDrive(2.5, 1.0, 0.7, 3.0),
    PulseDrive(2.0, 1.0, 3.0),
)
"""Drive families never seen in training ([I]); peak states x = 0.870 and 0.829. Their flux per
half-cycle stays within the range the training drives cover (the twin interpolates in state;
it is not asked to enter a region of the (x, v) plane it never saw)."""


# ------------------------------------------------------------------------------ the device
def window(x, p: int):  # noqa: ANN001, ANN201 - numpy or torch
    """Joglekar window F_p(x) = 1 - (2x - 1)^(2p)."""
    return 1.0 - (2.0 * x - 1.0) ** (2 * p)


def memristance_Ohm(x, cfg: HPConfig):  # noqa: ANN001, ANN201 - numpy or torch
    """M(x) = R_on x + R_off (1 - x), Ohm."""
    return cfg.r_on_Ohm * x + cfg.r_off_Ohm * (1.0 - x)


def state_rate_per_s(x, v_V, cfg: HPConfig):  # noqa: ANN001, ANN201 - numpy or torch
    """dx/dt = k v / M(x) F_p(x), 1/s: the exact vector field the twin learns."""
    return cfg.k_per_C * v_V / memristance_Ohm(x, cfg) * window(x, cfg.window_p)


def flux_potential(x: np.ndarray | float, cfg: HPConfig) -> np.ndarray:
    """G(x) = int_{1/2}^{x} M(y) / F_p(y) dy in Ohm (G' = M / F_p), by quadrature.

    Along any trajectory ``G(x(t)) - G(x(0)) = k * flux(t)`` with the flux in V s; the tests
    use it as the flux-state relation of the ideal memristor. The quadrature runs in the
    logit coordinate (``dy = y (1 - y) ds``), where the integrand
    ``M / (4 sum_{j<p} tanh(s/2)^(2j))`` is smooth; x must lie strictly inside (0, 1).
    """
    from scipy.integrate import quad
    from scipy.special import expit

    xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
    if np.any(xs <= 0) or np.any(xs >= 1):
        raise ValueError("flux_potential: x must lie strictly inside (0, 1)")
    p = int(cfg.window_p)

    def integrand(z: float) -> float:
        tau2 = math.tanh(0.5 * z) ** 2
        return float(memristance_Ohm(expit(z), cfg)) / (4.0 * sum(tau2**j for j in range(p)))

    ss = np.log(xs / (1.0 - xs))
    out = np.array([quad(integrand, 0.0, float(v), epsabs=0.0, epsrel=1e-12)[0] for v in ss])
    return out.reshape(np.shape(x))


@dataclass(frozen=True)
class HPTrajectory:
    """Ground-truth trajectory on a time grid.

    Attributes:
        t_s: times, s, shape [T].
        x: state w / D, shape [T].
        i_A: current, A, shape [T].
        v_V: drive voltage, V, shape [T].
    """

    t_s: np.ndarray
    x: np.ndarray
    i_A: np.ndarray
    v_V: np.ndarray


def simulate_hp(
    drive: Drive,
    t_s: np.ndarray,
    cfg: HPConfig | None = None,
    x0: float | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> HPTrajectory:
    """Integrate the HP memristor under ``drive`` with scipy's DOP853 (tight tolerances).

    The solver works in the logit coordinate ``s = ln(x / (1 - x))``, in which the windowed
    dynamics are smooth and non-stiff up to the boundaries::

        ds/dt = (dx/dt) / (x (1 - x)) = 4 k v / M(x) * sum_{j < p} tanh(s / 2)^(2 j)

    (with 2x - 1 = tanh(s/2), F_p(x) / (x (1 - x)) is that geometric sum). In x the window's
    boundary approach is exponentially slow and an explicit solver fails there; in s it is a
    straight line, so even a drive that pins x to 1 within round-off (deep saturation) is
    followed exactly and released again by the reverse flux. ``rtol``/``atol`` apply to s.
    The step is capped at 1/200 of the grid span or 4 grid spacings, whichever is smaller, so
    the drive's kinks (triangle) and edges (pulse) are resolved.

    Args:
        drive: voltage waveform, V of s.
        t_s: increasing time grid starting at the initial time, s.
        cfg: device parameters (default :class:`HPConfig`).
        x0: initial state (default ``cfg.x0``), in (0, 1).
        rtol, atol: solver tolerances on s.

    Returns:
        The state, current and voltage on ``t_s``.
    """
    from scipy.special import expit

    cfg = cfg or HPConfig()
    t = np.asarray(t_s, dtype=np.float64)
    if t.ndim != 1 or t.size < 2 or not np.all(np.diff(t) > 0):
        raise ValueError("simulate_hp: t_s must be a 1-D increasing grid of >= 2 points")
    x_init = cfg.x0 if x0 is None else float(x0)
    if not 0.0 < x_init < 1.0:
        raise ValueError(f"simulate_hp: x0 = {x_init!r} is out of range (0, 1)")
    max_step = min((t[-1] - t[0]) / 200.0, 4.0 * float(np.min(np.diff(t))))
    p = int(cfg.window_p)

    def rhs(tt: float, y: np.ndarray) -> np.ndarray:
        tau2 = np.tanh(0.5 * y[0]) ** 2
        geo = sum(tau2**j for j in range(p))
        x = expit(y[0])
        return np.array([4.0 * cfg.k_per_C * drive(tt) / memristance_Ohm(x, cfg) * geo])

    sol = solve_ivp(
        rhs,
        (t[0], t[-1]),
        [math.log(x_init / (1.0 - x_init))],
        method="DOP853",
        t_eval=t,
        rtol=rtol,
        atol=atol,
        max_step=max_step,
    )
    if not sol.success:
        raise RuntimeError(f"simulate_hp: solve_ivp failed: {sol.message}")
    x = expit(sol.y[0])
    v = np.asarray(drive(t), dtype=np.float64)
    return HPTrajectory(t_s=t, x=x, i_A=v / memristance_Ohm(x, cfg), v_V=v)
