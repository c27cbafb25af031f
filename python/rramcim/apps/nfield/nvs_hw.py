"""Novel views on the chip's datapath: a SIREN radiance field that cim_nfield_top can evaluate.

The NeRF of :mod:`rramcim.apps.nfield.nvs` (ReLU trunk, skip connection, view branch, sigmoid
head) is the paper's network; the datapath of ``cim_nfield_top`` (the contract of
:mod:`rramcim.golden.nfield_top`) is a chain of sine layers. To take views through all three
levels (software, hardware model, RTL) this module trains a radiance field *of that chain*:

* input: the point mapped to the unit cube, ``x = (p + 1) / 2`` (the scene lives in
  [-1, 1]^3), plus ``t`` for the dynamic scene; points outside the cube are given zero
  density and never reach the field (a bounding box, as NeRF implementations use: the
  procedural scenes have no density there);
* the RRAM Gaussian encoder (:func:`rramcim.nn.field.rram_fourier_matrix`, the formed
  conductances the hardware holds), then the SIREN of :class:`rramcim.nn.field.NeuralField`
  with a low-rank hidden layer and four linear outputs;
* head (digital, in the host that also does the volume rendering): ``sigma = sigma_max *
  relu(o_0)``, ``rgb = sigmoid(rgb_gain * o_1..3)``.

Deviations from the paper's NVS network, stated: sine activations instead of ReLU, no skip
connection and no view branch. The procedural scenes are view-independent (their colour has
no direction term), so the view branch has nothing to learn there.

:func:`run_nvs_hw` trains it on the views of :mod:`rramcim.apps.nfield.nvs` and scores the
held-out views in float, with HAQ-mapped weights, and at the hardware-model level
(:func:`rramcim.apps.nfield.hw.map_field`, bit-exact with the RTL top).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from rramcim import rng
from rramcim.apps.nfield.nvs import NvsConfig, ViewSet, _quality, _train, make_views
from rramcim.nn.field import EncoderVariant, FieldConfig, NeuralField, rram_fourier_matrix

#: Outputs of the field: density and three colour channels.
N_OUT = 4


@dataclass(frozen=True)
class SirenNerfConfig:
    """The radiance field on the chip's datapath.

    Attributes:
        n_freq: encoder frequencies, [1, 512].
        width: hidden width, [4, 512]; rank: low-rank inner width, [1, width].
        depth: stages as :class:`~rramcim.nn.field.FieldConfig` (3: in -> W -> r -> W -> out),
            [2, 8].
        sigma: encoder frequency std, cycles per unit of the normalised coordinate, > 0.
        w0: SIREN frequency factor, (0, 1000].
        sigma_max: density of output 1.0, 1/scene unit, > 0.
        rgb_gain: slope of the colour sigmoid, > 0.
        encoder_seed: seed of the formed conductances that give B.
        seed: weight initialisation key.
    """

    n_freq: int = 32
    width: int = 64
    rank: int = 16
    depth: int = 3
    sigma: float = 3.0
    w0: float = 30.0
    sigma_max: float = 40.0
    rgb_gain: float = 4.0
    encoder_seed: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, lo, hi in (
            ("n_freq", 1, 512),
            ("width", 4, 512),
            ("rank", 1, self.width),
            ("depth", 2, 8),
        ):
            v = getattr(self, name)
            if not (isinstance(v, int) and lo <= v <= hi):
                raise ValueError(f"SirenNerfConfig.{name} = {v!r} is outside [{lo}, {hi}]")
        for name in ("sigma", "sigma_max", "rgb_gain"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v > 0):
                raise ValueError(f"SirenNerfConfig.{name} = {v!r} must be finite and > 0")
        if not 0.0 < self.w0 <= 1000.0:
            raise ValueError(f"SirenNerfConfig.w0 = {self.w0!r} is outside (0, 1000]")

    def field_config(self, n_in: int) -> FieldConfig:
        """The :class:`FieldConfig` of the SIREN for ``n_in`` coordinates."""
        return FieldConfig(
            n_in=n_in,
            n_freq=self.n_freq,
            width=self.width,
            rank=self.rank,
            depth=self.depth,
            n_out=N_OUT,
            w0=self.w0,
            seed=self.seed,
        )


def unit_coords(
    pts: torch.Tensor, t: torch.Tensor | None, coord_max: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x [M, n_in], inside [N])``: the points inside the scene cube mapped to [0, 1) (and
    ``t``, clamped below ``coord_max``), and the mask of those points."""
    x = (pts + 1.0) * 0.5
    inside = ((x >= 0.0) & (x < coord_max)).all(dim=1)
    x = x[inside]
    if t is not None:
        x = torch.cat([x, t[inside].clamp(0.0, coord_max)[:, None]], 1)
    return x, inside


