"""Analytic Shepp-Logan phantoms: the CT stand-in data of the neural-field workload.

PAPERS.md §6.3 asks for ``skimage.data.shepp_logan_phantom()``; scikit-image is not a
dependency of this project, so the phantoms are rasterised here from their published ellipse
tables (the tables are facts of the literature; the code is this project's own).

* :data:`SHEPP_LOGAN_2D`: Toft's *modified* Shepp-Logan table (P. Toft, "The Radon
  Transform", 1996; also MATLAB ``phantom('Modified Shepp-Logan')``): 10 ellipses with
  higher contrast than the original 1974 table, values in [0, 1].
* :data:`SHEPP_LOGAN_3D`: the 10-ellipsoid modified 3-D table (Kak & Slaney's 3-D
  Shepp-Logan with Toft's intensities, as tabulated by M. Schabel's ``phantom3d``).
* :func:`shepp_logan_2d` / :func:`shepp_logan_3d`: rasterise on [-1, 1]^2 / [-1, 1]^3 with
  ``supersample``^d sub-samples per pixel (the pixel value is the mean over the sub-samples,
  i.e. an approximation of the area average).
* :func:`perturb_ellipses` / :func:`prior_phantom_2d`: a keyed perturbation of the table
  (ellipse shifts, scalings, rotations and intensity changes), mimicking a different
  breathing phase of the same patient: the *prior* of the two-stage neural-field
  reconstruction (NeRP's phase 1 -> phase 6 in the paper, PAPERS.md §3.5).

Geometry of the 2-D raster: an N x N image covers [-1, 1]^2; pixel ``[i, j]`` has its centre at
``x = -1 + (2 j + 1) / N`` (column, left to right) and ``y = 1 - (2 i + 1) / N`` (row 0 at the
top, y pointing up), so the image displays the way the table is drawn in the literature. The
3-D raster ``[D, H, W]`` uses ``z = -1 + (2 d + 1) / D`` for the slice axis and the 2-D
convention for ``(H, W)``. All values are clipped to [0, 1] (the modified tables stay within
[0, 1] already; a perturbed table may not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from rramcim import rng

# intensity, semi-axis a (x), semi-axis b (y), centre x0, centre y0, rotation phi (deg, ccw)
SHEPP_LOGAN_2D: tuple[tuple[float, float, float, float, float, float], ...] = (
    (1.0, 0.6900, 0.9200, 0.00, 0.0000, 0.0),
    (-0.8, 0.6624, 0.8740, 0.00, -0.0184, 0.0),
    (-0.2, 0.1100, 0.3100, 0.22, 0.0000, -18.0),
    (-0.2, 0.1600, 0.4100, -0.22, 0.0000, 18.0),
    (0.1, 0.2100, 0.2500, 0.00, 0.3500, 0.0),
    (0.1, 0.0460, 0.0460, 0.00, 0.1000, 0.0),
    (0.1, 0.0460, 0.0460, 0.00, -0.1000, 0.0),
    (0.1, 0.0460, 0.0230, -0.08, -0.6050, 0.0),
    (0.1, 0.0230, 0.0230, 0.00, -0.6060, 0.0),
    (0.1, 0.0230, 0.0460, 0.06, -0.6050, 0.0),
)
"""Toft's modified Shepp-Logan ellipses: (intensity, a, b, x0, y0, phi_deg)."""

# intensity, a, b, c, x0, y0, z0, phi, theta, psi (Euler z-x-z angles, degrees)
SHEPP_LOGAN_3D: tuple[tuple[float, ...], ...] = (
    (1.0, 0.6900, 0.920, 0.810, 0.00, 0.0000, 0.00, 0.0, 0.0, 0.0),
    (-0.8, 0.6624, 0.874, 0.780, 0.00, -0.0184, 0.00, 0.0, 0.0, 0.0),
    (-0.2, 0.1100, 0.310, 0.220, 0.22, 0.0000, 0.00, -18.0, 0.0, 10.0),
    (-0.2, 0.1600, 0.410, 0.280, -0.22, 0.0000, 0.00, 18.0, 0.0, 10.0),
    (0.1, 0.2100, 0.250, 0.410, 0.00, 0.3500, -0.15, 0.0, 0.0, 0.0),
    (0.1, 0.0460, 0.046, 0.050, 0.00, 0.1000, 0.25, 0.0, 0.0, 0.0),
    (0.1, 0.0460, 0.046, 0.050, 0.00, -0.1000, 0.25, 0.0, 0.0, 0.0),
    (0.1, 0.0460, 0.023, 0.050, -0.08, -0.6050, 0.00, 0.0, 0.0, 0.0),
    (0.1, 0.0230, 0.023, 0.020, 0.00, -0.6060, 0.00, 0.0, 0.0, 0.0),
    (0.1, 0.0230, 0.046, 0.020, 0.06, -0.6050, 0.00, 0.0, 0.0, 0.0),
)
"""Modified 3-D Shepp-Logan ellipsoids: (intensity, a, b, c, x0, y0, z0, phi, theta, psi)."""


