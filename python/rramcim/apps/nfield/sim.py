"""The neural-field part of ``make sim``: CT and novel-view synthesis from the shipped checkpoints.

What it shows (PAPERS.md §3, §6.3):

* CT (2-D, 128 x 128, 20 views): the neural field against FBP; the field with its weights
  mapped onto binary cells by HAQ (:func:`rramcim.analog.haq.haq_map`, radix 1.5, programming
  noise 0.15 on set cells) and by uniform quantization with the same cells, with the same
  noise and without it, against cells per weight (:func:`ct_quantization_sweep`);
* novel views (static and dynamic procedural scenes): held-out PSNR / SSIM of the dense
  low-rank field (recorded at training), the pruned field and the pruned field HAQ-mapped;
* cells against the 256 K macro and the energy / speed projection
  (:mod:`rramcim.cost.nfield`).

Levels: the software level, the weight-mapping level (the network evaluated in float with
the weights the cells actually hold) and the CT slice at the hardware-model level (the
bit-exact datapath of :mod:`rramcim.golden.nfield_top`: encoder macro, ADCs, fixed-point
sin/cos and activations, HAQ cells programmed through verify reads), for CT and for the
views of the SIREN radiance field that runs on the chip's datapath
(:mod:`rramcim.apps.nfield.nvs_hw`), and the RTL level: a CT patch and a few view pixels
through ``cim_nfield_top`` (:mod:`rramcim.apps.nfield.patch`, one Verilator build for both,
in a background thread), every output equal to the hardware model.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from rramcim import rng
from rramcim.analog.haq import haq_map, ptq_map
from rramcim.apps.nfield.ct import circle_mask, pixel_coords, psnr, ssim
from rramcim.cost.nfield import FieldMatrix, FieldProjection, project_field
from rramcim.nn.field import NeuralField

#: Cell counts of the quantization sweep.
SWEEP_CELLS = (4, 6, 8, 10, 12, 14, 16)
#: Programming noise of a set cell (fraction of nominal), PAPERS.md §3.4.
NOISE_STD = 0.15


def map_field(net: NeuralField, mapping: str, n_cells: int, seed: int) -> NeuralField:
    """A copy of ``net`` whose weight matrices hold the values ``n_cells`` cells give.

    Args:
        mapping: ``"haq"`` (radix 1.5, noise :data:`NOISE_STD`), ``"ptq"`` (uniform binary
            with the same noise) or ``"ptq_ideal"`` (uniform, no noise).
        seed: programming-noise seed; matrix ``i`` uses the key ``(seed, "ct_map", i)``.
    """
    out = copy.deepcopy(net)
    with torch.no_grad():
        for i, w in enumerate(out.weight_matrices()):
            key = rng.make_key(seed, "ct_map", i)
            src = w.detach().double()
            if mapping == "haq":
                q = haq_map(src, n_cells, 1.5, NOISE_STD, key=key)
            elif mapping == "ptq":
                q = ptq_map(src, n_cells, NOISE_STD, key=key)
            elif mapping == "ptq_ideal":
                q = ptq_map(src, n_cells, 0.0, key=key)
            else:
                raise ValueError(f"map_field: mapping {mapping!r} is not haq, ptq or ptq_ideal")
            w.copy_(q.w_q.to(w.dtype))
    return out


def field_image(net: NeuralField, n: int) -> torch.Tensor:
    """The field's ``n x n`` slice image (z = 0.5), masked to the inscribed circle."""
    with torch.no_grad():
        return net(pixel_coords(n)).reshape(n, n) * circle_mask(n)


def ct_quantization_sweep(
    net: NeuralField,
    target: torch.Tensor,
    cells: Sequence[int] = SWEEP_CELLS,
    seeds: Sequence[int] = (0, 1, 2),
) -> list[dict[str, float]]:
    """PSNR of the CT image against cells per weight for each mapping (mean over seeds)."""
    n = int(target.shape[0])
    rows = []
    for c in cells:
        row: dict[str, float] = {"cells": float(c)}
        for m in ("haq", "ptq", "ptq_ideal"):
            ps = [psnr(field_image(map_field(net, m, c, s), n), target) for s in seeds]
            row[m] = float(np.mean(ps))
            row[f"{m}_min"] = float(np.min(ps))
        rows.append(row)
    return rows


