"""2-D sparse-view CT with a neural field: the software baseline of paper 3 (PAPERS.md §3.5,
§6.3).

The paper reconstructs a 3-D cone-beam pancreas CT (ODL/ASTRA projector, not available
here); this module is the documented 2-D parallel-beam stand-in on the modified Shepp-Logan
phantom (:mod:`rramcim.data.phantom`).

Geometry and scaling
    An N x N image covers [-1, 1]^2 (pixel size ``2 / N``). Coordinates are torch
    ``grid_sample``'s normalised ones (``u`` along columns, ``v`` along rows, pixel centres
    at ``(2 k + 1) / N - 1``). The detector has N bins with the same centres and spacing.
    :func:`project` samples the image bilinearly (zero outside) at
    ``(u, v) = (s cos t - r sin t, s sin t + r cos t)`` for every detector position ``s`` and
    ray position ``r`` on the pixel grid, and sums along ``r`` times the step ``2 / N``:
    ``p(t, s) ~ integral f along the ray``, a line integral in units of the half field of
    view (a ray through a disc of value 1 and radius 1 gives 2). It is linear and
    differentiable (autograd through ``grid_sample``).

    :func:`measure_sinogram` makes the "measured" data without the inverse crime: the target
    phantom is rasterised at ``2 N``, projected with ``2 N`` detector bins and each pair of
    bins averaged (the detector integrates over its bin).

Filtered back-projection (:func:`fbp`)
    Each projection is zero-padded to the next power of two >= 2 N, multiplied in the
    frequency domain by the FFT of the spatial Ram-Lak kernel (``h[0] = 1 / (4 tau^2)``,
    ``h[n odd] = -1 / (pi n tau)^2``, 0 otherwise; Kak & Slaney eq. 3.61; this avoids the
    DC error of a sampled ``|f|``), optionally times a window (Shepp-Logan: ``sinc``; cosine;
    Hann), and multiplied by ``tau`` (= detector spacing ``2 / N``; the discrete
    convolution integral). Back-projection: ``f(u, v) = (pi / V) sum_t q_t(u cos t + v sin t)``
    with linear interpolation of ``q_t`` (``grid_sample`` in 1-D), for V views evenly spread
    over [0, pi). Pixels outside the inscribed circle (``u^2 + v^2 > 1``) are set to 0: not
    every view covers them (scikit-image's ``iradon(circle=True)`` does the same).

Metrics
    :func:`psnr`: both images are clipped to [0, 1] first; ``PSNR = -10 log10(MSE)`` (dB,
    data range 1). :func:`ssim`: Wang et al. (2004) with an 11 x 11 Gaussian window
    (sigma 1.5 pixels, normalised to unit sum), ``K1 = 0.01``, ``K2 = 0.03``, data range 1,
    population (not sample) statistics, mean over the *valid* positions (windows fully
    inside the image); images clipped to [0, 1] first. This is the definition scikit-image's
    ``structural_similarity(gaussian_weights=True, use_sample_covariance=False,
    data_range=1)`` uses, up to its border handling.

Two-stage training (:func:`run_ct`)
    Stage 1 (prior embedding): the field is fitted to the *prior* phantom (a keyed
    perturbation of the target, another "breathing phase") by image regression on every pixel
    centre (full batch, Adam, MSE). Stage 2 (reconstruction): starting from stage 1, the field
    image is projected with :func:`project` and fitted to the measured sinogram of the
    *target* at ``n_views`` angles (Adam, MSE). The final field image is masked to the
    inscribed circle like the FBP image (the phantom is 0 there; corners are seen by few
    rays). The field's coordinates are
    ``(x, y, z) in [0, 1]^3`` with ``x = (col + 0.5) / N``, ``y = (row + 0.5) / N`` and the
    slice position ``z = 0.5``, so the network is the paper's 131 -> 100 -> 10 -> 100 -> 1
    (3 coordinates) and maps onto the same cells as a 3-D volume network.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from typing import Any, Protocol

import numpy as np
import torch
from torch.nn import functional

from rramcim import rng
from rramcim.data.phantom import PriorPerturbation, prior_phantom_2d, shepp_logan_2d
from rramcim.nn.field import EncoderVariant, FieldConfig, NeuralField, rram_fourier_matrix

FILTERS = ("ram-lak", "shepp-logan", "cosine", "hann")
"""Window names accepted by :func:`fbp`."""


def view_angles(n_views: int, arc_deg: float = 180.0) -> torch.Tensor:
    """``n_views`` angles ``k * arc / n_views`` (rad, float64), k = 0 .. n_views - 1."""
    if int(n_views) != n_views or n_views < 1:
        raise ValueError(f"n_views = {n_views!r} must be an integer >= 1")
    return torch.arange(int(n_views), dtype=torch.float64) * math.radians(arc_deg) / n_views


def _centres(n: int, dtype: torch.dtype) -> torch.Tensor:
    return (2.0 * torch.arange(n, dtype=dtype) + 1.0) / n - 1.0


def project(image: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Parallel-beam projection (differentiable; see the module docstring for the scaling).

    Args:
        image: ``[N, N]`` or ``[B, N, N]`` attenuation image.
        angles: view angles (rad), ``[V]``.

    Returns:
        sinogram ``[V, N]`` or ``[B, V, N]`` (line integrals, units of half the field of view
        times the image unit).
    """
    squeeze = image.ndim == 2
    img = image.unsqueeze(0) if squeeze else image
    if img.ndim != 3 or img.shape[-1] != img.shape[-2]:
        raise ValueError(f"project: image must be [N, N] or [B, N, N], got {tuple(image.shape)}")
    b, n, _ = img.shape
    v = angles.numel()
    dt = img.dtype
    c = _centres(n, dt)
    cos = torch.cos(angles).to(dt).view(v, 1, 1)
    sin = torch.sin(angles).to(dt).view(v, 1, 1)
    s = c.view(1, 1, n)  # detector position along the output's width
    r = c.view(1, n, 1)  # ray position along the output's height
    grid = torch.stack([s * cos - r * sin, s * sin + r * cos], dim=-1)  # [V, N, N, 2]
    src = img.reshape(b, 1, n, n).repeat_interleave(v, dim=0)  # [B * V, 1, N, N]
    grid = grid.repeat(b, 1, 1, 1)
    rot = functional.grid_sample(
        src, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    sino = rot.sum(dim=2).reshape(b, v, n) * (2.0 / n)
    return sino[0] if squeeze else sino


def measure_sinogram(phantom_hr: torch.Tensor, angles: torch.Tensor, n: int) -> torch.Tensor:
    """Sinogram with ``n`` bins from a phantom rasterised at ``k n`` (bins averaged by k).

    Args:
        phantom_hr: ``[k n, k n]`` image, integer k >= 1.
        angles: view angles (rad), ``[V]``.
        n: detector bins.

    Returns:
        ``[V, n]`` sinogram, same scaling as :func:`project` at size ``n``.
    """
    m = phantom_hr.shape[-1]
    if m % n:
        raise ValueError(f"measure_sinogram: phantom size {m} is not a multiple of {n}")
    p = project(phantom_hr, angles)
    return p.reshape(angles.numel(), n, m // n).mean(dim=-1)


def ramp_filter(
    n: int, window: str = "ram-lak", dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Frequency response of the discrete ramp filter on the padded length (see module doc).

    Args:
        n: detector bins; the padded length is the next power of two >= 2 n (at least 64).
        window: one of :data:`FILTERS`.
        dtype: float dtype.

    Returns:
        real tensor ``[n_pad]`` (the FFT of ``h`` for ``tau = 1``, times the window).
    """
    if window not in FILTERS:
        raise ValueError(f"ramp_filter: window = {window!r} is not one of {FILTERS}")
    n_pad = max(64, 1 << math.ceil(math.log2(2 * n)))
    k = torch.cat([torch.arange(0, n_pad // 2 + 1), torch.arange(-n_pad // 2 + 1, 0)]).to(dtype)
    h = torch.zeros(n_pad, dtype=dtype)
    h[0] = 0.25
    odd = (k.abs() % 2) == 1
    h[odd] = -1.0 / (math.pi * k[odd]) ** 2
    resp = torch.fft.fft(h).real
    f = torch.fft.fftfreq(n_pad, dtype=dtype)  # cycles per sample, [-0.5, 0.5)
    if window == "shepp-logan":
        resp = resp * torch.sinc(f)
    elif window == "cosine":
        resp = resp * torch.cos(math.pi * f)
    elif window == "hann":
        resp = resp * 0.5 * (1.0 + torch.cos(2.0 * math.pi * f))
    return resp


def back_project(q: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """``sum_t q_t(u cos t + v sin t)`` on the N x N pixel centres (linear interpolation).

    Args:
        q: ``[V, N]`` (filtered) projections.
        angles: ``[V]`` angles (rad).

    Returns:
        ``[N, N]`` image (not multiplied by ``pi / V``).
    """
    v, n = q.shape
    dt = q.dtype
    c = _centres(n, dt)
    uu = c.view(1, 1, n)  # column coordinate
    vv = c.view(1, n, 1)  # row coordinate
    s = uu * torch.cos(angles).to(dt).view(v, 1, 1) + vv * torch.sin(angles).to(dt).view(v, 1, 1)
    grid = torch.stack([s.reshape(v, 1, n * n), torch.zeros_like(s).reshape(v, 1, n * n)], dim=-1)
    vals = functional.grid_sample(
        q.reshape(v, 1, 1, n), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return vals.reshape(v, n, n).sum(dim=0)


def fbp(sino: torch.Tensor, angles: torch.Tensor, window: str = "ram-lak") -> torch.Tensor:
    """Filtered back-projection of a ``[V, N]`` sinogram over [0, pi) (see module doc).

    Args:
        sino: ``[V, N]`` sinogram with :func:`project`'s scaling.
        angles: ``[V]`` angles (rad), evenly spread over [0, pi).
        window: one of :data:`FILTERS`.

    Returns:
        ``[N, N]`` image in the phantom's units.
    """
    v, n = sino.shape
    resp = ramp_filter(n, window, sino.dtype)
    n_pad = resp.numel()
    tau = 2.0 / n
    padded = functional.pad(sino, (0, n_pad - n))
    # h scales as 1 / tau^2 and the convolution integral brings one tau: net factor 1 / tau
    q = torch.fft.ifft(torch.fft.fft(padded, dim=-1) * resp, dim=-1).real[:, :n] / tau
    return back_project(q, angles) * (math.pi / v) * circle_mask(n, sino.dtype)


def circle_mask(n: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """1 on pixel centres inside the inscribed circle ``u^2 + v^2 <= 1``, else 0 (``[N, N]``)."""
    c = _centres(n, dtype)
    return ((c.view(-1, 1) ** 2 + c.view(1, -1) ** 2) <= 1.0).to(dtype)


def psnr(x: torch.Tensor | np.ndarray, ref: torch.Tensor | np.ndarray) -> float:
    """PSNR (dB) on [0, 1] data: both clipped to [0, 1], ``-10 log10(MSE)``."""
    a = torch.as_tensor(x, dtype=torch.float64).clamp(0.0, 1.0)
    b = torch.as_tensor(ref, dtype=torch.float64).clamp(0.0, 1.0)
    if a.shape != b.shape:
        raise ValueError(f"psnr: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")
    mse = float(torch.mean((a - b) ** 2))
    return math.inf if mse == 0.0 else -10.0 * math.log10(mse)


def _gauss_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    k = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    g = torch.exp(-(k**2) / (2.0 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)


def ssim(
    x: torch.Tensor | np.ndarray,
    ref: torch.Tensor | np.ndarray,
    *,
    win: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> float:
    """Mean SSIM of two 2-D images on [0, 1] (see the module docstring for the definition).

    Args:
        x: image ``[H, W]``, H and W >= ``win``.
        ref: reference of the same shape.
        win: Gaussian window size (pixels), odd.
        sigma: Gaussian window sigma (pixels).
        k1: luminance constant (times the data range 1).
        k2: contrast constant (times the data range 1).

    Returns:
        SSIM in [-1, 1] (1 for identical images).
    """
    a = torch.as_tensor(x, dtype=torch.float64).clamp(0.0, 1.0)
    b = torch.as_tensor(ref, dtype=torch.float64).clamp(0.0, 1.0)
    if a.shape != b.shape or a.ndim != 2 or min(a.shape) < win:
        raise ValueError(
            f"ssim: need equal 2-D shapes >= {win}, got {tuple(a.shape)}, {tuple(b.shape)}"
        )
    w = _gauss_window(win, sigma).view(1, 1, win, win)

    def filt(t: torch.Tensor) -> torch.Tensor:
        return functional.conv2d(t.view(1, 1, *t.shape), w)[0, 0]

    mu_a, mu_b = filt(a), filt(b)
    saa = filt(a * a) - mu_a**2
    sbb = filt(b * b) - mu_b**2
    sab = filt(a * b) - mu_a * mu_b
    c1, c2 = k1**2, k2**2
    m = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))
    return float(m.mean())


def _check(owner: str, name: str, value: float, lo: float, hi: float) -> None:
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{owner}.{name} = {value!r} is outside [{lo}, {hi}]")


def check_reconstruction_fields(cfg: Any, owner: str) -> None:  # noqa: ANN401 - either config
    """Validate the fields a 2-D and a 3-D CT configuration share (geometry, encoder,
    learning rates, noise, FBP window, seeds); errors name ``owner.field`` and the value."""
    for name, lo, hi in (
        ("arc_deg", 1e-9, 360.0),
        ("encoder_sigma", 1e-9, 100.0),
        ("lr_prior", 1e-12, 1.0),
        ("lr_recon", 1e-12, 1.0),
        ("lr_decay", 1e-12, 1.0),
        ("noise_rel", 0.0, 1.0),
    ):
        _check(owner, name, getattr(cfg, name), lo, hi)
    window = cfg.fbp_window
    if window not in FILTERS:
        raise ValueError(f"{owner}.fbp_window = {window!r} is not one of {FILTERS}")
    n_in = cfg.field.n_in
    if n_in != 3:
        raise ValueError(f"{owner}.field.n_in = {n_in!r} must be 3 (x, y, z)")
    for name in ("encoder_seed", "prior_seed", "seed"):
        v = getattr(cfg, name)
        if int(v) != v:
            raise ValueError(f"{owner}.{name} = {v!r} must be an integer")
    object.__setattr__(cfg, "encoder", EncoderVariant(cfg.encoder))


@dataclass(frozen=True)
class CtConfig:
    """2-D sparse-view CT experiment (defaults: the tuned baseline of this module).

    Attributes:
        size: image size N (pixels), [16, 512].
        n_views: projections, [1, 720].
        arc_deg: angular range (degrees), (0, 360].
        fbp_window: FBP window, one of :data:`FILTERS`.
        field: network shape (``n_in`` must be 3: coordinates x, y and the slice z = 0.5).
        encoder: distribution of the encoder matrix B.
        encoder_sigma: standard deviation of B (cycles per field of view), (0, 100].
        encoder_seed: seed of B (device model or keyed normals), any int.
        prior_seed: seed of the prior perturbation, any int.
        prior: the prior perturbation (its ``seed`` is replaced by ``prior_seed``).
        iters_prior: stage-1 Adam steps, [0, 10^6].
        lr_prior: stage-1 learning rate, (0, 1].
        iters_recon: stage-2 Adam steps, [0, 10^6].
        lr_recon: stage-2 learning rate, (0, 1].
        lr_decay: learning rate at the end of each stage relative to its start (cosine
            schedule), (0, 1].
        noise_rel: Gaussian noise on the measured sinogram, sigma relative to its maximum,
            [0, 1]; 0 = noiseless.
        seed: seed of the network initialisation and the sinogram noise, any int.
    """

    size: int = 128
    n_views: int = 20
    arc_deg: float = 180.0
    fbp_window: str = "ram-lak"
    field: FieldConfig = dc_field(default_factory=FieldConfig)
    encoder: EncoderVariant = EncoderVariant.RRAM
    encoder_sigma: float = 4.0
    encoder_seed: int = 0
    prior_seed: int = 0
    prior: PriorPerturbation = dc_field(default_factory=PriorPerturbation)
    iters_prior: int = 300
    lr_prior: float = 1e-3
    iters_recon: int = 300
    lr_recon: float = 1e-4
    lr_decay: float = 0.1
    noise_rel: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, lo, hi in (
            ("size", 16, 512),
            ("n_views", 1, 720),
            ("iters_prior", 0, 10**6),
            ("iters_recon", 0, 10**6),
        ):
            v = getattr(self, name)
            if int(v) != v or not lo <= int(v) <= hi:
                raise ValueError(f"CtConfig.{name} = {v!r} is outside [{lo}, {hi}]")
        check_reconstruction_fields(self, "CtConfig")


@dataclass
class CtResult:
    """Images (float32 numpy ``[N, N]``) and metrics of :func:`run_ct`; ``net`` is the trained
    field (for the hardware mapping), ``sinogram`` the measured data ``[views, N]``."""

    target: np.ndarray
    prior: np.ndarray
    field_image: np.ndarray
    fbp_image: np.ndarray
    psnr_field_dB: float
    ssim_field: float
    psnr_fbp_dB: float
    ssim_fbp: float
    psnr_prior_dB: float
    psnr_stage1_dB: float
    seconds: float
    history: dict[str, list[float]]
    config: dict
    net: NeuralField | None = None
    sinogram: np.ndarray | None = None

    def table(self) -> str:
        """The metrics as a small text table."""
        rows = [
            ("neural field", self.psnr_field_dB, self.ssim_field),
            ("FBP", self.psnr_fbp_dB, self.ssim_fbp),
        ]
        lines = [f"{'method':<14}{'PSNR (dB)':>10}{'SSIM':>8}"]
        lines += [f"{m:<14}{p:>10.2f}{s:>8.4f}" for m, p, s in rows]
        return "\n".join(lines)


def pixel_coords(n: int, z: float = 0.5) -> torch.Tensor:
    """Field coordinates ``[n * n, 3]`` (row-major) of the pixel centres: (x, y, z) in [0, 1]."""
    c = (torch.arange(n, dtype=torch.float32) + 0.5) / n
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1), torch.full((n * n,), z)], dim=-1)


def _cosine_lr(opt: torch.optim.Optimizer, lr0: float, decay: float, it: int, total: int) -> None:
    frac = it / max(total - 1, 1)
    lr = lr0 * (decay + (1.0 - decay) * 0.5 * (1.0 + math.cos(math.pi * frac)))
    for g in opt.param_groups:
        g["lr"] = lr


class _StageSettings(Protocol):
    iters_prior: int
    lr_prior: float
    iters_recon: int
    lr_recon: float
    lr_decay: float


def fit_two_stage(
    net: torch.nn.Module,
    render: Callable[[torch.Tensor | None], torch.Tensor],
    prior: torch.Tensor,
    sino: torch.Tensor,
    angles: torch.Tensor,
    cfg: _StageSettings,
    *,
    batches: Callable[[str, int], torch.Tensor | None] | None = None,
    progress: bool = False,
    target: torch.Tensor | None = None,
) -> tuple[dict[str, list[float]], torch.Tensor]:
    """The two training stages (module docstring), shared by the 2-D and the 3-D case.

    Args:
        net: the field (trained in place).
        render: ``render(idx)`` -> the field's image(s) ``[..., N, N]`` of the slices ``idx``
            (None: all).
        prior: stage-1 target images, indexed like ``render``'s output.
        sino: measured sinograms ``[..., views, N]``, indexed likewise.
        angles: projection angles (radians).
        cfg: iterations, learning rates and decay of both stages.
        batches: ``batches(stage, step)`` -> slice indices of the step (None: all slices);
            ``stage`` is ``"prior"`` or ``"recon"``.
        progress: print a line every 100 steps (with the PSNR against ``target`` in stage 2).
        target: the ground truth, for the progress lines only.

    Returns:
        the loss history ``{"prior_loss", "recon_loss"}`` and the image(s) after stage 1.
    """
    pick = batches or (lambda stage, step: None)
    hist: dict[str, list[float]] = {"prior_loss": [], "recon_loss": []}
    ang32 = angles.float()
    stage1 = torch.empty(0)
    for stage, iters, lr0 in (
        ("prior", cfg.iters_prior, cfg.lr_prior),
        ("recon", cfg.iters_recon, cfg.lr_recon),
    ):
        opt = torch.optim.Adam(net.parameters(), lr=lr0)
        for it in range(iters):
            _cosine_lr(opt, lr0, cfg.lr_decay, it, iters)
            idx = pick(stage, it)
            img = render(idx)
            if stage == "prior":
                loss = functional.mse_loss(img, prior if idx is None else prior[idx])
            else:
                ref = sino if idx is None else sino[idx]
                loss = functional.mse_loss(project(img, ang32), ref)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            hist[f"{stage}_loss"].append(float(loss.detach()))
            if progress and (it % 100 == 0 or it == iters - 1):
                n_st = 1 if stage == "prior" else 2
                line = f"stage {n_st} {it:5d}  mse {hist[f'{stage}_loss'][-1]:.3e}"
                if stage == "recon" and target is not None:
                    with torch.no_grad():
                        line += f"  psnr {psnr(render(None), target):.2f} dB"
                print(line, flush=True)
        if stage == "prior":
            with torch.no_grad():
                stage1 = render(None)
    return hist, stage1


def run_ct(cfg: CtConfig | None = None, *, progress: bool = False) -> CtResult:
    """Two-stage neural-field reconstruction vs FBP (see the module docstring).

    Args:
        cfg: experiment configuration (default :class:`CtConfig()`).
        progress: print a line every 100 steps.

    Returns:
        :class:`CtResult`.
    """
    cfg = CtConfig() if cfg is None else cfg
    t0 = time.perf_counter()
    n = cfg.size
    target = torch.from_numpy(shepp_logan_2d(n)).float()
    target_hr = torch.from_numpy(shepp_logan_2d(2 * n)).float()
    pert = PriorPerturbation(**{**asdict(cfg.prior), "seed": cfg.prior_seed})
    prior = torch.from_numpy(prior_phantom_2d(n, pert)).float()
    angles = view_angles(cfg.n_views, cfg.arc_deg)
    sino = measure_sinogram(target_hr, angles, n)
    if cfg.noise_rel > 0:
        z = rng.normal_like(rng.make_key(cfg.seed, "ct_sino_noise"), tuple(sino.shape))
        sino = sino + cfg.noise_rel * float(sino.abs().max()) * z.float()
    fbp_img = fbp(sino.double(), angles, cfg.fbp_window).float()

    b = rram_fourier_matrix(
        cfg.field.n_freq,
        cfg.field.n_in,
        cfg.encoder_sigma,
        cfg.encoder,
        seed=cfg.encoder_seed,
    )
    net = NeuralField(cfg.field, b)
    coords = pixel_coords(n)

    def image(idx: torch.Tensor | None = None) -> torch.Tensor:
        return net(coords).reshape(n, n)

    hist, stage1 = fit_two_stage(
        net, image, prior, sino, angles, cfg, progress=progress, target=target
    )
    with torch.no_grad():
        rec = image() * circle_mask(n)

    return CtResult(
        target=target.numpy(),
        prior=prior.numpy(),
        field_image=rec.numpy(),
        fbp_image=fbp_img.numpy(),
        psnr_field_dB=psnr(rec, target),
        ssim_field=ssim(rec, target),
        psnr_fbp_dB=psnr(fbp_img, target),
        ssim_fbp=ssim(fbp_img, target),
        psnr_prior_dB=psnr(prior, target),
        psnr_stage1_dB=psnr(stage1, prior),
        seconds=time.perf_counter() - t0,
        history=hist,
        config={
            k: (v.value if isinstance(v, EncoderVariant) else v) for k, v in asdict(cfg).items()
        },
        net=net,
        sinogram=sino.numpy(),
    )
