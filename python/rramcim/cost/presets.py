"""Cited constant sets for :mod:`rramcim.cost`.

Tags in the source strings: ``[C]`` authors' public code, ``[S]`` sister paper on
the same macro, ``[I]`` assumption of this project (not found in any source read).

* :data:`RRAM_40NM_NF` / :data:`RRAM_40NM_NF_TIMING`: the per-operation constants
  of the neural-field paper's energy model, from its code release
  (``Memristive_Neural_Field NVS/run_nerf_hpo.py``), for the 40 nm 1T1R RRAM
  macro also described by ``models/params/rram_40nm.json``.
* :data:`A100_FP32`: the paper's digital baseline, NVIDIA A100 at 19.5 TFLOP/s
  FP32 and 300 W, charged ``P / throughput`` per MAC (1 FLOP per MAC) as in the
  paper's code; :data:`A100_FP32_FMA` is the same GPU with 2 FLOP per MAC.

The raw inputs of every derived constant are module-level names so that each
number can be traced to the line of the source it comes from.
"""

from __future__ import annotations

from rramcim.cost.model import (
    CostModel,
    DigitalBaseline,
    OpEnergies,
    ReadTiming,
    cell_read_energy_J,
    conversion_energy_J,
)

__all__ = [
    "A100_FP32",
    "A100_FP32_FMA",
    "PRESETS",
    "RRAM_40NM_NF",
    "RRAM_40NM_NF_TIMING",
    "default_cost_model",
]

_NF = "Memristive_Neural_Field NVS/run_nerf_hpo.py"

# Raw inputs, all [C] from run_nerf_hpo.py.
V_READ_V: float = 0.1
"""Read voltage, V [C]."""
T_READ_S: float = 10e-9
"""Read pulse width, s [C]."""
G_CELL_MEAN_S: float = 34.05538e-6
"""Mean cell conductance, S [C]."""
ADC_POWER_W: float = 3.1e-3
"""ADC power, W [C]."""
ADC_RATE_HZ: float = 1.2e9
"""ADC sample rate, Hz [C]."""
AMP_POWER_W: float = 73.75e-6
"""Amplifier power, W [C]."""
AMP_TIME_S: float = 1e-7
"""Amplifier on-time per (output, bit), s [C]."""
ACT_RATE_HZ: float = 254e6
"""Activation-function circuit rate, Hz (delay = 1 / rate) [C]."""
ACT_POWER_W: float = 0.81e-6
"""Activation-function circuit power, W [C]."""

RRAM_40NM_NF = OpEnergies(
    name="rram_40nm_nf",
    cell_read_J=cell_read_energy_J(V_READ_V, G_CELL_MEAN_S, T_READ_S),
    driver_J=0.18e-15,
    vcmac_J=30e-6 * 0.1**2 * 1.5 * 1.2 * 1e-7,
    vcmac_fraction=0.5,
    decoder_J=0.42e-15,
    dac_J=227e-15,
    adc_J=conversion_energy_J(ADC_POWER_W, ADC_RATE_HZ),
    mux_J=14.06e-15,
    amplifier_J=2 * AMP_POWER_W * AMP_TIME_S,
    reading_J=30e-6 * 0.1 * 0.1 * 1e-7 * 1.5 * 1.1,
    activation_J=ACT_POWER_W / ACT_RATE_HZ,
    digital_add_J=0.0,
    sources={
        "cell_read_J": f"[C] V^2*G*t = (0.1 V)^2 * 34.05538 uS * 10 ns ~ 3.4 fJ ({_NF})",
        "driver_J": f"[C] 0.18 fJ, charged per in*out*res*bits, i.e. per cell read ({_NF})",
        "vcmac_J": f"[C] 30e-6*0.1^2*1.5*1.2*1e-7 J = 54 fJ ({_NF})",
        "vcmac_fraction": (
            f"[C] the code charges E_vcmac/2 per in*out*res*bits ({_NF}); "
            "[I] the reason for /2 is not stated (plausibly 50 % input-bit activity)"
        ),
        "decoder_J": f"[C] 0.42 fJ, charged per in*res, i.e. per row selection ({_NF})",
        "dac_J": f"[C] 227 fJ per conversion, charged per in*res ({_NF})",
        "adc_J": f"[C] 3.1 mW / 1.2 GS/s ~ 2.58 pJ per conversion ({_NF})",
        "mux_J": f"[C] 14.06 fJ, charged per out*res*bits ({_NF})",
        "amplifier_J": (
            f"[C] 2 * 73.75 uW * 1e-7 s = 14.75 pJ per (output, bit) ({_NF}); "
            "[I] charged here per column read, i.e. also per sample"
        ),
        "reading_J": (
            f"[C] 30e-6*0.1*0.1*1e-7*1.5*1.1 J = 49.5 fJ per (output, bit) ({_NF}); "
            "[I] charged here per column read, i.e. also per sample"
        ),
        "activation_J": f"[C] 0.81 uW * (1 / 254 MHz) ~ 3.19 fJ per activation ({_NF})",
        "digital_add_J": (
            "[I] 0: the paper's code charges no digital shift-add; set a value to include it"
        ),
    },
)
"""Per-operation energies of the neural-field paper's model (40 nm RRAM macro)."""