def head(o: torch.Tensor, cfg: SirenNerfConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Density and colour from the four field outputs ``[M, 4]``."""
    return cfg.sigma_max * torch.relu(o[:, 0]), torch.sigmoid(cfg.rgb_gain * o[:, 1:])


class SirenNerf(nn.Module):
    """``(points, directions, t) -> (sigma, rgb)`` through a :class:`NeuralField` (module doc).

    Args:
        cfg: the configuration.
        dynamic: the field takes ``t`` (four coordinates).
        field: an existing SIREN (e.g. a loaded checkpoint) instead of a new one.
    """

    #: Largest normalised coordinate the field sees (COORD_BITS = 8 codes reach 255/256).
    coord_max = 1.0 - 2.0**-12

    def __init__(
        self, cfg: SirenNerfConfig, dynamic: bool, field: NeuralField | None = None
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.dynamic = dynamic
        n_in = 4 if dynamic else 3
        if field is None:
            b = rram_fourier_matrix(
                cfg.n_freq, n_in, cfg.sigma, EncoderVariant.RRAM, seed=cfg.encoder_seed
            )
            field = NeuralField(cfg.field_config(n_in), b)
        self.field = field

    def forward(
        self, pts: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        del dirs  # view-independent (module doc)
        if self.dynamic and t is None:
            raise ValueError("SirenNerf: this field takes a time input")
        x, inside = unit_coords(pts, t if self.dynamic else None, self.coord_max)
        sig = torch.zeros(pts.shape[0], dtype=pts.dtype)
        rgb = torch.zeros(pts.shape[0], 3, dtype=pts.dtype)
        if x.shape[0]:
            s, c = head(self.field(x), self.cfg)
            sig = sig.masked_scatter(inside, s.to(pts.dtype))
            rgb = rgb.masked_scatter(inside[:, None].expand_as(rgb), c.to(pts.dtype))
        return sig, rgb


class HardwareNerf:
    """The same radiance field evaluated through the hardware model (bit-exact datapath).

    Coordinates are numbered from 0 in the order they are evaluated (the read-noise keys of
    the macros, golden contract item 11), as one stream of coordinates after a reset.

    Args:
        hw: the mapped field (:func:`rramcim.apps.nfield.hw.map_field`).
        cfg: the radiance-field configuration (head).
        dynamic: the field takes ``t``.
    """

    def __init__(self, hw, cfg: SirenNerfConfig, dynamic: bool) -> None:  # noqa: ANN001
        self.hw, self.cfg, self.dynamic = hw, cfg, dynamic
        self.next_vector = 0
        self.counters: dict[str, int] = {}

    def __call__(
        self, pts: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        del dirs
        x, inside = unit_coords(pts, t if self.dynamic else None, SirenNerf.coord_max)
        sig = torch.zeros(pts.shape[0], dtype=pts.dtype)
        rgb = torch.zeros(pts.shape[0], 3, dtype=pts.dtype)
        if x.shape[0]:
            r = self.hw.evaluate(x.double(), first_vector=self.next_vector)
            self.next_vector += int(x.shape[0])
            for st, d in r.counters.items():
                for k, v in d.items():
                    self.counters[f"{st}.{k}"] = self.counters.get(f"{st}.{k}", 0) + v
            s, c = head(torch.from_numpy(r.value).float(), self.cfg)
            sig = sig.masked_scatter(inside, s.to(pts.dtype))
            rgb = rgb.masked_scatter(inside[:, None].expand_as(rgb), c.to(pts.dtype))
        return sig, rgb


def haq_field(net: SirenNerf, n_cells: int, seed: int) -> SirenNerf:
    """A copy whose weight matrices hold the values HAQ gives (weight level, as the CT
    sweep: :func:`rramcim.apps.nfield.sim.map_field`)."""
    from rramcim.apps.nfield.sim import map_field as map_weights

    out = copy.deepcopy(net)
    out.field = map_weights(net.field, "haq", n_cells, seed)
    return out


def train_nvs_hw(
    nvs: NvsConfig, cfg: SirenNerfConfig, log: Callable[[str], None] | None = None
) -> tuple[SirenNerf, dict[str, float]]:
    """Train the radiance field on the scene of ``nvs`` (its views, steps and learning rate)."""
    torch.set_num_threads(1)
    say = log or (lambda s: None)
    t0 = time.perf_counter()
    train, test = make_views(nvs)
    torch.manual_seed(rng.make_key(cfg.seed, "nvs_hw_init") % (1 << 62))
    net = SirenNerf(cfg, nvs.scene == "dynamic")
    losses = _train(net, train, nvs, nvs.steps, nvs.lr, nvs.lr * 0.1, "siren")
    q = _quality(net, test, nvs)
    say(
        f"SIREN radiance field ({nvs.scene}): PSNR {q['psnr_dB']:.2f} dB, SSIM {q['ssim']:.3f}, "
        f"{time.perf_counter() - t0:.0f} s"
    )
    return net, {
        "psnr_dB": q["psnr_dB"],
        "ssim": q["ssim"],
        "final_loss": float(np.mean(losses[-50:])),
        "seconds": time.perf_counter() - t0,
    }


def views_quality(field_fn, test: ViewSet, nvs: NvsConfig) -> dict[str, object]:  # noqa: ANN001
    """Held-out PSNR / SSIM / images of any field function (float, weight level, hardware)."""
    return _quality(field_fn, test, nvs)


# ------------------------------------------------------------------------------------------
# Shipped checkpoint
# ------------------------------------------------------------------------------------------
def nvs_hw_config(scene: str) -> NvsConfig:
    """The views and training schedule of the shipped radiance field of ``scene``: the views
    of :class:`NvsConfig` (32 x 32 pixels, 36 training / 6 held-out cameras, 32 samples per
    ray), 1500 steps at a learning rate of 5e-4 (the NeRF's 5e-3 makes the SIREN diverge)."""
    return NvsConfig(scene=scene, steps=1500, lr=5e-4)


#: The radiance-field configuration of the shipped checkpoint (encoder sigma 1.5 cycles per
#: unit cube: 3.0 gave 24.0 dB against 29.6 dB after 300 steps).
NVS_HW_FIELD = SirenNerfConfig(sigma=1.5)


def nvs_hw_asset():  # noqa: ANN201 (Path)
    """Path of ``assets/nfield_nvs_hw.npz``."""
    from rramcim.apps.nfield.train import ASSETS

    return ASSETS / "nfield_nvs_hw.npz"


def train_nvs_hw_asset(out=None, log: Callable[[str], None] = print) -> dict:  # noqa: ANN001
    """Train the static and the dynamic radiance field and write their checkpoint (one
    thread, bit for bit reproducible on the same machine); returns the summary."""
    import dataclasses

    from rramcim.apps.nfield.train import _plain, _save

    torch.set_num_threads(1)
    out = out or nvs_hw_asset()
    nets, summary = {}, {"field": dataclasses.asdict(NVS_HW_FIELD)}
    for scene in ("static", "dynamic"):
        nvs = nvs_hw_config(scene)
        net, info = train_nvs_hw(nvs, NVS_HW_FIELD, log=log)
        nets[scene] = net.field
        summary[scene] = {"config": _plain(nvs), **info}
    _save(out, nets, summary)
    log(f"-> {out}")
    return summary


def load_nvs_hw(path=None) -> tuple[dict[str, SirenNerf], dict]:  # noqa: ANN001
    """The shipped radiance fields ``{"static", "dynamic"}`` (eval mode) and the summary.

    Raises:
        FileNotFoundError: no checkpoint; ValueError: a missing, misshapen or non-finite
            array (the file and the array are named).
    """
    from pathlib import Path

    from rramcim.apps.nfield.train import _load_into, _summary

    path = Path(path or nvs_hw_asset())
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no checkpoint (write it with `rramcim train nfield-nvs-hw`)"
        )
    nets = {}
    with np.load(path) as z:
        summary = _summary(path, z, "`rramcim train nfield-nvs-hw`")
        cfg = SirenNerfConfig(**summary["field"])
        for scene in ("static", "dynamic"):
            dyn = scene == "dynamic"
            n_in = 4 if dyn else 3
            fld = NeuralField(cfg.field_config(n_in), torch.zeros(cfg.n_freq, n_in))
            _load_into(path, z, scene, fld)
            nets[scene] = SirenNerf(cfg, dyn, field=fld).eval()
    return nets, summary
