"""Lorenz96 ground truth, its largest Lyapunov exponent and the valid prediction time.

Model (PAPERS.md §2.4; N and F of the paper are NF)::

    dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F,   i = 0..N-1, indices cyclic.

Assumptions ([I], chosen here for a small crossbar): N = 6, F = 8. At F = 8 the N = 6 system
is chaotic: its largest Lyapunov exponent (:func:`lyapunov_spectrum`, mean of 4 runs of 500
time units) is 0.94 +- 0.03 per time unit, one Lyapunov time about 1.06 time units; single
100-unit runs scatter by about +-0.07. No published value for N = 6 was at hand; the same code
gives 1.71 for N = 40, F = 8 (two runs of 300 time units), where the literature value is about
1.7 (error-doubling time 0.42, Lorenz & Emanuel 1998), and the exponents of N = 6 sum to -N
(the constant trace of the Jacobian) as they must. Time is in the model's own dimensionless
units; there is no physical time here.

Energy budget: with E = sum(x^2) / 2 the advection term conserves energy, so
``dE/dt = -2 E + F sum(x)``; for F = 0 every state decays as E(t) = E(0) exp(-2 t).

Valid prediction time (VPT, [I], the usual definition of Pathak et al. 2018): the first time
the normalised error ``e(t) = ||x_pred(t) - x_true(t)|| / sqrt(<||x_true||^2>)`` exceeds a
threshold (0.4 by default), where ``<.>`` is the time average over a long trajectory on the
attractor (:func:`attractor_rms`, the climatological RMS of ||x||, not the RMS of the one test
trajectory). Reported in Lyapunov times, VPT * lambda_1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp


@dataclass(frozen=True)
class L96Config:
    """Lorenz96 system.

    Attributes:
        n: number of variables N, integer in [4, 1000]; 6 ([I]).
        forcing: forcing F, dimensionless, [-100, 100]; 8 ([I], chaotic).
    """

    n: int = 6
    forcing: float = 8.0

    def __post_init__(self) -> None:
        if int(self.n) != self.n or not 4 <= self.n <= 1000:
            raise ValueError(f"L96Config.n = {self.n!r} must be an integer in [4, 1000]")
        if not (math.isfinite(self.forcing) and -100.0 <= self.forcing <= 100.0):
            raise ValueError(f"L96Config.forcing = {self.forcing!r} is out of range [-100, 100]")


def _idx(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cyclic index arrays (i + 1, i - 1, i - 2) mod n."""
    i = np.arange(n)
    return (i + 1) % n, (i - 1) % n, (i - 2) % n


def l96_rhs(x: np.ndarray, forcing: float) -> np.ndarray:
    """dx/dt of Lorenz96 along the last axis (numpy; any leading batch shape)."""
    ip1, im1, im2 = _idx(x.shape[-1])
    return (x[..., ip1] - x[..., im2]) * x[..., im1] - x + forcing


def l96_jacobian(x: np.ndarray) -> np.ndarray:
    """Jacobian d(dx/dt)/dx of Lorenz96 at one state ``x`` [N] -> [N, N]."""
    n = x.shape[0]
    J = -np.eye(n)
    for i in range(n):
        J[i, (i + 1) % n] += x[(i - 1) % n]
        J[i, (i - 2) % n] -= x[(i - 1) % n]
        J[i, (i - 1) % n] += x[(i + 1) % n] - x[(i - 2) % n]
    return J


