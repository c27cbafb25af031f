"""Bench of the crossbar read path: cim_xbar_ctrl + cim_adc_if + the Python RRAM macro model.

The macro shell's outputs are driven by :class:`rramcim.cosim.xbar.XbarMacroAdapter` from a
:class:`rramcim.analog.crossbar.CrossbarMacro` (40 nm preset: programming noise, d2d
variation, stuck-at faults, read noise, ADC offset and gain errors). The scoreboard evaluates
the same macro object through the batched golden model
:func:`rramcim.golden.xbar_path.run_read_path`
and requires every output word to be equal bit for bit.

Testplan (feature -> test):
    bit-serial inputs, signed and unsigned, 1..IN_BITS planes   -> run_random_stream/_stall
    row-tile accumulation (tiles > 1), partial group counts     -> run_random_stream/_stall
    read noise, ADC saturation, offset/gain errors bit-exact    -> all scoreboarded tests
    idle input gaps, output back-pressure                       -> run_random_stall
    back-to-back vectors, no gaps, always ready                 -> run_random_stream
    reset in the middle of a vector, new noise epoch            -> run_reset_mid
    ADC interface status counters (conversions, saturations)    -> run_random_stream/_stall
    program/verify port (SET, RESET, VERIFY through the shell)  -> run_program_verify
    the checker catches a wrong model                           -> run_expect_fail
    committed golden-vector case (tests/vectors/cim_xbar_path/) -> run_vectors (own entry)
Coverage bins (fail on holes in run_random_stall): signed, unsigned, one plane, all planes,
one tile, several tiles (if N_TILES > 1), every mux group read, clipped conversion, in-stream
idle gap, out-stream stall.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import cocotb
import numpy as np
import pytest
import torch
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from rramcim.analog.crossbar import CrossbarConfig, CrossbarMacro, PulseOp
from rramcim.cosim.xbar import XbarMacroAdapter
from rramcim.fixedpoint import pack, unpack
from rramcim.golden.xbar_path import ReadPathConfig, run_read_path

try:  # bench side (inside the simulator) and pytest side share this file
    from tb.vip.params import param
except ImportError:  # pragma: no cover
    param = None  # type: ignore[assignment]


class TB:
    """Read-path bench: clock, reset, stream driver/monitor, macro model and scoreboard."""

    def __init__(self, dut, seed_offset: int = 0) -> None:  # noqa: ANN001
        self.dut = dut
        self.n_rows = param("N_ROWS")
        self.n_cols = param("N_COLS")
        self.n_adc = param("N_ADC")
        self.adc_bits = param("ADC_BITS")
        self.in_bits = param("IN_BITS")
        self.n_tiles = param("N_TILES")
        self.t_conv = param("T_CONV_CYC")
        self.n_groups = self.n_cols // self.n_adc
        self.acc_w = self.adc_bits + self.in_bits + (self.n_tiles - 1).bit_length() + 1
        self.seed = (int(cocotb.RANDOM_SEED) + seed_offset) & 0x7FFFFFFF
        self.rnd = random.Random(self.seed)
        dut._log.info(
            "seed %d (COCOTB_RANDOM_SEED=%d reproduces it)", self.seed, cocotb.RANDOM_SEED
        )
        self.macro = self.make_macro(self.seed)
        self.adapter = XbarMacroAdapter(dut.u_macro, dut.clk_i, dut.rst_ni, self.macro, self.t_conv)
        self.cov: dict[str, int] = {}
        self.stall_out = 0.0
        self.idle_in = 0.0

    def make_macro(self, seed: int) -> CrossbarMacro:
        """A programmed macro with ADC errors; full scale set for a few % clipped conversions."""
        cfg = CrossbarConfig(
            rows=self.n_rows,
            cols=self.n_cols,
            n_adc=self.n_adc,
            adc_bits=self.adc_bits,
            adc_full_scale_A=1.0,
            adc_offset_sigma_lsb=0.7,
            adc_gain_sigma=0.02,
        )
        m = CrossbarMacro(cfg, seed=seed)
        g = torch.Generator().manual_seed(seed)
        m.program_weights(
            torch.rand(self.n_rows, self.n_cols, generator=g, dtype=torch.float64) * 2 - 1
        )
        m.calibrate_adc((torch.rand(256, self.n_rows, generator=g) < 0.5).float(), k_sigma=2.5)
        return m

    def hit(self, name: str) -> None:
        self.cov[name] = self.cov.get(name, 0) + 1

    async def start(self) -> None:
        d = self.dut
        Clock(d.clk_i, 10, unit="ns", impl="gpi").start()
        d.in_valid_i.value = 0
        d.in_data_i.value = 0
        d.out_ready_i.value = 0
        d.prog_valid_i.value = 0
        d.prog_op_i.value = 0
        d.prog_row_i.value = 0
        d.prog_col_i.value = 0
        d.prog_neg_i.value = 0
        self.set_cfg(ReadPathConfig(1, 1, 1, False))
        self.adapter.start()
        await self.reset()

    async def reset(self, cycles: int = 3) -> None:
        self.dut.rst_ni.value = 0
        await ClockCycles(self.dut.clk_i, cycles)
        self.dut.rst_ni.value = 1
        await RisingEdge(self.dut.clk_i)

    def set_cfg(self, c: ReadPathConfig) -> None:
        d = self.dut
        d.cfg_tiles_i.value = c.tiles
        d.cfg_groups_i.value = c.groups
        d.cfg_in_bits_i.value = c.in_bits
        d.cfg_in_signed_i.value = int(c.signed)

    def random_cfg(self) -> ReadPathConfig:
        tiles = self.rnd.randint(1, self.n_tiles)
        groups = self.rnd.randint(1, self.n_groups // tiles)
        in_bits = self.rnd.choice([1, self.in_bits, self.rnd.randint(1, self.in_bits)])
        return ReadPathConfig(tiles, groups, in_bits, self.rnd.random() < 0.5)

    def random_vectors(self, c: ReadPathConfig, n: int) -> np.ndarray:
        lo, hi = (
            (-(1 << (c.in_bits - 1)), (1 << (c.in_bits - 1)) - 1)
            if c.signed
            else (0, (1 << c.in_bits) - 1)
        )
        rng = np.random.default_rng(self.rnd.getrandbits(32))
        x = rng.integers(lo, hi + 1, size=(n, c.tiles * self.n_rows))
        # sprinkle extreme values
        mask = rng.random(x.shape) < 0.2
        x[mask] = rng.choice([lo, hi], size=int(mask.sum()))
        return x

    async def send_vectors(self, x: np.ndarray, c: ReadPathConfig) -> None:
        d, clk = self.dut, self.dut.clk_i
        for v in range(x.shape[0]):
            for t in range(c.tiles):
                while self.rnd.random() < self.idle_in:
                    self.hit("idle_in")
                    await RisingEdge(clk)
                tile = x[v, t * self.n_rows : (t + 1) * self.n_rows]
                d.in_data_i.value = pack(tile.tolist(), self.in_bits)
                d.in_valid_i.value = 1
                while True:
                    await ReadOnly()
                    ready = int(d.in_ready_o.value)
                    await RisingEdge(clk)
                    if ready:
                        break
                d.in_valid_i.value = 0

    async def recv_vectors(self, n: int, c: ReadPathConfig, timeout_cyc: int) -> list[list[int]]:
        d, clk = self.dut, self.dut.clk_i
        out: list[list[int]] = []
        cur: list[int] = []
        waited = 0
        while len(out) < n:
            stall = self.rnd.random() < self.stall_out
            d.out_ready_i.value = 0 if stall else 1
            await ReadOnly()
            valid = int(d.out_valid_o.value)
            if valid and stall:
                self.hit("stall_out")
            if valid and not stall:
                cur.extend(
                    unpack(d.out_data_o.value.to_unsigned(), self.n_adc, self.acc_w, signed=True)
                )
                if int(d.out_last_o.value):
                    if len(cur) != c.groups * self.n_adc:
                        n_exp = c.groups * self.n_adc
                        raise AssertionError(
                            f"vector {len(out)}: {len(cur)} outputs, expected {n_exp}"
                        )
                    out.append(cur)
                    cur = []
            await RisingEdge(clk)
            waited += 1
            if waited > timeout_cyc:
                raise AssertionError(
                    f"timeout: received {len(out)} of {n} vectors after {waited} cycles"
                )
        d.out_ready_i.value = 0
        return out

    def timeout_for(self, n: int, c: ReadPathConfig) -> int:
        per_read = 12 + self.t_conv + 2 * param("T_SETTLE_CYC")
        slow = 1.0 / max(0.05, 1.0 - max(self.stall_out, self.idle_in))
        return int(n * (c.reads_per_vector * per_read + c.tiles + c.groups + 8) * slow * 4) + 200

    async def run_segment(
        self, c: ReadPathConfig, n: int, expect_macro: CrossbarMacro | None = None
    ) -> int:
        """Stream n random vectors with configuration c; check them; return mismatches."""
        self.set_cfg(c)
        await RisingEdge(self.dut.clk_i)
        x = self.random_vectors(c, n)
        first = self.adapter.read_index
        epoch = self.adapter.epoch
        send = cocotb.start_soon(self.send_vectors(x, c))
        got = await self.recv_vectors(n, c, self.timeout_for(n, c))
        await send
        model = expect_macro or self.macro
        exp = run_read_path(model, x, c, epoch=epoch, first_read=first)
        self.hit("signed" if c.signed else "unsigned")
        self.hit(
            f"planes_{'one' if c.in_bits == 1 else 'all' if c.in_bits == self.in_bits else 'mid'}"
        )
        self.hit("tiles_one" if c.tiles == 1 else "tiles_many")
        if exp.n_clipped:
            self.hit("clipped")
        for g in range(c.tiles * c.groups):
            self.hit(f"group_{g}")
        bad = 0
        for v in range(n):
            if list(map(int, exp.acc[v])) != got[v]:
                bad += 1
                if bad <= 3:
                    diff = [
                        i
                        for i, (a, b) in enumerate(zip(exp.acc[v], got[v], strict=True))
                        if int(a) != b
                    ]
                    self.dut._log.error(
                        "mismatch: seed %d epoch %d vector %d cfg %s: first differing output %d "
                        "(rtl %d, golden %d)",
                        self.seed,
                        epoch,
                        v,
                        c,
                        diff[0],
                        got[v][diff[0]],
                        int(exp.acc[v][diff[0]]),
                    )
        if self.adapter.read_index - first != exp.reads:
            raise AssertionError(
                f"macro saw {self.adapter.read_index - first} reads, golden expects {exp.reads}"
            )
        self.expected_sat += exp.n_sat_flags
        self.expected_conv += exp.reads
        return bad

    def check_status(self) -> None:
        d = self.dut
        assert not self.adapter.errors, f"macro protocol errors: {self.adapter.errors[:5]}"
        assert int(d.conv_count_o.value) == self.expected_conv, (
            f"conv_count_o = {int(d.conv_count_o.value)}, golden {self.expected_conv}"
        )
        assert int(d.sat_count_o.value) == self.expected_sat, (
            f"sat_count_o = {int(d.sat_count_o.value)}, golden {self.expected_sat}"
        )
        assert (
            int(d.err_timeout_o.value) == 0
            and int(d.err_group_o.value) == 0
            and int(d.err_cfg_o.value) == 0
        )

    async def random_traffic(
        self, min_reads: int, expect_macro: CrossbarMacro | None = None
    ) -> tuple[int, int]:
        self.expected_sat = 0
        self.expected_conv = 0
        reads = bad = 0
        # make sure the extreme configurations are among the segments
        cfgs = [
            ReadPathConfig(self.n_tiles, self.n_groups // self.n_tiles, self.in_bits, True),
            ReadPathConfig(1, 1, 1, False),
        ]
        while reads < min_reads or cfgs:
            c = cfgs.pop() if cfgs else self.random_cfg()
            n = self.rnd.randint(1, 4)
            bad += await self.run_segment(c, n, expect_macro)
            reads += n * c.reads_per_vector
        return reads, bad


async def _setup(dut, seed_offset: int = 0) -> TB:  # noqa: ANN001
    tb = TB(dut, seed_offset)
    await tb.start()
    return tb


@cocotb.test()
async def run_random_stream(dut) -> None:  # noqa: ANN001
    """Back-to-back vectors, no idle, no back-pressure; >= 200 reads, bit-exact."""
    tb = await _setup(dut)
    reads, bad = await tb.random_traffic(200)
    tb.check_status()
    dut._log.info("reads %d, mismatching vectors %d", reads, bad)
    assert bad == 0, f"{bad} vectors differ from the golden model (seed {tb.seed})"


@cocotb.test()
async def run_random_stall(dut) -> None:  # noqa: ANN001
    """Idle gaps on the input and back-pressure on the output; coverage must have no holes."""
    tb = await _setup(dut, 1)
    tb.stall_out, tb.idle_in = 0.4, 0.4
    reads, bad = await tb.random_traffic(200)
    tb.check_status()
    assert bad == 0, f"{bad} vectors differ from the golden model (seed {tb.seed})"
    bins = [
        "signed",
        "unsigned",
        "planes_one",
        "planes_all",
        "tiles_one",
        "clipped",
        "idle_in",
        "stall_out",
    ]
    bins += [f"group_{g}" for g in range(tb.n_groups)]
    if tb.n_tiles > 1:
        bins.append("tiles_many")
    holes = [b for b in bins if tb.cov.get(b, 0) == 0]
    dut._log.info("reads %d; coverage %s", reads, dict(sorted(tb.cov.items())))
    assert not holes, f"coverage holes: {holes}"


@cocotb.test()
async def run_reset_mid(dut) -> None:  # noqa: ANN001
    """Reset in the middle of a vector: the periphery and the read numbering restart cleanly."""
    tb = await _setup(dut, 2)
    tb.expected_sat = tb.expected_conv = 0
    c = ReadPathConfig(tb.n_tiles, tb.n_groups // tb.n_tiles, tb.in_bits, True)
    assert await tb.run_segment(c, 2) == 0
    # start a vector and pull reset while it is being read
    tb.set_cfg(c)
    x = tb.random_vectors(c, 1)
    send = cocotb.start_soon(tb.send_vectors(x, c))
    await ClockCycles(dut.clk_i, tb.rnd.randint(5, 5 + c.reads_per_vector * 4))
    send.cancel()
    dut.in_valid_i.value = 0
    epoch_before = tb.adapter.epoch
    await tb.reset(2)
    await ClockCycles(dut.clk_i, 2)
    assert tb.adapter.epoch == epoch_before + 1, "adapter did not start a new epoch"
    assert int(dut.vec_count_o.value) == 0 and int(dut.read_count_o.value) == 0
    assert int(dut.conv_count_o.value) == 0 and int(dut.sat_count_o.value) == 0
    assert int(dut.out_valid_o.value) == 0 and int(dut.busy_o.value) == 0
    tb.expected_sat = tb.expected_conv = 0
    reads, bad = 0, 0
    while reads < 100:
        c2 = tb.random_cfg()
        bad += await tb.run_segment(c2, 2)
        reads += 2 * c2.reads_per_vector
    tb.check_status()
    assert bad == 0, f"{bad} vectors differ after the reset (seed {tb.seed})"


@cocotb.test()
async def run_program_verify(dut) -> None:  # noqa: ANN001
    """SET/RESET/VERIFY through the shell's program port match a twin model bit for bit."""
    tb = await _setup(dut, 3)
    twin = tb.make_macro(tb.seed)
    d, clk = dut, dut.clk_i
    got, exp = [], []
    for _ in range(40):
        row, col, neg = (
            tb.rnd.randrange(tb.n_rows),
            tb.rnd.randrange(tb.n_cols),
            tb.rnd.randrange(2),
        )
        for op in (tb.rnd.choice([PulseOp.SET, PulseOp.RESET]), PulseOp.VERIFY):
            d.prog_op_i.value = op.value
            d.prog_row_i.value, d.prog_col_i.value, d.prog_neg_i.value = row, col, neg
            d.prog_valid_i.value = 1
            await RisingEdge(clk)
            d.prog_valid_i.value = 0
            if op is PulseOp.VERIFY:
                for _ in range(4):
                    await ReadOnly()
                    if int(d.verify_valid_o.value):
                        got.append(int(d.verify_code_o.value))
                        break
                    await RisingEdge(clk)
                else:
                    raise AssertionError("no verify_valid_o within 4 cycles")
                exp.append(twin.verify(row, col, neg))
            else:
                twin.pulse(op, row, col, neg)
            await RisingEdge(clk)
    assert not tb.adapter.errors, tb.adapter.errors[:5]
    first_diff = next((i for i, (a, b) in enumerate(zip(got, exp, strict=True)) if a != b), None)
    assert got == exp, f"verify codes differ: first at {first_diff}"
    # after SET/RESET the array changed identically: reads still match the twin-programmed golden
    tb.expected_sat = tb.expected_conv = 0
    assert (
        await tb.run_segment(
            ReadPathConfig(1, tb.n_groups, tb.in_bits, False), 3, expect_macro=twin
        )
        == 0
    )


