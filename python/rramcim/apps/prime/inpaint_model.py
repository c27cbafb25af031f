"""PRIME inpainting network: a pruned fully-spiking VAE on fixed random conductances.

Stand-in for PRIME's ``Pruning_FSVAE`` (PAPERS.md §1.2-§1.4), scaled to the sklearn digits
(PAPERS.md §6.1). It is *not* the authors' network; the differences are listed here.

Data (:func:`inpaint_data`): ``sklearn.datasets.load_digits`` (1797 images, 8 x 8) upsampled
bilinearly to 16 x 16 (:func:`rramcim.data.ndigits.digit_images`), scaled to [-1, 1]; the fixed
stratified split of N-Digits (:func:`rramcim.data.ndigits.ndigits_split`, 20 % test, split
seed 0: 1438 train / 359 test). The task mask sets the centre 6 x 6 square (rows and columns
5..10) to -1. The paper masks 8 x 8 of 32 x 32 MNIST, where the digit spans about 23 px
(20/28 of the frame): 35 % of the digit's width. The sklearn digits fill their frame
(about 14 of 16 px), so 6 px keeps that ratio; 4 x 4 (the same share of the *frame*) would
hide little more than a stroke.

Network (T = 16 steps, direct encoding: the masked image is the input at every step)::

    enc0  conv3x3/2  1 -> 32, 16 -> 8     pruned, tdBN, LIF      (real-valued input)
    enc1  conv3x3/2 32 -> 32,  8 -> 4     pruned, tdBN, LIF
    bl    linear 512 -> 64                pruned, tdBN, LIF      ("before latent": h_t)
    posterior q_t = sigmoid(Wq2 LIF(Wq1 [h_t, z_{t-1}] + b) + b)  ordinary weights
    prior     p_t = sigmoid(Wp2 LIF(Wp1 z_{t-1} + b) + b)         ordinary weights
    z_t ~ Bernoulli(q_t)                   (binary latent spikes, straight-through gradient)
    din   linear 64 -> 512 -> 32x4x4      pruned, tdBN, LIF
    dec0  convT3x3/2 32 -> 32, 4 -> 8     pruned, tdBN, LIF
    out   convT3x3/2 32 -> 1, 8 -> 16     pruned, no BN, no spike
    y_t = 0.8 y_{t-1} + out_t ;  x_hat_t = tanh(y_t)

Differences from the paper's network, for size and CPU time: one conv stage fewer on each
side (16 x 16 images); the decoder's last spiking stage (the paper's ``final_layer``
convT 32 -> 32 + tdBN + LIF at full resolution, then a stride-1 convT 32 -> 1) is folded into
one stride-2 convT 32 -> 1 (the full-resolution spiking stage alone was about three quarters
of the network's training time); 64 latent channels instead of 128; the FSVAE autoregressive
Bernoulli prior/posterior (three spiking tdLinear layers, k = 20 spiking samples per channel,
one picked at random) is simplified to two-layer MLPs with one spiking hidden layer (128 LIF,
no BN) and a sigmoid firing probability sampled once per channel and step; the decoder input
layer has a tdBN (the paper's has none); the output layer's current has a trainable gain
(below). The output layer is the paper's ``MembraneOutputLayer``
``sum_t 0.8^(T-1-t) x_t``, written as the leaky integrator ``y_t = 0.8 y_{t-1} + x_t`` so that
``tanh(y_t)`` is the reconstruction after ``t`` steps (PRIME's early-exit model re-runs the
network on the inputs up to ``t``, which for this causal network gives the same ``y_t``).

Neurons (PAPERS.md §1.3): ``u_t = tau u_{t-1} (1 - o_{t-1}) + x_t``, ``o_t = H(u_t - Vth)``,
tau = 0.25, Vth = 0.2, rectangular surrogate of half-width 0.5 and height 1
(:class:`rramcim.nn.lif.LIFCell` with ``leak = tau`` and no LeakyReLU; :class:`LIFSeq` runs it
over a whole sequence with a hand-written backward pass). tdBN normalises over
batch, time and space, ``alpha Vth (x - mu) / sigma gamma + beta``: a ``BatchNorm`` over the
``B * T`` stacked frames whose affine weight starts at ``alpha Vth`` (alpha = 1).

Pruned layers (:class:`PrunedLayer`): fixed weights ``W = dG * scale``, ``dG`` the
differential conductances (µS) of electroformed macros of the device model, in crossbar
orientation ``[fan_in, cols]`` (conv rows ``(c_in, ky, kx)``), and a learned top-50 %
supermask per layer (:class:`rramcim.nn.supermask.SupermaskLinear` on the transposed crossbar
matrix); biases and tdBN are trainable. ``scale`` is
``0.003 * 6.91593 / sigma_dG`` with ``sigma_dG = sqrt(2) g_formed_std`` of the device
(6.352 µS for ``rram_40nm``), so the fixed weights have the paper's spread
``N(0, 6.91593) * 0.003`` while their draws come from the forming model. ``dec0`` is held in
the *gather* form of a transposed convolution (one read vector per output pixel, rows = the
``c_in * 3 * 3`` taps over the zero-inserted input), the output layer in the *scatter* form
(one read vector per input pixel, rows = ``c_in``, columns = the 3 x 3 taps of its single
output channel; see :class:`LayerSpec`). The output layer's current has a trainable gain
(initially 4): its fan-in is a quarter of the paper's stride-1 output conv (72 instead of
288 weights per output pixel), and with the fixed weight scale its membrane could not reach
the +-2 that ``tanh`` needs for clean black and white.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as nnf

from rramcim.nn.lif import LIFCell
from rramcim.nn.supermask import SupermaskLinear

PAPER_SIGMA = 6.91593
"""Std of the paper's fixed inpainting weights before the software scale (µS, [C])."""
PAPER_SCALE = 0.003
"""The paper's software scale of the inpainting weights ([C])."""


