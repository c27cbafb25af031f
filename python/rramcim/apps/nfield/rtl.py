"""The neural field on the RTL top ``cim_nfield_top``: parameters, registers, programming plan.

The bench (``tb/cim_nfield_top``) uses this module to build and drive the top for a field that
:func:`rramcim.apps.nfield.hw.map_field` mapped (the hardware model), so that the RTL and the
hardware model run the same arithmetic on equal macro objects:

* :func:`top_params` derives the top's HDL parameters from an
  :class:`~rramcim.apps.nfield.hw.NfieldHardware` and refuses what the top cannot carry;
* :func:`top_registers` gives the configuration words (NET, ENC_GAIN, HAQ_CFG, L_SHAPE/L_GAIN
  per layer, CTRL), packed as the RTL header's register map says;
* :func:`program_plan` is the host's programming procedure of the MLP macros through the
  registers (PROG_ADDR / PROG_CMD / PROG_VERIFY / HAQ_TGT), written as a generator of bus
  operations that an executor runs (the cocotb bench over APB, or :class:`ProgPortModel`
  directly against Python macros in the unit tests); it repeats ``map_field``'s cell
  programming step by step (module docstring of :mod:`rramcim.apps.nfield.hw`) and computes
  the HAQ targets from the VERIFY codes the executor actually read back;
* :func:`fresh_macros` builds the unprogrammed MLP macros exactly as ``map_field`` constructs
  them (same :class:`~rramcim.analog.crossbar.CrossbarConfig`, device, seed, macro id);
  :func:`finish_macros` checks them against the hardware model's after programming and copies
  the ADC full scale.

Plan protocol: the generator yields :class:`Write`, :class:`ReadVerify` (poll PROG_VERIFY until
its valid bit, send back the 16-bit code), :class:`WaitHaq` (poll STATUS until the HAQ FIFO
level is at most ``max_level`` and, with ``idle``, HAQ is not busy) and returns a
:class:`PlanRecord` of what it did (verify codes read, targets sent) when exhausted.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import torch

from rramcim.analog.crossbar import CrossbarConfig, CrossbarMacro, PulseOp
from rramcim.apps.nfield.hw import NfieldHardware, nominal_codes, target_compensation
from rramcim.golden.haq_quant import HaqQuantParams, quantize_weight, target_code
from rramcim.golden.nfield_top import COMBINE_MAX_BITS

#: Register indices of ``cim_nfield_top`` (byte address = 4 * index); see the RTL header.
REG: dict[str, int] = {
    "ID": 0,
    "CMD": 1,
    "STATUS": 2,
    "CTRL": 3,
    "NET": 4,
    "ENC_GAIN": 5,
    "HAQ_CFG": 6,
    "PROG_ADDR": 7,
    "PROG_CMD": 8,
    "PROG_VERIFY": 9,
    "HAQ_TGT": 10,
    "HAQ_LAST": 11,
    "HAQ_ACC": 12,
    **{f"L_SHAPE{i}": 16 + 2 * i for i in range(4)},
    **{f"L_GAIN{i}": 17 + 2 * i for i in range(4)},
    "COORDS": 24,
    "ENC_READS": 25,
    "MLP_READS": 26,
    "ADC_SAT": 27,
    "PRE_CLAMP": 28,
    "COMB_SAT": 29,
    "SIN_SAT": 30,
    "ACT_CLAMP": 31,
    "OUT_SAT": 32,
    "HAQ_WEIGHTS": 33,
    "HAQ_TIMEOUTS": 34,
    "PROG_OPS": 35,
    "CSR_ERRS": 36,
    "CSR_ERR_ADDR": 37,
}

#: The datapath counters of an evaluation (registers 24..32).
EVAL_COUNTERS = (
    "COORDS",
    "ENC_READS",
    "MLP_READS",
    "ADC_SAT",
    "PRE_CLAMP",
    "COMB_SAT",
    "SIN_SAT",
    "ACT_CLAMP",
    "OUT_SAT",
)
#: The ID register's value ("NFD", version 1).
ID_VALUE = 0x4E464401
#: CMD bit 0: clear the sticky error flags.
CMD_CLEAR = 1
#: STATUS bits (the stage is bits 11:8, the HAQ FIFO level bits 31:16).
STATUS_BITS = {
    "eval_busy": 0,
    "haq_busy": 1,
    "cfg_err": 2,
    "csr_err": 3,
    "verify_valid": 4,
    "haq_timeout": 5,
    "adc_timeout": 6,
    "haq_cfg_err": 7,
}
#: Most MLP layers (macro slots) the top carries.
MAX_LAYERS = 4
#: Widest row / column address of PROG_ADDR.
ADDR_FIELD_MAX = (1 << 12) - 1


def top_params(
    hw: NfieldHardware,
    *,
    n_layers: int | None = None,
    haq_fifo_depth: int = 64,
    verify_timeout_cyc: int = 64,
    t_settle_cyc: int = 1,
    t_timeout_cyc: int = 1024,
) -> dict[str, int]:
    """HDL parameters of ``cim_nfield_top`` for a mapped field.

    Args:
        hw: the mapped field (:func:`rramcim.apps.nfield.hw.map_field`).
        n_layers: layer slots ``N_LAYERS`` (default: the field's layer count), [layers, 4].
        haq_fifo_depth: ``HAQ_FIFO_DEPTH``, weights, a power of two in [2, 4096].
        verify_timeout_cyc: ``VERIFY_TIMEOUT_CYC`` of cim_haq_quant, clock cycles.
        t_settle_cyc, t_timeout_cyc: cim_adc_if timing of both read paths, clock cycles.

    Raises:
        ValueError: a field the top cannot carry: more than 4 layers; a layer macro with fewer
            ADC channels than the largest layer's but more than one column group (the top
            shares one column mux of ``M_N_ADC`` channels); a combiner width that is not
            ``min(16, L + M_ADC_BITS)``; inconsistent shapes (a layer's input count not the
            previous layer's output count); more than 4 coordinates or 256 outputs.
    """
    cfg, k = hw.cfg, hw.consts
    layers = k.layers
    nl = len(layers)
    if not 1 <= nl <= MAX_LAYERS:
        raise ValueError(f"top_params: {nl} layers; cim_nfield_top carries 1..{MAX_LAYERS}")
    n_layers = nl if n_layers is None else int(n_layers)
    if not nl <= n_layers <= MAX_LAYERS:
        raise ValueError(f"top_params: n_layers = {n_layers} is outside [{nl}, {MAX_LAYERS}]")
    if haq_fifo_depth < 2 or haq_fifo_depth > 4096 or haq_fifo_depth & (haq_fifo_depth - 1):
        raise ValueError(f"top_params: haq_fifo_depth = {haq_fifo_depth} is not 2**n in [2, 4096]")
    m_n_adc = max(m.cfg.n_adc for m in hw.macros)
    m_groups = max(m.cfg.n_groups for m in hw.macros)
    m_rows = max(m.cfg.rows for m in hw.macros)
    for li, (lc, m) in enumerate(zip(layers, hw.macros, strict=True)):
        if m.cfg.n_adc != m_n_adc and m.cfg.n_groups > 1:
            raise ValueError(
                f"top_params: layer {li}'s macro has {m.cfg.n_adc} ADC channels and "
                f"{m.cfg.n_groups} column groups; a macro with fewer channels than M_N_ADC = "
                f"{m_n_adc} must have one group (the top's column mux is shared)"
            )
        want_a = min(COMBINE_MAX_BITS, lc.in_bits + cfg.mlp_adc_bits)
        if lc.comb.adc_bits != want_a:
            raise ValueError(
                f"top_params: layer {li} combines {lc.comb.adc_bits}-bit codes; the top "
                f"assumes min(16, L + M_ADC_BITS) = {want_a}"
            )
        want_in = k.n_in + 2 * k.n_freq if li == 0 else layers[li - 1].n_out
        if lc.n_in != want_in:
            raise ValueError(f"top_params: layer {li} has {lc.n_in} inputs, expected {want_in}")
        if m.cfg.rows != lc.rows or lc.ref_col + 1 > m.cfg.cols:
            raise ValueError(f"top_params: layer {li}'s macro does not hold its matrix")
    if not 1 <= k.n_in <= 4:
        raise ValueError(f"top_params: {k.n_in} coordinates; cim_nfield_top takes 1..4")
    if layers[-1].n_out > 256:
        raise ValueError(f"top_params: {layers[-1].n_out} outputs; the out stream carries 256")
    e = hw.enc_macro.cfg
    return {
        "N_IN": k.n_in,
        "COORD_BITS": cfg.coord_bits,
        "IN_BITS": cfg.in_bits,
        "SIN_W": cfg.sin_w,
        "PHASE_W": cfg.phase_w,
        "PHASE_F": cfg.phase_f,
        "CORDIC_ITERS": cfg.cordic_iters,
        "GAIN_BITS": cfg.gain_bits,
        "N_FREQ": k.n_freq,
        "E_N_ADC": e.n_adc,
        "E_ADC_BITS": e.adc_bits,
        "E_GROUPS": e.n_groups,
        "N_LAYERS": n_layers,
        "M_ROWS": m_rows,
        "M_N_ADC": m_n_adc,
        "M_ADC_BITS": cfg.mlp_adc_bits,
        "M_GROUPS": m_groups,
        "N_CELLS": cfg.n_cells,
        "RATIO_Q8": cfg.ratio_q8,
        "COMB_RADIX_F": cfg.comb_radix_f,
        "COMB_OUT_SHIFT": cfg.comb_out_shift,
        "TGT_W": cfg.tgt_w,
        "HAQ_RADIX_F": cfg.haq_radix_f,
        "VERIFY_BITS": cfg.verify_bits,
        "VERIFY_TIMEOUT_CYC": verify_timeout_cyc,
        "HAQ_FIFO_DEPTH": haq_fifo_depth,
        "OUT_W": cfg.out_w,
        "T_SETTLE_CYC": t_settle_cyc,
        "T_TIMEOUT_CYC": t_timeout_cyc,
    }


def _gain_word(gain: int, shift: int, what: str) -> int:
    if not 0 <= gain < 1 << 24 or not 0 <= shift <= 63:
        raise ValueError(f"{what}: gain {gain} / shift {shift} do not fit [23:0] / [29:24]")
    return gain | shift << 24


def net_word(layers: int, n_freq: int, enc_groups: int) -> int:
    """NET: ``[2:0]`` layers, ``[15:4]`` n_freq, ``[23:16]`` encoder groups."""
    return (layers & 0x7) | (n_freq & 0xFFF) << 4 | (enc_groups & 0xFF) << 16


def shape_word(n_in: int, n_out: int, groups: int) -> int:
    """L_SHAPE: ``[11:0]`` n_in, ``[23:12]`` n_out, ``[31:24]`` groups."""
    return (n_in & 0xFFF) | (n_out & 0xFFF) << 12 | (groups & 0xFF) << 24


def top_registers(hw: NfieldHardware, *, eval_on: bool = True) -> list[tuple[str, int]]:
    """Configuration words ``[(register name, value)]`` in write order (CTRL last).

    HAQ_CFG holds the verify codes of the nominal SET / RESET levels of the MLP macros (equal
    on every macro of one device and verify width; checked).

    Raises:
        ValueError: a constant that does not fit its field, or macros that disagree on the
            nominal verify codes.
    """
    k = hw.consts
    codes = {(p.code_unit, p.code_reset) for p in hw.programs}
    if len(codes) != 1:
        raise ValueError(f"top_registers: the layers' nominal verify codes differ: {codes}")
    unit, rst = codes.pop()
    out = [
        ("NET", net_word(len(k.layers), k.n_freq, hw.enc_macro.cfg.n_groups)),
        ("ENC_GAIN", _gain_word(k.enc_gain, k.enc_shift, "ENC_GAIN")),
        ("HAQ_CFG", (unit & 0xFFFF) | (rst & 0xFFFF) << 16),
    ]
    for li, (lc, m) in enumerate(zip(k.layers, hw.macros, strict=True)):
        out.append((f"L_SHAPE{li}", shape_word(lc.n_in, lc.n_out, m.cfg.n_groups)))
        out.append((f"L_GAIN{li}", _gain_word(lc.gain, lc.shift, f"L_GAIN{li}")))
    out.append(("CTRL", int(eval_on)))
    return out


def prog_addr_word(row: int, col: int, neg: int, macro: int) -> int:
    """PROG_ADDR: ``[11:0]`` row, ``[23:12]`` column, ``[24]`` G- select, ``[27:25]`` macro."""
    if not (0 <= row <= ADDR_FIELD_MAX and 0 <= col <= ADDR_FIELD_MAX and 0 <= macro < 8):
        raise ValueError(f"PROG_ADDR: row {row} / column {col} / macro {macro} out of range")
    return row | col << 12 | (neg & 1) << 24 | macro << 25


def prog_cmd_word(op: PulseOp | int, advance: bool) -> int:
    """PROG_CMD: ``[1:0]`` op (0 SET, 1 RESET, 2 FORM, 3 VERIFY), ``[4]`` advance the column."""
    return int(PulseOp(op).value) | int(advance) << 4


def tgt_word(target: int, tgt_w: int) -> int:
    """HAQ_TGT: the signed ``TGT_W``-bit target in ``[15:0]`` (two's complement)."""
    lim = 1 << (tgt_w - 1)
    if not -lim <= target < lim:
        raise ValueError(f"HAQ_TGT: target {target} does not fit {tgt_w} bits")
    return target & 0xFFFF


# -- the programming plan ---------------------------------------------------------------------
@dataclass(frozen=True)
class Write:
    """Write ``value`` to register ``reg`` (must succeed)."""

    reg: str
    value: int


@dataclass(frozen=True)
class ReadVerify:
    """Poll PROG_VERIFY until bit 31; the executor sends back bits 15:0."""


@dataclass(frozen=True)
class WaitHaq:
    """Poll STATUS until the HAQ FIFO level (``[31:16]``) is at most ``max_level`` and, with
    ``idle``, HAQ is not busy (``[1]`` = 0)."""

    max_level: int = 0
    idle: bool = True


PlanOp = Write | ReadVerify | WaitHaq


@dataclass
class PlanRecord:
    """What :func:`program_plan` did, per layer (compare with ``hw.programs``).

    Attributes:
        neg_verify: int64 ``[rows, n_out * N_CELLS + 1]`` G- verify codes read back.
        ref_verify: int64 ``[rows]`` verify codes of the reference column's SET cells.
        targets: int64 ``[n_out, rows]`` targets sent (0 sent as +1).
        zero_targets: weights whose target 0 was sent as +1.
        ops: bus operations issued per layer (writes + verify reads + waits).
    """

    neg_verify: list[np.ndarray] = field(default_factory=list)
    ref_verify: list[np.ndarray] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)
    zero_targets: list[int] = field(default_factory=list)
    ops: list[int] = field(default_factory=list)


def program_plan(
    hw: NfieldHardware, net: torch.nn.Module, fifo_depth: int = 64
) -> Generator[PlanOp, int | None, PlanRecord]:
    """The host's programming of every MLP macro through the top's registers.

    Per layer ``l`` (macro ``l``): (1) one RESET of every cell (G+ then G-, row by row:
    PROG_ADDR at column 0, then ``cols`` PROG_CMD RESET with column advance); (2) one VERIFY of
    every G- cell of the used columns (``rows x (n_out N_CELLS + 1)``); (3) SET + VERIFY of the
    reference column's G+ cells; (4) the targets of ``map_field``
    (:func:`~rramcim.apps.nfield.hw.target_compensation` with the codes read in (2)/(3),
    ``target_code``, 0 sent as +1); (5) HAQ_TGT row by row (PROG_ADDR at column 0 of the row,
    then ``n_out`` writes: the top advances the column by N_CELLS), waiting for FIFO room, and
    at the end for HAQ to finish. HAQ_CFG must already hold the nominal codes (written by the
    configuration, :func:`top_registers`; written again here).

    Args:
        hw: the mapped field (its configuration and constants; its macros are not touched).
        net: the field ``hw`` was mapped from (its float weights give ``[W | 2b] / M_l``).
        fifo_depth: ``HAQ_FIFO_DEPTH`` of the top.
    """
    cfg, k = hw.cfg, hw.consts
    if fifo_depth < 1:
        raise ValueError(f"program_plan: fifo_depth = {fifo_depth} must be >= 1")
    params = [
        (w.detach().double(), b.detach().double())
        for w, b in zip(net.weight_matrices(), net.biases(), strict=True)
    ]
    if len(params) != len(k.layers):
        raise ValueError(f"program_plan: the net has {len(params)} layers, hw {len(k.layers)}")
    rec = PlanRecord()
    ncell = cfg.n_cells
    for li, (lc, m) in enumerate(zip(k.layers, hw.macros, strict=True)):
        n_ops = 0
        rows, cols = m.cfg.rows, m.cfg.cols
        prog = hw.programs[li]
        yield Write("HAQ_CFG", (prog.code_unit & 0xFFFF) | (prog.code_reset & 0xFFFF) << 16)
        # (1) RESET every cell
        for neg in (0, 1):
            for r in range(rows):
                yield Write("PROG_ADDR", prog_addr_word(r, 0, neg, li))
                for _ in range(cols):
                    yield Write("PROG_CMD", prog_cmd_word(PulseOp.RESET, True))
                n_ops += cols + 1
        # (2) VERIFY the G- cells of the used columns
        used = lc.ref_col + 1
        neg_ver = np.zeros((rows, used), dtype=np.int64)
        for r in range(rows):
            yield Write("PROG_ADDR", prog_addr_word(r, 0, 1, li))
            for c in range(used):
                yield Write("PROG_CMD", prog_cmd_word(PulseOp.VERIFY, True))
                code = yield ReadVerify()
                neg_ver[r, c] = int(code)  # type: ignore[arg-type]
            n_ops += 2 * used + 1
        # (3) SET + VERIFY of the reference column's G+ cells
        ref_ver = np.zeros(rows, dtype=np.int64)
        for r in range(rows):
            yield Write("PROG_ADDR", prog_addr_word(r, lc.ref_col, 0, li))
            yield Write("PROG_CMD", prog_cmd_word(PulseOp.SET, False))
            yield Write("PROG_CMD", prog_cmd_word(PulseOp.VERIFY, False))
            code = yield ReadVerify()
            ref_ver[r] = int(code)  # type: ignore[arg-type]
            n_ops += 4
        # (4) targets (map_field's formula, from the codes read back)
        w = hw.programs[li]
        w_mat, b_vec = params[li]
        w_norm = (torch.cat([w_mat, 2.0 * b_vec.reshape(-1, 1)], dim=1) / lc.w_max).numpy()
        comp = np.zeros_like(w_norm)
        if cfg.compensate:
            comp = target_compensation(neg_ver, ref_ver, w.code_unit, w.code_reset, lc.n_out, cfg)
        tg = target_code(w_norm + comp, cfg.tgt_w)
        n_zero = int((tg == 0).sum())
        tg[tg == 0] = 1
        # (5) HAQ, row by row
        for r in range(rows):
            for j0 in range(0, lc.n_out, fifo_depth):
                chunk = min(fifo_depth, lc.n_out - j0)
                yield WaitHaq(max_level=fifo_depth - chunk, idle=False)
                yield Write("PROG_ADDR", prog_addr_word(r, j0 * ncell, 0, li))
                for j in range(j0, j0 + chunk):
                    yield Write("HAQ_TGT", tgt_word(int(tg[j, r]), cfg.tgt_w))
                n_ops += chunk + 2
        yield WaitHaq(max_level=0, idle=True)
        n_ops += 1
        rec.neg_verify.append(neg_ver)
        rec.ref_verify.append(ref_ver)
        rec.targets.append(tg)
        rec.zero_targets.append(n_zero)
        rec.ops.append(n_ops)
    return rec


def run_plan(
    plan: Generator[PlanOp, int | None, PlanRecord], do: Callable[[PlanOp], int | None]
) -> PlanRecord:
    """Run a plan synchronously: ``do(op)`` performs each operation (returns the verify code
    of a :class:`ReadVerify`, anything otherwise)."""
    try:
        op = next(plan)
        while True:
            op = plan.send(do(op))
    except StopIteration as stop:
        return stop.value


# -- macros ---------------------------------------------------------------------------------
def fresh_macros(hw: NfieldHardware) -> list[CrossbarMacro]:
    """Unprogrammed MLP macros constructed exactly as ``map_field`` constructs them (same
    geometry, ADC and verify resolution, device, seed and macro id; default ADC full scale)."""
    out = []
    for m in hw.macros:
        c = m.cfg
        cfg = CrossbarConfig(
            rows=c.rows,
            cols=c.cols,
            n_adc=c.n_adc,
            adc_bits=c.adc_bits,
            verify_bits=c.verify_bits,
        )
        out.append(CrossbarMacro(cfg, m.device, seed=m.seed, macro_id=m.macro_id))
    return out


def macros_equal(a: CrossbarMacro, b: CrossbarMacro) -> bool:
    """G+ and G- conductance arrays equal bit for bit."""
    ga, gb = a.conductances(), b.conductances()
    return bool(torch.equal(ga[0], gb[0]) and torch.equal(ga[1], gb[1]))


def finish_macros(hw: NfieldHardware, macros: list[CrossbarMacro]) -> None:
    """After programming: check every macro equals the hardware model's bit for bit, then copy
    the ADC full scale (``map_field`` calibrates it on the float network).

    Raises:
        ValueError: a layer whose conductances differ (names the layer, the side and the
            first differing cell).
    """
    for li, (m, ref) in enumerate(zip(macros, hw.macros, strict=True)):
        for side, (g, r) in enumerate(zip(m.conductances(), ref.conductances(), strict=True)):
            if not torch.equal(g, r):
                bad = torch.nonzero(g != r)[0].tolist()
                raise ValueError(
                    f"layer {li}: {'G-' if side else 'G+'} differs from the hardware model "
                    f"first at (row, col) = {tuple(bad)}: {float(g[tuple(bad)])!r} S vs "
                    f"{float(r[tuple(bad)])!r} S"
                )
        m.set_adc_full_scale(ref.cfg.adc_full_scale_A)


# -- a register-level model of the programming port (for tests without a simulator) ----------
class ProgPortModel:
    """The programming registers of the top, executed directly on Python macros.

    Interprets the plan's operations as the RTL header specifies them and performs what the
    co-simulation adapter does per program-port cycle (``CrossbarMacro.pulse`` /
    ``verify`` per cell); HAQ weights run with golden ``quantize_weight`` semantics
    (VERIFY_UNSET = 1). Used to check the plan without a simulator.

    Args:
        macros: the MLP macros, index = PROG_ADDR macro field.
        hw: the mapped field (HAQ parameters).
    """

    def __init__(self, macros: list[CrossbarMacro], hw: NfieldHardware) -> None:
        self.macros = macros
        cfg = hw.cfg
        self.p = cfg.haq_params()
        self.addr = 0
        self.haq_cfg = 0
        self.verify_code: int | None = None
        self.haq_weights = 0
        self.last_bits = 0
        self.last_acc = 0

    def _addr(self) -> tuple[int, int, int, int]:
        a = self.addr
        return a & 0xFFF, (a >> 12) & 0xFFF, (a >> 24) & 1, (a >> 25) & 0x7

    def _advance(self, n: int) -> None:
        row, col, neg, mac = self._addr()
        self.addr = prog_addr_word(row, (col + n) & 0xFFF, neg, mac)

    def do(self, op: PlanOp) -> int | None:
        """Execute one plan operation; returns the code of a :class:`ReadVerify`."""
        if isinstance(op, ReadVerify):
            if self.verify_code is None:
                raise RuntimeError("PROG_VERIFY read without a VERIFY")
            return self.verify_code
        if isinstance(op, WaitHaq):
            return None
        reg, v = op.reg, op.value
        if reg == "PROG_ADDR":
            self.addr = v & 0x0FFFFFFF
        elif reg == "HAQ_CFG":
            self.haq_cfg = v
        elif reg == "PROG_CMD":
            row, col, neg, mac = self._addr()
            m = self.macros[mac]
            opc = PulseOp(v & 3)
            self.verify_code = None
            if opc is PulseOp.VERIFY:
                self.verify_code = m.verify(row, col, neg)
            else:
                m.pulse(opc, row, col, neg)
            if v >> 4 & 1:
                self._advance(1)
        elif reg == "HAQ_TGT":
            row, col, neg, mac = self._addr()
            m = self.macros[mac]
            t = v & 0xFFFF
            t = t - (1 << 16) if t >> 15 else t
            unit, rst = self.haq_cfg & 0xFFFF, self.haq_cfg >> 16

            def verify(_k: int, r: int, c: int, n: int, _is_set: bool) -> int:
                return m.verify(r, c, n)

            # quantize_weight issues SET before the VERIFY of the same cell: apply the SETs
            # as they are issued (the verify callback runs after the SET of its cell)
            ops, beat, _ = _quantize_applying(self.p, t, row, col, neg, unit, rst, m, verify)
            del ops
            self.haq_weights += 1
            self.last_bits, self.last_acc = beat.bits, beat.acc
            self._advance(self.p.n_cells)
        else:
            raise ValueError(f"ProgPortModel: unexpected write to {reg}")
        return None


def _quantize_applying(  # noqa: PLR0913
    p: HaqQuantParams,
    t: int,
    row: int,
    col: int,
    neg: int,
    unit: int,
    rst: int,
    m: CrossbarMacro,
    verify: Callable[[int, int, int, int, bool], int],
) -> tuple[list, object, int]:
    """``quantize_weight`` with each SET applied to the macro before its cell's VERIFY."""

    def v(k: int, r: int, c: int, n: int, is_set: bool) -> int:
        if is_set:
            m.pulse(PulseOp.SET, r, c, n)
        return verify(k, r, c, n, is_set)

    return quantize_weight(p, t, row, col, neg, unit, rst, v)


def check_nominal_codes(macros: list[CrossbarMacro], hw: NfieldHardware) -> None:
    """The fresh macros' nominal verify codes equal the hardware model's (HAQ_CFG)."""
    for li, m in enumerate(macros):
        got = nominal_codes(m)
        want = (hw.programs[li].code_unit, hw.programs[li].code_reset)
        if got != want:
            raise ValueError(f"layer {li}: nominal verify codes {got} != {want}")


class PrefetchedReads:
    """Every read the top makes for a coordinate stream, computed ahead in batches.

    A co-simulated read is ``macro.read(plane, group, k, epoch)`` of the word lines the RTL
    drives. For a stream of coordinates evaluated from the first one after a reset, the
    hardware model knows every layer's inputs (:func:`rramcim.golden.nfield_top.run_nfield`
    with ``keep``), so all reads of one macro are one batched
    :func:`rramcim.golden.xbar_path.run_read_path` call. :meth:`lookup` returns the batch's
    codes only when the RTL's read has exactly the key, column group and word-line bits the
    batch used (the macro model is batch-independent: keyed noise, so these are the numbers a
    single read returns); any other read (another epoch, a read past the stream, different
    inputs) returns ``None`` and the adapter computes it live. The batch is not a shortcut
    around the check: a datapath bug changes the word lines and the read is done live.

    Args:
        hw: the mapped field.
        codes: the coordinate codes ``[V, n_in]`` in the order the RTL evaluates them.
        epoch: the reset epoch of the stream.
        first_vector: number of the first coordinate since that reset.
    """

    def __init__(
        self, hw: NfieldHardware, codes: np.ndarray, epoch: int = 0, first_vector: int = 0
    ) -> None:
        from rramcim.golden.xbar_path import ReadPathConfig, run_read_path

        self.epoch = int(epoch)
        self.first_vector = int(first_vector)
        codes = np.asarray(codes, dtype=np.int64)
        st = hw.evaluate_codes(
            codes, first_vector, epoch=epoch, keep=True, batch=max(1, codes.shape[0])
        ).stages
        e = hw.enc_macro
        xe = np.pad(codes, ((0, 0), (0, e.cfg.rows - codes.shape[1])))
        jobs = [
            (e, xe, ReadPathConfig(groups=e.cfg.n_groups, in_bits=hw.cfg.coord_bits, signed=False))
        ]
        for li, (lc, m) in enumerate(zip(hw.consts.layers, hw.macros, strict=True)):
            rp = ReadPathConfig(groups=m.cfg.n_groups, in_bits=lc.in_bits, signed=True)
            jobs.append((m, st[f"in{li}"], rp))
        self._tables = []
        for m, x, rp in jobs:
            first = first_vector * rp.reads_per_vector
            r = run_read_path(m, x, rp, epoch=epoch, first_read=first, keep_codes=True)
            u = (np.asarray(x, dtype=np.int64) & ((1 << rp.in_bits) - 1)).astype(np.uint64)
            wl = []
            for v in range(x.shape[0]):
                planes = [
                    ((u[v] >> np.uint64(b)) & np.uint64(1)).astype(np.uint8)
                    for b in range(rp.in_bits)
                ]
                wl.append(
                    [
                        int.from_bytes(np.packbits(p, bitorder="little").tobytes(), "little")
                        for p in planes
                    ]
                )
            assert r.codes is not None
            self._tables.append((wl, r.codes[:, 0], rp.in_bits, rp.groups))
        self.hits = 0
        self.misses = 0

    def lookup_for(self, macro_index: int):  # noqa: ANN201 (the adapter's lookup callable)
        """The ``lookup(epoch, k, wl, group)`` of macro ``macro_index`` (0 = the encoder)."""
        wl_tab, codes, n_b, n_g = self._tables[macro_index]
        per_vector = n_b * n_g

        def lookup(epoch: int, k: int, wl: int, group: int) -> list[int] | None:
            v, r = divmod(k, per_vector)
            v -= self.first_vector
            b, g = divmod(r, n_g)
            if epoch != self.epoch or not 0 <= v < len(wl_tab) or g != group or wl_tab[v][b] != wl:
                self.misses += 1
                return None
            self.hits += 1
            return codes[v, b, g].tolist()

        return lookup