@cocotb.test(expect_fail=True)
async def run_expect_fail(dut) -> None:  # noqa: ANN001
    """The scoreboard fed a wrong model (another seed's conductances) must report mismatches."""
    tb = await _setup(dut, 4)
    wrong = tb.make_macro(tb.seed + 1000)
    reads, bad = await tb.random_traffic(40, expect_macro=wrong)
    assert bad == 0, f"{bad} vectors differ (expected: the model is wrong)"


@cocotb.test(skip=not os.environ.get("RRAMCIM_VECTOR_CASE"))
async def run_vectors(dut) -> None:  # noqa: ANN001
    """Stream a committed vector case; the RTL outputs must equal the file's ``acc`` array."""
    from rramcim.golden.cases import xbar_path_macro_from_manifest
    from rramcim.golden.vectors import load_vectors

    vs = load_vectors(os.environ["RRAMCIM_VECTOR_CASE"])
    tb = TB(dut)
    macro, c = xbar_path_macro_from_manifest(vs.params)
    g = macro.device.g_step_S
    macro.set_conductances(
        torch.from_numpy(vs.arrays["g_pos"] * g), torch.from_numpy(vs.arrays["g_neg"] * g)
    )
    tb.macro = tb.adapter.macro = macro
    await tb.start()
    tb.set_cfg(c)
    x = vs.arrays["x"]
    send = cocotb.start_soon(tb.send_vectors(x, c))
    got = await tb.recv_vectors(x.shape[0], c, tb.timeout_for(x.shape[0], c))
    await send
    assert not tb.adapter.errors, tb.adapter.errors[:5]
    exp = vs.arrays["acc"].tolist()
    bad = [v for v in range(len(exp)) if exp[v] != got[v]]
    assert not bad, f"{vs.path}: vectors {bad} differ from the committed outputs"


