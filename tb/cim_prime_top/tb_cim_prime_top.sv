// tb_cim_prime_top: bench wrapper of cim_prime_top with one analogue macro shell per layer.
//
// Not synthesizable (the macros are port-only shells driven by the cocotb adapters of
// rramcim.cosim.xbar). Three layers, as the PRIME network; every other parameter of the top
// is passed through. The macros' program ports are tied off: the network's cell states
// (formed conductances, pruned pairs reset) are set up in the Python macro objects before the
// run, exactly as the hardware model's.
module tb_cim_prime_top #(
  parameter int  N_ROWS         = 512,
  parameter int  N_COLS         = 256,
  parameter int  N_ADC          = 32,
  parameter int  ADC_BITS       = 8,
  parameter int  N_TILES        = 5,
  parameter int  T_SETTLE_CYC   = 1,
  parameter int  T_TIMEOUT_CYC  = 1024,
  parameter int  T_CONV_CYC     = 4,
  parameter int  IN_BITS        = 3,
  parameter int  MAX_W          = 34,
  parameter int  MAX_CH_ROWS    = 384,
  parameter int  MAX_K          = 6,
  parameter int  RT_FIFO_DEPTH  = 16,
  parameter int  AER_FIFO_DEPTH = 64,
  parameter int  ADDR_W         = 8,
  parameter int  N_NEURONS      = 21514,
  parameter int  U_W            = 16,
  parameter int  F              = 10,
  parameter int  IN_W           = 24,
  parameter int  MUL_W          = 24,
  parameter int  T_MAX          = 16,
  parameter int  N_CLASSES      = 10,
  localparam int NLayers        = 3,
  localparam int NGroups        = N_COLS / N_ADC,
  localparam int MuxW           = NGroups > 1 ? $clog2(NGroups) : 1,
  localparam int CodeW          = N_ADC * ADC_BITS,
  localparam int TW             = $clog2(T_MAX + 1),
  localparam int ClsW           = $clog2(N_CLASSES)
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              psel_i,
  input  logic              penable_i,
  input  logic              pwrite_i,
  input  logic [7:0]        paddr_i,
  input  logic [31:0]       pwdata_i,
  output logic [31:0]       prdata_o,
  output logic              pready_o,
  output logic              pslverr_o,
  input  logic              aer_valid_i,
  output logic              aer_ready_o,
  input  logic              aer_eof_i,
  input  logic [ADDR_W-1:0] aer_c_i,
  input  logic [ADDR_W-1:0] aer_y_i,
  input  logic [ADDR_W-1:0] aer_x_i,
  output logic              out_valid_o,
  input  logic              out_ready_i,
  output logic              out_kind_o,
  output logic [TW-1:0]     out_step_o,
  output logic [ClsW-1:0]   out_idx_o,
  output logic [U_W-1:0]    out_data_o,
  output logic              busy_o,
  output logic              done_o,
  output logic              irq_o,
  output logic [7:0]        step_o,
  output logic [2:0]        layer_o
);
  logic [N_ROWS-1:0]        wl;
  logic [NLayers-1:0]       rd_en, adc_start, adc_done;
  logic [MuxW-1:0]          mux_sel;
  logic [NLayers*CodeW-1:0] adc_code;
  localparam logic [$clog2(N_ROWS)-1:0] RowZero = '0;
  localparam logic [$clog2(N_COLS)-1:0] ColZero = '0;

  cim_prime_top #(
    .N_LAYERS(NLayers), .N_ROWS(N_ROWS), .N_COLS(N_COLS), .N_ADC(N_ADC), .ADC_BITS(ADC_BITS),
    .N_TILES(N_TILES), .T_SETTLE_CYC(T_SETTLE_CYC), .T_TIMEOUT_CYC(T_TIMEOUT_CYC),
    .IN_BITS(IN_BITS), .MAX_W(MAX_W), .MAX_CH_ROWS(MAX_CH_ROWS), .MAX_K(MAX_K),
    .RT_FIFO_DEPTH(RT_FIFO_DEPTH), .AER_FIFO_DEPTH(AER_FIFO_DEPTH), .ADDR_W(ADDR_W),
    .N_NEURONS(N_NEURONS), .U_W(U_W), .F(F), .IN_W(IN_W), .MUL_W(MUL_W), .T_MAX(T_MAX),
    .N_CLASSES(N_CLASSES)
  ) u_top (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .psel_i(psel_i), .penable_i(penable_i), .pwrite_i(pwrite_i), .paddr_i(paddr_i),
    .pwdata_i(pwdata_i), .prdata_o(prdata_o), .pready_o(pready_o), .pslverr_o(pslverr_o),
    .aer_valid_i(aer_valid_i), .aer_ready_o(aer_ready_o), .aer_eof_i(aer_eof_i),
    .aer_c_i(aer_c_i), .aer_y_i(aer_y_i), .aer_x_i(aer_x_i),
    .out_valid_o(out_valid_o), .out_ready_i(out_ready_i), .out_kind_o(out_kind_o),
    .out_step_o(out_step_o), .out_idx_o(out_idx_o), .out_data_o(out_data_o),
    .xb_wl_o(wl), .xb_rd_en_o(rd_en), .xb_mux_sel_o(mux_sel), .xb_adc_start_o(adc_start),
    .xb_adc_done_i(adc_done), .xb_adc_code_i(adc_code),
    .busy_o(busy_o), .done_o(done_o), .irq_o(irq_o), .step_o(step_o), .layer_o(layer_o)
  );

  // one shell per layer (named, not generated, so the adapters find them by name)
  cim_xbar_macro #(
    .N_ROWS(N_ROWS), .N_COLS(N_COLS), .N_ADC(N_ADC), .ADC_BITS(ADC_BITS), .VERIFY_BITS(8),
    .T_CONV_CYC(T_CONV_CYC)
  ) u_macro0 (
    .clk_i(clk_i), .rst_ni(rst_ni), .wl_i(wl), .rd_en_i(rd_en[0]), .mux_sel_i(mux_sel),
    .adc_start_i(adc_start[0]), .adc_done_o(adc_done[0]), .adc_code_o(adc_code[0*CodeW +: CodeW]),
    .prog_valid_i(1'b0), .prog_ready_o(), .prog_op_i(2'd0), .prog_row_i(RowZero), .prog_col_i(ColZero),
    .prog_neg_i(1'b0), .verify_valid_o(), .verify_code_o()
  );
  cim_xbar_macro #(
    .N_ROWS(N_ROWS), .N_COLS(N_COLS), .N_ADC(N_ADC), .ADC_BITS(ADC_BITS), .VERIFY_BITS(8),
    .T_CONV_CYC(T_CONV_CYC)
  ) u_macro1 (
    .clk_i(clk_i), .rst_ni(rst_ni), .wl_i(wl), .rd_en_i(rd_en[1]), .mux_sel_i(mux_sel),
    .adc_start_i(adc_start[1]), .adc_done_o(adc_done[1]), .adc_code_o(adc_code[1*CodeW +: CodeW]),
    .prog_valid_i(1'b0), .prog_ready_o(), .prog_op_i(2'd0), .prog_row_i(RowZero), .prog_col_i(ColZero),
    .prog_neg_i(1'b0), .verify_valid_o(), .verify_code_o()
  );
  cim_xbar_macro #(
    .N_ROWS(N_ROWS), .N_COLS(N_COLS), .N_ADC(N_ADC), .ADC_BITS(ADC_BITS), .VERIFY_BITS(8),
    .T_CONV_CYC(T_CONV_CYC)
  ) u_macro2 (
    .clk_i(clk_i), .rst_ni(rst_ni), .wl_i(wl), .rd_en_i(rd_en[2]), .mux_sel_i(mux_sel),
    .adc_start_i(adc_start[2]), .adc_done_o(adc_done[2]), .adc_code_o(adc_code[2*CodeW +: CodeW]),
    .prog_valid_i(1'b0), .prog_ready_o(), .prog_op_i(2'd0), .prog_row_i(RowZero), .prog_col_i(ColZero),
    .prog_neg_i(1'b0), .verify_valid_o(), .verify_code_o()
  );
endmodule
