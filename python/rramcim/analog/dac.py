"""Register model of the SPI DAC chips that drive the closed-loop solver macro.

The analogue solver board carries ``n_chips`` multi-channel DACs (the diffusion paper's board
uses quad 12-bit MAX5742 parts, PAPERS.md §4.5) on one SPI bus with a shared chip select,
SCLK and LDAC line and one MOSI line per chip, driven by ``rtl/cim_dac_spi.sv``. Each chip has,
per channel, an *input* register written by a frame and an *output* register that sets the
voltage; the LDAC pulse copies every input register to its output register on all chips at
once, so all channels change together.

Frame words are decoded exactly as ``cim_dac_spi`` builds them
(:func:`rramcim.golden.dac_spi.frame_word`): ``{cmd[3:0], addr[3:0], data, zero padding}``.
``cmd_write`` writes input register ``addr``; ``cmd_nop`` does nothing; any other command, an
address beyond the chip's channels, non-zero padding or a frame of the wrong length is a
:class:`DacFrameError` naming the chip, the field and the value (the hardware would ignore or
misread it; the model refuses it so a bench fails loudly).

Power-up and reset value of every register: ``reset_code`` (default mid-scale, 0 V for the
bipolar mapping ``v = (code - 2^(bits-1)) / 2^(bits-1) * v_fs`` of
:class:`rramcim.analog.ode.OdeSolverConfig`) [I: the papers give no power-up state].

Channel numbering shared with ``cim_ode_seq``: ``ch = chip * n_addr + addr``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rramcim.golden.dac_spi import ADDR_W, CMD_W, DacSpiConfig


class DacFrameError(ValueError):
    """A frame that the DAC model cannot accept (names chip, field and value)."""


@dataclass
class DacBankStats:
    """Counters of a :class:`DacBank` (reset by :meth:`DacBank.reset_stats`).

    Attributes:
        frames: frames taken (one per chip per CS window).
        writes: input-register writes (``cmd_write`` frames).
        nops: ``cmd_nop`` frames.
        loads: LDAC pulses (output updates).
    """

    frames: int = 0
    writes: int = 0
    nops: int = 0
    loads: int = 0


class DacBank:
    """Input and output registers of ``n_chips`` DAC chips with ``n_addr`` channels each.

    Args:
        spi: the driver's configuration (chips, channels per chip, code and frame widths,
            command values).
        reset_code: value of every register after power-up / :meth:`reset`, 0 .. 2^data_w - 1
            (default mid-scale).
    """

    def __init__(self, spi: DacSpiConfig, reset_code: int | None = None) -> None:
        self.spi = spi
        full = 1 << spi.data_w
        code = full // 2 if reset_code is None else int(reset_code)
        if not 0 <= code < full:
            raise ValueError(f"DacBank.reset_code = {code} is outside 0 .. {full - 1}")
        self.reset_code = code
        self.stats = DacBankStats()
        self.input = np.full((spi.n_chips, spi.n_ch), code, dtype=np.int64)
        self.output = self.input.copy()

    @property
    def n_channels(self) -> int:
        """Channels in all (``n_chips * n_addr``)."""
        return self.spi.n_chips * self.spi.n_ch

    def reset(self) -> None:
        """Power-up state: every input and output register at ``reset_code``."""
        self.input.fill(self.reset_code)
        self.output.fill(self.reset_code)

    def reset_stats(self) -> None:
        """Zero the counters."""
        self.stats = DacBankStats()

    def frame(self, words: Sequence[int], n_bits: int | None = None) -> None:
        """Take one CS window: ``words[k]`` is the frame clocked into chip k.

        Args:
            words: one ``frame_w``-bit word per chip (first bit sent = most significant).
            n_bits: bits clocked in the window (checked against ``frame_w`` when given).

        Raises:
            DacFrameError: wrong number of words, wrong length, unknown command, bad address,
                or non-zero padding.
        """
        spi = self.spi
        if len(words) != spi.n_chips:
            raise DacFrameError(f"frame: {len(words)} words for {spi.n_chips} chips")
        if n_bits is not None and n_bits != spi.frame_w:
            raise DacFrameError(f"frame: {n_bits} bits clocked, the chips take {spi.frame_w}")
        pad = spi.frame_w - CMD_W - ADDR_W - spi.data_w
        for chip, w in enumerate(words):
            w = int(w)
            if not 0 <= w < 1 << spi.frame_w:
                raise DacFrameError(f"chip {chip}: frame word {w:#x} wider than {spi.frame_w} bits")
            if w & ((1 << pad) - 1):
                raise DacFrameError(f"chip {chip}: padding bits of frame {w:#x} are not zero")
            data = (w >> pad) & ((1 << spi.data_w) - 1)
            addr = (w >> (pad + spi.data_w)) & ((1 << ADDR_W) - 1)
            cmd = w >> (pad + spi.data_w + ADDR_W)
            self.stats.frames += 1
            if cmd == spi.cmd_nop:
                self.stats.nops += 1
                continue
            if cmd != spi.cmd_write:
                raise DacFrameError(f"chip {chip}: command {cmd:#x} in frame {w:#x} is unknown")
            if addr >= spi.n_ch:
                raise DacFrameError(f"chip {chip}: address {addr} >= {spi.n_ch} channels")
            self.input[chip, addr] = data
            self.stats.writes += 1

    def load(self) -> np.ndarray:
        """LDAC: copy every input register to its output; return the outputs by channel."""
        self.output[...] = self.input
        self.stats.loads += 1
        return self.codes()

    def codes(self, channels: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Output codes by channel number ``ch = chip * n_addr + addr`` (all, or ``channels``).

        Raises:
            ValueError: a channel number out of range.
        """
        flat = self.output.reshape(-1)
        if channels is None:
            return flat.copy()
        idx = np.asarray(channels, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= flat.size):
            raise ValueError(f"channels {idx.tolist()} outside 0 .. {flat.size - 1}")
        return flat[idx].copy()
