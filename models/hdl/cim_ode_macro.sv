// cim_ode_macro: port-only shell of the analogue closed-loop solver board.
//
// Purpose
//   Stands for the analogue side of the neural-ODE / diffusion hardware in RTL simulation:
//   the row of SPI DAC chips, the crossbar MLP with its analogue activations, the integrators
//   and their switches, and the state ADC. It has no logic: every output is driven by the
//   cocotb adapter `rramcim.cosim.ode.OdeMacroAdapter`, which attaches the same Python
//   objects the hardware model uses: `rramcim.analog.dac.DacBank` (DAC registers) and
//   `rramcim.analog.ode.OdeSolver` (the solver, integrated between DAC updates).
//
// DAC side (driven by cim_dac_spi; pins sampled once per clk_i cycle)
//   - One frame per chip per chip-select window, most significant bit first on that chip's
//     MOSI line, SPI mode CPOL/CPHA: {cmd[3:0], addr[3:0], code[DATA_W-1:0], zero padding}.
//     cmd CMD_WRITE writes the chip's input register addr; CMD_NOP does nothing.
//   - An LDAC low pulse copies every input register to its output on all chips at once. Each
//     LDAC pulse is one solver tick: the adapter reads sw_i and integrates the solver for one
//     tick with the new DAC outputs (channel ch = chip * N_ADDR + addr).
// Switches
//   - sw_i = {S4, S3, S2, S1}: 4'b0001 reset the integrators, 4'b0010 load the initial state
//     from the init DAC channels, 4'b0100 integrate (loop closed), 4'b1000 or 4'b0000 hold.
//     Sampled at each LDAC pulse (the sequencer sets them at the start of the tick, before
//     the tick's DAC frames); any other value fails the bench.
// ADC side (driven by cim_adc_if)
//   - adc_start_i high for one cycle samples the integrator outputs (the state after the
//     ticks integrated so far) and starts a conversion; T_CONV_CYC cycles later adc_done_o is
//     high for one cycle and adc_code_o holds N_ADC signed codes (state a at
//     [a*ADC_BITS +: ADC_BITS]; channels beyond the solver's state read 0). The codes stay until
//     the next conversion completes. mux_sel_i is ignored (one group). A reset (rst_ni low)
//     cancels a conversion in flight; it does not change the analogue state (the sequencer's
//     RESET phase does).
//
// Parameters (unit, legal range)
//   N_CHIPS     DAC chips (MOSI lines), 1 .. 8
//   N_ADDR      channels per DAC chip, 1 .. 16
//   N_ADC       state ADC channels, 1 .. 16
//   ADC_BITS    ADC resolution in bits, 4 .. 16
//   T_CONV_CYC  conversion time in clock cycles, 1 .. 1024 (informational: the adapter
//               takes it from the bench configuration)
module cim_ode_macro #(
  parameter int N_CHIPS    = 5,
  parameter int N_ADDR     = 4,
  parameter int N_ADC      = 2,
  parameter int ADC_BITS   = 12,
  parameter int T_CONV_CYC = 4
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  // DAC chips (SPI)
  input  logic                      sclk_i,
  input  logic                      cs_n_i,
  input  logic [N_CHIPS-1:0]        mosi_i,
  input  logic                      ldac_n_i,
  // integrator switches
  input  logic [3:0]                sw_i,
  // state ADC
  input  logic                      mux_sel_i,
  input  logic                      adc_start_i,
  output logic                      adc_done_o,
  output logic [N_ADC*ADC_BITS-1:0] adc_code_o
);
  // Analogue board: outputs are deposited by the cocotb adapter; nothing is modelled here.
  initial begin
    if (N_CHIPS < 1 || N_CHIPS > 8) $fatal(1, "cim_ode_macro: N_CHIPS (%0d) out of 1..8", N_CHIPS);
    if (N_ADDR < 1 || N_ADDR > 16) $fatal(1, "cim_ode_macro: N_ADDR (%0d) out of 1..16", N_ADDR);
    if (N_ADC < 1 || N_ADC > 16) $fatal(1, "cim_ode_macro: N_ADC (%0d) out of 1..16", N_ADC);
    if (ADC_BITS < 4 || ADC_BITS > 16) $fatal(1, "cim_ode_macro: ADC_BITS (%0d) out of 4..16", ADC_BITS);
  end
endmodule