def ct_matrices(net: NeuralField) -> list[FieldMatrix]:
    """The CT field's crossbar matrices (encoder ``B`` first) for the cost model."""
    cfg = net.cfg
    mats = [FieldMatrix("encoder B", cfg.n_in, cfg.n_freq, encoder=True)] if cfg.n_freq else []
    for i, w in enumerate(net.weight_matrices()):
        mats.append(FieldMatrix(f"layer {i + 1}", int(w.shape[1]), int(w.shape[0])))
    return mats


def _nvs_matrices(net: torch.nn.Module, name: str) -> list[FieldMatrix]:
    enc = [
        FieldMatrix(f"{name} B {what}", int(e.b.shape[1]), int(e.b.shape[0]), encoder=True)
        for what, e in (("points", net.enc_pts), ("dirs", net.enc_dir))
    ]
    return enc + [
        FieldMatrix(f"{name} {i}", int(m.shape[1]), int(m.shape[0]))
        for i, m in enumerate(net.matrices())
    ]


#: :class:`rramcim.apps.nfield.nvs.NvsConfig` fields that the held-out views do not depend on
#: (:func:`rramcim.apps.nfield.nvs.make_test_views` reads neither them nor anything derived
#: from them: the network, the training schedule and views, the network's samples per ray and
#: the seed, which keys training only). Every other field, including any added later, is part
#: of the views' cache key (:func:`held_out_views`), so a new field can cost a render, never
#: return wrong views.
VIEW_INDEPENDENT_FIELDS = frozenset(
    {
        "net",
        "steps",
        "prune_steps",
        "prune_ratio",
        "prune_rounds",
        "batch_rays",
        "lr",
        "seed",
        "train_views",
        "n_samples",
    }
)


def view_key(cfg) -> tuple:  # noqa: ANN001 (NvsConfig)
    """Cache key of the held-out views of ``cfg``: every field of the configuration but
    :data:`VIEW_INDEPENDENT_FIELDS`, as ``(name, repr(value))`` pairs."""
    import dataclasses

    return tuple(
        (f.name, repr(getattr(cfg, f.name)))
        for f in dataclasses.fields(cfg)
        if f.name not in VIEW_INDEPENDENT_FIELDS
    )


def held_out_views(cfg, cache: dict | None = None):  # noqa: ANN001, ANN201 (NvsConfig -> ViewSet)
    """The held-out views of ``cfg`` (:func:`rramcim.apps.nfield.nvs.make_test_views`, ground
    truth at ``gt_samples`` per ray), rendered once per view configuration in ``cache``
    (keyed by :func:`view_key`).

    The views depend only on the scene, the cameras and the ray range, so configurations that
    differ in the network or the training schedule share them. Callers must not modify them.
    """
    from rramcim.apps.nfield.nvs import make_test_views

    if cache is None:
        return make_test_views(cfg)
    key = view_key(cfg)
    if key not in cache:
        cache[key] = make_test_views(cfg)
    return cache[key]