# --------------------------------------------------------------------------- pytest entry
PARAM_SETS = {
    "r32_c16_a4_adc6_in4_t2": dict(
        N_ROWS=32,
        N_COLS=16,
        N_ADC=4,
        ADC_BITS=6,
        IN_BITS=4,
        N_TILES=2,
        T_SETTLE_CYC=1,
        T_CONV_CYC=3,
    ),
    "r64_c32_a8_adc8_in8_t4": dict(
        N_ROWS=64,
        N_COLS=32,
        N_ADC=8,
        ADC_BITS=8,
        IN_BITS=8,
        N_TILES=4,
        T_SETTLE_CYC=0,
        T_CONV_CYC=1,
    ),
    "r512_c256_a32_adc8_in2_t2": dict(
        N_ROWS=512,
        N_COLS=256,
        N_ADC=32,
        ADC_BITS=8,
        IN_BITS=2,
        N_TILES=2,
        T_SETTLE_CYC=2,
        T_CONV_CYC=4,
    ),
}

HERE = Path(__file__).resolve().parent


def _sources() -> list[Path]:
    from tb.vip.runner import MODELS_HDL, RTL

    return [
        RTL / "cim_adc_if.sv",
        RTL / "cim_xbar_ctrl.sv",
        MODELS_HDL / "cim_xbar_macro.sv",
        HERE / "tb_cim_xbar_path.sv",
    ]