def _check_size(name: str, value: int, lo: int, hi: int) -> None:
    if int(value) != value or not lo <= int(value) <= hi:
        raise ValueError(f"{name} = {value!r} must be an integer in [{lo}, {hi}]")


def _axis(n: int, ss: int, *, flip: bool) -> np.ndarray:
    """Sub-sample coordinates of ``n`` pixels on [-1, 1], ``ss`` per pixel (pixel-major)."""
    k = np.arange(n * ss, dtype=np.float64)
    c = -1.0 + (2.0 * k + 1.0) / (n * ss)
    return -c if flip else c


def rasterise_ellipses(
    ellipses: tuple[tuple[float, ...], ...] | np.ndarray, n: int = 128, supersample: int = 4
) -> np.ndarray:
    """Rasterise a 2-D ellipse table on an ``n x n`` grid over [-1, 1]^2.

    Args:
        ellipses: rows ``(intensity, a, b, x0, y0, phi_deg)``; ``a, b`` > 0 are the semi-axes
            along x and y before the counter-clockwise rotation by ``phi_deg`` (degrees).
        n: image size in pixels, [2, 4096].
        supersample: sub-samples per pixel and axis, [1, 16].

    Returns:
        float64 array ``[n, n]`` (row 0 at the top), clipped to [0, 1].
    """
    _check_size("n", n, 2, 4096)
    _check_size("supersample", supersample, 1, 16)
    e = np.asarray(ellipses, dtype=np.float64).reshape(-1, 6)
    if np.any(e[:, 1:3] <= 0):
        raise ValueError("rasterise_ellipses: semi-axes a, b must be > 0")
    y = _axis(n, supersample, flip=True)[:, None]
    x = _axis(n, supersample, flip=False)[None, :]
    img = np.zeros((n * supersample, n * supersample))
    for rho, a, b, x0, y0, phi in e:
        c, s = math.cos(math.radians(phi)), math.sin(math.radians(phi))
        dx, dy = x - x0, y - y0
        u = (dx * c + dy * s) / a
        v = (-dx * s + dy * c) / b
        img += rho * (u * u + v * v <= 1.0)
    img = img.reshape(n, supersample, n, supersample).mean(axis=(1, 3))
    return np.clip(img, 0.0, 1.0)


def shepp_logan_2d(n: int = 128, supersample: int = 4) -> np.ndarray:
    """Toft's modified Shepp-Logan phantom, ``n x n`` on [-1, 1]^2, values in [0, 1].

    Args:
        n: image size in pixels, [2, 4096].
        supersample: sub-samples per pixel and axis, [1, 16].

    Returns:
        float64 array ``[n, n]``.
    """
    return rasterise_ellipses(SHEPP_LOGAN_2D, n, supersample)


@dataclass(frozen=True)
class PriorPerturbation:
    """Keyed perturbation of an ellipse table (the *prior* of the CT reconstruction).

    Every ellipse ``k`` draws independent standard normals ``z`` with
    ``rng.normal(rng.make_key(seed, "phantom_prior", quantity), k)`` for each quantity
    (``"dx"``, ``"dy"``, ``"sa"``, ``"sb"``, ``"rot"``, ``"rho"``) and becomes
    ``x0 + shift * z_dx``, ``y0 + shift * z_dy``, ``a (1 + scale * z_sa)``,
    ``b (1 + scale * z_sb)``, ``phi + rot_deg * z_rot``,
    ``rho + intensity * z_rho`` (the last only for the inner ellipses 3..10, so the skull
    and the brain background keep their values). Ellipse 2 (the inside of the skull) reuses
    ellipse 1's geometric draws, so the skull moves as one rigid shell and keeps its
    thickness. On top, a global "breathing" stretch
    multiplies every y coordinate (centres and semi-axes b) by ``1 + breath``: a different
    respiratory phase of the same anatomy. Scale factors are clamped to >= 0.5.

    Attributes:
        seed: key of the draws, any int.
        shift: sigma of the centre shifts, in units of the half field of view, [0, 0.2].
        scale: relative sigma of the semi-axes, [0, 0.3].
        rot_deg: sigma of the rotation change, degrees, [0, 30].
        intensity: sigma of the intensity change of the inner ellipses, [0, 0.2].
        breath: relative global stretch along y, [-0.2, 0.2].
    """

    seed: int = 0
    shift: float = 0.01
    scale: float = 0.03
    rot_deg: float = 2.0
    intensity: float = 0.02
    breath: float = 0.02

    def __post_init__(self) -> None:
        for name, lo, hi in (
            ("shift", 0.0, 0.2),
            ("scale", 0.0, 0.3),
            ("rot_deg", 0.0, 30.0),
            ("intensity", 0.0, 0.2),
            ("breath", -0.2, 0.2),
        ):
            v = getattr(self, name)
            if not (math.isfinite(v) and lo <= v <= hi):
                raise ValueError(f"PriorPerturbation.{name} = {v!r} is outside [{lo}, {hi}]")
        if int(self.seed) != self.seed:
            raise ValueError(f"PriorPerturbation.seed = {self.seed!r} must be an integer")


