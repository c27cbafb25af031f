// cim_xbar_macro: port-only shell of the analogue RRAM crossbar macro.
//
// Purpose
//   Stands for the analogue array in RTL simulation. It has no logic: every output is driven
//   by the cocotb adapter `rramcim.cosim.xbar.XbarMacroAdapter`, which attaches the same Python
//   `rramcim.analog.crossbar.CrossbarMacro` object that the golden pipeline uses.
//   N_ROWS word lines x N_COLS differential weight columns (each a G+ / G- cell pair, so the
//   array holds 2 * N_ROWS * N_COLS cells; 512 x 256 pairs = 256 K cells = the 40 nm macro).
//   N_ADC column ADCs are shared through a column multiplexer: group g connects columns
//   g*N_ADC .. g*N_ADC+N_ADC-1 to ADC channels 0 .. N_ADC-1.
//
// Read protocol (all sampled on the rising edge of clk_i)
//   - wl_i / rd_en_i drive the word lines (binary, V_read on a set bit) and enable the bit lines.
//   - adc_start_i high for one cycle samples the differential column currents of the group
//     selected by mux_sel_i and starts a conversion. This is one "read" of the macro.
//   - T_CONV_CYC cycles later adc_done_o is high for one cycle and adc_code_o holds the
//     N_ADC signed two's-complement codes (channel a at [a*ADC_BITS +: ADC_BITS]); the codes
//     stay valid until the next conversion completes. A start while a conversion is running
//     is a protocol error (the adapter counts it and fails the bench).
//   - Reads are numbered from 0 after each reset (rst_ni low); the read number keys the read
//     noise, so golden model and co-simulation draw identical noise (see ARCHITECTURE.md).
//
// Program/verify protocol
//   - prog_valid_i && prog_ready_o transfers one operation: prog_op_i (0 SET, 1 RESET,
//     2 FORM, 3 VERIFY) on cell (prog_row_i, prog_col_i, prog_neg_i selects the G- cell).
//   - For VERIFY, verify_valid_o pulses with verify_code_o = the cell's conductance read
//     through the verify ADC (unsigned, VERIFY_BITS).
//
// Parameters (unit, legal range)
//   N_ROWS      word lines, 2 .. 4096
//   N_COLS      differential columns, N_ADC .. 4096, multiple of N_ADC
//   N_ADC       ADC channels, 1 .. N_COLS
//   ADC_BITS    ADC resolution in bits, 2 .. 16
//   VERIFY_BITS verify-read resolution in bits, 2 .. 16
//   T_CONV_CYC  conversion time in clock cycles, 1 .. 1024 (informational: the adapter
//               reads it from the bench configuration)
module cim_xbar_macro #(
  parameter int N_ROWS      = 512,
  parameter int N_COLS      = 256,
  parameter int N_ADC       = 32,
  parameter int ADC_BITS    = 8,
  parameter int VERIFY_BITS = 8,
  parameter int T_CONV_CYC  = 4,
  localparam int MuxW       = (N_COLS / N_ADC) > 1 ? $clog2(N_COLS / N_ADC) : 1,
  localparam int RowW       = N_ROWS > 1 ? $clog2(N_ROWS) : 1,
  localparam int ColW       = N_COLS > 1 ? $clog2(N_COLS) : 1
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  // read port
  input  logic [N_ROWS-1:0]         wl_i,
  input  logic                      rd_en_i,
  input  logic [MuxW-1:0]           mux_sel_i,
  input  logic                      adc_start_i,
  output logic                      adc_done_o,
  output logic [N_ADC*ADC_BITS-1:0] adc_code_o,
  // program / verify port
  input  logic                      prog_valid_i,
  output logic                      prog_ready_o,
  input  logic [1:0]                prog_op_i,
  input  logic [RowW-1:0]           prog_row_i,
  input  logic [ColW-1:0]           prog_col_i,
  input  logic                      prog_neg_i,
  output logic                      verify_valid_o,
  output logic [VERIFY_BITS-1:0]    verify_code_o
);
  // Analogue macro: outputs are deposited by the cocotb adapter; nothing is modelled here.
  initial begin
    if (N_COLS % N_ADC != 0) $fatal(1, "cim_xbar_macro: N_COLS (%0d) must be a multiple of N_ADC (%0d)", N_COLS, N_ADC);
    if (ADC_BITS < 2 || ADC_BITS > 16) $fatal(1, "cim_xbar_macro: ADC_BITS (%0d) out of 2..16", ADC_BITS);
  end
endmodule