def run_nfield_sim(
    out_dir: Path,
    *,
    haq_cells: int = 12,
    log: Callable[[str], None] = print,
    rtl_sim: str | None = "verilator",
) -> dict:
    """Evaluate the shipped CT and novel-view fields; write ``<out>/sim/nfield_summary.json``
    and the plots; return the summary.

    With ``rtl_sim`` (``"icarus"`` / ``"verilator"``; None skips it) the CT patch and the view
    patch run through the RTL top (:func:`rramcim.apps.nfield.patch.run_patch_jobs`) in a
    background thread while the software and hardware-model levels are computed (the
    simulators are separate processes, so they use the second core).

    Work shared between the levels is done once: each field the RTL runs is mapped once (the
    simulators load the mapped field; the CT hardware model and the datapath views evaluate
    the same one), the held-out views are rendered once per view configuration
    (:func:`held_out_views`) and the checkpoints are loaded once.
    """
    from concurrent.futures import ThreadPoolExecutor

    from rramcim.apps.nfield.hw import map_field as map_hw
    from rramcim.apps.nfield.nvs import NvsConfig, _quality, haq_copy
    from rramcim.apps.nfield.nvs_hw import load_nvs_hw, nvs_hw_config
    from rramcim.apps.nfield.patch import NVS_PATCH, run_patch_jobs, view_patch, write_patch_jobs
    from rramcim.apps.nfield.train import load_ct, load_nvs
    from rramcim.data.phantom import shepp_logan_2d
    from rramcim.golden.nfield_top import NfieldHwConfig

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    sim_dir = Path(out_dir) / "sim"
    sim_dir.mkdir(parents=True, exist_ok=True)
    views: dict = {}  # held-out views by their view configuration (rendered once)
    net, ct_info = load_ct()
    hw_nets, hw_info = load_nvs_hw()
    # One mapping per field for every level that uses it: the CT field (hardware model and
    # RTL patch) and the static radiance field (RTL patch and datapath views).
    ct_cfg = NfieldHwConfig(encoder_seed=int(ct_info["config"].get("encoder_seed", 0)))
    hw_ct = map_hw(net, ct_cfg, 0)
    st = hw_nets["static"]
    hw_static = map_hw(st.field, NfieldHwConfig(encoder_seed=st.cfg.encoder_seed), 0)
    pool = ThreadPoolExecutor(max_workers=1)
    rtl_job = None
    vps: dict = {}
    if rtl_sim:
        vps["nvs-static"] = view_patch(
            "static", NVS_PATCH, views=held_out_views(nvs_hw_config("static"), views)
        )
        # the jobs (and the mapped fields the simulators load) are written before this
        # process evaluates the fields
        jobs = write_patch_jobs(
            sim_dir, hardware={"ct": hw_ct, "nvs-static": hw_static}, view_patches=vps
        )
        rtl_job = pool.submit(run_patch_jobs, jobs, rtl_sim)
    n = int(ct_info["config"]["size"])
    target = torch.from_numpy(shepp_logan_2d(n)).float()
    img = field_image(net, n)
    sweep = ct_quantization_sweep(net, target)
    at = next(r for r in sweep if int(r["cells"]) == haq_cells)
    ct = {
        "size": n,
        "views": int(ct_info["config"]["n_views"]),
        "field_psnr_dB": psnr(img, target),
        "field_ssim": ssim(img, target),
        "fbp_psnr_dB": float(ct_info["psnr_fbp_dB"]),
        "fbp_ssim": float(ct_info["ssim_fbp"]),
        "haq_cells": haq_cells,
        "haq_psnr_dB": at["haq"],
        "ptq_psnr_dB": at["ptq"],
        "ptq_ideal_psnr_dB": at["ptq_ideal"],
        "sweep": sweep,
    }
    log(
        f"CT: field {ct['field_psnr_dB']:.2f} dB, FBP {ct['fbp_psnr_dB']:.2f} dB, HAQ "
        f"{haq_cells} cells {ct['haq_psnr_dB']:.2f} dB, uniform {ct['ptq_psnr_dB']:.2f} dB"
    )
    hw = ct_hardware_levels(log, net=net, info=ct_info, hw=hw_ct)
    ct.update(hw)
    cost_ct = project_field(ct_matrices(net), res=n * n, bits=8, cells_per_weight=haq_cells)
    nets, nvs_info = load_nvs()
    nvs = {}
    nvs_imgs = {}
    cost_nvs: dict[str, FieldProjection] = {}
    for scene, fnet in nets.items():
        cfg = NvsConfig(**{**nvs_info[scene]["config"], "net": fnet.cfg})
        test = held_out_views(cfg, views)
        q_pruned = _quality(fnet, test, cfg)
        hq = haq_copy(fnet, 8, key=rng.make_key(cfg.seed, "nvs_haq_prog"))
        q_haq = _quality(hq, test, cfg)
        info = nvs_info[scene]
        nvs[scene] = {
            "float_psnr_dB": info["float_psnr_dB"],
            "float_ssim": info["float_ssim"],
            "pruned_psnr_dB": q_pruned["psnr_dB"],
            "pruned_ssim": q_pruned["ssim"],
            "haq_psnr_dB": q_haq["psnr_dB"],
            "haq_ssim": q_haq["ssim"],
            "haq_cells": 8,
            "weights_dense": info["weights"]["dense"],
            "weights_pruned": info["weights"]["pruned"],
            "image_size": cfg.image_size,
            "test_views": cfg.test_views,
        }
        nvs_imgs[scene] = (test.images()[0], q_pruned["images"][0], q_haq["images"][0])
        res = cfg.image_size**2 * cfg.n_samples
        cost_nvs[scene] = project_field(
            _nvs_matrices(fnet, scene), res=res, bits=8, cells_per_weight=8
        )
        log(
            f"views ({scene}): pruned {q_pruned['psnr_dB']:.2f} dB / {q_pruned['ssim']:.3f}, "
            f"HAQ 8 cells {q_haq['psnr_dB']:.2f} dB / {q_haq['ssim']:.3f}"
        )
    nvs_dp, dp_imgs = nvs_datapath_levels(
        haq_cells, log, nets=(hw_nets, hw_info), views_cache=views, hardware={"static": hw_static}
    )
    summary = {
        "ct": ct,
        "nvs": nvs,
        "nvs_datapath": nvs_dp,
        "cost": {
            "ct": _cost_dict(cost_ct),
            **{f"nvs_{k}": _cost_dict(v) for k, v in cost_nvs.items()},
        },
        "projection_table": "CT field (one 128 x 128 slice)\n"
        + cost_ct.table()
        + "".join(
            f"\n\nnovel views, {k} scene (one image)\n" + v.table() for k, v in cost_nvs.items()
        ),
        "rtl": None,
        "seconds": time.perf_counter() - t0,
    }
    if rtl_job is not None:
        log("neural field: waiting for the RTL patches ...")
        summary["rtl"] = rtl_patch_summary(
            rtl_job.result(), target, img, sim_dir, log, nets=hw_nets, view_patches=vps
        )
    pool.shutdown()
    summary["seconds"] = time.perf_counter() - t0
    (sim_dir / "nfield_summary.json").write_text(json.dumps(summary, indent=2))
    _plots(sim_dir, target, img, net, n, haq_cells, sweep, nvs_imgs)
    _datapath_plot(sim_dir, dp_imgs)
    return summary