def _keyed_normals(pert: PriorPerturbation, purpose: str, q: str, k: int) -> np.ndarray:
    """One keyed standard normal per table row for quantity ``q``; the skull pair (rows 0 and
    1) shares its draw for every geometric quantity, so the shell moves rigidly."""
    v = rng.normal(rng.make_key(int(pert.seed), purpose, q), torch.arange(k)).numpy()
    if q != "rho" and v.size > 1:
        v[1] = v[0]
    return v


def _perturb(e: np.ndarray, pert: PriorPerturbation, purpose: str, dims: int) -> np.ndarray:
    """Shift the centres, scale the semi-axes, rotate (first angle), change the inner
    intensities and stretch y ("breathing") of an ellipse (dims 2) or ellipsoid (dims 3)
    table ``(intensity, semi-axes..., centre..., angles...)``."""
    out = e.copy()
    k = e.shape[0]
    z = {
        q: _keyed_normals(pert, purpose, q, k)
        for q in ("dx", "dy", "dz", "sa", "sb", "sc", "rot", "rho")
    }
    centre = 1 + dims
    for i, q in enumerate(("dx", "dy", "dz")[:dims]):
        out[:, centre + i] += pert.shift * z[q]
    for i, q in enumerate(("sa", "sb", "sc")[:dims]):
        out[:, 1 + i] *= np.maximum(1.0 + pert.scale * z[q], 0.5)
    out[:, 1 + 2 * dims] += pert.rot_deg * z["rot"]
    inner = np.arange(k) >= 2
    out[inner, 0] += pert.intensity * z["rho"][inner]
    out[:, 2] *= 1.0 + pert.breath
    out[:, centre + 1] *= 1.0 + pert.breath
    return out


def perturb_ellipses(
    ellipses: tuple[tuple[float, ...], ...] | np.ndarray, pert: PriorPerturbation
) -> np.ndarray:
    """Apply :class:`PriorPerturbation` to a 2-D ellipse table (see its docstring).

    Args:
        ellipses: rows ``(intensity, a, b, x0, y0, phi_deg)``.
        pert: the perturbation.

    Returns:
        float64 array ``[K, 6]``, the perturbed table.
    """
    return _perturb(np.array(ellipses, dtype=np.float64).reshape(-1, 6), pert, "phantom_prior", 2)


def perturb_ellipsoids(
    table: tuple[tuple[float, ...], ...] | np.ndarray, pert: PriorPerturbation
) -> np.ndarray:
    """The 3-D analogue of :func:`perturb_ellipses`: centres shifted along x, y and z, the three
    semi-axes scaled, the first Euler angle (in-plane) rotated, inner intensities changed, y
    stretched; keys ``(seed, "phantom_prior_3d", quantity)``.

    Args:
        table: rows ``(intensity, a, b, c, x0, y0, z0, phi, theta, psi)``.
        pert: the perturbation (shared with the 2-D prior).

    Returns:
        float64 array ``[K, 10]``, the perturbed table.
    """
    return _perturb(np.array(table, dtype=np.float64).reshape(-1, 10), pert, "phantom_prior_3d", 3)


def prior_phantom_2d(
    n: int = 128, pert: PriorPerturbation | None = None, supersample: int = 4
) -> np.ndarray:
    """The perturbed ("other breathing phase") modified Shepp-Logan phantom.

    Args:
        n: image size in pixels, [2, 4096].
        pert: the perturbation (default :class:`PriorPerturbation()`).
        supersample: sub-samples per pixel and axis, [1, 16].

    Returns:
        float64 array ``[n, n]`` in [0, 1].
    """
    pert = PriorPerturbation() if pert is None else pert
    return rasterise_ellipses(perturb_ellipses(SHEPP_LOGAN_2D, pert), n, supersample)


