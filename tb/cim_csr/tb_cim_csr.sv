// tb_cim_csr: bench wrapper of cim_csr (not synthesised).
//
// Plays the part of a top around cim_csr:
//   - derives the wide parameters from integer ones the bench runner can pass (the cocotb
//     bench computes the same maps in Python, see slot_maps() in test_cim_csr.py):
//       RW_MASK[i]     = RW_PAT[i % 16]
//       EXT_WR_MASK[i] = EXT_PAT[i % 16] && !RW_MASK[i]
//       RESET_VAL word i = (RW_MASK[i] && RV_SEED != 0) ? mix(RV_SEED, i) : 0, with the
//         32-bit arithmetic x = RV_SEED * 32'h9e3779b1 + (i + 1) * 32'h85ebca77;
//         mix = x ^ (x >> 15)  (RV_SEED = 0: all reset values 0, as the RTL default)
//   - vetoes writes by a fixed legality rule, combinationally from wr_req_o / wr_idx_o /
//     wr_data_o (so the rule also checks those outputs):
//       illegal = wr_idx_o == ERR_IDX && wr_data_o[31]
//     and, outside write requests, passes the bench's wr_junk_i to wr_err_i (which cim_csr
//     must then ignore);
//   - shows the veto given to cim_csr on wr_err_o;
//   - drives reg_rd_i from the bench's 32-bit rd_base_i: word i = rd_base_i ^ (i * 32'h9e3779b9)
//     (all words distinct, all change with rd_base_i), so the bench writes 32 bits per cycle
//     instead of N_REGS*32;
//   - has a stub APB port vs_* that goes nowhere: the bench's VIP self-test drives its master
//     side with tb.vip.apb.ApbMaster and its slave side (vs_prdata_i, vs_pready_i,
//     vs_pslverr_i) from Python, with wait states, errors and X/Z that cim_csr never shows;
//   - folds reg_q_o into reg_q_fold_o = XOR of its words, which the bench compares every
//     cycle (any single changed word shows) while it reads the full reg_q_o only in the cycles
//     after writes and periodically (an N_REGS*32-bit read costs milliseconds of Python).
// Parameters: N_REGS, ADDR_W as cim_csr; RW_PAT, EXT_PAT 16-bit patterns; RV_SEED any
// non-negative int; ERR_IDX the slot whose writes with bit 31 set are illegal.
module tb_cim_csr #(
  parameter int  N_REGS  = 5,
  parameter int  ADDR_W  = 6,
  parameter int  RW_PAT  = 32'h0013,
  parameter int  EXT_PAT = 32'h0008,
  parameter int  RV_SEED = 1,
  parameter int  ERR_IDX = 1,
  localparam int IDX_W   = N_REGS > 1 ? $clog2(N_REGS) : 1
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic                 psel_i,
  input  logic                 penable_i,
  input  logic                 pwrite_i,
  input  logic [ADDR_W-1:0]    paddr_i,
  input  logic [31:0]          pwdata_i,
  output logic [31:0]          prdata_o,
  output logic                 pready_o,
  output logic                 pslverr_o,
  output logic [N_REGS*32-1:0] reg_q_o,
  output logic [31:0]          reg_q_fold_o,
  input  logic [31:0]          rd_base_i,
  output logic                 wr_req_o,
  output logic [IDX_W-1:0]     wr_idx_o,
  output logic [31:0]          wr_data_o,
  input  logic                 wr_junk_i,
  output logic                 wr_err_o,
  output logic [N_REGS-1:0]    wr_pulse_o,
  output logic [N_REGS-1:0]    rd_pulse_o,
  input  logic                 err_clr_i,
  output logic                 err_o,
  output logic [ADDR_W-1:0]    err_addr_o,
  output logic [31:0]          err_count_o,
  // VIP self-test stub (unconnected)
  input  logic                 vs_psel_i,
  input  logic                 vs_penable_i,
  input  logic                 vs_pwrite_i,
  input  logic [ADDR_W-1:0]    vs_paddr_i,
  input  logic [31:0]          vs_pwdata_i,
  input  logic [31:0]          vs_prdata_i,
  input  logic                 vs_pready_i,
  input  logic                 vs_pslverr_i
);

  function automatic logic [N_REGS-1:0] rw_mask_of(input int pat);
    logic [N_REGS-1:0] m;
    for (int i = 0; i < N_REGS; i++) begin
      m[i] = pat[i % 16];
    end
    rw_mask_of = m;
  endfunction

  function automatic logic [N_REGS-1:0] ext_mask_of(input int pat, input logic [N_REGS-1:0] rw);
    logic [N_REGS-1:0] m;
    for (int i = 0; i < N_REGS; i++) begin
      m[i] = pat[i % 16] && !rw[i];
    end
    ext_mask_of = m;
  endfunction

  function automatic logic [N_REGS*32-1:0] reset_of(input int seed, input logic [N_REGS-1:0] rw);
    logic [N_REGS*32-1:0] v;
    logic [31:0]          x;
    v = '0;
    for (int i = 0; i < N_REGS; i++) begin
      x = 32'(seed) * 32'h9e3779b1 + 32'(i + 1) * 32'h85ebca77;
      x = x ^ (x >> 15);
      if (rw[i] && seed != 0) begin
        v[32*i +: 32] = x;
      end
    end
    reset_of = v;
  endfunction

  localparam logic [N_REGS-1:0]    RwMask    = rw_mask_of(RW_PAT);
  localparam logic [N_REGS-1:0]    ExtWrMask = ext_mask_of(EXT_PAT, RwMask);
  localparam logic [N_REGS*32-1:0] ResetVal  = reset_of(RV_SEED, RwMask);

  logic                 wr_err;
  logic [N_REGS*32-1:0] reg_rd;

  function automatic logic [N_REGS*32-1:0] rd_xor_of();
    logic [N_REGS*32-1:0] v;
    for (int i = 0; i < N_REGS; i++) begin
      v[32*i +: 32] = 32'(i) * 32'h9e3779b9;
    end
    rd_xor_of = v;
  endfunction

  localparam logic [N_REGS*32-1:0] RdXor = rd_xor_of();

  // a whole-vector expression in a process: Icarus 11 evaluates a wide replication in a
  // continuous assignment about 100 times slower
  always_comb begin
    reg_rd = {N_REGS{rd_base_i}} ^ RdXor;
  end


  always_comb begin
    reg_q_fold_o = 32'h0;
    for (int i = 0; i < N_REGS; i++) begin
      reg_q_fold_o = reg_q_fold_o ^ reg_q_o[32*i +: 32];
    end
  end

  assign wr_err   = wr_req_o ? (wr_idx_o == IDX_W'(ERR_IDX) && wr_data_o[31]) : wr_junk_i;
  assign wr_err_o = wr_err;

  cim_csr #(
    .N_REGS      (N_REGS),
    .ADDR_W      (ADDR_W),
    .RW_MASK     (RwMask),
    .EXT_WR_MASK (ExtWrMask),
    .RESET_VAL   (ResetVal)
  ) u_csr (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .psel_i      (psel_i),
    .penable_i   (penable_i),
    .pwrite_i    (pwrite_i),
    .paddr_i     (paddr_i),
    .pwdata_i    (pwdata_i),
    .prdata_o    (prdata_o),
    .pready_o    (pready_o),
    .pslverr_o   (pslverr_o),
    .reg_q_o     (reg_q_o),
    .reg_rd_i    (reg_rd),
    .wr_req_o    (wr_req_o),
    .wr_idx_o    (wr_idx_o),
    .wr_data_o   (wr_data_o),
    .wr_err_i    (wr_err),
    .wr_pulse_o  (wr_pulse_o),
    .rd_pulse_o  (rd_pulse_o),
    .err_clr_i   (err_clr_i),
    .err_o       (err_o),
    .err_addr_o  (err_addr_o),
    .err_count_o (err_count_o)
  );

endmodule
