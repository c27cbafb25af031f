"""Unit tests of rramcim.golden.csr (reference of rtl/cim_csr.sv, register maps); no simulator.

Block model: hand-written cases for every slot kind and error kind, the error status rules
(first address captured, clear vs. error in the same cycle, saturation, reset) and random
transfer sequences against :class:`_RefCsr`, a literal transcription of the RTL header's
rules written independently of the model. Register maps: derived ``cim_csr`` parameters,
legality rule, packing, Markdown and SystemVerilog rendering, and every validation error.
"""

from __future__ import annotations

import random

import pytest

from rramcim.golden.csr import (
    COUNTER_MAX,
    CsrConfig,
    CsrModel,
    FieldAccess,
    RegField,
    Register,
    RegMap,
    SlotKind,
    min_addr_w,
)


@pytest.fixture
def cfg() -> CsrConfig:
    """Five slots: 0, 1 RW (reset 0x11, 0x22), 2 RO, 3 EXT, 4 RW; 6-bit addresses."""
    return CsrConfig(
        n_regs=5, addr_w=6, rw_mask=0b10011, ext_wr_mask=0b01000, reset_val=(0x11, 0x22, 0, 0, 7)
    )


@pytest.fixture
def model(cfg: CsrConfig) -> CsrModel:
    m = CsrModel(cfg)
    m.ro = [0xA0, 0xA1, 0xA2, 0xA3, 0xA4]
    return m


# ------------------------------------------------------------------------------------------
# configuration
# ------------------------------------------------------------------------------------------


def test_defaults_match_rtl() -> None:
    c = CsrConfig()
    assert (c.n_regs, c.addr_w, c.rw_mask, c.ext_wr_mask) == (16, 12, 0x0FFF, 0x8000)
    assert c.reset_val == (0,) * 16
    assert [c.kind(i) for i in (0, 11, 12, 14, 15)] == [
        SlotKind.RW,
        SlotKind.RW,
        SlotKind.RO,
        SlotKind.RO,
        SlotKind.EXT,
    ]
    assert c.idx_w == 4