def _euler_zxz(phi: float, theta: float, psi: float) -> np.ndarray:
    """Rotation matrix of z-x-z Euler angles (degrees), as in the ``phantom3d`` tables."""
    p, t, s = (math.radians(v) for v in (phi, theta, psi))
    cp, sp, ct, st, cs, ss = (
        math.cos(p),
        math.sin(p),
        math.cos(t),
        math.sin(t),
        math.cos(s),
        math.sin(s),
    )
    return np.array(
        [
            [cs * cp - ct * sp * ss, cs * sp + ct * cp * ss, ss * st],
            [-ss * cp - ct * sp * cs, -ss * sp + ct * cp * cs, cs * st],
            [st * sp, -st * cp, ct],
        ]
    )


def rasterise_ellipsoids(
    table: tuple[tuple[float, ...], ...] | np.ndarray,
    shape: tuple[int, int, int] = (40, 128, 128),
    z_half: float = 1.0,
    supersample: int = 2,
) -> np.ndarray:
    """Rasterise a 3-D ellipsoid table on ``[D, H, W]`` voxels over [-1, 1]^2 x [-z_half, z_half].

    A voxel ``(z, y, x)`` lies in ellipsoid ``k`` when ``q = R_k (p - p_k)`` satisfies
    ``(q_x / a)^2 + (q_y / b)^2 + (q_z / c)^2 <= 1``, with ``R_k`` the z-x-z Euler rotation
    of the table's angles, applied about the ellipsoid's centre ``p_k``.

    Args:
        table: rows ``(intensity, a, b, c, x0, y0, z0, phi, theta, psi)`` (semi-axes > 0,
            angles in degrees), as :data:`SHEPP_LOGAN_3D`.
        shape: ``(D, H, W)`` voxels along z, y (row 0 at the top, y up), x; each in [2, 1024].
        z_half: half-extent of the slab along z (units of the half field of view), (0, 1].
        supersample: sub-samples per voxel and axis, [1, 8].

    Returns:
        float64 array ``[D, H, W]`` clipped to [0, 1].
    """
    if len(shape) != 3:
        raise ValueError(f"shape = {shape!r} must be (D, H, W)")
    for name, v in zip(("D", "H", "W"), shape, strict=True):
        _check_size(f"shape.{name}", v, 2, 1024)
    _check_size("supersample", supersample, 1, 8)
    if not (math.isfinite(z_half) and 0.0 < z_half <= 1.0):
        raise ValueError(f"z_half = {z_half!r} is outside (0, 1]")
    e = np.asarray(table, dtype=np.float64).reshape(-1, 10)
    if np.any(e[:, 1:4] <= 0):
        raise ValueError("rasterise_ellipsoids: semi-axes a, b, c must be > 0")
    d, h, w = (int(v) for v in shape)
    ss = int(supersample)
    zc = z_half * _axis(d, ss, flip=False)[:, None, None]
    yc = _axis(h, ss, flip=True)[None, :, None]
    xc = _axis(w, ss, flip=False)[None, None, :]
    out = np.zeros((d, h, w))
    for rho, a, b, c, x0, y0, z0, phi, theta, psi in e:
        r = _euler_zxz(phi, theta, psi)
        dx, dy, dz = xc - x0, yc - y0, zc - z0
        qx = (r[0, 0] * dx + r[0, 1] * dy + r[0, 2] * dz) / a
        qy = (r[1, 0] * dx + r[1, 1] * dy + r[1, 2] * dz) / b
        qz = (r[2, 0] * dx + r[2, 1] * dy + r[2, 2] * dz) / c
        inside = (qx * qx + qy * qy + qz * qz) <= 1.0
        out += rho * inside.reshape(d, ss, h, ss, w, ss).mean(axis=(1, 3, 5))
    return np.clip(out, 0.0, 1.0)


def shepp_logan_3d(
    shape: tuple[int, int, int] = (40, 128, 128), supersample: int = 2
) -> np.ndarray:
    """The modified 3-D Shepp-Logan phantom (10 ellipsoids) on [-1, 1]^3
    (:func:`rasterise_ellipsoids` of :data:`SHEPP_LOGAN_3D`).

    Args:
        shape: ``(D, H, W)`` voxels along z, y, x; each in [2, 1024].
        supersample: sub-samples per voxel and axis, [1, 8].

    Returns:
        float64 array ``[D, H, W]`` in [0, 1] (slice ``D // 2`` is close to the 2-D phantom).
    """
    return rasterise_ellipsoids(SHEPP_LOGAN_3D, shape, 1.0, supersample)