RRAM_40NM_NF_TIMING = ReadTiming(
    name="rram_40nm_nf_timing",
    t_read_s=T_READ_S,
    t_adc_conv_s=1.0 / ADC_RATE_HZ,
    t_activation_s=1.0 / ACT_RATE_HZ,
    sources={
        "t_read_s": f"[C] 10 ns read pulse per bit plane; latency = res*10 ns*bits ({_NF})",
        "t_adc_conv_s": f"[C] 1 / 1.2 GS/s ~ 0.83 ns ({_NF}); [I] as ADC conversion time",
        "t_activation_s": f"[C] activation delay 1 / 254 MHz ~ 3.94 ns ({_NF})",
    },
)
"""Timings of the neural-field paper's model (40 nm RRAM macro)."""

A100_FP32 = DigitalBaseline(
    name="NVIDIA A100 FP32 (1 FLOP/MAC, paper convention)",
    throughput_flops=19.5e12,
    power_W=300.0,
    flops_per_mac=1,
    source=(
        f"[C] 19.5 TFLOP/s FP32, 300 W; the code charges P/throughput per MAC, "
        f"i.e. 1 FLOP per MAC, ~ 15.4 pJ/MAC ({_NF}); "
        "[I] peak throughput at full power, no memory traffic"
    ),
)
"""The paper's GPU baseline: 300 W / 19.5 TFLOP/s charged per MAC (~15.4 pJ/MAC)."""

A100_FP32_FMA = DigitalBaseline(
    name="NVIDIA A100 FP32 (2 FLOP/MAC)",
    throughput_flops=19.5e12,
    power_W=300.0,
    flops_per_mac=2,
    source=(
        f"[C] 19.5 TFLOP/s FP32, 300 W ({_NF}); "
        "[I] a MAC counted as 2 FLOP (multiply + add), ~ 30.8 pJ/MAC"
    ),
)
"""Same GPU with the 2-FLOP-per-MAC convention (twice the paper's energy/time per MAC)."""

PRESETS: dict[str, OpEnergies | ReadTiming | DigitalBaseline] = {
    "rram_40nm_nf": RRAM_40NM_NF,
    "rram_40nm_nf_timing": RRAM_40NM_NF_TIMING,
    "a100_fp32": A100_FP32,
    "a100_fp32_fma": A100_FP32_FMA,
}
"""All presets by name."""


def default_cost_model() -> CostModel:
    """The paper's setting: :data:`RRAM_40NM_NF` against :data:`A100_FP32`."""
    return CostModel(RRAM_40NM_NF, A100_FP32, RRAM_40NM_NF_TIMING)