def rtl_patch_summary(
    run: dict,
    target: torch.Tensor,
    sw_img: torch.Tensor,
    sim_dir: Path,
    log=print,  # noqa: ANN001
    *,
    nets: dict | None = None,
    view_patches: dict | None = None,
) -> dict:
    """Summary and plot of the RTL patches (:func:`rramcim.apps.nfield.patch.run_patches`):
    per patch the coordinates, mismatches against the hardware model, the patch PSNR at each
    level and the images (software, hardware model, RTL).

    ``nets`` (the shipped radiance fields, :func:`rramcim.apps.nfield.nvs_hw.load_nvs_hw`) and
    ``view_patches`` (``{kind: ViewPatch}`` of the jobs) are loaded / rendered when not given.
    """
    from rramcim.apps.nfield.nvs import render_rays
    from rramcim.apps.nfield.nvs_hw import load_nvs_hw, nvs_hw_config
    from rramcim.apps.nfield.patch import CT_PATCH, NVS_PATCH, render_patch, view_patch
    from rramcim.golden.nfield_top import NfieldHwConfig

    view_patches = dict(view_patches or {})
    frac = float(1 << NfieldHwConfig().out_frac)
    out: dict = {"simulator": run["simulator"], "wall_s": run["wall_s"], "patches": {}}
    panels = []
    for kind, j in run["jobs"].items():
        res, err = j["result"], j["error"]
        if res is None:
            out["patches"][kind] = {"error": err or "no result"}
            log(f"RTL patch {kind}: FAILED ({err})")
            continue
        rtl = np.asarray(res["rtl_out"], dtype=np.int64)
        model = np.asarray(res["model_out"], dtype=np.int64)
        row = {
            "coordinates": res["coordinates"],
            "mismatches": res["mismatches"],
            "reads": res["reads"],
            "cycles": res["cycles"],
            "wall_s_rtl": res["wall_s_rtl"],
            "adapter_errors": len(res["adapter_errors"]),
            "error": err,
        }
        if kind == "ct":
            r0, c0, side = CT_PATCH
            gt = target[r0 : r0 + side, c0 : c0 + side]
            ims = {
                "phantom": gt,
                "software": sw_img[r0 : r0 + side, c0 : c0 + side],
                "hardware model": torch.from_numpy(model[:, 0] / frac).float().reshape(side, side),
                "RTL": torch.from_numpy(rtl[:, 0] / frac).float().reshape(side, side),
            }
            row["patch"] = [r0, c0, side]
        else:
            scene = kind.split("-", 1)[1]
            vp = view_patches.get(kind) or view_patch(scene, NVS_PATCH)
            if nets is None:
                nets, _ = load_nvs_hw()
            with torch.no_grad():
                cfg = nvs_hw_config(scene)
                sw = render_rays(
                    nets[scene],
                    vp.orig,
                    vp.dirs,
                    near=cfg.near,
                    far=cfg.far,
                    n_samples=cfg.n_samples,
                    t=vp.t,
                ).reshape(vp.side, vp.side, 3)
            ims = {
                "held-out view": vp.gt.reshape(vp.side, vp.side, 3),
                "software": sw,
                "hardware model": render_patch(vp, model, scene),
                "RTL": render_patch(vp, rtl, scene),
            }
            gt = ims["held-out view"]
            row["patch"] = [*NVS_PATCH[:2], NVS_PATCH[2]]
            row["pixels"] = NVS_PATCH[2] ** 2
        for name in ("software", "hardware model", "RTL"):
            row[f"psnr_{name.replace(' ', '_')}_dB"] = psnr(ims[name].clamp(0, 1), gt)
        row["rtl_equals_model_image"] = bool(torch.equal(ims["RTL"], ims["hardware model"]))
        out["patches"][kind] = row
        panels.append((kind, ims))
        log(
            f"RTL patch {kind} ({run['simulator']}): {res['coordinates']} coordinates, "
            f"{res['mismatches']} differ from the hardware model, {res['reads']} reads, "
            f"{res['wall_s_rtl']:.0f} s"
        )
    if panels:
        _patch_plot(sim_dir, panels)
    return out


