"""Novel-view synthesis with a compressed neural field (PAPERS.md §3.3, §3.6, §6.3), scaled to CPU.

Scenes. The Blender scenes of the paper cannot be downloaded, so the views come from procedural
scenes (:func:`make_scene`): coloured spheres and boxes with analytic density in the unit cube,
one static scene and one dynamic scene whose objects move linearly with time ``t`` in [0, 1]
(the paper's dynamic-scene data are NF, PAPERS.md §3.3). Ground-truth images are rendered from
the analytic field by the same volume renderer (:func:`render_rays`) with ``gt_samples`` points
per ray; the network learns from ``train_views`` cameras and is scored on ``test_views``
held-out cameras (different azimuths, and for the dynamic scene different times).

Renderer. NeRF quadrature: ``n_samples`` equal strata between ``near`` and ``far``, one depth
per stratum (jittered in training, the mid-point in evaluation), ``delta_i`` the stratum width,
``alpha_i = 1 - exp(-sigma_i delta_i)``,
weights ``alpha_i prod_{j<i} (1 - alpha_j)``, colour ``sum w_i c_i`` plus a white background
``1 - sum w_i`` (the paper's ``white_bkgd``). No hierarchical sampling (the paper's fine
network is not pruned and doubles the work; a CPU-sized reproduction leaves it out).

Network (:class:`NerfField`). As the paper's NeRF with low-rank layers: the Gaussian encoder
of the points (and of ``t`` for the dynamic scene) and of the view directions; a trunk of
``depth`` layers of ``width`` units whose square layers are factorised ``W -> r -> W`` without
an activation between the factors (:class:`LowRankLinear`), ReLU after every layer and a skip
connection of the encoded input after layer ``skip``; heads: density (ReLU), a feature layer,
a view branch ``width + dir -> width / 2`` and RGB (sigmoid). Defaults are scaled to CPU
(depth 4, width 64, rank 16); :data:`PAPER_NERF` holds the paper's 8 x 128, rank 32.

Structured pruning (:func:`prune_trunk`): L2-magnitude importance of every hidden unit of the
trunk (the norm of the weights that produce it), the least important units removed layer by
layer up to ``prune_ratio`` (the paper's 0.9 with ``torch_pruning.MagnitudePruner``, applied
to the coarse network, output layers exempt). Pruning is done in ``prune_rounds`` steps with
fine-tuning after each and finally removes the units physically, so the parameter count (and
the cells needed) falls.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from rramcim import rng

__all__ = [
    "PAPER_NERF",
    "LowRankLinear",
    "NerfConfig",
    "NerfField",
    "NvsConfig",
    "Scene",
    "SceneObject",
    "camera_rays",
    "look_at_poses",
    "make_scene",
    "make_test_views",
    "make_views",
    "prune_trunk",
    "render_rays",
]


# ------------------------------------------------------------------------------------------
# Procedural scenes
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SceneObject:
    """One object of a procedural scene.

    Attributes:
        kind: ``"sphere"`` or ``"box"``.
        center: centre at t = 0, scene units (the scene lives in [-1, 1]^3).
        size: sphere radius or box half-edge, scene units, (0, 1].
        rgb: colour, each channel in [0, 1].
        density: density inside the object, 1/scene unit, > 0.
        velocity: displacement per unit of ``t`` (dynamic scenes), scene units.
    """

    kind: str
    center: tuple[float, float, float]
    size: float
    rgb: tuple[float, float, float]
    density: float = 40.0
    velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.kind not in ("sphere", "box"):
            raise ValueError(f"SceneObject.kind: {self.kind!r} is not 'sphere' or 'box'")
        if not 0.0 < self.size <= 1.0:
            raise ValueError(f"SceneObject.size: {self.size} is outside (0, 1]")
        if not self.density > 0:
            raise ValueError(f"SceneObject.density: {self.density} must be > 0")
        if any(not 0.0 <= c <= 1.0 for c in self.rgb):
            raise ValueError(f"SceneObject.rgb: {self.rgb} has a channel outside [0, 1]")


@dataclass(frozen=True)
class Scene:
    """A set of objects with smooth edges (``edge`` scene units wide) and striped colours."""

    objects: tuple[SceneObject, ...]
    dynamic: bool
    edge: float = 0.02
    stripes: float = 2.5  # texture frequency, cycles per scene unit

    def field(
        self, pts: torch.Tensor, t: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Density ``[N]`` and colour ``[N, 3]`` at points ``[N, 3]`` (and times ``[N]``)."""
        sig = torch.zeros(pts.shape[0], dtype=pts.dtype)
        col = torch.zeros(pts.shape[0], 3, dtype=pts.dtype)
        for o in self.objects:
            c = torch.tensor(o.center, dtype=pts.dtype)
            if self.dynamic and t is not None:
                c = c + t[:, None] * torch.tensor(o.velocity, dtype=pts.dtype)
            d = pts - c
            # signed distance; for the box the Chebyshev one (exact inside, a bound outside)
            sd = d.norm(dim=-1) - o.size if o.kind == "sphere" else d.abs().amax(-1) - o.size
            s = o.density * torch.sigmoid(-sd / self.edge)
            # stripes across the object (a texture for the network to learn), 0.7 .. 1 of rgb
            tex = 0.85 + 0.15 * torch.sin(2.0 * math.pi * self.stripes * (d[:, 0] + d[:, 2]))
            sig = sig + s
            col = col + (s * tex)[:, None] * torch.tensor(o.rgb, dtype=pts.dtype)
        col = col / sig.clamp_min(1e-6)[:, None]
        return sig, col


