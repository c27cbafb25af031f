"""Shipped checkpoints of the neural-field workload and the commands that reproduce them.

* ``assets/nfield_ct.npz``: the CT field of :func:`rramcim.apps.nfield.ct.run_ct` with the
  default :class:`~rramcim.apps.nfield.ct.CtConfig` (seed 0), net ``ct`` (encoder ``B``
  included as the buffer ``encoder.b``);
* ``assets/nfield_ct_tiny.npz``: a small CT field (:data:`CT_TINY_FIELD`, 3 + 16 -> 16 -> 4 ->
  16 -> 1) trained the same way (:data:`CT_TINY_CONFIG`, a few seconds on one thread), net
  ``ct``: the instance the RTL bench of ``cim_nfield_top`` programs and evaluates;
* ``assets/nfield_nvs.npz``: the pruned novel-view fields of
  :func:`rramcim.apps.nfield.nvs.run_nvs` with the default
  :class:`~rramcim.apps.nfield.nvs.NvsConfig` for the ``static`` and the ``dynamic`` scene,
  nets ``static`` and ``dynamic``.

``rramcim train nfield-ct`` / ``nfield-ct-tiny`` / ``nfield-nvs`` rewrite them (one thread,
bit for bit on the same machine). Each file holds float32 arrays ``<net>.<state key>`` and a
JSON ``summary`` with the configurations (enough to rebuild the modules) and the metrics
measured at training. Loading checks that every array is present, has the module's shape and
is finite, and names the file and the array otherwise.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rramcim.apps.nfield.ct import CtConfig, run_ct
from rramcim.apps.nfield.nvs import NerfConfig, NerfField, NvsConfig, run_nvs
from rramcim.nn.field import FieldConfig, NeuralField

ASSETS = Path(__file__).resolve().parents[2] / "assets"
CT_ASSET = ASSETS / "nfield_ct.npz"
CT_TINY_ASSET = ASSETS / "nfield_ct_tiny.npz"
NVS_ASSET = ASSETS / "nfield_nvs.npz"


def _plain(obj: object) -> object:
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if hasattr(obj, "value") and not isinstance(obj, (int, float, str)):
        return obj.value
    return obj


def _save(path: Path, nets: dict[str, nn.Module], summary: dict) -> None:
    arrays = {
        f"{name}.{k}": v.detach().cpu().numpy().astype(np.float32)
        for name, net in nets.items()
        for k, v in net.state_dict().items()
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, summary=json.dumps(summary, default=float), **arrays)


def _load_into(path: Path, z: np.lib.npyio.NpzFile, name: str, net: nn.Module) -> None:
    state = {}
    for k, ref in net.state_dict().items():
        key = f"{name}.{k}"
        if key not in z.files:
            raise ValueError(f"{path}: array {key!r} is missing")
        a = z[key]
        if tuple(a.shape) != tuple(ref.shape):
            raise ValueError(
                f"{path}: array {key!r} has shape {a.shape}, expected {tuple(ref.shape)}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{path}: array {key!r} has non-finite values")
        state[k] = torch.from_numpy(a)
    net.load_state_dict(state)
    net.eval()


def _summary(path: Path, z: np.lib.npyio.NpzFile, train_fn: str) -> dict:
    if "summary" not in z.files:
        raise ValueError(f"{path}: no 'summary' entry (rewrite it with {train_fn})")
    return json.loads(str(z["summary"]))


def train_ct(
    out: Path = CT_ASSET, cfg: CtConfig | None = None, log: Callable[[str], None] = print
) -> dict:
    """Train the CT field (:func:`run_ct`) and write its checkpoint; returns the summary."""
    torch.set_num_threads(1)
    cfg = cfg or CtConfig()
    r = run_ct(cfg)
    summary = {
        "config": _plain(cfg),
        "psnr_field_dB": r.psnr_field_dB,
        "ssim_field": r.ssim_field,
        "psnr_fbp_dB": r.psnr_fbp_dB,
        "ssim_fbp": r.ssim_fbp,
        "seconds": r.seconds,
    }
    assert r.net is not None
    _save(out, {"ct": r.net}, summary)
    log(
        f"CT field: PSNR {r.psnr_field_dB:.2f} dB / SSIM {r.ssim_field:.3f} (FBP "
        f"{r.psnr_fbp_dB:.2f} dB / {r.ssim_fbp:.3f}), {r.seconds:.0f} s -> {out}"
    )
    return summary


def load_ct(path: Path = CT_ASSET) -> tuple[NeuralField, dict]:
    """The shipped CT field (float32, eval mode) and its summary."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint (write it with `rramcim train nfield-ct`)")
    with np.load(path) as z:
        summary = _summary(path, z, "`rramcim train nfield-ct`")
        fc = summary["config"]["field"]
        cfg = FieldConfig(**fc)
        net = NeuralField(cfg, torch.zeros(cfg.n_freq, cfg.n_in) if cfg.n_freq else None)
        _load_into(path, z, "ct", net)
    return net, summary