def _patch_plot(sim_dir: Path, panels: list) -> None:  # noqa: ANN001
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(len(panels), 4, figsize=(9, 2.4 * len(panels)), squeeze=False)
    for r, (kind, ims) in enumerate(panels):
        for k, (t, im) in enumerate(ims.items()):
            a = np.clip(np.asarray(im, dtype=np.float32), 0, 1)
            ax[r, k].imshow(
                a, cmap="gray" if a.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest"
            )
            ax[r, k].set_title(f"{kind}: {t}", fontsize=8)
            ax[r, k].axis("off")
    fig.tight_layout()
    fig.savefig(sim_dir / "nfield_rtl_patch.png", dpi=100)
    plt.close(fig)


def nvs_datapath_levels(
    haq_cells: int = 12,
    log: Callable[[str], None] = print,
    views: int = 1,
    stride: int = 2,
    *,
    nets: tuple[dict, dict] | None = None,
    views_cache: dict | None = None,
    hardware: dict | None = None,
) -> tuple[dict, dict]:
    """Novel views through the chip's datapath (:mod:`rramcim.apps.nfield.nvs_hw`): the
    shipped SIREN radiance fields in float, with HAQ weights, and at the hardware-model level
    (rram_40nm with the defaults, and the ideal-device design point with 16 cells and 16-bit
    ADCs), on the first ``views`` held-out views at every ``stride``-th pixel in each direction
    (``stride`` 2: 16 x 16 of the 32 x 32 pixels, a quarter of the hardware-model work).
    Returns ``(summary, images)``.

    Optional inputs computed once by the caller (:func:`run_nfield_sim`): ``nets`` (what
    :func:`rramcim.apps.nfield.nvs_hw.load_nvs_hw` returns), ``views_cache`` (held-out views by
    configuration, :func:`held_out_views`) and ``hardware`` (``{scene: NfieldHardware}``
    mapped with seed 0 on the configuration's device; used where its configuration is the
    rram_40nm design point's, otherwise the field is mapped here).
    """
    import dataclasses

    from rramcim.analog.device import load_device
    from rramcim.apps.nfield.hw import map_field as map_hw
    from rramcim.apps.nfield.nvs_hw import (
        HardwareNerf,
        haq_field,
        load_nvs_hw,
        nvs_hw_config,
        views_quality,
    )
    from rramcim.golden.nfield_top import NfieldHwConfig

    nets, info = nets or load_nvs_hw()
    views_cache = {} if views_cache is None else views_cache
    hardware = hardware or {}
    out: dict = {}
    imgs: dict = {}
    for scene, net in nets.items():
        cfg = nvs_hw_config(scene)
        full = held_out_views(cfg, views_cache)
        side = full.size // stride
        ij = torch.arange(0, full.size, stride)
        pix = (ij[:, None] * full.size + ij[None, :]).reshape(-1)
        test = dataclasses.replace(
            full,
            orig=full.orig[:views, pix],
            dirs=full.dirs[:views, pix],
            t=None if full.t is None else full.t[:views],
            rgb=full.rgb[:views, pix],
            size=side,
        )
        t0 = time.perf_counter()
        q = {"float": views_quality(net, test, cfg)}
        q["haq"] = views_quality(haq_field(net, haq_cells, 0), test, cfg)
        counters = {}
        for name, hc, dev in (
            ("hw", NfieldHwConfig(n_cells=haq_cells), None),
            (
                "hw_ideal16",
                NfieldHwConfig(n_cells=16, mlp_adc_bits=16, enc_ref="exact"),
                load_device("rram_40nm").ideal(),
            ),
        ):
            mapped = hardware.get(scene) if dev is None else None
            if mapped is None or mapped.cfg != hc:
                mapped = map_hw(net.field, hc, 0, dev)
            f = HardwareNerf(mapped, net.cfg, scene == "dynamic")
            q[name] = views_quality(f, test, cfg)
            counters[name] = {"vectors": f.next_vector, **f.counters}
        out[scene] = {
            "views": views,
            "pixels": [side, side],
            "field_shape": [
                net.field.cfg.n_in,
                net.field.cfg.n_freq,
                net.field.cfg.width,
                net.field.cfg.rank,
                net.field.cfg.n_out,
            ],
            "trained_psnr_dB": info[scene]["psnr_dB"],
            **{f"{k}_psnr_dB": v["psnr_dB"] for k, v in q.items()},
            **{f"{k}_ssim": v["ssim"] for k, v in q.items()},
            "hw_counters": counters,
            "seconds": time.perf_counter() - t0,
        }
        imgs[scene] = [("held-out view", test.images()[0])] + [
            (label, q[k]["images"][0])
            for k, label in (
                ("float", "SIREN field"),
                ("haq", f"HAQ {haq_cells} cells (weights)"),
                ("hw", "hardware model, rram_40nm"),
                ("hw_ideal16", "hardware model, ideal 16 cells"),
            )
        ]
        o = out[scene]
        log(
            f"views on the datapath ({scene}, {views} held-out view, {side}x{side} pixels): float "
            f"{o['float_psnr_dB']:.2f} dB, HAQ {haq_cells} {o['haq_psnr_dB']:.2f} dB, hardware "
            f"model {o['hw_psnr_dB']:.2f} dB (rram_40nm) / {o['hw_ideal16_psnr_dB']:.2f} dB "
            f"(ideal, 16 cells), {o['seconds']:.0f} s"
        )
    return out, imgs


