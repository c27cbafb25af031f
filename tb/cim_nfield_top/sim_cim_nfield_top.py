"""``make sim``'s neural-field patch: coordinates of an image through ``cim_nfield_top``.

Not a regression bench (that is ``test_cim_nfield_top.py``): one cocotb test, ``run_patch``,
evaluates the coordinate codes of a job (:mod:`rramcim.apps.nfield.patch` writes it) through
the RTL top on the macro objects of the hardware model, and writes the output codes, the
hardware model's codes for the same coordinate stream and the comparison to a JSON file.

The macros are programmed by the hardware model's mapper (:func:`rramcim.apps.nfield.hw.
map_field`, the same pulse and verify draws that the top's HAQ path issues; the programming
through the top is checked cell for cell by the regression bench); this run evaluates only.

Environment: ``RRAMCIM_NFIELD_JOB`` (the job JSON: ``codes`` file, ``out`` file, ``kind``
and the mapping arguments, or the ``hardware`` file of the field the parent process mapped;
see :func:`rramcim.apps.nfield.patch.job_hardware`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

from rramcim.apps.nfield.patch import job_hardware
from rramcim.apps.nfield.rtl import EVAL_COUNTERS, REG, PrefetchedReads, top_registers
from rramcim.cosim.xbar import KeyedReadAdapter, ResetEpochKeys
from tb.vip.apb import ApbMaster

CLK_NS = 10.0
T_CONV_CYC = 4


@cocotb.test()
async def run_patch(dut) -> None:  # noqa: ANN001
    """Stream the job's coordinates through the top and compare with the hardware model."""
    job = json.loads(Path(os.environ["RRAMCIM_NFIELD_JOB"]).read_text())
    codes = np.load(job["codes"])
    hw = job_hardware(job)
    t0 = time.perf_counter()
    pre = PrefetchedReads(hw, codes, epoch=0)  # read numbering from the reset below (epoch 0)
    t_pre = time.perf_counter() - t0
    cocotb.start_soon(Clock(dut.clk_i, CLK_NS, "ns").start())
    dut.coord_valid_i.value = 0
    dut.coord_data_i.value = 0
    dut.out_ready_i.value = 1
    dut.rst_ni.value = 0
    apb = ApbMaster(dut, dut.clk_i)
    shells = [dut.u_enc] + [getattr(dut, f"u_mlp{i}") for i in range(len(hw.macros))]
    keys = [ResetEpochKeys() for _ in shells]
    adapters = [
        KeyedReadAdapter(
            sh,
            dut.clk_i,
            dut.rst_ni,
            m,
            kf,
            T_CONV_CYC,
            lookup=pre.lookup_for(i),
            clk_period_ns=CLK_NS,
        )
        for i, (sh, m, kf) in enumerate(zip(shells, [hw.enc_macro, *hw.macros], keys, strict=True))
    ]
    for a in adapters:
        a.start()
    for _ in range(4):
        await RisingEdge(dut.clk_i)
    dut.rst_ni.value = 1
    for kf in keys:
        kf.new_epoch()
    for _ in range(4):
        await RisingEdge(dut.clk_i)
    for name, word in top_registers(hw):
        if await apb.write(4 * REG[name], word):
            raise AssertionError(f"register {name} = {word:#x} refused")
    status, _ = await apb.read(4 * REG["STATUS"])
    if status & 0x4:
        raise AssertionError(f"STATUS.cfg_err after configuration ({status:#x})")
    n_in, cb = codes.shape[1], int(hw.cfg.coord_bits)
    n_out = hw.consts.layers[-1].n_out
    got = np.zeros((codes.shape[0], n_out), dtype=np.int64)

    async def feed() -> None:
        for row in codes:
            dut.coord_data_i.value = sum(int(row[i]) << (i * cb) for i in range(n_in))
            dut.coord_valid_i.value = 1
            await RisingEdge(dut.clk_i)
            while not int(dut.coord_ready_o.value):
                await RisingEdge(dut.clk_i)
            dut.coord_valid_i.value = 0

    cocotb.start_soon(feed())
    cycles, v, budget = 0, 0, 20000 * max(1, codes.shape[0])
    while v < codes.shape[0]:
        await FallingEdge(dut.clk_i)
        cycles += 1
        if cycles > budget:
            raise AssertionError(f"no progress: {v} of {codes.shape[0]} coordinates done")
        if int(dut.out_valid_o.value):
            j = int(dut.out_idx_o.value)
            got[v, j] = dut.out_data_o.value.to_signed()
            if int(dut.out_last_o.value):
                v += 1
    wall = time.perf_counter() - t0
    counters = {}
    for name in EVAL_COUNTERS:
        counters[name], _ = await apb.read(4 * REG[name])
    for a in adapters:
        a.stop()
    t1 = time.perf_counter()
    ref = hw.evaluate_codes(codes)
    diff = np.nonzero((got != ref.out).any(axis=1))[0]
    errors = [e for a in adapters for e in a.errors]
    res = {
        "kind": job["kind"],
        "coordinates": int(codes.shape[0]),
        "rtl_out": got.tolist(),
        "model_out": ref.out.tolist(),
        "mismatches": int(diff.size),
        "first_mismatch": None if not diff.size else int(diff[0]),
        "adapter_errors": errors,
        "cycles": cycles,
        "reads": int(sum(a.reads for a in adapters)),
        "counters_rtl": counters,
        "counters_model": ref.counters,
        "wall_s_rtl": wall,
        "wall_s_prefetch": t_pre,
        "prefetch_hits": pre.hits,
        "prefetch_misses": pre.misses,
        "wall_s_model": time.perf_counter() - t1,
    }
    Path(job["out"]).write_text(json.dumps(res, indent=1))
    if diff.size or errors:
        raise AssertionError(
            f"{diff.size} coordinates differ from the hardware model (first "
            f"{res['first_mismatch']}); adapter errors: {errors[:3]}"
        )