def make_scene(kind: str = "static") -> Scene:
    """The two procedural scenes: ``"static"`` (four objects) and ``"dynamic"`` (the same
    objects, two of them moving with ``t``)."""
    objs = [
        SceneObject("sphere", (0.0, 0.0, 0.0), 0.35, (0.85, 0.25, 0.2)),
        SceneObject("box", (0.45, 0.35, -0.15), 0.2, (0.2, 0.6, 0.9), velocity=(-0.5, 0.0, 0.2)),
        SceneObject("sphere", (-0.45, 0.3, 0.25), 0.22, (0.3, 0.8, 0.3), velocity=(0.3, -0.4, 0.0)),
        SceneObject("box", (-0.1, -0.5, -0.3), 0.18, (0.9, 0.8, 0.2)),
    ]
    if kind == "static":
        return Scene(tuple(objs), dynamic=False)
    if kind == "dynamic":
        return Scene(tuple(objs), dynamic=True)
    raise ValueError(f"make_scene: kind {kind!r} is not 'static' or 'dynamic'")


# ------------------------------------------------------------------------------------------
# Cameras and rendering
# ------------------------------------------------------------------------------------------
def look_at_poses(
    azimuth_deg: np.ndarray, elevation_deg: np.ndarray, radius: float
) -> torch.Tensor:
    """Camera-to-world matrices ``[n, 4, 4]`` of cameras on a sphere looking at the origin
    (OpenGL convention: the camera looks along its -z axis, y up)."""
    az = np.deg2rad(np.asarray(azimuth_deg, dtype=np.float64))
    el = np.deg2rad(np.asarray(elevation_deg, dtype=np.float64))
    pos = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], -1) * radius
    fwd = -pos / np.linalg.norm(pos, axis=-1, keepdims=True)
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(fwd, up)
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    cup = np.cross(right, fwd)
    m = np.zeros((az.size, 4, 4))
    m[:, :3, 0], m[:, :3, 1], m[:, :3, 2], m[:, :3, 3] = right, cup, -fwd, pos
    m[:, 3, 3] = 1.0
    return torch.from_numpy(m).float()