def _datapath_plot(sim_dir: Path, imgs: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = max(len(v) for v in imgs.values())
    fig, ax = plt.subplots(len(imgs), cols, figsize=(2.3 * cols, 2.5 * len(imgs)), squeeze=False)
    for r, (scene, ims) in enumerate(imgs.items()):
        for k, (t, im) in enumerate(ims):
            ax[r, k].imshow(np.clip(np.asarray(im), 0, 1))
            ax[r, k].set_title(f"{scene}: {t}", fontsize=7)
            ax[r, k].axis("off")
    fig.tight_layout()
    fig.savefig(sim_dir / "nfield_views_datapath.png", dpi=100)
    plt.close(fig)


def ct_hardware_levels(
    log: Callable[[str], None] = print,
    *,
    net: NeuralField | None = None,
    info: dict | None = None,
    hw=None,  # noqa: ANN001 (NfieldHardware)
) -> dict:
    """The CT slice at the hardware-model level (:mod:`rramcim.apps.nfield.hw`): with the
    defaults on the rram_40nm preset, and at a design point with ideal devices, 16 cells per
    weight and 16-bit MLP ADCs (what the datapath itself can do).

    ``net`` / ``info``: the CT checkpoint (loaded once here when not given); ``hw``: the field
    already mapped with the defaults (the checkpoint's encoder seed, macro seed 0)."""
    from rramcim.analog.device import load_device
    from rramcim.apps.nfield.hw import ct_hardware_psnr
    from rramcim.apps.nfield.train import load_ct
    from rramcim.golden.nfield_top import NfieldHwConfig

    if net is None:
        net, info = load_ct()
    r = ct_hardware_psnr(net=net, info=info, hw=hw)
    ideal = load_device("rram_40nm").ideal()
    dp = ct_hardware_psnr(
        NfieldHwConfig(n_cells=16, mlp_adc_bits=16, enc_ref="exact"),
        device=ideal,
        net=net,
        info=info,
    )
    out = {
        "hw_psnr_dB": r["psnr_hw_dB"],
        "hw_counters": r["counters"],
        "hw_seconds": r["map_s"] + r["eval_s"],
        "hw_ideal16_psnr_dB": dp["psnr_hw_dB"],
    }
    log(
        f"CT hardware model: {out['hw_psnr_dB']:.2f} dB (rram_40nm, defaults), "
        f"{out['hw_ideal16_psnr_dB']:.2f} dB (ideal devices, 16 cells, 16-bit ADCs)"
    )
    return out


def _cost_dict(p: FieldProjection) -> dict[str, float]:
    return {
        "weights": p.weights,
        "cells": p.cells,
        "cell_fraction": p.cell_fraction,
        "energy_ratio": p.energy_ratio,
        "speed_ratio": p.parallelism,
        "hardware_J": p.hardware_J,
        "gpu_J": p.gpu_J,
    }


def _plots(sim_dir, target, img, net, n, haq_cells, sweep, nvs_imgs) -> None:  # noqa: ANN001
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rramcim.apps.nfield.ct import fbp, measure_sinogram, view_angles
    from rramcim.data.phantom import shepp_logan_2d

    ang = view_angles(20)
    fb = fbp(
        measure_sinogram(torch.from_numpy(shepp_logan_2d(2 * n)).float(), ang, n).double(), ang
    )
    haq = field_image(map_field(net, "haq", haq_cells, 0), n)
    ptq = field_image(map_field(net, "ptq", haq_cells, 0), n)
    ims = [
        ("phantom", target),
        (f"FBP, 20 views ({psnr(fb, target):.1f} dB)", fb),
        (f"neural field ({psnr(img, target):.1f} dB)", img),
        (f"HAQ {haq_cells} cells ({psnr(haq, target):.1f} dB)", haq),
        (f"uniform {haq_cells} cells ({psnr(ptq, target):.1f} dB)", ptq),
    ]
    fig, ax = plt.subplots(1, 5, figsize=(15, 3.4))
    for a, (t, im) in zip(ax, ims, strict=True):
        a.imshow(np.clip(np.asarray(im, dtype=np.float32), 0, 1), cmap="gray", vmin=0, vmax=1)
        a.set_title(t, fontsize=9)
        a.axis("off")
    fig.tight_layout()
    fig.savefig(sim_dir / "nfield_ct.png", dpi=100)
    plt.close(fig)
    fig, a = plt.subplots(figsize=(6, 4))
    c = [r["cells"] for r in sweep]
    a.plot(c, [r["haq"] for r in sweep], "o-", label="HAQ, radix 1.5, noise 0.15")
    a.plot(c, [r["ptq"] for r in sweep], "s-", label="uniform binary, same noise")
    a.plot(c, [r["ptq_ideal"] for r in sweep], "^--", label="uniform binary, no noise")
    a.axhline(psnr(img, target), color="k", lw=0.8, label="float network")
    a.set_xlabel("cells per weight")
    a.set_ylabel("CT PSNR (dB)")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(sim_dir / "nfield_haq.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(len(nvs_imgs), 3, figsize=(7, 2.4 * len(nvs_imgs)), squeeze=False)
    for r, (scene, ims3) in enumerate(nvs_imgs.items()):
        for k, (t, im) in enumerate(
            zip(("held-out view", "pruned field", "HAQ 8 cells"), ims3, strict=True)
        ):
            ax[r, k].imshow(np.clip(im.numpy(), 0, 1))
            ax[r, k].set_title(f"{scene}: {t}", fontsize=8)
            ax[r, k].axis("off")
    fig.tight_layout()
    fig.savefig(sim_dir / "nfield_views.png", dpi=100)
    plt.close(fig)


def nfield_summary_rows(s: dict) -> list[tuple[str, str]]:
    """Rows of the make-sim table."""
    ct = s["ct"]
    rows = [
        (
            f"CT {ct['size']}x{ct['size']}, {ct['views']} views: FBP",
            f"{ct['fbp_psnr_dB']:.2f} dB / SSIM {ct['fbp_ssim']:.3f}",
        ),
        (
            "CT neural field (software)",
            f"{ct['field_psnr_dB']:.2f} dB / SSIM {ct['field_ssim']:.3f}",
        ),
        (
            f"CT field, HAQ {ct['haq_cells']} cells/weight (3 noise seeds)",
            f"{ct['haq_psnr_dB']:.2f} dB",
        ),
        (
            f"CT field, uniform {ct['haq_cells']} cells, same noise / no noise",
            f"{ct['ptq_psnr_dB']:.2f} dB / {ct['ptq_ideal_psnr_dB']:.2f} dB",
        ),
        ("CT hardware model, rram_40nm, defaults", f"{ct['hw_psnr_dB']:.2f} dB"),
        (
            "CT hardware model, ideal devices, 16 cells, 16-bit ADCs",
            f"{ct['hw_ideal16_psnr_dB']:.2f} dB",
        ),
    ]
    for scene, v in s.get("nvs_datapath", {}).items():
        rows.append(
            (
                f"views on the datapath ({scene}, SIREN, {v['pixels'][0]}x{v['pixels'][1]} px): "
                "float / HAQ / hw",
                f"{v['float_psnr_dB']:.2f} / {v['haq_psnr_dB']:.2f} / {v['hw_psnr_dB']:.2f} dB "
                f"(rram_40nm); ideal 16 cells {v['hw_ideal16_psnr_dB']:.2f} dB",
            )
        )
    for scene, v in s["nvs"].items():
        rows.append(
            (
                f"views ({scene}), float / pruned / HAQ {v['haq_cells']}",
                f"{v['float_psnr_dB']:.2f} / {v['pruned_psnr_dB']:.2f} / "
                f"{v['haq_psnr_dB']:.2f} dB; "
                f"SSIM {v['float_ssim']:.3f} / {v['pruned_ssim']:.3f} / {v['haq_ssim']:.3f}",
            )
        )
    c = s["cost"]["ct"]
    rows += [
        ("CT cells (256 K macro)", f"{c['cells']} ({100 * c['cell_fraction']:.1f} %)"),
        (
            "CT projected energy / speed vs A100",
            f"{c['energy_ratio']:.1f}x / {c['speed_ratio']:.3g}x (published: up to 47.2x / 38.8x)",
        ),
    ]
    rt = s.get("rtl")
    if not rt:
        rows.append(("RTL (cim_nfield_top)", "not run (rtl_sim = None)"))
        return rows
    for kind, p in rt["patches"].items():
        if "error" in p and p.get("coordinates") is None:
            rows.append((f"RTL patch {kind}", f"FAILED: {p['error']}"))
            continue
        what = f"{p['patch'][2]}x{p['patch'][2]} pixels"
        rows.append(
            (
                f"RTL patch {kind} ({what}, {rt['simulator']}): equal to hw model",
                f"{p['coordinates'] - p['mismatches']} / {p['coordinates']} coordinates; patch "
                f"PSNR sw / hw / RTL {p['psnr_software_dB']:.2f} / "
                f"{p['psnr_hardware_model_dB']:.2f} / {p['psnr_RTL_dB']:.2f} dB",
            )
        )
    return rows
