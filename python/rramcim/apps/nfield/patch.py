"""Image patches through the RTL top ``cim_nfield_top`` (the RTL level of ``make sim``).

A *job* is a JSON file naming what to map and which coordinates to evaluate:

* ``kind = "ct"``: the shipped CT field (:func:`rramcim.apps.nfield.train.load_ct`) mapped by
  :func:`rramcim.apps.nfield.hw.map_field` with :class:`NfieldHwConfig` (its encoder seed from
  the checkpoint) and macro seed ``seed``; the coordinates are a square patch of the CT pixel
  grid;
* ``kind = "nvs-static"`` / ``"nvs-dynamic"``: the shipped radiance field of that scene
  (:func:`rramcim.apps.nfield.nvs_hw.load_nvs_hw`), mapped the same way; the coordinates are
  the sample points inside the scene cube of a block of pixels of the first held-out view.

:func:`run_patches` writes the jobs (:func:`write_patch_jobs`: the coordinate codes and the
mapped field, which the simulator process loads instead of mapping it again), runs each
through the bench module ``tb/cim_nfield_top/sim_cim_nfield_top.py`` (:func:`run_patch_jobs`:
one simulator process per job, in parallel threads, in one build of the top that carries both
fields) and returns the RTL output codes next to the hardware model's for the same coordinate
stream (numbered from 0 after reset, golden contract item 11), with the images they make.
"""

from __future__ import annotations

import json
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rramcim.golden.nfield_top import NfieldHwConfig, coord_codes

REPO = Path(__file__).resolve().parents[4]

#: Top-left pixel and side of the CT patch (128 x 128 slice): rows 10..17, columns 36..43,
#: across the skull's edge (the 8 x 8 window of largest contrast, with its mirror image).
CT_PATCH = (10, 36, 8)
#: Top-left pixel and side of the view patch (32 x 32 held-out view, where objects are).
NVS_PATCH = (14, 15, 2)


def job_hardware(job: dict):  # noqa: ANN201 (NfieldHardware)
    """The mapped field of a job (the same macro objects the RTL run reads): the one the job's
    ``hardware`` file holds (:func:`write_patch_jobs`), else mapped here."""
    from rramcim.apps.nfield.hw import map_field

    if job.get("hardware"):
        torch.set_num_threads(1)  # as map_field does: the evaluation runs on one core
        with open(job["hardware"], "rb") as f:
            return pickle.load(f)
    kind = job["kind"]
    if kind == "ct":
        from rramcim.apps.nfield.train import load_ct

        net, info = load_ct()
        cfg = NfieldHwConfig(encoder_seed=int(info["config"].get("encoder_seed", 0)))
        return map_field(net, cfg, int(job["seed"]))
    if kind in ("nvs-static", "nvs-dynamic"):
        from rramcim.apps.nfield.nvs_hw import load_nvs_hw

        nets, _ = load_nvs_hw()
        net = nets[kind.split("-", 1)[1]]
        return map_field(net.field, NfieldHwConfig(encoder_seed=net.cfg.encoder_seed), 0)
    raise ValueError(f"job {job.get('out')!r}: kind {kind!r} is not ct / nvs-static / nvs-dynamic")


def ct_patch_codes(n: int = 128, patch: tuple[int, int, int] = CT_PATCH) -> np.ndarray:
    """Coordinate codes ``[s*s, 2]`` of the CT patch (row-major), as the hardware model's
    image uses them (:func:`rramcim.apps.nfield.ct.pixel_coords`)."""
    from rramcim.apps.nfield.ct import pixel_coords

    r0, c0, s = patch
    idx = ((torch.arange(s)[:, None] + r0) * n + (torch.arange(s)[None, :] + c0)).reshape(-1)
    return coord_codes(pixel_coords(n).double()[idx].numpy(), NfieldHwConfig().coord_bits)


@dataclass
class ViewPatch:
    """The sample points of a pixel block of one held-out view.

    Attributes:
        orig, dirs: rays ``[P, 3]``; t: their time ``[P]`` or None.
        inside: ``[P * n_samples]`` points inside the scene cube (these reach the field).
        codes: coordinate codes ``[M, n_in]`` of those points.
        gt: ground-truth colours ``[P, 3]``.
        side: pixels per side.
    """

    orig: torch.Tensor
    dirs: torch.Tensor
    t: torch.Tensor | None
    inside: torch.Tensor
    codes: np.ndarray
    gt: torch.Tensor
    side: int