@dataclass(frozen=True)
class InpaintModelConfig:
    """Geometry and neuron constants of the pruned FSVAE.

    Attributes:
        img_px: image side, pixels; 16 (a multiple of 4, >= 8).
        mask_px: side of the centre square that is masked, pixels, 1 .. img_px - 2.
        steps: timesteps T, 2 .. 64 (paper: 16).
        channels: channels of every conv stage, >= 1 (paper: 32).
        latent: latent spike channels, >= 1 (paper: 128).
        hidden: hidden LIF neurons of the prior/posterior MLPs, >= 1.
        sparsity: pruned fraction of every pruned layer, [0, 1) (paper: 0.5).
        tau: membrane retention per step of the LIF, [0, 1] (paper: 0.25).
        vth: LIF threshold, > 0 (paper: 0.2).
        out_decay: decay of the membrane output layer, [0, 1] (paper: 0.8).
        out_gain: initial value of the trainable current gain of the output layer, > 0.
    """

    img_px: int = 16
    mask_px: int = 6
    steps: int = 16
    channels: int = 32
    latent: int = 64
    hidden: int = 128
    sparsity: float = 0.5
    tau: float = 0.25
    vth: float = 0.2
    out_decay: float = 0.8
    out_gain: float = 4.0

    def __post_init__(self) -> None:
        ints = dict(img_px=(8, 256), mask_px=(1, 254), steps=(2, 64), channels=(1, 512))
        ints.update(latent=(1, 4096), hidden=(1, 4096))
        for name, (lo, hi) in ints.items():
            v = getattr(self, name)
            if name == "mask_px" and isinstance(self.img_px, int):
                hi = self.img_px - 2
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(
                    f"InpaintModelConfig.{name} = {v!r} must be an int in [{lo}, {hi}]"
                )
        if self.img_px % 4:
            raise ValueError(f"InpaintModelConfig.img_px = {self.img_px} must be a multiple of 4")
        if not 0 <= self.sparsity < 1:
            raise ValueError(f"InpaintModelConfig.sparsity = {self.sparsity} must be in [0, 1)")
        for name in ("tau", "out_decay"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0 <= v <= 1):
                raise ValueError(f"InpaintModelConfig.{name} = {v!r} must be in [0, 1]")
        for name in ("vth", "out_gain"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"InpaintModelConfig.{name} = {v!r} must be > 0")

    @property
    def mask_slice(self) -> slice:
        """Rows (and columns) of the masked square."""
        a = (self.img_px - self.mask_px) // 2
        return slice(a, a + self.mask_px)

    @property
    def n_pix(self) -> int:
        """Pixels per image."""
        return self.img_px * self.img_px

    @property
    def feat_px(self) -> int:
        """Side of the encoder's last feature map (img_px / 4)."""
        return self.img_px // 4

    def layer_specs(self) -> list[LayerSpec]:
        """The pruned layers in order (crossbar shapes ``[fan_in, cols]``)."""
        c, f, n = self.channels, self.feat_px, self.img_px
        flat = c * f * f
        return [
            LayerSpec("enc0", "conv", 1, c, 3, 2, n // 2),
            LayerSpec("enc1", "conv", c, c, 3, 2, f),
            LayerSpec("bl", "linear", flat, self.latent),
            LayerSpec("din", "linear", self.latent, flat),
            LayerSpec("dec0", "convT", c, c, 3, 2, n // 2),
            LayerSpec("out", "convT", c, 1, 3, 2, n, scatter=True),
        ]


@dataclass(frozen=True)
class LayerSpec:
    """One pruned layer.

    Attributes:
        name: layer name.
        kind: ``conv``, ``convT`` (stride-2 transposed conv, padding 1, output padding 1) or
            ``linear``; all convolutions are 3 x 3 with padding 1.
        c_in: input channels (features for ``linear``).
        c_out: output channels (features).
        k: kernel side (1 for linear).
        stride: stride (conv) or upsampling factor (convT).
        size_out: output side, pixels (1 for linear).
        scatter: crossbar form of a ``convT``: False = gather (rows ``(c_in, ky, kx)`` over the
            zero-inserted input, one read vector per *output* pixel, columns ``c_out``);
            True = scatter (rows ``c_in``, one read vector per *input* pixel, columns
            ``(c_out, ky, kx)``, partial sums added into the output in digital). Scatter reads
            fewer vectors when ``c_out`` is small (the output layer, ``c_out = 1``).
    """

    name: str
    kind: str
    c_in: int
    c_out: int
    k: int = 1
    stride: int = 1
    size_out: int = 1
    scatter: bool = False

    @property
    def fan_in(self) -> int:
        """Crossbar rows: ``c_in * k * k`` (``c_in`` in scatter form)."""
        return self.c_in if self.scatter else self.c_in * self.k * self.k

    @property
    def cols(self) -> int:
        """Crossbar columns: ``c_out`` (``c_out * k * k`` in scatter form)."""
        return self.c_out * self.k * self.k if self.scatter else self.c_out

    @property
    def positions(self) -> int:
        """Read vectors per step: output pixels, input pixels in scatter form, 1 for linear."""
        if self.scatter:
            return (self.size_out // self.stride) ** 2
        return self.size_out * self.size_out


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------


def inpaint_data(
    cfg: InpaintModelConfig | None = None, split_seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    """Clean digits in [-1, 1] and the fixed split.

    Args:
        cfg: geometry (image side).
        split_seed: key of the stratified split (:func:`rramcim.data.ndigits.ndigits_split`).

    Returns:
        ``(images [1797, 1, px, px] float32 in [-1, 1], labels [1797] int64, train indices,
        test indices)``.
    """
    from rramcim.data.ndigits import digit_images, ndigits_split

    cfg = cfg or InpaintModelConfig()
    imgs, labels = digit_images(cfg.img_px)
    x = torch.from_numpy(np.asarray(imgs, dtype=np.float32) * 2.0 - 1.0).unsqueeze(1)
    tr, te = ndigits_split(np.asarray(labels), 0.2, split_seed)
    return x, torch.from_numpy(np.asarray(labels).copy()), tr, te


def apply_mask(x: torch.Tensor, cfg: InpaintModelConfig) -> torch.Tensor:
    """Copy of ``x [..., px, px]`` with the centre square set to -1."""
    s = cfg.mask_slice
    y = x.clone()
    y[..., s, s] = -1.0
    return y


def region_mask(cfg: InpaintModelConfig) -> torch.Tensor:
    """Bool ``[px, px]``, True in the masked square."""
    m = torch.zeros(cfg.img_px, cfg.img_px, dtype=torch.bool)
    m[cfg.mask_slice, cfg.mask_slice] = True
    return m


# ------------------------------------------------------------------------------------------
# layers
# ------------------------------------------------------------------------------------------


def conv_view(matrix: torch.Tensor, spec: LayerSpec) -> torch.Tensor:
    """Crossbar matrix ``[c_in*k*k, c_out]`` -> conv-view weight ``[c_out, c_in, k, k]``."""
    return matrix.t().reshape(spec.c_out, spec.c_in, spec.k, spec.k)


def convt_weight(matrix: torch.Tensor, spec: LayerSpec) -> torch.Tensor:
    """Crossbar matrix of a ``convT`` -> ``conv_transpose2d`` weight ``[c_in, c_out, k, k]``:
    the scatter form is that layout; the gather form is the conv-view weight flipped."""
    if spec.scatter:
        return matrix.reshape(spec.c_in, spec.c_out, spec.k, spec.k)
    return conv_view(matrix, spec).flip(2, 3).transpose(0, 1)


class PrunedLayer(nn.Module):
    """Fixed random weights with a learned top-k mask and a trainable bias.

    The supermask holds the crossbar matrix transposed (``[cols, rows]``, the layout of
    :class:`rramcim.nn.supermask.SupermaskLinear`), so masks are per crossbar cell whatever the
    layer kind.

    Args:
        dg_uS: crossbar matrix ``[fan_in, cols]`` of differential conductances, µS.
        spec: layer geometry.
        scale: software scale (weight per µS).
        sparsity: pruned fraction.
    """

    def __init__(self, dg_uS: torch.Tensor, spec: LayerSpec, scale: float, sparsity: float):
        super().__init__()
        if tuple(dg_uS.shape) != (spec.fan_in, spec.cols):
            raise ValueError(
                f"PrunedLayer {spec.name}: conductances {tuple(dg_uS.shape)} != "
                f"({spec.fan_in}, {spec.cols})"
            )
        self.spec = spec
        self.sm = SupermaskLinear(dg_uS.float().t(), scale, sparsity)
        self.bias = nn.Parameter(torch.zeros(spec.c_out))

    def matrix(self) -> torch.Tensor:
        """Effective crossbar matrix ``[fan_in, cols]`` (fixed weight x scale x mask)."""
        return self.sm.effective_weight().t()

    def mask_matrix(self) -> torch.Tensor:
        """Mask in crossbar orientation ``[fan_in, cols]`` (1 = kept)."""
        return self.sm.mask().t()

    def set_mask(self, mask: torch.Tensor) -> None:
        """Make the mask exactly ``mask`` (bool ``[fan_in, cols]``) by setting the scores."""
        m = torch.as_tensor(mask).float()
        if tuple(m.shape) != (self.spec.fan_in, self.spec.cols):
            raise ValueError(f"set_mask {self.spec.name}: shape {tuple(m.shape)}")
        keep = 1.0 - self.sm.sparsity
        if abs(float(m.mean()) - keep) > 0.5 / m.numel() + 1e-9:
            raise ValueError(
                f"set_mask {self.spec.name}: mask keeps {float(m.mean()):.4f}, layer keeps {keep}"
            )
        with torch.no_grad():
            self.sm.scores.copy_(m.t())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.spec
        m = self.matrix()
        if s.kind == "linear":
            return nnf.linear(x, m.t(), self.bias)
        if s.kind == "conv":
            return nnf.conv2d(x, conv_view(m, s), self.bias, s.stride, 1)
        return nnf.conv_transpose2d(
            x, convt_weight(m, s), self.bias, s.stride, 1, output_padding=s.stride - 1
        )


def td_bn(channels: int, vth: float, dims: int = 2, alpha: float = 1.0) -> nn.Module:
    """tdBN: batch norm over batch x time x space, affine weight initialised to ``alpha Vth``."""
    bn = nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)
    with torch.no_grad():
        bn.weight.fill_(alpha * vth)
    return bn


class LIFSeq(torch.autograd.Function):
    """The LIF of the module docstring over a whole sequence, with a hand-written BPTT.

    Same numbers as stepping :class:`rramcim.nn.lif.LIFCell` (``leak = tau``, no LeakyReLU)
    and the same gradient as autograd through it (the reset path included), in one forward
    and one backward loop instead of an autograd graph of ``6 T`` element-wise nodes.
    """

    @staticmethod
    def forward(ctx, cur: torch.Tensor, tau: float, vth: float, lens: float) -> torch.Tensor:  # noqa: ANN001
        u = torch.zeros_like(cur[:, 0])
        o = torch.zeros_like(u)
        us, os_ = [], []
        for t in range(cur.shape[1]):
            u = tau * u * (1 - o) + cur[:, t]
            o = (u > vth).to(cur.dtype)
            us.append(u)
            os_.append(o)
        ut, ot = torch.stack(us, 1), torch.stack(os_, 1)
        ctx.save_for_backward(ut, ot)
        ctx.tau, ctx.vth, ctx.lens = tau, vth, lens
        return ot

    @staticmethod
    def backward(ctx, g_o: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:  # noqa: ANN001
        ut, ot = ctx.saved_tensors
        tau, vth, lens = ctx.tau, ctx.vth, ctx.lens
        sg = ((ut - vth).abs() < lens).to(ut.dtype) / (2 * lens)
        g_x = torch.empty_like(ut)
        du = torch.zeros_like(ut[:, 0])
        for t in range(ut.shape[1] - 1, -1, -1):
            # u_{t+1} = tau u_t (1 - o_t) + x_{t+1}: d/du_t = tau (1 - o_t), d/do_t = -tau u_t
            du = (g_o[:, t] - du * tau * ut[:, t]) * sg[:, t] + du * tau * (1 - ot[:, t])
            g_x[:, t] = du
        return g_x, None, None, None


def lif_over_time(cur: torch.Tensor, cell: LIFCell) -> torch.Tensor:
    """Run the LIF over the time axis (dim 1) of currents ``[B, T, ...]``; spikes alike.

    ``cell`` supplies ``vth``, ``leak`` (tau) and ``lens``; its LeakyReLU slope must be 1.
    """
    if cell.neg_slope != 1.0:
        raise ValueError("lif_over_time: the inpainting LIF has no LeakyReLU (neg_slope 1)")
    return LIFSeq.apply(cur, cell.leak, cell.vth, cell.lens)


def psp(x: torch.Tensor, tau_s: float = 2.0) -> torch.Tensor:
    """First-order synaptic filter over dim 1: ``syn <- syn + (x - syn) / tau_s``."""
    syn = torch.zeros_like(x[:, 0])
    out = []
    for t in range(x.shape[1]):
        syn = syn + (x[:, t] - syn) / tau_s
        out.append(syn)
    return torch.stack(out, 1)


@dataclass
class InpaintOutput:
    """What :meth:`PrunedFSVAE.forward` returns.

    Attributes:
        recon: reconstruction after each step ``tanh(y_t)``, ``[B, T, 1, px, px]`` in (-1, 1).
        q: posterior firing probabilities ``[B, T, latent]``.
        p: prior firing probabilities ``[B, T, latent]``.
        z: latent spikes ``[B, T, latent]``.
        spikes: input spikes of every spiking-input layer (``record=True``), name -> ``[B, T,
            ...]`` (``enc1``, ``bl``, ``post1`` (= [h_t, z_{t-1}]), ``post2``, ``din``,
            ``dec0``, ``out``).
    """

    recon: torch.Tensor
    q: torch.Tensor
    p: torch.Tensor
    z: torch.Tensor
    spikes: dict[str, torch.Tensor] = field(default_factory=dict)


class PrunedFSVAE(nn.Module):
    """The pruned fully-spiking VAE of the module docstring.

    Args:
        dg_uS: crossbar matrices (µS) of the six pruned layers, in
            :meth:`InpaintModelConfig.layer_specs` order.
        cfg: geometry and neuron constants.
        scale: software scale of the fixed weights (weight per µS).
    """

    def __init__(self, dg_uS: list[torch.Tensor], cfg: InpaintModelConfig, scale: float) -> None:
        super().__init__()
        self.cfg = cfg
        specs = cfg.layer_specs()
        if len(dg_uS) != len(specs):
            raise ValueError(f"PrunedFSVAE: {len(dg_uS)} conductance matrices, need {len(specs)}")
        self.pruned = nn.ModuleDict(
            {
                s.name: PrunedLayer(d, s, scale, cfg.sparsity)
                for s, d in zip(specs, dg_uS, strict=True)
            }
        )
        c, L, H = cfg.channels, cfg.latent, cfg.hidden
        self.bn = nn.ModuleDict(
            {
                "enc0": td_bn(c, cfg.vth),
                "enc1": td_bn(c, cfg.vth),
                "bl": td_bn(L, cfg.vth, dims=1),
                "din": td_bn(c * cfg.feat_px**2, cfg.vth, dims=1),
                "dec0": td_bn(c, cfg.vth),
            }
        )
        self.post1 = nn.Linear(2 * L, H)
        self.post2 = nn.Linear(H, L)
        self.prior1 = nn.Linear(L, H)
        self.prior2 = nn.Linear(H, L)
        self.cell = LIFCell(vth=cfg.vth, leak=cfg.tau, neg_slope=1.0, lens=0.5)
        self.out_gain = nn.Parameter(torch.tensor(float(cfg.out_gain)))

    # -- helpers ---------------------------------------------------------------------------
    def _conv_block(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """``[B, T, C, H, W]`` -> pruned layer -> tdBN -> LIF spikes ``[B, T, C', H', W']``."""
        B, T = x.shape[:2]
        y = self.bn[name](self.pruned[name](x.flatten(0, 1)))
        return lif_over_time(y.reshape(B, T, *y.shape[1:]), self.cell)

    def _linear_block(self, name: str, x: torch.Tensor) -> torch.Tensor:
        B, T = x.shape[:2]
        y = self.bn[name](self.pruned[name](x.flatten(0, 1)))
        return lif_over_time(y.reshape(B, T, -1), self.cell)

    def masks(self) -> list[torch.Tensor]:
        """Bool masks ``[fan_in, out]`` per pruned layer."""
        return [layer.mask_matrix().detach().bool() for layer in self.pruned.values()]

    def set_masks(self, masks: list[torch.Tensor]) -> None:
        """Fix every pruned layer's mask (see :meth:`PrunedLayer.set_mask`)."""
        for layer, m in zip(self.pruned.values(), masks, strict=True):
            layer.set_mask(m)

    # -- forward ---------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, noise: torch.Tensor, record: bool = False) -> InpaintOutput:
        """Inpaint masked images.

        Args:
            x: masked images ``[B, 1, px, px]`` in [-1, 1] (direct encoding: the same input
                at every step).
            noise: uniforms in [0, 1) ``[B, T, latent]`` for the Bernoulli latent
                (``z = 1`` where ``noise < q``); the caller keys them.
            record: also return the input spikes of every spiking-input layer.
        """
        cfg = self.cfg
        B, T, L = x.shape[0], cfg.steps, cfg.latent
        if tuple(noise.shape) != (B, T, L):
            raise ValueError(f"noise must be [{B}, {T}, {L}], got {tuple(noise.shape)}")
        rec: dict[str, torch.Tensor] = {}
        # enc0: the input is the same at every step, so its current is computed once
        c0 = self.bn["enc0"](self.pruned["enc0"](x))
        s = lif_over_time(c0.unsqueeze(1).expand(B, T, *c0.shape[1:]), self.cell)
        rec["enc1"] = s
        s = self._conv_block("enc1", s)
        rec["bl"] = s
        h = self._linear_block("bl", s.flatten(2))  # [B, T, L]
        # latent: autoregressive posterior and prior, one step at a time
        z_prev = torch.zeros(B, L, dtype=x.dtype)
        u_q = u_p = None
        qs, ps, zs, hq = [], [], [], []
        for t in range(T):
            inp = torch.cat([h[:, t], z_prev], 1)
            a, u_q = self.cell(self.post1(inp), u_q)
            q = torch.sigmoid(self.post2(a))
            b, u_p = self.cell(self.prior1(z_prev), u_p)
            p = torch.sigmoid(self.prior2(b))
            hard = (noise[:, t] < q).to(q.dtype)
            z = q + (hard - q).detach()  # straight-through Bernoulli
            if record:
                hq.append((inp.detach(), a.detach()))
            qs.append(q)
            ps.append(p)
            zs.append(z)
            z_prev = z
        q, p, z = torch.stack(qs, 1), torch.stack(ps, 1), torch.stack(zs, 1)
        if record:
            rec["post1"] = torch.stack([v[0] for v in hq], 1)
            rec["post2"] = torch.stack([v[1] for v in hq], 1)
            rec["din"] = z
        d = self._linear_block("din", z)
        f = cfg.feat_px
        d = d.reshape(B, T, cfg.channels, f, f)
        rec["dec0"] = d
        d = self._conv_block("dec0", d)
        rec["out"] = d
        o = self.out_gain * self.pruned["out"](d.flatten(0, 1))
        o = o.reshape(B, T, 1, cfg.img_px, cfg.img_px)
        y = torch.zeros_like(o[:, 0])
        recon = []
        for t in range(T):
            y = cfg.out_decay * y + o[:, t]
            recon.append(torch.tanh(y))
        return InpaintOutput(torch.stack(recon, 1), q, p, z, rec if record else {})


def mmd_loss(q: torch.Tensor, p: torch.Tensor, tau_s: float = 2.0) -> torch.Tensor:
    """The FSVAE distance of PAPERS.md §1.3: ``mean((PSP(q) - PSP(p))^2)`` over batch, time and
    latent channels, with firing probabilities in place of the mean of k spike samples."""
    return ((psp(q, tau_s) - psp(p, tau_s)) ** 2).mean()


# ------------------------------------------------------------------------------------------
# the local digit classifier of the score
# ------------------------------------------------------------------------------------------


class DigitClassifier(nn.Module):
    """Small CNN on 16 x 16 digits in [-1, 1] for the classifier-based score (not Inception-v3).

    conv3x3(1 -> 16) ReLU maxpool2 -> conv3x3(16 -> 32) ReLU maxpool2 -> fc 512 -> 10.
    """

    def __init__(self, img_px: int = 16) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * (img_px // 4) ** 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 1, px, px]`` -> logits ``[B, 10]``."""
        x = nnf.max_pool2d(nnf.relu(self.c1(x)), 2)
        x = nnf.max_pool2d(nnf.relu(self.c2(x)), 2)
        return self.fc(x.flatten(1))
