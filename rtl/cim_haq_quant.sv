// cim_haq_quant: hardware-aware quantization (HAQ) of weights onto N_CELLS binary RRAM cells by
// redundant-radix successive approximation with verify reads (paper 3, PAPERS.md §3.4).
//
// Purpose
//   Takes a stream of weights to program (target code + cell base address). For each weight it
//   walks the cells k = 0 .. N_CELLS-1 and decides from the accumulated *measured* value of the
//   cells already programmed whether to SET cell k; a set cell is programmed (SET) and read back
//   (VERIFY) through the crossbar macro's program/verify port (models/hdl/cim_xbar_macro.sv),
//   and its measured contribution, times the radix weight ratio^-k, joins the accumulator. Later
//   cells thus correct the programming noise of earlier ones (radix < 2 is redundant). One
//   result beat per weight: the decisions and the final accumulated value.
//   Float algorithm: python/rramcim/analog/haq.py; bit-exact reference:
//   python/rramcim/golden/haq_quant.py.
//
// Fixed-point contract (normative; identical in the golden model)
//   t = in_target_i, signed TGT_W bits, w~ = t / 2^(TGT_W-1). v = verify_code_i, unsigned.
//   D = cfg_code_unit_i - cfg_code_reset_i (sampled with the weight; signed VERIFY_BITS+1).
//   e_k = 2*(v_k - code_reset) - D                 the measured digit (r_k - 0.5) times 2D
//   c_0 = 2^RADIX_F, c_k = floor((512*c_{k-1} + RATIO_Q8) / (2*RATIO_Q8))   c_{k-1}/ratio,
//         rounded half up (elaboration-time constants, see radix_c below)
//   T   = (t * D) << (RADIX_F - TGT_W + 2)         w~ in accumulator units
//   acc = sum_{j<k} e_j * c_j                       signed ACC_W = VERIFY_BITS + RADIX_F + 7 bits
//   cell k is SET iff acc <= T                      (the float rule: unset if approx > w~)
//   SET cell: SET op, VERIFY op, e_k from the verify code. Unset cell: VERIFY_UNSET = 1: one
//   VERIFY op, e_k from its code; VERIFY_UNSET = 0: no op, e_k = -D (nominal reset level).
//   A VERIFY not answered in time: one timeout (cnt_timeout_o), the beat's out_err_o, and the
//   nominal e_k (+D set, -D unset). Then acc += e_k * c_k.
//   t = 0 (zero weight): no operation, result bits 0, acc 0 (a zero weight stays zero).
//   Cell k's address: row in_row_i, column (in_col_i + k) mod 2^COL_W, G- select in_neg_i.
//   The normalised effective weight of a result is out_acc_o / (2 D 2^RADIX_F).
//   D <= 0 is a configuration error (sticky err_cfg_o); the rules above still apply.
//
// Latency (clock edges, no back-pressure, macro answering a VERIFY L cycles after it)
//   Weight accepted at edge E. Per cell: 1 decision edge, then for a set cell the SET op
//   (1 edge), the VERIFY op (1 edge), L edges waiting, 1 accumulate edge: 4 + L edges; a
//   verified unset cell 3 + L; an unverified unset cell (VERIFY_UNSET = 0) 2. out_valid_o is
//   high from edge E + 1 + sum of the cells' edges (a zero weight: from edge E + 1). The next
//   weight is accepted from the edge after that (in_ready_o is high in the cycle after the
//   result entered the output register, whether or not that register is stalled); the bench
//   checks both cycle by cycle in run_full_speed.
//
// Handshakes (AXI-Stream rules: transfer on valid && ready; valid never waits for ready; data
//   stable while stalled)
//   - in:   in_ready_o = 1 while idle (not during reset or the first cycle after its release).
//           The beat is in_target_i, in_row_i, in_col_i, in_neg_i plus cfg_code_unit_i and
//           cfg_code_reset_i, all sampled at the transfer.
//   - prog: prog_valid_o with prog_op_o (0 SET, 3 VERIFY), prog_row_o, prog_col_o, prog_neg_o,
//           all registers or functions of registers, held until prog_ready_i. At most one
//           operation is outstanding: after a VERIFY transfers at edge V, verify_valid_i is
//           expected at one of the edges V+1 .. V+TIMEOUT_CYC (its code is taken from
//           verify_code_i at that edge); if none comes, the verify counts as a timeout.
//           verify_valid_i high at any other edge is a protocol error (counted, ignored).
//   - out:  out_valid_o with out_bits_o (bit k = cell k set), out_acc_o (signed acc after all
//           N_CELLS cells), out_err_o (a verify of this weight timed out); registers, held while
//           out_ready_i is low.
//
// Status
//   cnt_timeout_o: verify timeouts; cnt_proto_o: protocol errors (verify_valid_i while no
//   verify is awaited). Both 16 bits, since reset, stick at 2^16-1. err_cfg_o: sticky, a weight
//   was accepted with cfg_code_unit_i <= cfg_code_reset_i. busy_o: a weight is being programmed
//   or a result waits in the output register.
//
// Reset (rst_ni, asynchronous, active low)
//   Abandons the weight in progress (the macro should be reset with it: a VERIFY answer that
//   arrives after the release is a protocol error), empties the output register, clears the
//   counters and err_cfg_o. in_ready_o is 0 during reset and in the first cycle after it.
//
// Resources
//   3*ACC_W + 2*N_CELLS + 3*VERIFY_BITS + ROW_W + COL_W + $clog2(N_CELLS) + 62 flip-flops
//   (accumulator, threshold, output register, weight context, 16-bit wait counter, status
//   counters; 215 at the defaults, 205 after Yosys drops the wait-counter bits that
//   TIMEOUT_CYC = 64 never uses), one (VERIFY_BITS+3) x (RADIX_F+2) multiplier (accumulate), one
//   TGT_W x (VERIFY_BITS+1) multiplier (threshold, at the input transfer), an ACC_W-bit
//   compare; the radix constants are elaboration-time constants (no table storage). Yosys
//   0.23 generic synthesis at the defaults: 3513 cells, 205 flip-flops, no latches.
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_CELLS      cells per weight, 2 .. 16
//   TGT_W        width of in_target_i in bits (two's complement Q1.(TGT_W-1)), 4 .. 16
//   VERIFY_BITS  verify code width in bits (as the macro's VERIFY_BITS), 2 .. 16
//   RADIX_F      fractional bits of the radix constants c_k (c_0 = 2^RADIX_F), TGT_W-2 .. 24
//   RATIO_Q8     radix ratio in units of 1/256 (384 = 1.5), 257 .. 512 (ratio in (1, 2])
//   ROW_W        row address width in bits (as the macro's $clog2(N_ROWS)), 1 .. 12
//   COL_W        column address width in bits (as the macro's $clog2(N_COLS)), 1 .. 12
//   VERIFY_UNSET 1: verify unset cells too and use their measured value; 0: assume them at the
//                nominal reset level (no operation), 0 .. 1
//   TIMEOUT_CYC  clock cycles a VERIFY answer may take, 2 .. 65535
module cim_haq_quant #(
  parameter int  N_CELLS      = 8,
  parameter int  TGT_W        = 12,
  parameter int  VERIFY_BITS  = 8,
  parameter int  RADIX_F      = 16,
  parameter int  RATIO_Q8     = 384,
  parameter int  ROW_W        = 9,
  parameter int  COL_W        = 8,
  parameter int  VERIFY_UNSET = 1,
  parameter int  TIMEOUT_CYC  = 64,
  localparam int ACC_W        = VERIFY_BITS + RADIX_F + 7
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  // configuration (sampled with each weight)
  input  logic [VERIFY_BITS-1:0] cfg_code_unit_i,   // verify code of a nominal set cell
  input  logic [VERIFY_BITS-1:0] cfg_code_reset_i,  // verify code of an unset cell
  // weights to program
  input  logic                   in_valid_i,
  output logic                   in_ready_o,
  input  logic [TGT_W-1:0]       in_target_i,       // signed Q1.(TGT_W-1), w / max|W|
  input  logic [ROW_W-1:0]       in_row_i,
  input  logic [COL_W-1:0]       in_col_i,          // column of cell 0
  input  logic                   in_neg_i,          // program the G- cells
  // program / verify port of the crossbar macro
  output logic                   prog_valid_o,
  input  logic                   prog_ready_i,
  output logic [1:0]             prog_op_o,
  output logic [ROW_W-1:0]       prog_row_o,
  output logic [COL_W-1:0]       prog_col_o,
  output logic                   prog_neg_o,
  input  logic                   verify_valid_i,
  input  logic [VERIFY_BITS-1:0] verify_code_i,
  // results
  output logic                   out_valid_o,
  input  logic                   out_ready_i,
  output logic [N_CELLS-1:0]     out_bits_o,
  output logic [ACC_W-1:0]       out_acc_o,         // signed
  output logic                   out_err_o,
  // status
  output logic [15:0]            cnt_timeout_o,
  output logic [15:0]            cnt_proto_o,
  output logic                   err_cfg_o,
  output logic                   busy_o
);

  // --------------------------------------------------------------------------------------
  // Parameter checks (both ways, as in cim_lif_array: Yosys 0.23 has no $fatal in initial
  // blocks, Icarus 11 no elaboration-time tasks in generate blocks)
  // --------------------------------------------------------------------------------------
  localparam bit BAD_N_CELLS  = (N_CELLS < 2) || (N_CELLS > 16);
  localparam bit BAD_TGT_W    = (TGT_W < 4) || (TGT_W > 16);
  localparam bit BAD_VERIFY_B = (VERIFY_BITS < 2) || (VERIFY_BITS > 16);
  localparam bit BAD_RADIX_F  = (RADIX_F < TGT_W - 2) || (RADIX_F > 24);
  localparam bit BAD_RATIO    = (RATIO_Q8 < 257) || (RATIO_Q8 > 512);
  localparam bit BAD_ROW_W    = (ROW_W < 1) || (ROW_W > 12);
  localparam bit BAD_COL_W    = (COL_W < 1) || (COL_W > 12);
  localparam bit BAD_VER_UNS  = (VERIFY_UNSET < 0) || (VERIFY_UNSET > 1);
  localparam bit BAD_TIMEOUT  = (TIMEOUT_CYC < 2) || (TIMEOUT_CYC > 65535);