def view_patch(
    scene: str,
    patch: tuple[int, int, int] = NVS_PATCH,
    views=None,  # noqa: ANN001 (ViewSet)
) -> ViewPatch:
    """The pixel block ``patch`` of the first held-out view of ``scene`` (32 x 32 views);
    ``views``: those held-out views (:func:`rramcim.apps.nfield.nvs.make_test_views` of
    :func:`rramcim.apps.nfield.nvs_hw.nvs_hw_config`), rendered here when not given."""
    from rramcim.apps.nfield.nvs import make_test_views
    from rramcim.apps.nfield.nvs_hw import SirenNerf, nvs_hw_config, unit_coords

    cfg = nvs_hw_config(scene)
    vs = make_test_views(cfg) if views is None else views
    r0, c0, s = patch
    size = vs.size
    pix = ((torch.arange(s)[:, None] + r0) * size + (torch.arange(s)[None, :] + c0)).reshape(-1)
    orig, dirs = vs.orig[0, pix], vs.dirs[0, pix]
    t = None if vs.t is None else vs.t[0].expand(pix.numel())
    edges = torch.linspace(cfg.near, cfg.far, cfg.n_samples + 1)
    z = (edges[:-1] + edges[1:]) * 0.5  # the strata mid-points of evaluation
    pts = (orig[:, None] + dirs[:, None] * z[None, :, None]).reshape(-1, 3)
    tt = None if t is None else t[:, None].expand(-1, cfg.n_samples).reshape(-1)
    x, inside = unit_coords(pts, tt, SirenNerf.coord_max)
    codes = coord_codes(x.double().numpy(), NfieldHwConfig().coord_bits)
    return ViewPatch(orig, dirs, t, inside, codes, vs.rgb[0, pix], s)


def render_patch(vp: ViewPatch, out_codes: np.ndarray, scene: str) -> torch.Tensor:
    """Pixel colours ``[s, s, 3]`` from output codes of the patch's inside points (the host's
    head and volume rendering, :func:`rramcim.apps.nfield.nvs.render_rays`)."""
    from rramcim.apps.nfield.nvs import render_rays
    from rramcim.apps.nfield.nvs_hw import NVS_HW_FIELD, head, nvs_hw_config

    cfg = nvs_hw_config(scene)
    frac = float(1 << NfieldHwConfig().out_frac)
    o = torch.from_numpy(np.asarray(out_codes, dtype=np.float64) / frac).float()
    s_in, c_in = head(o, NVS_HW_FIELD)
    n = vp.inside.numel()
    sig = torch.zeros(n).masked_scatter(vp.inside, s_in)
    rgb = torch.zeros(n, 3).masked_scatter(vp.inside[:, None].expand(n, 3), c_in)
    lookup = iter([(sig, rgb)])

    def field_fn(p, d, t):  # noqa: ANN001, ANN202 (the renderer asks once, for every point)
        return next(lookup)

    col = render_rays(
        field_fn, vp.orig, vp.dirs, near=cfg.near, far=cfg.far, n_samples=cfg.n_samples, t=vp.t
    )
    return col.reshape(vp.side, vp.side, 3)


def _sources() -> list[Path]:
    rtl = REPO / "rtl"
    return [
        *(
            rtl / f"{m}.sv"
            for m in (
                "cim_csr",
                "cim_fifo",
                "cim_adc_if",
                "cim_xbar_ctrl",
                "cim_fourier_enc",
                "cim_haq_combine",
                "cim_haq_quant",
                "cim_nfield_top",
            )
        ),
        REPO / "models" / "hdl" / "cim_xbar_macro.sv",
        REPO / "tb" / "cim_nfield_top" / "tb_cim_nfield_top.sv",
    ]


def job_params(hw) -> dict[str, int]:  # noqa: ANN001 (NfieldHardware)
    """HDL parameters of the bench top for a job's mapped field (``T_CONV_CYC`` included)."""
    from rramcim.apps.nfield.rtl import top_params

    return {**top_params(hw), "T_CONV_CYC": 4}


#: HDL parameters that bound the field's run-time configuration (the top's NET and L_SHAPE
#: registers set the field's own layers, frequencies, encoder groups, rows and column groups at
#: or below them: header of rtl/cim_nfield_top.sv); the other parameters are the datapath.
BOUND_PARAMS = ("N_LAYERS", "N_FREQ", "E_GROUPS", "M_ROWS", "M_GROUPS")


def shared_params(params: list[dict[str, int]]) -> dict[str, int] | None:
    """One parameter set of the top that carries every job: the largest value of each of
    :data:`BOUND_PARAMS`, the others equal; None when the others differ."""
    rest = [{k: v for k, v in p.items() if k not in BOUND_PARAMS} for p in params]
    if not params or any(r != rest[0] for r in rest[1:]):
        return None
    return {**rest[0], **{k: max(int(p[k]) for p in params) for k in BOUND_PARAMS}}


def _bench(sim: str) -> dict:
    """:func:`tb.vip.runner.run_bench` arguments of every job (all but the parameters)."""
    return {
        "sim": sim,
        "toplevel": "tb_cim_nfield_top",
        "module": "sim_cim_nfield_top",
        "testcase": "run_patch",
        "sources": _sources(),
        "bench_dir": REPO / "tb" / "cim_nfield_top",
        "icarus_always_star": True,
    }