def test_min_addr_w_and_idx_w() -> None:
    assert [min_addr_w(n) for n in (1, 2, 3, 4, 5, 256)] == [2, 3, 4, 4, 5, 10]
    assert [CsrConfig(n, 10, rw_mask=0, ext_wr_mask=0).idx_w for n in (1, 2, 3, 256)] == [
        1,
        1,
        2,
        8,
    ]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_regs": 0}, "n_regs"),
        ({"n_regs": 257, "addr_w": 12}, "n_regs"),
        ({"n_regs": 16, "addr_w": 5}, "addr_w"),
        ({"addr_w": 33}, "addr_w"),
        ({"rw_mask": 1 << 16}, "rw_mask"),
        ({"rw_mask": 1, "ext_wr_mask": 3}, "overlaps"),
        ({"reset_val": (1, 2)}, "words"),
        ({"reset_val": (0,) * 12 + (5, 0, 0, 0)}, "slot 12 is ro"),
        ({"reset_val": (0,) * 15 + (5,)}, "slot 15 is ext"),
        ({"reset_val": (1 << 32,) + (0,) * 15}, "reset_val"),
    ],
)
def test_config_rejects(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CsrConfig(**kwargs)


def test_hdl_params_round_trip(cfg: CsrConfig) -> None:
    p = cfg.hdl_params()
    assert p["RESET_VAL"] == 0x11 | 0x22 << 32 | 7 << 128
    assert CsrConfig.from_hdl(p) == cfg
    # missing parameters take the RTL defaults; the default masks are truncated to N_REGS
    assert CsrConfig.from_hdl({}) == CsrConfig()
    assert CsrConfig.from_hdl({"N_REGS": 8, "ADDR_W": 5}).rw_mask == 0xFF
    with pytest.raises(ValueError, match="unknown cim_csr parameter"):
        CsrConfig.from_hdl({"N_REG": 3})


def test_decode(cfg: CsrConfig) -> None:
    assert [cfg.decode(a) for a in (0, 4, 16)] == [0, 1, 4]
    assert [cfg.decode(a) for a in (1, 2, 3, 18, 20, 63)] == [None] * 6
    with pytest.raises(ValueError, match="addr"):
        cfg.decode(64)


# ------------------------------------------------------------------------------------------
# transfers
# ------------------------------------------------------------------------------------------


def test_reset_values_and_reads(model: CsrModel) -> None:
    assert model.regs == [0x11, 0x22, 0, 0, 7]
    assert model.reg_q() == 0x11 | 0x22 << 32 | 7 << 128
    assert [model.read(4 * i) for i in range(5)] == [
        (0x11, False),
        (0x22, False),
        (0xA2, False),  # RO: the top's value
        (0xA3, False),  # EXT: the top's value
        (7, False),
    ]
    assert not model.err and model.err_count == 0


def test_rw_write(model: CsrModel) -> None:
    a = model.access(True, 4, 0xDEADBEEF)
    assert (a.idx, a.slverr, a.wr_req, a.wr_pulse, a.rd_pulse) == (1, False, True, True, False)
    assert model.regs[1] == 0xDEADBEEF
    assert model.read(4) == (0xDEADBEEF, False)


def test_ro_write_is_an_error(model: CsrModel) -> None:
    a = model.access(True, 8, 5)
    assert (a.slverr, a.wr_req, a.wr_pulse) == (True, True, False)
    assert model.regs[2] == 0 and model.read(8) == (0xA2, False)
    assert (model.err, model.err_addr, model.err_count) == (True, 8, 1)


def test_ext_write_pulses_without_storing(model: CsrModel) -> None:
    a = model.access(True, 12, 0x1234)
    assert (a.slverr, a.wr_pulse, a.data) == (False, True, 0x1234)
    assert model.regs[3] == 0 and model.reg_q() >> 96 & 0xFFFFFFFF == 0


@pytest.mark.parametrize("addr", [0, 12])
def test_veto(model: CsrModel, addr: int) -> None:
    before = list(model.regs)
    a = model.access(True, addr, 99, legal=False)
    assert (a.slverr, a.wr_req, a.wr_pulse) == (True, True, False)
    assert model.regs == before
    assert model.err_count == 1


def test_veto_ignored_for_reads_and_bad_addresses(model: CsrModel) -> None:
    a = model.access(False, 0, 0, legal=False)
    assert not a.slverr and a.rd_pulse and a.data == 0x11
    a = model.access(True, 20, 1, legal=False)
    assert a.slverr and not a.wr_req
    assert model.err_count == 1


@pytest.mark.parametrize("write", [False, True])
@pytest.mark.parametrize("addr", [1, 2, 3, 5, 20, 60])
def test_address_errors(model: CsrModel, write: bool, addr: int) -> None:
    a = model.access(write, addr, 3)
    assert a.slverr and a.idx is None and not (a.wr_req or a.wr_pulse or a.rd_pulse)
    assert a.data == (3 if write else 0)
    assert (model.err, model.err_addr, model.err_count) == (True, addr, 1)
    assert model.regs == [0x11, 0x22, 0, 0, 7]


def test_first_error_address_kept_until_clear(model: CsrModel) -> None:
    model.read(1)
    model.write(8, 0)
    assert (model.err_addr, model.err_count) == (1, 2)
    model.clear_err()
    assert (model.err, model.err_addr, model.err_count) == (False, 0, 2)
    model.write(20, 0)
    assert model.err_addr == 20


def test_error_wins_over_clear_in_the_same_cycle(model: CsrModel) -> None:
    model.read(1)
    a = model.access(True, 8, 0, err_clr=True)
    assert a.err_captured and (model.err, model.err_addr) == (True, 8)
    # a clear with an error-free transfer clears
    a = model.access(False, 0, err_clr=True)
    assert not a.slverr and (model.err, model.err_addr) == (False, 0)


def test_counter_saturates(model: CsrModel) -> None:
    model.err_count = COUNTER_MAX - 1
    for _ in range(3):
        model.read(2)
    assert model.err_count == COUNTER_MAX


def test_reset_keeps_ro(model: CsrModel) -> None:
    model.write(0, 5)
    model.read(3)
    model.reset()
    assert model.regs == [0x11, 0x22, 0, 0, 7]
    assert (model.err, model.err_addr, model.err_count) == (False, 0, 0)
    assert model.ro[2] == 0xA2


def test_data_range_checked(model: CsrModel) -> None:
    with pytest.raises(ValueError, match="data"):
        model.write(0, 1 << 32)
    with pytest.raises(ValueError, match="addr"):
        model.read(1 << 6)


class _RefCsr:
    """The RTL header's rules, transcribed literally (independent of CsrModel)."""

    def __init__(self, n: int, addr_w: int, rw: int, ext: int, reset: list[int]) -> None:
        self.n, self.addr_w, self.rw, self.ext, self.reset_words = n, addr_w, rw, ext, reset
        self.q = list(reset)
        self.err = 0
        self.err_addr = 0
        self.cnt = 0

    def cycle(
        self, write: bool, addr: int, data: int, wr_err: bool, clr: bool, ro: list[int]
    ) -> tuple[int, int, int, int]:
        """One access cycle -> (prdata, pslverr, wr_pulse bits, rd_pulse bits)."""
        word = addr >> 2
        addr_ok = addr % 4 == 0 and word < self.n
        sel = (1 << word) if addr_ok else 0
        sel_wr = bool(sel & (self.rw | self.ext))
        wr_req = write and addr_ok
        wr_ok = wr_req and sel_wr and not wr_err
        xfer_err = (not addr_ok) or (write and (not sel_wr or wr_err))
        view = [self.q[i] if self.rw >> i & 1 else ro[i] for i in range(self.n)]
        prdata = view[word] if (not write and addr_ok) else 0
        err_d, addr_d, cnt_d = self.err, self.err_addr, self.cnt
        if clr:
            err_d, addr_d = 0, 0
        if xfer_err:
            err_d = 1
            if not self.err or clr:
                addr_d = addr
            cnt_d = min(self.cnt + 1, 2**32 - 1)
        if wr_ok and self.rw >> word & 1:
            self.q[word] = data
        self.err, self.err_addr, self.cnt = err_d, addr_d, cnt_d
        return prdata, int(xfer_err), sel if wr_ok else 0, sel if not write else 0


@pytest.mark.parametrize("seed", range(4))
def test_random_against_reference(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.choice((1, 3, 7, 32))
    addr_w = min_addr_w(n) + rng.randint(0, 2)
    rw = rng.getrandbits(n)
    ext = rng.getrandbits(n) & ~rw
    reset = [rng.getrandbits(32) if rw >> i & 1 else 0 for i in range(n)]
    model = CsrModel(CsrConfig(n, addr_w, rw, ext, tuple(reset)))
    ref = _RefCsr(n, addr_w, rw, ext, reset)
    for _ in range(3000):
        ro = [rng.getrandbits(32) for _ in range(n)]
        model.ro = list(ro)
        write = rng.random() < 0.5
        addr = 4 * rng.randrange(n) if rng.random() < 0.8 else rng.randrange(1 << addr_w)
        data = rng.getrandbits(32)
        legal = rng.random() < 0.8
        clr = rng.random() < 0.1
        if rng.random() < 0.02:
            model.reset()
            ref = _RefCsr(n, addr_w, rw, ext, reset)
        a = model.access(write, addr, data, legal, clr)
        prdata, slverr, wr_p, rd_p = ref.cycle(write, addr, data, not legal, clr, ro)
        assert (0 if write else a.data, int(a.slverr)) == (prdata, slverr)
        assert (1 << a.idx if a.wr_pulse else 0) == wr_p
        assert (1 << a.idx if a.rd_pulse else 0) == rd_p
        assert model.regs == [ref.q[i] if rw >> i & 1 else 0 for i in range(n)]
        assert (model.err, model.err_addr, model.err_count) == (
            bool(ref.err),
            ref.err_addr,
            ref.cnt,
        )


# ------------------------------------------------------------------------------------------
# register maps
# ------------------------------------------------------------------------------------------


@pytest.fixture
def rmap() -> RegMap:
    return RegMap(
        "demo",
        [
            Register(
                "STATUS",
                2,
                (
                    RegField("busy", 0, access=FieldAccess.RO, desc="a sample is running"),
                    RegField("err", 1, access=FieldAccess.W1C, desc="sticky error | W1C"),
                    RegField("count", 8, 8, FieldAccess.RC, desc="events since last read"),
                ),
            ),
            Register(
                "CTRL",
                0,
                (
                    RegField("start", 0, access=FieldAccess.W1S, desc="start a sample"),
                    RegField("clear", 1, access=FieldAccess.W1S),
                ),
                desc="commands",
            ),
            Register(
                "CFG",
                1,
                (
                    RegField("steps", 0, 4, reset=10, legal=(1, 10), desc="timesteps T"),
                    RegField("alpha", 8, 8, reset=2, desc="early-stop alpha, Q4.4"),
                ),
            ),
            Register("ID", 4, (RegField("version", 0, 32, FieldAccess.RO),)),
        ],
    )


def test_regmap_config(rmap: RegMap) -> None:
    assert [r.name for r in rmap] == ["CTRL", "CFG", "STATUS", "ID"]
    assert rmap.n_regs == 5
    c = rmap.config()
    assert (c.n_regs, c.addr_w, c.rw_mask, c.ext_wr_mask) == (5, 5, 0b00010, 0b00101)
    assert c.reset_val == (0, 10 | 2 << 8, 0, 0, 0)
    assert [c.kind(i) for i in range(5)] == [
        SlotKind.EXT,
        SlotKind.RW,
        SlotKind.EXT,
        SlotKind.RO,  # unused slot
        SlotKind.RO,
    ]
    assert rmap.config(addr_w=12).addr_w == 12
    assert RegMap("x", rmap.registers, n_regs=8).config().n_regs == 8


def test_regmap_fields_and_legality(rmap: RegMap) -> None:
    cfg = rmap["CFG"]
    assert cfg.addr == 4 and cfg.reset == 0x020A
    assert cfg.pack(steps=3, alpha=0x11) == 0x1103
    assert cfg.unpack(0xFF05) == {"steps": 5, "alpha": 0xFF}
    reg, f = rmap.field("CFG.steps")
    assert reg is cfg and (f.mask, f.bits, f.max) == (0xF, "[3:0]", 15)
    assert rmap.field("STATUS.count")[1].bits == "[15:8]"
    assert rmap.legal(1, cfg.pack(steps=10)) and not rmap.legal(1, cfg.pack(steps=11))
    assert not rmap.legal(1, 0)  # steps = 0
    assert rmap.legal(0, 0xFFFFFFFF)  # EXT: bits beyond its fields are ignored
    assert not rmap.legal(3, 0) and not rmap.legal(4, 0)  # unused slot, RO register
    with pytest.raises(KeyError, match="no register 'NOPE'"):
        rmap["NOPE"]
    with pytest.raises(KeyError, match="no field 'nope'"):
        rmap.field("CFG.nope")
    with pytest.raises(ValueError, match="steps"):
        cfg.pack(steps=16)


def test_regmap_model_agrees(rmap: RegMap) -> None:
    """A CsrModel built from the map, with the map's rule as the top's veto."""
    m = CsrModel(rmap.config())
    assert m.read(4) == (0x020A, False)
    for data, err in ((0x0305, False), (0x0300, True), (0x030B, True)):
        assert m.write(4, data, legal=rmap.legal(1, data)) is err
    assert m.read(4) == (0x0305, False)
    assert m.write(16, 1, legal=rmap.legal(4, 1))  # RO


def test_regmap_markdown(rmap: RegMap) -> None:
    md = rmap.to_markdown()
    lines = md.splitlines()
    assert lines[0].startswith("| offset | register | kind | field | bits |")
    assert len(lines) == 2 + 2 + 2 + 3 + 1
    assert (
        "| 0x000 | `CTRL` | EXT | `start` | [0] | W1S | top |  | commands: start a sample |" in md
    )
    assert "| 0x004 | `CFG` | RW | `steps` | [3:0] | RW | 0xa | 1..10 | timesteps T |" in md
    assert "|  |  |  | `alpha` | [15:8] | RW | 0x2 |  | early-stop alpha, Q4.4 |" in md
    assert "sticky error \\| W1C" in md  # a pipe in a description is escaped
    assert "| 0x010 | `ID` | RO | `version` | [31:0] | RO | top |" in md


def test_regmap_sv_params(rmap: RegMap) -> None:
    sv = rmap.sv_params()
    assert ".N_REGS      (5)" in sv
    assert ".RW_MASK     (5'h2)" in sv and ".EXT_WR_MASK (5'h5)" in sv
    assert ".RESET_VAL   (160'h" + "0" * 24 + "0000020a" + "0" * 8 + ")" in sv


_REJECTS = [
    (lambda: RegField("1x", 0), "identifier"),
    (lambda: RegField("a", 32), "lsb"),
    (lambda: RegField("a", 30, 3), "width"),
    (lambda: RegField("a", 0, 2, reset=4), "reset"),
    (lambda: RegField("a", 0, access=FieldAccess.W1C, reset=1), "only RW fields"),
    (lambda: RegField("a", 0, 4, legal=(5, 4)), "legal"),
    (lambda: RegField("a", 0, 4, legal=(1, 16)), "legal"),
    (lambda: RegField("a", 0, 4, access=FieldAccess.RO, legal=(0, 3)), "read-only"),
    (lambda: RegField("a", 0, 4, reset=0, legal=(1, 3)), "outside legal"),
    (lambda: Register("R", 0, ()), "no fields"),
    (lambda: Register("R", 256, (RegField("a", 0),)), "index"),
    (lambda: Register("R", 0, (RegField("a", 0, 4), RegField("b", 3))), "overlaps"),
    (lambda: Register("R", 0, (RegField("a", 0), RegField("a", 1))), "twice"),
    (
        lambda: Register("R", 0, (RegField("a", 0), RegField("b", 1, access=FieldAccess.RO))),
        "mixes",
    ),
    (lambda: RegMap("m", ()), "empty"),
    (
        lambda: RegMap("m", (Register("A", 0, (RegField("a", 0),)),) * 2),
        "defined twice",
    ),
    (
        lambda: RegMap(
            "m", (Register("A", 0, (RegField("a", 0),)), Register("B", 0, (RegField("b", 0),)))
        ),
        "slot 0 used twice",
    ),
    (lambda: RegMap("m", (Register("A", 4, (RegField("a", 0),)),), n_regs=4), "n_regs"),
]


@pytest.mark.parametrize("make, match", _REJECTS, ids=[m for _, m in _REJECTS])
def test_regmap_rejects(make, match: str) -> None:  # noqa: ANN001 - a factory
    with pytest.raises(ValueError, match=match):
        make()