`ifdef YOSYS
  if (BAD_N_CELLS) begin : g_bad_n_cells
    $error("cim_haq_quant: N_CELLS out of range 2..16");
  end
  if (BAD_TGT_W) begin : g_bad_tgt_w
    $error("cim_haq_quant: TGT_W out of range 4..16");
  end
  if (BAD_VERIFY_B) begin : g_bad_verify_bits
    $error("cim_haq_quant: VERIFY_BITS out of range 2..16");
  end
  if (BAD_RADIX_F) begin : g_bad_radix_f
    $error("cim_haq_quant: RADIX_F out of range TGT_W-2..24");
  end
  if (BAD_RATIO) begin : g_bad_ratio
    $error("cim_haq_quant: RATIO_Q8 out of range 257..512");
  end
  if (BAD_ROW_W) begin : g_bad_row_w
    $error("cim_haq_quant: ROW_W out of range 1..12");
  end
  if (BAD_COL_W) begin : g_bad_col_w
    $error("cim_haq_quant: COL_W out of range 1..12");
  end
  if (BAD_VER_UNS) begin : g_bad_verify_unset
    $error("cim_haq_quant: VERIFY_UNSET must be 0 or 1");
  end
  if (BAD_TIMEOUT) begin : g_bad_timeout
    $error("cim_haq_quant: TIMEOUT_CYC out of range 2..65535");
  end
`else
  initial begin
    if (BAD_N_CELLS) $fatal(1, "cim_haq_quant: N_CELLS (%0d) out of range 2..16", N_CELLS);
    if (BAD_TGT_W) $fatal(1, "cim_haq_quant: TGT_W (%0d) out of range 4..16", TGT_W);
    if (BAD_VERIFY_B) begin
      $fatal(1, "cim_haq_quant: VERIFY_BITS (%0d) out of range 2..16", VERIFY_BITS);
    end
    if (BAD_RADIX_F) begin
      $fatal(1, "cim_haq_quant: RADIX_F (%0d) out of range TGT_W-2 (%0d)..24", RADIX_F,
             TGT_W - 2);
    end
    if (BAD_RATIO) $fatal(1, "cim_haq_quant: RATIO_Q8 (%0d) out of range 257..512", RATIO_Q8);
    if (BAD_ROW_W) $fatal(1, "cim_haq_quant: ROW_W (%0d) out of range 1..12", ROW_W);
    if (BAD_COL_W) $fatal(1, "cim_haq_quant: COL_W (%0d) out of range 1..12", COL_W);
    if (BAD_VER_UNS) begin
      $fatal(1, "cim_haq_quant: VERIFY_UNSET (%0d) must be 0 or 1", VERIFY_UNSET);
    end
    if (BAD_TIMEOUT) begin
      $fatal(1, "cim_haq_quant: TIMEOUT_CYC (%0d) out of range 2..65535", TIMEOUT_CYC);
    end
  end