def _write_job(job: dict, work: Path) -> Path:
    """Write the job file the simulator process reads (``RRAMCIM_NFIELD_JOB``)."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"job_{job['kind']}.json"
    path.write_text(json.dumps(job))
    return path


def _run_jobs(
    jobs: list[dict], sim: str, work: Path
) -> tuple[bool, list[tuple[dict | None, str | None]]]:
    """Run ``jobs`` (one build when :func:`shared_params` carries them all and ``WAVES`` is
    off); returns whether the build was shared and ``(result, error)`` per job."""
    from tb.vip.runner import run_shared, waves_on

    shared = shared_params([j["params"] for j in jobs]) if len(jobs) > 1 else None
    if waves_on():
        shared = None
    runs = []
    for j in jobs:
        params = shared or j.get("params") or job_params(job_hardware(j))
        run = {"extra_env": {"RRAMCIM_NFIELD_JOB": str(_write_job({**j, "params": params}, work))}}
        if shared is None:  # its own build
            run.update(nodeid=f"make_sim_nfield_{j['kind']}_{sim}", parameters=params)
        runs.append(run)
    bench = _bench(sim) if shared is None else {**_bench(sim), "parameters": shared}
    parts = run_shared(
        bench,
        runs,
        nodeid=f"make_sim_nfield_{sim}",
        share=shared is not None,
        results=[j["out"] for j in jobs],
    )
    # a run that neither failed nor wrote its result is an error too
    return shared is not None, [
        (r, "the simulation wrote no result" if r is None and e is None else e) for r, e in parts
    ]


def run_job(job: dict, sim: str, work: Path) -> tuple[dict | None, str | None]:
    """Run one job through the RTL on ``sim`` in its own build; returns ``(result, error)``."""
    return _run_jobs([job], sim, work)[1][0]


def run_patch_jobs(jobs: list[dict], sim: str = "verilator") -> dict:
    """Run written jobs (:func:`write_patch_jobs`) through the RTL, one thread each.

    The jobs share one build of the top when one parameter set carries them all
    (:func:`shared_params`; the CT field and the static radiance field differ only in
    :data:`BOUND_PARAMS`), except with ``WAVES=1`` (one build, so one waveform file, per job);
    :func:`tb.vip.runner.run_shared` builds and runs them.
    """
    work = Path(jobs[0]["out"]).parent if jobs else Path(".")
    t0 = time.perf_counter()
    shared, parts = _run_jobs(jobs, sim, work)
    return {
        "simulator": sim,
        "wall_s": time.perf_counter() - t0,
        "shared_build": shared,
        "jobs": {
            j["kind"]: {"result": r, "error": e} for j, (r, e) in zip(jobs, parts, strict=True)
        },
    }


def write_patch_jobs(
    out_dir: Path,
    kinds: tuple[str, ...] = ("ct", "nvs-static"),
    *,
    hardware: dict | None = None,
    view_patches: dict[str, ViewPatch] | None = None,
) -> list[dict]:
    """Write the jobs of ``kinds`` into ``<out_dir>/nfield_rtl``: coordinate codes, the mapped
    field (pickled, so the simulator process does not map it again) and the HDL parameters.

    Args:
        hardware: ``{kind: NfieldHardware}`` already mapped as :func:`job_hardware` maps (and
            not evaluated yet); missing kinds are mapped here.
        view_patches: ``{kind: ViewPatch}`` of the view jobs (:func:`view_patch`); missing
            ones are rendered here.
    """
    work = Path(out_dir).resolve() / "nfield_rtl"
    work.mkdir(parents=True, exist_ok=True)
    hardware = dict(hardware or {})
    view_patches = dict(view_patches or {})
    jobs = []
    for kind in kinds:
        if kind == "ct":
            codes = ct_patch_codes()
        else:
            vp = view_patches.get(kind) or view_patch(kind.split("-", 1)[1])
            codes = vp.codes
        cpath = work / f"codes_{kind}.npy"
        np.save(cpath, codes)
        job = {"kind": kind, "seed": 0, "codes": str(cpath), "out": str(work / f"{kind}.json")}
        hw = hardware.get(kind) or job_hardware(job)
        hpath = work / f"hardware_{kind}.pkl"
        with open(hpath, "wb") as f:
            pickle.dump(hw, f, protocol=pickle.HIGHEST_PROTOCOL)
        jobs.append({**job, "hardware": str(hpath), "params": job_params(hw)})
    return jobs


def run_patches(
    out_dir: Path, sim: str = "verilator", kinds: tuple[str, ...] = ("ct", "nvs-static")
) -> dict:
    """Run the CT patch and the view patch through the RTL (one thread each)."""
    return run_patch_jobs(write_patch_jobs(out_dir, kinds), sim)
