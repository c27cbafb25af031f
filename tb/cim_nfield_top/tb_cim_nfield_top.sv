// tb_cim_nfield_top: bench wrapper of cim_nfield_top with the encoder macro shell and one MLP
// macro shell per layer slot.
//
// Not synthesizable (the macros are port-only shells driven by the cocotb adapters of
// rramcim.cosim.xbar). N_LAYERS (layer slots of the top, [1, 4]) is passed to the top; the
// wrapper always holds four MLP shells, u_mlp0 .. u_mlp3 (flat names, so the adapters find them
// by name on both simulators), and shells of slots N_LAYERS .. 3 are idle (inputs tied low,
// outputs unused). Every MLP shell has the top's M_*
// geometry (M_ROWS x M_GROUPS*M_N_ADC, M_N_ADC channels): the Python adapters use their own
// macro's geometry (a macro with fewer channels leaves the upper channels at 0). The encoder
// shell's program port is tied off (its conductances are formed, not programmed). T_CONV_CYC is
// the shells' conversion time (the adapters' timing), not a parameter of the top.
module tb_cim_nfield_top #(
  parameter int  N_IN               = 2,
  parameter int  COORD_BITS         = 8,
  parameter int  IN_BITS            = 8,
  parameter int  SIN_W              = 12,
  parameter int  PHASE_W            = 24,
  parameter int  PHASE_F            = 16,
  parameter int  CORDIC_ITERS       = 12,
  parameter int  GAIN_BITS          = 16,
  parameter int  N_FREQ             = 8,
  parameter int  E_N_ADC            = 8,
  parameter int  E_ADC_BITS         = 12,
  parameter int  E_GROUPS           = 1,
  parameter int  M_ROWS             = 19,
  parameter int  M_N_ADC            = 32,
  parameter int  M_ADC_BITS         = 8,
  parameter int  M_GROUPS           = 7,
  parameter int  N_CELLS            = 12,
  parameter int  RATIO_Q8           = 384,
  parameter int  COMB_RADIX_F       = 12,
  parameter int  COMB_OUT_SHIFT     = 10,
  parameter int  TGT_W              = 12,
  parameter int  HAQ_RADIX_F        = 16,
  parameter int  VERIFY_BITS        = 12,
  parameter int  VERIFY_TIMEOUT_CYC = 64,
  parameter int  HAQ_FIFO_DEPTH     = 64,
  parameter int  OUT_W              = 16,
  parameter int  T_SETTLE_CYC       = 1,
  parameter int  T_TIMEOUT_CYC      = 1024,
  parameter int  T_CONV_CYC         = 4,
  parameter int  N_LAYERS           = 4,
  localparam int NLayers            = 4,
  localparam int ERows              = N_IN > 2 ? N_IN : 2,
  localparam int ECols              = E_GROUPS * E_N_ADC,
  localparam int EMuxW              = E_GROUPS > 1 ? $clog2(E_GROUPS) : 1,
  localparam int MMuxW              = M_GROUPS > 1 ? $clog2(M_GROUPS) : 1,
  localparam int MCols              = M_GROUPS * M_N_ADC,
  localparam int RowW               = M_ROWS > 1 ? $clog2(M_ROWS) : 1,
  localparam int ColW               = MCols > 1 ? $clog2(MCols) : 1,
  localparam int ERowW              = ERows > 1 ? $clog2(ERows) : 1,
  localparam int EColW              = ECols > 1 ? $clog2(ECols) : 1,
  localparam int MCodeW             = M_N_ADC * M_ADC_BITS
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  input  logic                       psel_i,
  input  logic                       penable_i,
  input  logic                       pwrite_i,
  input  logic [7:0]                 paddr_i,
  input  logic [31:0]                pwdata_i,
  output logic [31:0]                prdata_o,
  output logic                       pready_o,
  output logic                       pslverr_o,
  input  logic                       coord_valid_i,
  output logic                       coord_ready_o,
  input  logic [N_IN*COORD_BITS-1:0] coord_data_i,
  output logic                       out_valid_o,
  input  logic                       out_ready_i,
  output logic [OUT_W-1:0]           out_data_o,
  output logic [7:0]                 out_idx_o,
  output logic                       out_last_o,
  output logic                       busy_o,
  output logic [3:0]                 stage_o
);
  logic [ERows-1:0]                  xe_wl;
  logic                              xe_rd_en, xe_adc_start, xe_adc_done;
  logic [EMuxW-1:0]                  xe_mux_sel;
  logic [E_N_ADC*E_ADC_BITS-1:0]     xe_adc_code;
  logic [M_ROWS-1:0]                 xm_wl;
  logic [N_LAYERS-1:0]               xm_rd_en, xm_adc_start, xm_adc_done;
  logic [MMuxW-1:0]                  xm_mux_sel;
  logic [N_LAYERS*MCodeW-1:0]        xm_adc_code;
  logic [N_LAYERS-1:0]               xm_prog_valid, xm_prog_ready, xm_verify_valid;
  logic [1:0]                        xm_prog_op;
  logic [RowW-1:0]                   xm_prog_row;
  logic [ColW-1:0]                   xm_prog_col;
  logic                              xm_prog_neg;
  logic [N_LAYERS*VERIFY_BITS-1:0]   xm_verify_code;
  // the four shells' side of the layer ports (slots >= N_LAYERS idle)
  logic [NLayers-1:0]                sh_rd_en, sh_adc_start;
  logic [NLayers-1:0]                sh_prog_valid;
  // the idle shells' outputs are read by nothing (N_LAYERS < 4)
  /* verilator lint_off UNUSEDSIGNAL */
  logic [NLayers-1:0]                sh_adc_done, sh_prog_ready, sh_verify_valid;
  logic [NLayers*MCodeW-1:0]         sh_adc_code;
  logic [NLayers*VERIFY_BITS-1:0]    sh_verify_code;
  /* verilator lint_on UNUSEDSIGNAL */
  localparam logic [ERowW-1:0] ERowZero = '0;
  localparam logic [EColW-1:0] EColZero = '0;

  cim_nfield_top #(
    .N_IN(N_IN), .COORD_BITS(COORD_BITS), .IN_BITS(IN_BITS), .SIN_W(SIN_W), .PHASE_W(PHASE_W),
    .PHASE_F(PHASE_F), .CORDIC_ITERS(CORDIC_ITERS), .GAIN_BITS(GAIN_BITS), .N_FREQ(N_FREQ),
    .E_N_ADC(E_N_ADC), .E_ADC_BITS(E_ADC_BITS), .E_GROUPS(E_GROUPS), .M_ROWS(M_ROWS),
    .M_N_ADC(M_N_ADC), .M_ADC_BITS(M_ADC_BITS), .M_GROUPS(M_GROUPS), .N_CELLS(N_CELLS),
    .RATIO_Q8(RATIO_Q8), .COMB_RADIX_F(COMB_RADIX_F), .COMB_OUT_SHIFT(COMB_OUT_SHIFT),
    .TGT_W(TGT_W), .HAQ_RADIX_F(HAQ_RADIX_F), .VERIFY_BITS(VERIFY_BITS),
    .VERIFY_TIMEOUT_CYC(VERIFY_TIMEOUT_CYC), .HAQ_FIFO_DEPTH(HAQ_FIFO_DEPTH), .OUT_W(OUT_W),
    .T_SETTLE_CYC(T_SETTLE_CYC), .T_TIMEOUT_CYC(T_TIMEOUT_CYC), .N_LAYERS(N_LAYERS)
  ) u_top (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .psel_i(psel_i), .penable_i(penable_i), .pwrite_i(pwrite_i), .paddr_i(paddr_i),
    .pwdata_i(pwdata_i), .prdata_o(prdata_o), .pready_o(pready_o), .pslverr_o(pslverr_o),
    .coord_valid_i(coord_valid_i), .coord_ready_o(coord_ready_o), .coord_data_i(coord_data_i),
    .out_valid_o(out_valid_o), .out_ready_i(out_ready_i), .out_data_o(out_data_o),
    .out_idx_o(out_idx_o), .out_last_o(out_last_o),
    .xe_wl_o(xe_wl), .xe_rd_en_o(xe_rd_en), .xe_mux_sel_o(xe_mux_sel),
    .xe_adc_start_o(xe_adc_start), .xe_adc_done_i(xe_adc_done), .xe_adc_code_i(xe_adc_code),
    .xm_wl_o(xm_wl), .xm_rd_en_o(xm_rd_en), .xm_mux_sel_o(xm_mux_sel),
    .xm_adc_start_o(xm_adc_start), .xm_adc_done_i(xm_adc_done), .xm_adc_code_i(xm_adc_code),
    .xm_prog_valid_o(xm_prog_valid), .xm_prog_ready_i(xm_prog_ready), .xm_prog_op_o(xm_prog_op),
    .xm_prog_row_o(xm_prog_row), .xm_prog_col_o(xm_prog_col), .xm_prog_neg_o(xm_prog_neg),
    .xm_verify_valid_i(xm_verify_valid), .xm_verify_code_i(xm_verify_code),
    .busy_o(busy_o), .stage_o(stage_o)
  );

  initial begin
    if (N_LAYERS < 1 || N_LAYERS > NLayers) $fatal(1, "tb_cim_nfield_top: N_LAYERS not in [1, 4]");
  end

  for (genvar i = 0; i < NLayers; i++) begin : g_slot
    if (i < N_LAYERS) begin : g_used
      assign sh_rd_en[i]      = xm_rd_en[i];
      assign sh_adc_start[i]  = xm_adc_start[i];
      assign sh_prog_valid[i] = xm_prog_valid[i];
      assign xm_adc_done[i]   = sh_adc_done[i];
      assign xm_prog_ready[i] = sh_prog_ready[i];
      assign xm_verify_valid[i] = sh_verify_valid[i];
      assign xm_adc_code[i*MCodeW +: MCodeW] = sh_adc_code[i*MCodeW +: MCodeW];
      assign xm_verify_code[i*VERIFY_BITS +: VERIFY_BITS] =
          sh_verify_code[i*VERIFY_BITS +: VERIFY_BITS];
    end else begin : g_idle
      assign sh_rd_en[i]      = 1'b0;
      assign sh_adc_start[i]  = 1'b0;
      assign sh_prog_valid[i] = 1'b0;
    end
  end

  cim_xbar_macro #(
    .N_ROWS(ERows), .N_COLS(ECols), .N_ADC(E_N_ADC), .ADC_BITS(E_ADC_BITS),
    .VERIFY_BITS(VERIFY_BITS), .T_CONV_CYC(T_CONV_CYC)
  ) u_enc (
    .clk_i(clk_i), .rst_ni(rst_ni), .wl_i(xe_wl), .rd_en_i(xe_rd_en), .mux_sel_i(xe_mux_sel),
    .adc_start_i(xe_adc_start), .adc_done_o(xe_adc_done), .adc_code_o(xe_adc_code),
    .prog_valid_i(1'b0), .prog_ready_o(), .prog_op_i(2'd0), .prog_row_i(ERowZero),
    .prog_col_i(EColZero), .prog_neg_i(1'b0), .verify_valid_o(), .verify_code_o()
  );

  cim_xbar_macro #(
    .N_ROWS(M_ROWS), .N_COLS(MCols), .N_ADC(M_N_ADC), .ADC_BITS(M_ADC_BITS),
    .VERIFY_BITS(VERIFY_BITS), .T_CONV_CYC(T_CONV_CYC)
  ) u_mlp0 (
    .clk_i(clk_i), .rst_ni(rst_ni), .wl_i(xm_wl), .rd_en_i(sh_rd_en[0]), .mux_sel_i(xm_mux_sel),
    .adc_start_i(sh_adc_start[0]), .adc_done_o(sh_adc_done[0]),
    .adc_code_o(sh_adc_code[0*MCodeW +: MCodeW]),
    .prog_valid_i(sh_prog_valid[0]), .prog_ready_o(sh_prog_ready[0]), .prog_op_i(xm_prog_op),
    .prog_row_i(xm_prog_row), .prog_col_i(xm_prog_col), .prog_neg_i(xm_prog_neg),
    .verify_valid_o(sh_verify_valid[0]),
    .verify_code_o(sh_verify_code[0*VERIFY_BITS +: VERIFY_BITS])
  );

  cim_xbar_macro #(
    .N_ROWS(M_ROWS), .N_COLS(MCols), .N_ADC(M_N_ADC), .ADC_BITS(M_ADC_BITS),
    .VERIFY_BITS(VERIFY_BITS), .T_CONV_CYC(T_CONV_CYC)
  ) u_mlp1 (
    .clk_i(clk_i), .rst_ni(rst_ni), .wl_i(xm_wl), .rd_en_i(sh_rd_en[1]), .mux_sel_i(xm_mux_sel),
    .adc_start_i(sh_adc_start[1]), .adc_done_o(sh_adc_done[1]),
    .adc_code_o(sh_adc_code[1*MCodeW +: MCodeW]),
    .prog_valid_i(sh_prog_valid[1]), .prog_ready_o(sh_prog_ready[1]), .prog_op_i(xm_prog_op),
    .prog_row_i(xm_prog_row), .prog_col_i(xm_prog_col), .prog_neg_i(xm_prog_neg),
    .verify_valid_o(sh_verify_valid[1]),
    .verify_code_o(sh_verify_code[1*VERIFY_BITS +: VERIFY_BITS])
  );

  cim_xbar_macro #(
    .N_ROWS(M_ROWS), .N_COLS(MCols), .N_ADC(M_N_ADC), .ADC_BITS(M_ADC_BITS),
    .VERIFY_BITS(VERIFY_BITS), .T_CONV_CYC(T_CONV_CYC)
  ) u_mlp2 (
    .clk_i(clk_i), .rst_ni(rst_ni), .wl_i(xm_wl), .rd_en_i(sh_rd_en[2]), .mux_sel_i(xm_mux_sel),
    .adc_start_i(sh_adc_start[2]), .adc_done_o(sh_adc_done[2]),
    .adc_code_o(sh_adc_code[2*MCodeW +: MCodeW]),
    .prog_valid_i(sh_prog_valid[2]), .prog_ready_o(sh_prog_ready[2]), .prog_op_i(xm_prog_op),
    .prog_row_i(xm_prog_row), .prog_col_i(xm_prog_col), .prog_neg_i(xm_prog_neg),
    .verify_valid_o(sh_verify_valid[2]),
    .verify_code_o(sh_verify_code[2*VERIFY_BITS +: VERIFY_BITS])
  );

  cim_xbar_macro #(
    .N_ROWS(M_ROWS), .N_COLS(MCols), .N_ADC(M_N_ADC), .ADC_BITS(M_ADC_BITS),
    .VERIFY_BITS(VERIFY_BITS), .T_CONV_CYC(T_CONV_CYC)
  ) u_mlp3 (
    .clk_i(clk_i), .rst_ni(rst_ni), .wl_i(xm_wl), .rd_en_i(sh_rd_en[3]), .mux_sel_i(xm_mux_sel),
    .adc_start_i(sh_adc_start[3]), .adc_done_o(sh_adc_done[3]),
    .adc_code_o(sh_adc_code[3*MCodeW +: MCodeW]),
    .prog_valid_i(sh_prog_valid[3]), .prog_ready_o(sh_prog_ready[3]), .prog_op_i(xm_prog_op),
    .prog_row_i(xm_prog_row), .prog_col_i(xm_prog_col), .prog_neg_i(xm_prog_neg),
    .verify_valid_o(sh_verify_valid[3]),
    .verify_code_o(sh_verify_code[3*VERIFY_BITS +: VERIFY_BITS])
  );
endmodule