def camera_rays(c2w: torch.Tensor, size: int, fov_deg: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Ray origins and unit directions ``[n, size*size, 3]`` of pinhole cameras."""
    f = 0.5 * size / math.tan(0.5 * math.radians(fov_deg))
    j, i = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    d = torch.stack([(i - 0.5 * size) / f, -(j - 0.5 * size) / f, -torch.ones_like(i)], -1)
    d = d.reshape(-1, 3)
    dirs = torch.einsum("nab,pb->npa", c2w[:, :3, :3], d)
    dirs = dirs / dirs.norm(dim=-1, keepdim=True)
    orig = c2w[:, None, :3, 3].expand_as(dirs)
    return orig, dirs


FieldFn = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor]
]


def render_rays(
    field_fn: FieldFn,
    orig: torch.Tensor,
    dirs: torch.Tensor,
    *,
    near: float,
    far: float,
    n_samples: int,
    t: torch.Tensor | None = None,
    gen: torch.Generator | None = None,
) -> torch.Tensor:
    """Colour ``[R, 3]`` of rays ``[R, 3]`` by NeRF quadrature on a white background.

    Args:
        field_fn: ``(points [N, 3], directions [N, 3], times [N] or None) -> (sigma [N],
            rgb [N, 3])``.
        near, far: depth range, scene units.
        n_samples: points per ray.
        t: time of each ray ``[R]`` (dynamic scenes) or None.
        gen: jitters the depths within their strata (training); None: strata mid-points.
    """
    R = orig.shape[0]
    edges = torch.linspace(near, far, n_samples + 1)
    lo, width = edges[:-1], edges[1:] - edges[:-1]
    u = (
        torch.rand(R, n_samples, generator=gen)
        if gen is not None
        else torch.full((R, n_samples), 0.5)
    )
    z = lo[None] + width[None] * u
    pts = orig[:, None] + dirs[:, None] * z[..., None]
    dd = dirs[:, None].expand_as(pts)
    tt = t[:, None].expand(R, n_samples).reshape(-1) if t is not None else None
    sig, rgb = field_fn(pts.reshape(-1, 3), dd.reshape(-1, 3), tt)
    sig, rgb = sig.reshape(R, n_samples), rgb.reshape(R, n_samples, 3)
    delta = width[None].expand(R, n_samples)  # each sample stands for its stratum
    alpha = 1.0 - torch.exp(-sig * delta)
    trans = torch.cumprod(torch.cat([torch.ones(R, 1), 1.0 - alpha + 1e-10], 1), 1)[:, :-1]
    w = alpha * trans
    return (w[..., None] * rgb).sum(1) + (1.0 - w.sum(1, keepdim=True))


# ------------------------------------------------------------------------------------------
# Network
# ------------------------------------------------------------------------------------------
class LowRankLinear(nn.Module):
    """``y = U (V x) + b`` with ``V`` [rank, in] and ``U`` [out, rank], no activation between
    the factors (the paper's low-rank NeRF layers); ``rank = None`` gives a full layer, and so
    does ``rank >= min(n_in, n_out)`` unless ``always`` (a pruned layer rebuilt as it was)."""

    def __init__(self, n_in: int, n_out: int, rank: int | None, *, always: bool = False) -> None:
        super().__init__()
        if rank is None or (rank >= min(n_in, n_out) and not always):
            self.v = None
            self.u = nn.Linear(n_in, n_out)
        else:
            self.v = nn.Linear(n_in, rank, bias=False)
            self.u = nn.Linear(rank, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.u(self.v(x) if self.v is not None else x)

    def matrices(self) -> list[torch.Tensor]:
        """The weight matrices this layer puts on the crossbar, in evaluation order (``V``
        before ``U``)."""
        return ([self.v.weight] if self.v is not None else []) + [self.u.weight]

    def dense(self) -> torch.Tensor:
        """The product weight ``U V`` [out, in]."""
        return self.u.weight @ self.v.weight if self.v is not None else self.u.weight


@dataclass(frozen=True)
class NerfConfig:
    """NeRF-style field.

    Attributes:
        depth: trunk layers, [2, 16].
        width: trunk units, [8, 512].
        rank: rank of the factorised square trunk layers, [1, width], or None (full).
        skip: trunk layer after which the encoded input is concatenated again, [0, depth - 2].
        n_freq_pts: Gaussian-encoder frequencies of the points (and of t), [1, 256].
        n_freq_dir: encoder frequencies of the view directions, [1, 256].
        sigma_pts: standard deviation of the point frequencies, cycles per scene unit, > 0.
        sigma_dir: standard deviation of the direction frequencies, > 0.
        time_input: the field takes ``t`` as a fourth coordinate (dynamic scenes).
    """

    depth: int = 4
    width: int = 64
    rank: int | None = 16
    skip: int = 2
    n_freq_pts: int = 48
    n_freq_dir: int = 12
    sigma_pts: float = 1.5
    sigma_dir: float = 0.5
    time_input: bool = False

    def __post_init__(self) -> None:
        for name, lo, hi in (
            ("depth", 2, 16),
            ("width", 8, 512),
            ("n_freq_pts", 1, 256),
            ("n_freq_dir", 1, 256),
        ):
            v = getattr(self, name)
            if not (isinstance(v, int) and lo <= v <= hi):
                raise ValueError(f"NerfConfig.{name}: {v!r} is outside [{lo}, {hi}]")
        if self.rank is not None and not (
            isinstance(self.rank, int) and 1 <= self.rank <= self.width
        ):
            raise ValueError(f"NerfConfig.rank: {self.rank!r} is outside [1, width={self.width}]")
        if not 0 <= self.skip <= self.depth - 2:
            raise ValueError(
                f"NerfConfig.skip: {self.skip} is outside [0, depth - 2 = {self.depth - 2}]"
            )
        for name in ("sigma_pts", "sigma_dir"):
            if not getattr(self, name) > 0:
                raise ValueError(f"NerfConfig.{name}: {getattr(self, name)} must be > 0")


PAPER_NERF = NerfConfig(
    depth=8, width=128, rank=32, skip=3, n_freq_pts=48, n_freq_dir=48, sigma_pts=26.0
)
"""The paper's NVS network: 8 x 128, rank 32, skip after layer 3 (``skips=[3]``), 16
frequencies per coordinate with sigma 26 (PAPERS.md §3.2-§3.3). Too large for CPU training
here; available as configuration."""


def _gauss_b(key: int, n_freq: int, n_in: int, sigma: float) -> torch.Tensor:
    return rng.normal_like(key, (n_freq, n_in)).float() * sigma


class NerfField(nn.Module):
    """The field ``(points, directions[, t]) -> (sigma, rgb)`` (see the module docstring).

    Args:
        cfg: the configuration.
        seed: keys the encoder frequencies (ideal Gaussian) and the weight initialisation.
        b_pts: optional point (and time) frequencies ``[n_freq_pts, 3 or 4]`` instead of the
            ideal Gaussian ones, e.g. from the RRAM encoder.
    """

    def __init__(
        self,
        cfg: NerfConfig,
        seed: int = 0,
        b_pts: torch.Tensor | None = None,
        trunk: Sequence[tuple[int, bool]] | None = None,
    ) -> None:
        from rramcim.nn.field import GaussianEncoder

        super().__init__()
        self.cfg = cfg
        n_in = 4 if cfg.time_input else 3
        if b_pts is None:
            b_pts = _gauss_b(rng.make_key(seed, "nvs_b_pts"), cfg.n_freq_pts, n_in, cfg.sigma_pts)
        if tuple(b_pts.shape) != (cfg.n_freq_pts, n_in):
            raise ValueError(
                f"NerfField: b_pts has shape {tuple(b_pts.shape)}, expected "
                f"({cfg.n_freq_pts}, {n_in})"
            )
        b_dir = _gauss_b(rng.make_key(seed, "nvs_b_dir"), cfg.n_freq_dir, 3, cfg.sigma_dir)
        self.enc_pts = GaussianEncoder(b_pts)
        self.enc_dir = GaussianEncoder(b_dir)
        e_p, e_d = n_in + 2 * cfg.n_freq_pts, 3 + 2 * cfg.n_freq_dir
        self.e_pts = e_p
        torch.manual_seed(rng.make_key(seed, "nvs_init") % (1 << 62))
        if trunk is None:
            widths = [cfg.width] * cfg.depth
            self.trunk = nn.ModuleList(self._trunk_layer(k, widths) for k in range(cfg.depth))
        else:  # a pruned network (checkpoint): per layer (units, factorised)
            if len(trunk) != cfg.depth:
                raise ValueError(f"NerfField: trunk has {len(trunk)} layers, expected {cfg.depth}")
            widths = [int(u) for u, _ in trunk]
            self.trunk = nn.ModuleList(
                LowRankLinear(
                    self._trunk_in(k, widths), widths[k], cfg.rank if f else None, always=True
                )
                for k, (_, f) in enumerate(trunk)
            )
        w = cfg.width
        self.sigma_head = nn.Linear(widths[-1], 1)
        self.feature = nn.Linear(widths[-1], w)
        self.view = nn.Linear(w + e_d, w // 2)
        self.rgb_head = nn.Linear(w // 2, 3)

    def _trunk_in(self, k: int, widths: list[int]) -> int:
        if k == 0:
            return self.e_pts
        return widths[k - 1] + (self.e_pts if k - 1 == self.cfg.skip else 0)

    def _trunk_layer(self, k: int, widths: list[int]) -> LowRankLinear:
        square = k > 0 and k - 1 != self.cfg.skip  # fed by the previous trunk layer alone
        return LowRankLinear(
            self._trunk_in(k, widths), widths[k], self.cfg.rank if square else None
        )

    def forward(
        self, pts: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.cfg.time_input and t is None:
            raise ValueError("NerfField: this field takes a time input")
        x = torch.cat([pts, t[:, None]], 1) if self.cfg.time_input else pts
        e = self.enc_pts(x)
        h = e
        for k, layer in enumerate(self.trunk):
            h = torch.relu(layer(h))
            if k == self.cfg.skip:
                h = torch.cat([h, e], 1)
        sigma = torch.relu(self.sigma_head(h)).squeeze(1)
        f = self.feature(h)
        v = torch.relu(self.view(torch.cat([f, self.enc_dir(dirs)], 1)))
        return sigma, torch.sigmoid(self.rgb_head(v))

    @property
    def trunk_shape(self) -> list[tuple[int, bool]]:
        """Per trunk layer: (units, factorised) -- what rebuilds a pruned network."""
        return [(layer.u.out_features, layer.v is not None) for layer in self.trunk]

    @property
    def widths(self) -> list[int]:
        """Units of every trunk layer."""
        return [layer.u.out_features for layer in self.trunk]

    def matrices(self) -> list[torch.Tensor]:
        """Every weight matrix the crossbar holds (low-rank factors separately)."""
        mats: list[torch.Tensor] = []
        for layer in self.trunk:
            mats += layer.matrices()
        for lin in (self.sigma_head, self.feature, self.view, self.rgb_head):
            mats.append(lin.weight)
        return mats

    def n_weights(self) -> int:
        """Weights on the crossbar (biases are not counted: they ride on a bias row)."""
        return int(sum(m.numel() for m in self.matrices()))


# ------------------------------------------------------------------------------------------
# Structured pruning
# ------------------------------------------------------------------------------------------
def _keep_rows(lin: nn.Linear, rows: torch.Tensor) -> nn.Linear:
    out = nn.Linear(lin.in_features, rows.numel(), bias=lin.bias is not None)
    with torch.no_grad():
        out.weight.copy_(lin.weight[rows])
        if lin.bias is not None:
            out.bias.copy_(lin.bias[rows])
    return out


def _keep_cols(lin: nn.Linear, cols: torch.Tensor) -> nn.Linear:
    out = nn.Linear(cols.numel(), lin.out_features, bias=lin.bias is not None)
    with torch.no_grad():
        out.weight.copy_(lin.weight[:, cols])
        if lin.bias is not None:
            out.bias.copy_(lin.bias)
    return out


def _in_linear(layer: LowRankLinear) -> nn.Linear:
    return layer.v if layer.v is not None else layer.u


def prune_trunk(net: NerfField, keep_frac: float) -> NerfField:
    """Remove the least important hidden units of every trunk layer, in place, so that each
    keeps ``ceil(keep_frac * width)`` units (at least one).

    Importance of a unit is the L2 norm of the weights that produce it (its row of the
    layer's product matrix ``U V``, bias included); its row leaves the producing layer and its
    column every consumer (the next trunk layer; after the last, the density and feature
    heads). Returns ``net`` (its parameters are new objects: rebuild the optimiser).
    """
    if not 0.0 < keep_frac <= 1.0:
        raise ValueError(f"prune_trunk: keep_frac {keep_frac} is outside (0, 1]")
    cfg = net.cfg
    for k, layer in enumerate(net.trunk):
        w = layer.dense()
        score = torch.cat([w, layer.u.bias[:, None]], 1).norm(dim=1)
        n_keep = max(1, math.ceil(keep_frac * cfg.width))
        if n_keep >= w.shape[0]:
            continue
        keep = torch.sort(torch.topk(score, n_keep).indices).values
        layer.u = _keep_rows(layer.u, keep)
        if k + 1 < len(net.trunk):
            nxt = net.trunk[k + 1]
            cols = keep
            if k == cfg.skip:  # the next layer also reads the encoded input after the units
                n_old = w.shape[0]
                cols = torch.cat([keep, torch.arange(n_old, n_old + net.e_pts)])
            if nxt.v is not None:
                nxt.v = _keep_cols(nxt.v, cols)
            else:
                nxt.u = _keep_cols(nxt.u, cols)
        else:
            net.sigma_head = _keep_cols(net.sigma_head, keep)
            net.feature = _keep_cols(net.feature, keep)
    return net


# ------------------------------------------------------------------------------------------
# Data, training, evaluation
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NvsConfig:
    """One novel-view-synthesis experiment.

    Attributes:
        scene: ``"static"`` or ``"dynamic"``.
        image_size: pixels per image side, [8, 256].
        fov_deg: camera field of view, (10, 120) degrees.
        radius: camera distance from the origin, scene units, > 1.8.
        train_views, test_views: cameras (azimuths spread evenly, elevations alternating
            between 15 and 40 degrees; the test cameras lie between the training ones), [1, 400].
        near, far: ray depth range, scene units.
        n_samples: points per ray for the network, [4, 256]; gt_samples: for the ground truth.
        net: the field's configuration (``time_input`` is set for the dynamic scene).
        steps: dense training steps; prune_steps: fine-tuning steps after each pruning round.
        prune_ratio: fraction of the trunk units removed, [0, 0.99] (the paper's 0.9).
        prune_rounds: pruning rounds, [1, 100].
        batch_rays: rays per step; lr: Adam learning rate (decayed 10x over all steps).
        seed: keys the frequencies, the initialisation, the ray batches and the jitter.
    """

    scene: str = "static"
    image_size: int = 32
    fov_deg: float = 30.0
    radius: float = 3.2
    train_views: int = 36
    test_views: int = 6
    near: float = 1.6
    far: float = 4.8
    n_samples: int = 32
    gt_samples: int = 192
    net: NerfConfig = field(default_factory=NerfConfig)
    steps: int = 1500
    prune_steps: int = 300
    prune_ratio: float = 0.5
    prune_rounds: int = 3
    batch_rays: int = 512
    lr: float = 5e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.scene not in ("static", "dynamic"):
            raise ValueError(f"NvsConfig.scene: {self.scene!r} is not 'static' or 'dynamic'")
        for name, lo, hi in (
            ("image_size", 8, 256),
            ("train_views", 1, 400),
            ("test_views", 1, 400),
            ("n_samples", 4, 256),
            ("gt_samples", 4, 1024),
            ("steps", 0, 10**6),
            ("prune_steps", 0, 10**6),
            ("prune_rounds", 1, 100),
            ("batch_rays", 1, 1 << 16),
        ):
            v = getattr(self, name)
            if not (isinstance(v, int) and lo <= v <= hi):
                raise ValueError(f"NvsConfig.{name}: {v!r} is outside [{lo}, {hi}]")
        if not 10.0 < self.fov_deg < 120.0:
            raise ValueError(f"NvsConfig.fov_deg: {self.fov_deg} is outside (10, 120)")
        if not self.radius > 1.8:
            raise ValueError(f"NvsConfig.radius: {self.radius} must be > 1.8")
        if not 0.0 < self.near < self.far:
            raise ValueError(f"NvsConfig.near/far: need 0 < near ({self.near}) < far ({self.far})")
        if not 0.0 <= self.prune_ratio <= 0.99:
            raise ValueError(f"NvsConfig.prune_ratio: {self.prune_ratio} is outside [0, 0.99]")
        if not self.lr > 0:
            raise ValueError(f"NvsConfig.lr: {self.lr} must be > 0")


@dataclass
class ViewSet:
    """Rays, times and ground-truth colours of a set of views."""

    orig: torch.Tensor  # [n, P, 3]
    dirs: torch.Tensor  # [n, P, 3]
    t: torch.Tensor | None  # [n] time of each view (dynamic scenes)
    rgb: torch.Tensor  # [n, P, 3]
    size: int

    def images(self, rgb: torch.Tensor | None = None) -> torch.Tensor:
        """``[n, size, size, 3]`` images of ``rgb`` (default the ground truth)."""
        x = self.rgb if rgb is None else rgb
        return x.reshape(x.shape[0], self.size, self.size, 3)


def _render_views(
    field_fn: FieldFn, vs: ViewSet, cfg: NvsConfig, n_samples: int, chunk: int = 4096
) -> torch.Tensor:
    out = []
    with torch.no_grad():
        for i in range(vs.orig.shape[0]):
            tt = None if vs.t is None else vs.t[i].expand(vs.orig.shape[1])
            cols = []
            for s in range(0, vs.orig.shape[1], chunk):
                sl = slice(s, s + chunk)
                cols.append(
                    render_rays(
                        field_fn,
                        vs.orig[i, sl],
                        vs.dirs[i, sl],
                        near=cfg.near,
                        far=cfg.far,
                        n_samples=n_samples,
                        t=None if tt is None else tt[sl],
                    )
                )
            out.append(torch.cat(cols))
    return torch.stack(out)


def _view_set(cfg: NvsConfig, n: int, offset: float) -> ViewSet:
    scene = make_scene(cfg.scene)
    az = (np.arange(n) + offset) * 360.0 / n + (7.0 if offset else 0.0)
    el = np.where(np.arange(n) % 2 == 0, 15.0, 40.0)
    c2w = look_at_poses(az, el, cfg.radius)
    orig, dirs = camera_rays(c2w, cfg.image_size, cfg.fov_deg)
    t = torch.from_numpy((np.arange(n) + offset) / n).float() if scene.dynamic else None
    vs = ViewSet(orig, dirs, t, torch.empty(0), cfg.image_size)

    def gt_fn(
        p: torch.Tensor, d: torch.Tensor, tt: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return scene.field(p, tt)

    vs.rgb = _render_views(gt_fn, vs, cfg, cfg.gt_samples)
    return vs


def make_views(cfg: NvsConfig) -> tuple[ViewSet, ViewSet]:
    """Training and held-out views of the configured scene, rendered from its analytic field."""
    return _view_set(cfg, cfg.train_views, 0.0), make_test_views(cfg)


def make_test_views(cfg: NvsConfig) -> ViewSet:
    """The held-out views alone (what :func:`make_views` returns second)."""
    return _view_set(cfg, cfg.test_views, 0.5)


def _train(
    net: NerfField, train: ViewSet, cfg: NvsConfig, steps: int, lr0: float, lr1: float, tag: str
) -> list[float]:
    gen = torch.Generator().manual_seed(rng.make_key(cfg.seed, "nvs_batches", tag) % (1 << 62))
    opt = torch.optim.Adam(net.parameters(), lr=lr0)
    n, P = train.orig.shape[:2]
    losses = []
    for s in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr0 * (lr1 / lr0) ** (s / max(1, steps))
        vi = torch.randint(0, n, (cfg.batch_rays,), generator=gen)
        pi = torch.randint(0, P, (cfg.batch_rays,), generator=gen)
        t = None if train.t is None else train.t[vi]
        pred = render_rays(
            net,
            train.orig[vi, pi],
            train.dirs[vi, pi],
            near=cfg.near,
            far=cfg.far,
            n_samples=cfg.n_samples,
            t=t,
            gen=gen,
        )
        loss = torch.mean((pred - train.rgb[vi, pi]) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def _quality(net: nn.Module, test: ViewSet, cfg: NvsConfig) -> dict[str, float]:
    from rramcim.apps.nfield.ct import psnr, ssim

    pred = test.images(_render_views(net, test, cfg, cfg.n_samples)).clamp(0, 1)
    gt = test.images()
    p = [psnr(pred[i], gt[i]) for i in range(gt.shape[0])]
    s = [
        float(np.mean([ssim(pred[i, :, :, c], gt[i, :, :, c]) for c in range(3)]))
        for i in range(gt.shape[0])
    ]
    return {"psnr_dB": float(np.mean(p)), "ssim": float(np.mean(s)), "images": pred}


def haq_copy(
    net: NerfField, n_cells: int, *, ratio: float = 1.5, noise_std: float = 0.15, key: int = 0
) -> NerfField:
    """A copy of ``net`` whose crossbar matrices are HAQ-mapped (:func:`rramcim.analog.haq.haq_map`,
    one programming-noise key per matrix); biases and encoders stay digital."""
    import copy

    from rramcim.analog.haq import haq_map

    out = copy.deepcopy(net)
    with torch.no_grad():
        for i, m in enumerate(out.matrices()):
            q = haq_map(
                m.detach().double(), n_cells, ratio, noise_std, key=rng.make_key(key, "nvs_haq", i)
            )
            m.copy_(q.w_q.to(m.dtype))
    return out


def run_nvs(
    cfg: NvsConfig, *, haq_cells: int = 8, log: Callable[[str], None] | None = None
) -> dict[str, object]:
    """Train the field on the configured scene, prune it, map it by HAQ; held-out quality of
    each stage.

    Returns:
        ``float`` (dense low-rank network after ``steps``), ``pruned`` (after the pruning
        rounds and fine-tuning) and ``haq`` (the pruned network HAQ-mapped with ``haq_cells``
        cells per weight): each ``{psnr_dB, ssim, images}``; ``weights`` (crossbar weights of
        the dense and the pruned network), ``cells`` (HAQ cells of the pruned one), ``gt``
        (held-out images), ``seconds`` (wall time).
    """
    t0 = time.perf_counter()
    say = log or (lambda s: None)
    net_cfg = (
        cfg.net
        if cfg.net.time_input == (cfg.scene == "dynamic")
        else NerfConfig(**{**cfg.net.__dict__, "time_input": cfg.scene == "dynamic"})
    )
    train, test = make_views(cfg)
    net = NerfField(net_cfg, seed=cfg.seed)
    _train(net, train, cfg, cfg.steps, cfg.lr, cfg.lr * 0.1, "dense")
    dense_w = net.n_weights()
    q_float = _quality(net, test, cfg)
    say(f"dense: {dense_w} weights, PSNR {q_float['psnr_dB']:.2f} dB, SSIM {q_float['ssim']:.3f}")
    for r in range(cfg.prune_rounds):
        keep = 1.0 - cfg.prune_ratio * (r + 1) / cfg.prune_rounds
        prune_trunk(net, keep)
        _train(net, train, cfg, cfg.prune_steps, cfg.lr * 0.3, cfg.lr * 0.05, f"prune{r}")
    q_pruned = _quality(net, test, cfg)
    say(
        f"pruned: widths {net.widths}, {net.n_weights()} weights, PSNR {q_pruned['psnr_dB']:.2f} dB"
    )
    hq = haq_copy(net, haq_cells, key=rng.make_key(cfg.seed, "nvs_haq_prog"))
    q_haq = _quality(hq, test, cfg)
    say(f"HAQ {haq_cells} cells: PSNR {q_haq['psnr_dB']:.2f} dB, SSIM {q_haq['ssim']:.3f}")
    return {
        "float": q_float,
        "pruned": q_pruned,
        "haq": q_haq,
        "weights": {"dense": dense_w, "pruned": net.n_weights()},
        "cells": net.n_weights() * haq_cells,
        "widths": net.widths,
        "gt": test.images(),
        "seconds": time.perf_counter() - t0,
        "net": net,
    }