`endif

  // --------------------------------------------------------------------------------------
  // Widths and constants
  // --------------------------------------------------------------------------------------
  localparam int K_W    = $clog2(N_CELLS);           // cell index (N_CELLS >= 2)
  localparam int D_W    = VERIFY_BITS + 1;           // D, signed
  localparam int E_W    = VERIFY_BITS + 3;           // e_k, signed
  localparam int C_W    = RADIX_F + 2;               // c_k as a signed (positive) number
  localparam int P_W    = E_W + C_W;                 // e_k * c_k
  localparam int TD_W   = TGT_W + D_W;               // t * D
  localparam int SHIFT  = RADIX_F - TGT_W + 2;       // t * D -> accumulator units
  localparam int LAST_K = N_CELLS - 1;
  localparam logic [15:0] TMO_LAST = 16'(TIMEOUT_CYC - 1);

  // c_k = c_{k-1} / ratio rounded half up, c_0 = 2^RADIX_F (the golden radix_table)
  function automatic logic [C_W-1:0] radix_c(input int k);
    logic [63:0] c;
    c = 64'd1 << RADIX_F;
    for (int i = 0; i < k; i++) begin
      c = (c * 64'd512 + 64'(RATIO_Q8)) / (64'd2 * 64'(RATIO_Q8));
    end
    radix_c = c[C_W-1:0];
  endfunction

  // table of 2^K_W entries (entries >= N_CELLS unused, 0), indexed by the cell counter
  // (a packed vector: an unpacked array of wires becomes a Yosys memory with a warning)
  logic [(2**K_W)*C_W-1:0] radix_tab;
  for (genvar g = 0; g < 2**K_W; g++) begin : g_radix
    localparam logic [C_W-1:0] CK = (g < N_CELLS) ? radix_c(g) : '0;
    assign radix_tab[g*C_W +: C_W] = CK;
  end

  typedef enum logic [2:0] {
    S_IDLE   = 3'd0,
    S_DECIDE = 3'd1,
    S_SET    = 3'd2,
    S_VER    = 3'd3,
    S_WAIT   = 3'd4,
    S_ACC    = 3'd5,
    S_DONE   = 3'd6
  } state_e;

  localparam logic [1:0] OP_SET    = 2'd0;
  localparam logic [1:0] OP_VERIFY = 2'd3;

  // --------------------------------------------------------------------------------------
  // State
  // --------------------------------------------------------------------------------------
  state_e                   state_q, state_d;
  logic [K_W-1:0]           k_q, k_d;            // current cell
  logic signed [ACC_W-1:0]  acc_q, acc_d;
  logic signed [ACC_W-1:0]  thr_q, thr_d;
  logic signed [D_W-1:0]    dlt_q, dlt_d;        // D
  logic [VERIFY_BITS-1:0]   crst_q, crst_d;      // code_reset
  logic [ROW_W-1:0]         row_q, row_d;
  logic [COL_W-1:0]         col_q, col_d;
  logic                     neg_q, neg_d;
  logic                     set_q, set_d;        // cell k is being set
  logic signed [E_W-1:0]    e_q, e_d;            // e_k
  logic [N_CELLS-1:0]       bits_q, bits_d;
  logic                     werr_q, werr_d;      // a verify of this weight timed out
  logic [15:0]              wait_q, wait_d;      // cycles waited for the verify answer
  logic                     out_valid_q, out_valid_d;
  logic [N_CELLS-1:0]       out_bits_q, out_bits_d;
  logic signed [ACC_W-1:0]  out_acc_q, out_acc_d;
  logic                     out_err_q, out_err_d;
  logic [15:0]              cnt_tmo_q, cnt_tmo_d;
  logic [15:0]              cnt_proto_q, cnt_proto_d;
  logic                     err_cfg_q, err_cfg_d;
  logic                     rdy_en_q;            // 0 in reset and the first cycle after it

  // --------------------------------------------------------------------------------------
  // Datapath
  // --------------------------------------------------------------------------------------
  logic                     in_fire;
  logic signed [D_W-1:0]    d_in;                // D of the incoming beat
  logic signed [TD_W-1:0]   td_in;               // t * D
  logic signed [ACC_W-1:0]  thr_in;              // T
  logic                     set_now;             // the decision for cell k
  logic signed [E_W-1:0]    e_meas;              // e_k from verify_code_i
  logic signed [E_W-1:0]    e_nom_set, e_nom_rst;
  logic signed [C_W-1:0]    c_cur;
  logic signed [P_W-1:0]    prod;
  logic                     last_k;
  logic [15:0]              tmo_inc, proto_inc;

  assign in_ready_o = rdy_en_q && (state_q == S_IDLE);
  assign in_fire    = in_valid_i && in_ready_o;

  assign d_in   = $signed({1'b0, cfg_code_unit_i}) - $signed({1'b0, cfg_code_reset_i});
  assign td_in  = $signed(in_target_i) * d_in;
  assign thr_in = ACC_W'(td_in) <<< SHIFT;

  assign set_now   = (acc_q <= thr_q);
  assign e_meas    = E_W'($signed({1'b0, verify_code_i}) - $signed({1'b0, crst_q})) * 2
                   - E_W'(dlt_q);
  assign e_nom_set = E_W'(dlt_q);
  assign e_nom_rst = -(E_W'(dlt_q));
  assign c_cur     = $signed(radix_tab[k_q*C_W +: C_W]);
  assign prod      = P_W'(e_q) * P_W'(c_cur);
  assign last_k    = (k_q == K_W'(LAST_K));

  // saturating counter increments (kept out of always_comb, see cim_lif_array)
  assign tmo_inc   = (cnt_tmo_q == 16'hFFFF) ? cnt_tmo_q : cnt_tmo_q + 16'd1;
  assign proto_inc = (cnt_proto_q == 16'hFFFF) ? cnt_proto_q : cnt_proto_q + 16'd1;

  // program port: functions of registers only
  assign prog_valid_o = (state_q == S_SET) || (state_q == S_VER);
  assign prog_op_o    = (state_q == S_SET) ? OP_SET : OP_VERIFY;
  assign prog_row_o   = row_q;
  assign prog_col_o   = col_q + COL_W'(k_q);
  assign prog_neg_o   = neg_q;

  // --------------------------------------------------------------------------------------
  // Next state
  // --------------------------------------------------------------------------------------
  always_comb begin
    state_d     = state_q;
    k_d         = k_q;
    acc_d       = acc_q;
    thr_d       = thr_q;
    dlt_d       = dlt_q;
    crst_d      = crst_q;
    row_d       = row_q;
    col_d       = col_q;
    neg_d       = neg_q;
    set_d       = set_q;
    e_d         = e_q;
    bits_d      = bits_q;
    werr_d      = werr_q;
    wait_d      = wait_q;
    out_valid_d = out_valid_q;
    out_bits_d  = out_bits_q;
    out_acc_d   = out_acc_q;
    out_err_d   = out_err_q;
    cnt_tmo_d   = cnt_tmo_q;
    cnt_proto_d = cnt_proto_q;
    err_cfg_d   = err_cfg_q;

    if (out_valid_q && out_ready_i) begin
      out_valid_d = 1'b0;
    end

    // a verify answer outside the waiting window
    if (verify_valid_i && (state_q != S_WAIT)) begin
      cnt_proto_d = proto_inc;
    end

    case (state_q)
      S_IDLE: begin
        if (in_fire) begin
          k_d    = '0;
          acc_d  = '0;
          thr_d  = thr_in;
          dlt_d  = d_in;
          crst_d = cfg_code_reset_i;
          row_d  = in_row_i;
          col_d  = in_col_i;
          neg_d  = in_neg_i;
          bits_d = '0;
          werr_d = 1'b0;
          if (d_in <= 0) begin
            err_cfg_d = 1'b1;
          end
          if (in_target_i == '0) begin
            state_d = S_DONE;
          end else begin
            state_d = S_DECIDE;
          end
        end
      end
      S_DECIDE: begin
        set_d = set_now;
        bits_d[k_q] = set_now;
        if (set_now) begin
          state_d = S_SET;
        end else if (VERIFY_UNSET != 0) begin
          state_d = S_VER;
        end else begin
          e_d     = e_nom_rst;
          state_d = S_ACC;
        end
      end
      S_SET: begin
        if (prog_ready_i) begin
          state_d = S_VER;
        end
      end
      S_VER: begin
        if (prog_ready_i) begin
          wait_d  = '0;
          state_d = S_WAIT;
        end
      end
      S_WAIT: begin
        if (verify_valid_i) begin
          e_d     = e_meas;
          state_d = S_ACC;
        end else if (wait_q == TMO_LAST) begin
          e_d       = set_q ? e_nom_set : e_nom_rst;
          werr_d    = 1'b1;
          cnt_tmo_d = tmo_inc;
          state_d   = S_ACC;
        end else begin
          wait_d = wait_q + 16'd1;
        end
      end
      S_ACC: begin
        acc_d = acc_q + ACC_W'(prod);
        if (last_k) begin
          state_d = S_DONE;
        end else begin
          k_d     = k_q + K_W'(1);
          state_d = S_DECIDE;
        end
      end
      S_DONE: begin
        if (!out_valid_q || out_ready_i) begin
          out_valid_d = 1'b1;
          out_bits_d  = bits_q;
          out_acc_d   = acc_q;
          out_err_d   = werr_q;
          state_d     = S_IDLE;
        end
      end
      default: begin
        state_d = S_IDLE;
      end
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= S_IDLE;
      k_q         <= '0;
      acc_q       <= '0;
      thr_q       <= '0;
      dlt_q       <= '0;
      crst_q      <= '0;
      row_q       <= '0;
      col_q       <= '0;
      neg_q       <= 1'b0;
      set_q       <= 1'b0;
      e_q         <= '0;
      bits_q      <= '0;
      werr_q      <= 1'b0;
      wait_q      <= '0;
      out_valid_q <= 1'b0;
      out_bits_q  <= '0;
      out_acc_q   <= '0;
      out_err_q   <= 1'b0;
      cnt_tmo_q   <= '0;
      cnt_proto_q <= '0;
      err_cfg_q   <= 1'b0;
      rdy_en_q    <= 1'b0;
    end else begin
      state_q     <= state_d;
      k_q         <= k_d;
      acc_q       <= acc_d;
      thr_q       <= thr_d;
      dlt_q       <= dlt_d;
      crst_q      <= crst_d;
      row_q       <= row_d;
      col_q       <= col_d;
      neg_q       <= neg_d;
      set_q       <= set_d;
      e_q         <= e_d;
      bits_q      <= bits_d;
      werr_q      <= werr_d;
      wait_q      <= wait_d;
      out_valid_q <= out_valid_d;
      out_bits_q  <= out_bits_d;
      out_acc_q   <= out_acc_d;
      out_err_q   <= out_err_d;
      cnt_tmo_q   <= cnt_tmo_d;
      cnt_proto_q <= cnt_proto_d;
      err_cfg_q   <= err_cfg_d;
      rdy_en_q    <= 1'b1;
    end
  end

  // --------------------------------------------------------------------------------------
  // Outputs
  // --------------------------------------------------------------------------------------
  assign out_valid_o   = out_valid_q;
  assign out_bits_o    = out_bits_q;
  assign out_acc_o     = out_acc_q;
  assign out_err_o     = out_err_q;
  assign cnt_timeout_o = cnt_tmo_q;
  assign cnt_proto_o   = cnt_proto_q;
  assign err_cfg_o     = err_cfg_q;
  assign busy_o        = (state_q != S_IDLE) || out_valid_q;

  // --------------------------------------------------------------------------------------
  // Run-time invariants (simulation only; $fatal so that Icarus fails the bench too)
  // --------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  logic                       chk_armed_q;
  logic                       chk_in_stall_q;
  logic                       chk_out_stall_q;
  logic [TGT_W+ROW_W+COL_W:0] chk_in_q;
  logic [N_CELLS+ACC_W:0]     chk_out_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q     <= 1'b1;
      chk_in_stall_q  <= 1'b0;
      chk_out_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      if (chk_in_stall_q) begin
        assert (in_valid_i && {in_target_i, in_row_i, in_col_i, in_neg_i} == chk_in_q)
          else $fatal(1, "cim_haq_quant: input beat changed or withdrawn while stalled");
      end
      if (chk_out_stall_q) begin
        assert (out_valid_o && {out_bits_o, out_acc_o, out_err_o} == chk_out_q)
          else $fatal(1, "cim_haq_quant: output beat changed or withdrawn while stalled");
      end
      chk_in_stall_q  <= in_valid_i && !in_ready_o;
      chk_out_stall_q <= out_valid_o && !out_ready_i;
      chk_in_q        <= {in_target_i, in_row_i, in_col_i, in_neg_i};
      chk_out_q       <= {out_bits_o, out_acc_o, out_err_o};
    end
  end
`endif

endmodule
