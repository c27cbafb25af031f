"""Unit tests of rramcim.analog.dac (the DAC chips' register model)."""

from __future__ import annotations

import numpy as np
import pytest

from rramcim.analog.dac import DacBank, DacFrameError
from rramcim.golden.dac_spi import DacBeat, DacSpiConfig, chip_words, frame_word


@pytest.fixture
def spi() -> DacSpiConfig:
    return DacSpiConfig(n_chips=3, n_ch=4, data_w=12, frame_w=24)


def test_power_up_mid_scale(spi: DacSpiConfig) -> None:
    b = DacBank(spi)
    assert b.n_channels == 12
    assert (b.codes() == 2048).all()
    with pytest.raises(ValueError, match="reset_code"):
        DacBank(spi, reset_code=4096)


def test_write_then_ldac_moves_outputs_together(spi: DacSpiConfig) -> None:
    b = DacBank(spi)
    words = chip_words(spi, DacBeat(addr=2, codes=(100, 200, 300), mask=0b101, last=True))
    b.frame(words, spi.frame_w)
    assert (b.codes() == 2048).all(), "outputs change only on LDAC"
    out = b.load()
    # channel ch = chip * n_addr + addr; chip 1 was masked (NOP frame)
    want = np.full(12, 2048)
    want[0 * 4 + 2] = 100
    want[2 * 4 + 2] = 300
    assert out.tolist() == want.tolist()
    assert b.stats.frames == 3 and b.stats.writes == 2 and b.stats.nops == 1
    assert b.stats.loads == 1
    assert b.codes([2, 10]).tolist() == [100, 300]


def test_bad_frames_name_chip_and_field(spi: DacSpiConfig) -> None:
    b = DacBank(spi)
    nop = frame_word(spi, spi.cmd_nop, 0, 0)
    with pytest.raises(DacFrameError, match="2 words for 3 chips"):
        b.frame([nop, nop])
    with pytest.raises(DacFrameError, match="23 bits"):
        b.frame([nop] * 3, n_bits=23)
    with pytest.raises(DacFrameError, match="chip 1: command 0x3"):
        b.frame([nop, frame_word(spi, 3, 0, 0), nop])
    with pytest.raises(DacFrameError, match="chip 2: address 5"):
        b.frame([nop, nop, frame_word(spi, spi.cmd_write, 5, 1)])
    with pytest.raises(DacFrameError, match="padding"):
        b.frame([nop, nop, frame_word(spi, spi.cmd_write, 1, 1) | 1])
    with pytest.raises(ValueError, match="channels"):
        b.codes([12])