def simulate_l96(
    x0: np.ndarray,
    t: np.ndarray,
    cfg: L96Config | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> np.ndarray:
    """Integrate Lorenz96 with scipy's DOP853 at tight tolerances.

    Args:
        x0: initial state [N].
        t: increasing time grid starting at the initial time (model time units).
        cfg: system (default :class:`L96Config`).
        rtol, atol: solver tolerances.

    Returns:
        States on ``t``, shape [T, N] (float64).
    """
    cfg = cfg or L96Config()
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.shape != (cfg.n,):
        raise ValueError(f"simulate_l96: x0 has shape {x0.shape}, the system N = {cfg.n}")
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or t.size < 2 or not np.all(np.diff(t) > 0):
        raise ValueError("simulate_l96: t must be a 1-D increasing grid of >= 2 points")
    sol = solve_ivp(
        lambda _t, y: l96_rhs(y, cfg.forcing),
        (t[0], t[-1]),
        x0,
        method="DOP853",
        t_eval=t,
        rtol=rtol,
        atol=atol,
    )
    if not sol.success:
        raise RuntimeError(f"simulate_l96: solve_ivp failed: {sol.message}")
    return sol.y.T.copy()


def attractor_state(
    cfg: L96Config | None = None, seed: int = 0, spinup: float = 50.0
) -> np.ndarray:
    """A state on the attractor: F plus a small keyed perturbation, integrated for ``spinup``."""
    cfg = cfg or L96Config()
    rng = np.random.default_rng([seed, 96])
    x0 = cfg.forcing + 0.01 * rng.standard_normal(cfg.n)
    return simulate_l96(x0, np.array([0.0, spinup]), cfg)[-1]


def attractor_rms(traj: np.ndarray) -> float:
    """sqrt(<||x||^2>) over a trajectory [T, N] (the VPT normaliser)."""
    return float(np.sqrt(np.mean(np.sum(traj**2, axis=-1))))


def l96_tangent(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """J(x) q without forming J: x [N], tangent vectors q [N, K] -> [N, K].

    d(dx_i/dt) = (dq_{i+1} - dq_{i-2}) x_{i-1} + (x_{i+1} - x_{i-2}) dq_{i-1} - dq_i.
    """
    ip1, im1, im2 = _idx(x.shape[0])
    return (q[ip1] - q[im2]) * x[im1, None] + (x[ip1] - x[im2])[:, None] * q[im1] - q


def _rk4_tangent(
    x: np.ndarray, Q: np.ndarray, dt: float, forcing: float
) -> tuple[np.ndarray, np.ndarray]:
    """One classical RK4 step of the state and of the tangent vectors dQ/dt = J(x) Q."""

    def f(xx: np.ndarray, qq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return l96_rhs(xx, forcing), l96_tangent(xx, qq)

    k1x, k1q = f(x, Q)
    k2x, k2q = f(x + 0.5 * dt * k1x, Q + 0.5 * dt * k1q)
    k3x, k3q = f(x + 0.5 * dt * k2x, Q + 0.5 * dt * k2q)
    k4x, k4q = f(x + dt * k3x, Q + dt * k3q)
    return (
        x + dt / 6.0 * (k1x + 2 * k2x + 2 * k3x + k4x),
        Q + dt / 6.0 * (k1q + 2 * k2q + 2 * k3q + k4q),
    )


def lyapunov_spectrum(
    cfg: L96Config | None = None,
    n_exp: int = 1,
    t_total: float = 200.0,
    dt: float = 0.01,
    renorm_every: int = 10,
    seed: int = 0,
    x0: np.ndarray | None = None,
) -> np.ndarray:
    """The ``n_exp`` largest Lyapunov exponents (1 / time unit), Benettin's QR method.

    The state and ``n_exp`` tangent vectors (orthonormal, keyed random start) are integrated
    together with classical RK4 (step ``dt``; the variational equation dQ/dt = J(x) Q with the
    analytic Jacobian). Every ``renorm_every`` steps Q is re-orthonormalised by a QR
    decomposition and log|R_kk| accumulated; the exponents are the accumulated logs over
    ``t_total``. The start is a state on the attractor (50 time units of spin-up) and the
    tangent vectors get 10 time units to align before accumulation starts.

    Args:
        cfg: system.
        n_exp: number of exponents, 1..N.
        t_total: averaging time (time units); the statistical error falls like t_total^-1/2.
        dt: RK4 step.
        renorm_every: steps between QR re-orthonormalisations.
        seed: keys the initial state and the initial tangent vectors.
        x0: start state (default :func:`attractor_state` of ``seed``).

    Returns:
        Exponents, descending, shape [n_exp].
    """
    cfg = cfg or L96Config()
    if not 1 <= n_exp <= cfg.n:
        raise ValueError(f"lyapunov_spectrum: n_exp = {n_exp} must be in [1, {cfg.n}]")
    x = attractor_state(cfg, seed) if x0 is None else np.asarray(x0, dtype=np.float64)
    rng = np.random.default_rng([seed, 1796])
    Q, _ = np.linalg.qr(rng.standard_normal((cfg.n, n_exp)))
    n_align = int(round(10.0 / dt))
    n_steps = int(round(t_total / dt))
    acc = np.zeros(n_exp)
    for k in range(n_align + n_steps):
        x, Q = _rk4_tangent(x, Q, dt, cfg.forcing)
        if (k + 1) % renorm_every == 0:
            Q, R = np.linalg.qr(Q)
            d = np.diag(R)
            Q = Q * np.sign(d)
            if k >= n_align:
                acc += np.log(np.abs(d))
    return np.sort(acc / (n_steps * dt))[::-1]


def largest_lyapunov(cfg: L96Config | None = None, **kw: object) -> float:
    """The largest Lyapunov exponent (1 / time unit); keywords of :func:`lyapunov_spectrum`."""
    return float(lyapunov_spectrum(cfg, n_exp=1, **kw)[0])  # type: ignore[arg-type]


def normalised_error(x_pred: np.ndarray, x_true: np.ndarray, rms: float) -> np.ndarray:
    """e(t) = ||x_pred - x_true|| / rms for trajectories [T, N] -> [T]."""
    return np.linalg.norm(np.asarray(x_pred) - np.asarray(x_true), axis=-1) / rms


def valid_prediction_time(
    x_pred: np.ndarray,
    x_true: np.ndarray,
    t: np.ndarray,
    rms: float,
    threshold: float = 0.4,
) -> float:
    """First time (relative to ``t[0]``) at which the normalised error exceeds ``threshold``.

    Args:
        x_pred, x_true: trajectories [T, N] on the grid ``t``.
        t: time grid [T].
        rms: the normaliser sqrt(<||x||^2>) of the attractor (:func:`attractor_rms`).
        threshold: error threshold (0.4 default, [I]).

    Returns:
        The VPT in time units; ``t[-1] - t[0]`` if the error never exceeds the threshold
        (the horizon then bounds the VPT from below).
    """
    e = normalised_error(x_pred, x_true, rms)
    over = np.nonzero(e > threshold)[0]
    idx = over[0] if over.size else len(t) - 1
    return float(t[idx] - t[0])