def _sims() -> list[str]:
    from tb.vip.runner import simulators

    return simulators()


@pytest.mark.sim
@pytest.mark.parametrize("params", list(PARAM_SETS.values()), ids=list(PARAM_SETS))
@pytest.mark.parametrize("sim", _sims())
def test_cim_xbar_path(sim: str, params: dict[str, int], request: pytest.FixtureRequest) -> None:
    """Read path on one simulator and parameter set."""
    from tb.vip.runner import run_bench

    run_bench(
        sim=sim,
        nodeid=request.node.nodeid,
        toplevel="tb_cim_xbar_path",
        module="test_cim_xbar_path",
        sources=_sources(),
        parameters=params,
        bench_dir=HERE,
        extra_env={"RRAMCIM_BENCH": "1"},
    )


@pytest.mark.sim
@pytest.mark.parametrize("sim", _sims())
def test_cim_xbar_path_vectors(sim: str, request: pytest.FixtureRequest) -> None:
    """The committed vector case through the RTL; DUT parameters come from its manifest."""
    from rramcim.golden.cases import VECTOR_ROOT
    from rramcim.golden.vectors import load_vectors
    from tb.vip.runner import run_bench

    case = VECTOR_ROOT / "cim_xbar_path" / "smoke.json"
    p = load_vectors(case).params
    params = {
        k: p[k]
        for k in (
            "N_ROWS",
            "N_COLS",
            "N_ADC",
            "ADC_BITS",
            "IN_BITS",
            "N_TILES",
            "T_SETTLE_CYC",
            "T_CONV_CYC",
        )
    }
    run_bench(
        sim=sim,
        nodeid=request.node.nodeid,
        toplevel="tb_cim_xbar_path",
        module="test_cim_xbar_path",
        sources=_sources(),
        parameters=params,
        bench_dir=HERE,
        testcase="run_vectors",
        extra_env={"RRAMCIM_VECTOR_CASE": str(case)},
    )
