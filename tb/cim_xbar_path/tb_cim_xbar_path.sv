// tb_cim_xbar_path: bench wrapper of the crossbar read path (not synthesised).
//
// cim_xbar_ctrl + cim_adc_if + the cim_xbar_macro shell, wired as a tile would be. The macro's
// outputs are driven by the cocotb adapter rramcim.cosim.xbar.XbarMacroAdapter from the Python
// crossbar model. Parameters follow the blocks (see their headers); N_GROUPS = N_COLS / N_ADC.
module tb_cim_xbar_path #(
  parameter int N_ROWS        = 32,
  parameter int N_COLS        = 16,
  parameter int N_ADC         = 4,
  parameter int ADC_BITS      = 6,
  parameter int IN_BITS       = 4,
  parameter int N_TILES       = 2,
  parameter int T_SETTLE_CYC  = 1,
  parameter int T_CONV_CYC    = 3,
  parameter int T_TIMEOUT_CYC = 256,
  localparam int NGroups      = N_COLS / N_ADC,
  localparam int AccW         = ADC_BITS + IN_BITS + $clog2(N_TILES) + 1,
  localparam int MuxW         = NGroups > 1 ? $clog2(NGroups) : 1,
  localparam int TilesW       = $clog2(N_TILES + 1),
  localparam int GroupsW      = $clog2(NGroups + 1),
  localparam int BitsW        = $clog2(IN_BITS + 1)
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic [TilesW-1:0]         cfg_tiles_i,
  input  logic [GroupsW-1:0]        cfg_groups_i,
  input  logic [BitsW-1:0]          cfg_in_bits_i,
  input  logic                      cfg_in_signed_i,
  output logic                      err_cfg_o,
  input  logic                      in_valid_i,
  output logic                      in_ready_o,
  input  logic [N_ROWS*IN_BITS-1:0] in_data_i,
  output logic                      out_valid_o,
  input  logic                      out_ready_i,
  output logic [N_ADC*AccW-1:0]     out_data_o,
  output logic                      out_last_o,
  output logic                      busy_o,
  output logic [31:0]               vec_count_o,
  output logic [31:0]               read_count_o,
  output logic [31:0]               sat_count_o,
  output logic [31:0]               conv_count_o,
  output logic                      err_timeout_o,
  output logic                      err_group_o,
  // program port of the macro, driven directly by the bench
  input  logic                      prog_valid_i,
  output logic                      prog_ready_o,
  input  logic [1:0]                prog_op_i,
  input  logic [$clog2(N_ROWS)-1:0] prog_row_i,
  input  logic [$clog2(N_COLS)-1:0] prog_col_i,
  input  logic                      prog_neg_i,
  output logic                      verify_valid_o,
  output logic [7:0]                verify_code_o
);
  logic [N_ROWS-1:0]         wl;
  logic                      rd_en;
  logic                      req_valid, req_ready, rsp_valid, rsp_ready, rsp_timeout;
  logic [MuxW-1:0]           req_group, mux_sel;
  logic [N_ADC*ADC_BITS-1:0] rsp_code, adc_code;
  logic [N_ADC-1:0]          rsp_sat;
  logic                      adc_start, adc_done, adc_busy;

  cim_xbar_ctrl #(
    .N_ROWS(N_ROWS), .IN_BITS(IN_BITS), .N_ADC(N_ADC), .ADC_BITS(ADC_BITS),
    .N_GROUPS(NGroups), .N_TILES(N_TILES), .ACC_W(AccW)
  ) u_ctrl (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .cfg_tiles_i(cfg_tiles_i), .cfg_groups_i(cfg_groups_i), .cfg_in_bits_i(cfg_in_bits_i),
    .cfg_in_signed_i(cfg_in_signed_i), .err_cfg_o(err_cfg_o),
    .in_valid_i(in_valid_i), .in_ready_o(in_ready_o), .in_data_i(in_data_i),
    .wl_o(wl), .rd_en_o(rd_en),
    .req_valid_o(req_valid), .req_ready_i(req_ready), .req_group_o(req_group),
    .rsp_valid_i(rsp_valid), .rsp_ready_o(rsp_ready), .rsp_code_i(rsp_code),
    .out_valid_o(out_valid_o), .out_ready_i(out_ready_i), .out_data_o(out_data_o),
    .out_last_o(out_last_o), .busy_o(busy_o), .vec_count_o(vec_count_o),
    .read_count_o(read_count_o)
  );

  cim_adc_if #(
    .N_ADC(N_ADC), .ADC_BITS(ADC_BITS), .N_GROUPS(NGroups), .T_SETTLE_CYC(T_SETTLE_CYC),
    .T_TIMEOUT_CYC(T_TIMEOUT_CYC)
  ) u_adc_if (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .req_valid_i(req_valid), .req_ready_o(req_ready), .req_group_i(req_group),
    .rsp_valid_o(rsp_valid), .rsp_ready_i(rsp_ready), .rsp_code_o(rsp_code),
    .rsp_sat_o(rsp_sat), .rsp_timeout_o(rsp_timeout),
    .mux_sel_o(mux_sel), .adc_start_o(adc_start), .adc_done_i(adc_done),
    .adc_code_i(adc_code),
    .sat_count_o(sat_count_o), .conv_count_o(conv_count_o), .err_timeout_o(err_timeout_o),
    .err_group_o(err_group_o), .busy_o(adc_busy)
  );

  cim_xbar_macro #(
    .N_ROWS(N_ROWS), .N_COLS(N_COLS), .N_ADC(N_ADC), .ADC_BITS(ADC_BITS), .VERIFY_BITS(8),
    .T_CONV_CYC(T_CONV_CYC)
  ) u_macro (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .wl_i(wl), .rd_en_i(rd_en), .mux_sel_i(mux_sel), .adc_start_i(adc_start),
    .adc_done_o(adc_done), .adc_code_o(adc_code),
    .prog_valid_i(prog_valid_i), .prog_ready_o(prog_ready_o), .prog_op_i(prog_op_i),
    .prog_row_i(prog_row_i), .prog_col_i(prog_col_i), .prog_neg_i(prog_neg_i),
    .verify_valid_o(verify_valid_o), .verify_code_o(verify_code_o)
  );
endmodule