#: The small CT field of the RTL bench: 3 coordinates, 8 frequencies, width 16, rank 4.
CT_TINY_FIELD = FieldConfig(n_in=3, n_freq=8, width=16, rank=4)

#: Its training run: the default two-stage CT fit (300 + 300 Adam steps) on that field.
CT_TINY_CONFIG = CtConfig(field=CT_TINY_FIELD)


def train_ct_tiny(out: Path = CT_TINY_ASSET, log: Callable[[str], None] = print) -> dict:
    """Train the small CT field of the RTL bench (:data:`CT_TINY_CONFIG`, about 10 s on one
    thread) and write its checkpoint (same format as :func:`train_ct`); returns the summary."""
    return train_ct(out, CT_TINY_CONFIG, log)


def load_ct_tiny(path: Path = CT_TINY_ASSET) -> tuple[NeuralField, dict]:
    """The shipped small CT field (float32, eval mode) and its summary."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no checkpoint (write it with `rramcim train nfield-ct-tiny`)"
        )
    return load_ct(path)


def _nvs_config(scene: str) -> NvsConfig:
    return NvsConfig(scene=scene, net=NerfConfig(time_input=scene == "dynamic"))


def train_nvs(out: Path = NVS_ASSET, log: Callable[[str], None] = print) -> dict:
    """Train, prune and score the static and the dynamic scene's fields; write both."""
    torch.set_num_threads(1)
    nets, summary = {}, {}
    for scene in ("static", "dynamic"):
        cfg = _nvs_config(scene)
        r = run_nvs(cfg, log=lambda s, sc=scene: log(f"{sc}: {s}"))
        net = r["net"]
        nets[scene] = net
        summary[scene] = {
            "config": _plain(cfg),
            "trunk": net.trunk_shape,
            "weights": r["weights"],
            **{f"{k}_psnr_dB": r[k]["psnr_dB"] for k in ("float", "pruned", "haq")},
            **{f"{k}_ssim": r[k]["ssim"] for k in ("float", "pruned", "haq")},
            "seconds": r["seconds"],
        }
    _save(out, nets, summary)
    log(f"wrote {out}")
    return summary


def load_nvs(path: Path = NVS_ASSET) -> tuple[dict[str, NerfField], dict]:
    """The shipped (pruned) novel-view fields ``{"static", "dynamic"}`` and their summary."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint (write it with `rramcim train nfield-nvs`)")
    nets = {}
    with np.load(path) as z:
        summary = _summary(path, z, "`rramcim train nfield-nvs`")
        for scene, info in summary.items():
            c = info["config"]
            net_cfg = NerfConfig(**c["net"])
            net = NerfField(
                net_cfg, seed=c["seed"], trunk=[(int(u), bool(f)) for u, f in info["trunk"]]
            )
            _load_into(path, z, scene, net)
            nets[scene] = net
    return nets, summary
