// tb_cim_ode_top: bench wrapper of cim_ode_top with the analogue solver board shell.
//
// Not synthesizable (cim_ode_macro is a port-only shell driven by the cocotb adapter
// rramcim.cosim.ode.OdeMacroAdapter). The board listens to the top's SPI pins, LDAC and
// switches and answers its ADC conversions; every parameter of the top is passed through.
module tb_cim_ode_top #(
  parameter int  N_CHIPS        = 5,
  parameter int  N_ADDR         = 4,
  parameter int  DATA_W         = 12,
  parameter int  FRAME_W        = 24,
  parameter int  CLK_DIV        = 2,
  parameter int  CPOL           = 0,
  parameter int  CPHA           = 1,
  parameter int  N_STATE        = 2,
  parameter int  ADC_BITS       = 12,
  parameter int  TAB_DEPTH      = 256,
  parameter int  CORDIC_ITERS   = 16,
  parameter int  T_SETTLE_CYC   = 1,
  parameter int  T_TIMEOUT_CYC  = 1024,
  parameter int  SMP_FIFO_DEPTH = 64,
  parameter int  T_CONV_CYC     = 4,
  localparam int CodeW          = N_STATE * ADC_BITS
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               psel_i,
  input  logic               penable_i,
  input  logic               pwrite_i,
  input  logic [7:0]         paddr_i,
  input  logic [31:0]        pwdata_i,
  output logic [31:0]        prdata_o,
  output logic               pready_o,
  output logic               pslverr_o,
  output logic               busy_o,
  output logic               done_o,
  output logic               irq_o
);
  logic               sclk, cs_n, ldac_n, mux_sel, adc_start, adc_done;
  logic [N_CHIPS-1:0] mosi;
  logic [3:0]         sw;
  logic [CodeW-1:0]   adc_code;

  cim_ode_top #(
    .N_CHIPS(N_CHIPS), .N_ADDR(N_ADDR), .DATA_W(DATA_W), .FRAME_W(FRAME_W), .CLK_DIV(CLK_DIV),
    .CPOL(CPOL), .CPHA(CPHA), .N_STATE(N_STATE), .ADC_BITS(ADC_BITS), .TAB_DEPTH(TAB_DEPTH),
    .CORDIC_ITERS(CORDIC_ITERS), .T_SETTLE_CYC(T_SETTLE_CYC), .T_TIMEOUT_CYC(T_TIMEOUT_CYC),
    .SMP_FIFO_DEPTH(SMP_FIFO_DEPTH)
  ) u_top (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .psel_i(psel_i), .penable_i(penable_i), .pwrite_i(pwrite_i), .paddr_i(paddr_i),
    .pwdata_i(pwdata_i), .prdata_o(prdata_o), .pready_o(pready_o), .pslverr_o(pslverr_o),
    .sclk_o(sclk), .cs_n_o(cs_n), .mosi_o(mosi), .ldac_n_o(ldac_n), .sw_o(sw),
    .adc_mux_sel_o(mux_sel), .adc_start_o(adc_start), .adc_done_i(adc_done),
    .adc_code_i(adc_code),
    .busy_o(busy_o), .done_o(done_o), .irq_o(irq_o)
  );

  cim_ode_macro #(
    .N_CHIPS(N_CHIPS), .N_ADDR(N_ADDR), .N_ADC(N_STATE), .ADC_BITS(ADC_BITS),
    .T_CONV_CYC(T_CONV_CYC)
  ) u_macro (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .sclk_i(sclk), .cs_n_i(cs_n), .mosi_i(mosi), .ldac_n_i(ldac_n), .sw_i(sw),
    .mux_sel_i(mux_sel), .adc_start_i(adc_start), .adc_done_o(adc_done), .adc_code_o(adc_code)
  );

endmodule
