// cim_early_stop: input-aware early stop of PRIME (PAPERS.md §1.5), both rules, in fixed point.
//
// Purpose
//   Decides after every timestep of a sample whether inference can stop. Rule 0
//   (classification, softmax confidence) watches the membranes of the output integrators; rule 1
//   (inpainting, convergence) watches the change between successive reconstructions. One
//   decision beat per timestep; the sample ends with the first stop decision (the rule fired and
//   early stop is enabled, or the step reached cfg_steps_i). The bit-exact reference is
//   python/rramcim/golden/early_stop.py (rramcim.golden.early_stop), whose docstring derives the
//   arithmetic and its error against the float rule.
//
// Rule 0: classification (exact-integer form of "max softmax(mean_t(U)/alpha) > theta")
//   Per step t (1-based) the beat carries U_j(t), N_CLASSES U_W-bit signed values with F
//   fractional bits. The block keeps S_j = sum_{tau<=t} U_j(tau) (S_W bits, cannot overflow),
//   finds c = argmax_j S_j (lowest index on ties) and evaluates
//     D_j  = S_c - S_j                                                      (>= 0)
//     num  = D_j << max(20 - F, 0),  den = (t * A) << max(F - 20, 0),   A = cfg_alpha_ln2_i
//     q_j  = min(floor((2*num + den) / (2*den)), 2^13 - 1)      (= round(y_j * 256), sat.)
//     term = EXP2_LUT[q_j[7:0]] >> q_j[12:8],  EXP2_LUT[f] = round(2^16 * 2^(-f/256))
//     conf = sum_j term_j                                                   (CONF_W bits)
//   with y_j = D_j / (t * alpha * 2^F * ln 2), so term_j ~= 2^16 * exp(-(out_c - out_j)/alpha)
//   and max p = 2^16 / conf. The rule fires when conf < cfg_inv_theta_i (= round(2^16/theta)).
//   A = round(alpha * ln2 * 2^12) is computed by software (no logarithm in hardware):
//   unsigned UQ4.12, 1..65535, so alpha is up to 23.08 and known to 2^-13 relative at alpha=2.
//   Resolution: y in steps of 1/256 (per-term relative error <= 2^(1/512)-1 = 0.14 %), terms
//   in units of 2^-16; terms with y >= 17 are 0 (q saturates at 2^13 - 1, i.e. y < 32).
//   On the same integer sums the decision equals the float rule's unless |max p - theta| is
//   below the bound of golden decision_margin (1.3e-3 for N_CLASSES = 10, alpha = 2,
//   theta = 0.8; at most 9.1e-3 for 64 classes, alpha >= 0.5). Measured on 9.6 M random
//   decisions (2/10/64 classes, alpha 0.5..5, theta 0.5..0.95): 2.8e-4 of them differ, all
//   with |max p - theta| <= 4e-4 (tests/test_golden_early_stop.py checks the bound).
//   dec_class_o = c, dec_metric_o = conf (zero-extended).
//
// Rule 1: convergence (inpainting)
//   Per step t the reconstruction x_t arrives as N_PIX beats (PIX_W-bit signed pixels, always
//   in the same pixel order; pix_last_i on the last). m_t = sum_pixels |x_t - x_{t-1}|
//   (M_W bits, pixel LSBs) for t >= 2; m_1 does not exist and counts as +inf. The rule fires
//   at step t when
//     t >= 3  &&  m_t < m_{t-1}  &&  (t == 3 || m_{t-1} < m_{t-2})  &&  m_t < cfg_conv_thr_i
//   i.e. m_t < m_{t-1} < m_{t-2} with m_1 = +inf. This is the paper's "t > 1" counted from 0
//   (t_paper = t - 1): the first step with two real metrics. The float code's "m/100 < thr" is
//   m < cfg_conv_thr_i with cfg_conv_thr_i ~= ceil(thr * 100 * 2^pix_frac) (exactly: golden
//   conv_thr_code), computed by software.
//   x_{t-1} is held in a shift register of N_PIX x PIX_W bits (the oldest pixel at the head is
//   the previous step's pixel of the same index). dec_class_o = 0; dec_metric_o = m_t, or all
//   ones at t = 1 (no metric).
//
// Decision (both rules): dec_stop_o = (cfg_enable_i && rule fired) || t == cfg_steps_i;
//   dec_step_o = t.
//
// Latency (clock edges; E = the edge that transfers the step's beat (rule 0) or its last pixel
//   (rule 1); no stalls)
//   - rule 0: dec_valid_o is high from the cycle after edge E + 17*N_CLASSES - 1
//     ((N_CLASSES - 1) cycles of argmax scan, then per class: load, 14 divider steps, table and
//     accumulate = 16 cycles). At full speed a step takes 17*N_CLASSES + 1 cycles.
//   - rule 1: pixels are taken at one per cycle; dec_valid_o is high from the cycle after E.
//     At full speed a step takes N_PIX + 1 cycles.
//   - After a non-stop decision transfers, the input ready is high in the next cycle.
//
// Handshakes (AXI-Stream rules: transfer on valid && ready; valid never waits for ready; data
//   stable while stalled)
//   - cls (rule 0): one beat per step, class j at cls_data_i[j*U_W +: U_W]. cls_ready_o is high
//     only while the block waits for the next step of a classification sample.
//   - pix (rule 1): one beat per pixel. pix_ready_o is high while the block waits for pixels of
//     a convergence sample. The block counts pixels itself: a step always ends with the N_PIX-th
//     beat; a pix_last_i that disagrees with that count (early, or missing on the N_PIX-th beat)
//     sets err_last_o and is otherwise ignored (no pixel is dropped or added).
//   - dec: dec_valid_o does not wait for dec_ready_i; dec_* are registers, stable while stalled.
//     No input is taken while a decision waits, so a source may present the next step early
//     (it stalls) but must expect a stop decision, after which the block refuses it (below).
//   - After the stop decision transfers the block is idle: cls_ready_o = pix_ready_o = 0 until
//     the next start_i. A beat offered while idle (other than in the cycle of a legal start_i),
//     or on the stream the current sample's rule does not use, is refused (ready stays low,
//     nothing is taken later unless a new sample starts) and sets err_data_o, so nothing is
//     silently dropped.
//   - start_i (one-cycle pulse) starts a sample: legal only while idle (busy_o = 0) and with a
//     legal configuration. It samples every cfg_* input, clears the sums, the metrics, the pixel
//     count and steps_o; the next cycle waits for step 1. start_i while busy is ignored and sets
//     err_start_o; start_i with an illegal configuration (cfg_steps_i = 0 or > T_MAX, or rule 0
//     with cfg_alpha_ln2_i = 0) is ignored and sets err_cfg_o. The pixel buffer is not cleared:
//     step 1 writes every entry before step 2 reads any.
//
// Configuration (sampled by start_i; changes during a sample have no effect on it)
//   cfg_steps_i      steps of a sample without early stop (the paper's T), 1..T_MAX (TW bits)
//   cfg_rule_i       0 classification, 1 convergence
//   cfg_enable_i     1 early stop on; 0 every sample runs cfg_steps_i steps (decisions still
//                    carry class and metric)
//   cfg_alpha_ln2_i  round(alpha * ln2 * 2^12), 1..65535 (rule 0)
//   cfg_inv_theta_i  round(2^16 / theta), CONF_W bits (rule 0)
//   cfg_conv_thr_i   metric threshold in pixel LSBs, M_W bits (rule 1)
//
// Status
//   busy_o: a sample is in progress (from the cycle after a legal start_i to the transfer of its
//   stop decision). steps_o: steps of the current / last sample whose input is complete (t of
//   the step being evaluated or last decided). step_count_o / stop_count_o: decisions / stop
//   decisions transferred since reset (wrap modulo 2^32; their ratio is the average steps per
//   sample). err_start_o, err_cfg_o, err_last_o, err_data_o: sticky since reset.
//
// Reset (rst_ni, asynchronous, active low)
//   Idle, all registers, counters and sticky errors cleared, ready and valid low; a sample in
//   progress is abandoned. The pixel buffer has no reset (see start_i).
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_CLASSES  output classes, 2..64
//   U_W        membrane width in bits (signed), 8..32
//   F          fractional bits of the membranes, 0..U_W-1
//   T_MAX      longest sample in steps, 1..255
//   N_PIX      pixels per reconstruction, 1..4096
//   PIX_W      pixel width in bits (signed), 2..16
//   S_W        sum width in bits, U_W + $clog2(T_MAX) .. 40 (default: that minimum)
//
// Area: sums N_CLASSES*S_W flip-flops, pixel buffer N_PIX*PIX_W flip-flops (an SRAM of
//   N_PIX x PIX_W with one read and one write per pixel in a real chip), one restoring divider
//   of about S_W + 22 bits, a 256 x 17 bit constant table, a TW x 16 bit multiplier.
module cim_early_stop #(
  parameter int  N_CLASSES = 10,
  parameter int  U_W       = 16,
  parameter int  F         = 10,
  parameter int  T_MAX     = 16,
  parameter int  N_PIX     = 1024,
  parameter int  PIX_W     = 8,
  parameter int  S_W       = U_W + $clog2(T_MAX),
  localparam int TW        = $clog2(T_MAX + 1),            // step numbers 0..T_MAX
  localparam int CLS_W     = $clog2(N_CLASSES),            // class index
  localparam int CONF_W    = 17 + $clog2(N_CLASSES),       // confidence sum, 1.0 = 2^16
  localparam int M_W       = PIX_W + $clog2(N_PIX),        // convergence metric
  localparam int MET_W     = CONF_W > M_W ? CONF_W : M_W   // dec_metric_o
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  // configuration (sampled by start_i)
  input  logic [TW-1:0]          cfg_steps_i,
  input  logic                   cfg_rule_i,
  input  logic                   cfg_enable_i,
  input  logic [15:0]            cfg_alpha_ln2_i,
  input  logic [CONF_W-1:0]      cfg_inv_theta_i,
  input  logic [M_W-1:0]         cfg_conv_thr_i,
  // sample start
  input  logic                   start_i,
  // classification input: one beat per step, class j at [j*U_W +: U_W]
  input  logic                   cls_valid_i,
  output logic                   cls_ready_o,
  input  logic [N_CLASSES*U_W-1:0] cls_data_i,
  // reconstruction input: one beat per pixel
  input  logic                   pix_valid_i,
  output logic                   pix_ready_o,
  input  logic [PIX_W-1:0]       pix_data_i,
  input  logic                   pix_last_i,
  // decisions: one beat per step
  output logic                   dec_valid_o,
  input  logic                   dec_ready_i,
  output logic                   dec_stop_o,
  output logic [TW-1:0]          dec_step_o,
  output logic [CLS_W-1:0]       dec_class_o,
  output logic [MET_W-1:0]       dec_metric_o,
  // status
  output logic                   busy_o,
  output logic [TW-1:0]          steps_o,
  output logic [31:0]            step_count_o,
  output logic [31:0]            stop_count_o,
  output logic                   err_start_o,
  output logic                   err_cfg_o,
  output logic                   err_last_o,
  output logic                   err_data_o
);

  // --------------------------------------------------------------------------------------
  // Parameter checks. Icarus 11 has no elaboration-time system tasks in generate blocks and
  // Yosys 0.23 has no $fatal in initial blocks, so the same conditions are reported both ways.
  // --------------------------------------------------------------------------------------
  localparam int S_W_MIN       = U_W + $clog2(T_MAX);
  localparam bit BAD_N_CLASSES = (N_CLASSES < 2) || (N_CLASSES > 64);
  localparam bit BAD_U_W       = (U_W < 8) || (U_W > 32);
  localparam bit BAD_F         = (F < 0) || (F > U_W - 1);
  localparam bit BAD_T_MAX     = (T_MAX < 1) || (T_MAX > 255);
  localparam bit BAD_N_PIX     = (N_PIX < 1) || (N_PIX > 4096);
  localparam bit BAD_PIX_W     = (PIX_W < 2) || (PIX_W > 16);
  localparam bit BAD_S_W       = (S_W < S_W_MIN) || (S_W > 40);

`ifdef YOSYS
  if (BAD_N_CLASSES) begin : g_bad_n_classes
    $error("cim_early_stop: N_CLASSES out of range 2..64");
  end
  if (BAD_U_W) begin : g_bad_u_w
    $error("cim_early_stop: U_W out of range 8..32");
  end
  if (BAD_F) begin : g_bad_f
    $error("cim_early_stop: F out of range 0..U_W-1");
  end
  if (BAD_T_MAX) begin : g_bad_t_max
    $error("cim_early_stop: T_MAX out of range 1..255");
  end
  if (BAD_N_PIX) begin : g_bad_n_pix
    $error("cim_early_stop: N_PIX out of range 1..4096");
  end
  if (BAD_PIX_W) begin : g_bad_pix_w
    $error("cim_early_stop: PIX_W out of range 2..16");
  end
  if (BAD_S_W) begin : g_bad_s_w
    $error("cim_early_stop: S_W out of range U_W + $clog2(T_MAX) .. 40");
  end
`else
  initial begin
    if (BAD_N_CLASSES) $fatal(1, "cim_early_stop: N_CLASSES (%0d) out of range 2..64", N_CLASSES);
    if (BAD_U_W) $fatal(1, "cim_early_stop: U_W (%0d) out of range 8..32", U_W);
    if (BAD_F) $fatal(1, "cim_early_stop: F (%0d) out of range 0..U_W-1 (%0d)", F, U_W - 1);
    if (BAD_T_MAX) $fatal(1, "cim_early_stop: T_MAX (%0d) out of range 1..255", T_MAX);
    if (BAD_N_PIX) $fatal(1, "cim_early_stop: N_PIX (%0d) out of range 1..4096", N_PIX);
    if (BAD_PIX_W) $fatal(1, "cim_early_stop: PIX_W (%0d) out of range 2..16", PIX_W);
    if (BAD_S_W) begin
      $fatal(1, "cim_early_stop: S_W (%0d) out of range U_W + $clog2(T_MAX) = %0d .. 40", S_W,
             S_W_MIN);
    end
  end
`endif

  // --------------------------------------------------------------------------------------
  // Constants and widths
  // --------------------------------------------------------------------------------------
  localparam int Y_FRAC  = 8;                   // fractional bits of y = x / ln 2
  localparam int Q_W     = 13;                  // y code q: 5 integer + 8 fractional bits
  localparam int A_W     = 16;                  // cfg_alpha_ln2_i, UQ4.12
  localparam int LUT_W   = 17;                  // EXP2_LUT entry, 1.0 = 2^16
  localparam int SH      = Y_FRAC + 12 - F;     // num = D << SH (SH > 0) or den << -SH
  localparam int SH_N    = SH > 0 ? SH : 0;
  localparam int SH_V    = SH < 0 ? -SH : 0;
  localparam int NUM_W   = S_W + SH_N;          // num = D << SH_N
  localparam int DEN_W   = TW + A_W + SH_V;     // den = (t * A) << SH_V
  localparam int XA_W    = (NUM_W + 1 > DEN_W ? NUM_W + 1 : DEN_W) + 1;  // 2*num + den
  localparam int XB_W    = DEN_W + 1 + Q_W;     // (2*den) << Q_W
  localparam int R_W     = XA_W > XB_W ? XA_W : XB_W;  // divider registers
  localparam int QC_W    = 4;                   // divider step counter, Q_W..0
  localparam int K_W     = $clog2(N_CLASSES);   // class counter (N_CLASSES >= 2)
  localparam int PC_W    = N_PIX > 1 ? $clog2(N_PIX) : 1;  // pixel counter
  localparam int BUF_W   = N_PIX * PIX_W;

  typedef enum logic [2:0] {
    StIdle = 3'd0,  // no sample: waits for start_i
    StCls  = 3'd1,  // rule 0: waits for the beat of the next step
    StMax  = 3'd2,  // rule 0: argmax scan, class k_q
    StLoad = 3'd3,  // rule 0: load the divider for class k_q
    StDiv  = 3'd4,  // rule 0: restoring division, quotient bit qc_q
    StAcc  = 3'd5,  // rule 0: table, shift, accumulate the term of class k_q
    StPix  = 3'd6,  // rule 1: takes the pixels of the current step
    StDec  = 3'd7   // decision beat waits for dec_ready_i
  } state_e;

  // --------------------------------------------------------------------------------------
  // State
  // --------------------------------------------------------------------------------------
  state_e                    state_q, state_d;
  // sampled configuration
  logic [TW-1:0]             cfg_t_q, cfg_t_d;
  logic                      rule_q, rule_d;
  logic                      en_q, en_d;
  logic [A_W-1:0]            alpha_q, alpha_d;
  logic [CONF_W-1:0]         inv_theta_q, inv_theta_d;
  logic [M_W-1:0]            thr_q, thr_d;
  // sample progress
  logic [TW-1:0]             step_q, step_d;
  // rule 0
  logic [N_CLASSES*S_W-1:0]  sum_q, sum_d;          // S_j at [j*S_W +: S_W]
  logic [S_W-1:0]            best_q, best_d;        // S_c so far
  logic [K_W-1:0]            best_idx_q, best_idx_d;
  logic [K_W-1:0]            k_q, k_d;              // class being scanned / divided
  logic [R_W-1:0]            rem_q, rem_d;          // divider remainder
  logic [R_W-1:0]            dv_q, dv_d;            // divider: (2*den) << qc_q
  logic [Q_W:0]              quo_q, quo_d;          // quotient bits Q_W..0 (bit Q_W: saturate)
  logic [QC_W-1:0]           qc_q, qc_d;            // quotient bit being decided
  logic [CONF_W-1:0]         conf_q, conf_d;
  // rule 1
  logic [PC_W-1:0]           cnt_q, cnt_d;          // pixel index in the step
  logic [M_W-1:0]            macc_q, macc_d;        // sum of |dx| so far in the step
  logic [M_W-1:0]            m1_q, m1_d;            // m_{t-1}
  logic [M_W-1:0]            m2_q, m2_d;            // m_{t-2}
  logic [BUF_W-1:0]          buf_q, buf_d;          // x_{t-1}; head (pixel cnt_q) at [PIX_W-1:0]
  // decision beat
  logic                      dec_stop_q, dec_stop_d;
  logic [TW-1:0]             dec_step_q, dec_step_d;
  logic [CLS_W-1:0]          dec_class_q, dec_class_d;
  logic [MET_W-1:0]          dec_metric_q, dec_metric_d;
  // status
  logic [31:0]               step_cnt_q, step_cnt_d;
  logic [31:0]               stop_cnt_q, stop_cnt_d;
  logic                      err_start_q, err_start_d;
  logic                      err_cfg_q, err_cfg_d;
  logic                      err_last_q, err_last_d;
  logic                      err_data_q, err_data_d;

  // --------------------------------------------------------------------------------------
  // Configuration check (combinational on the cfg_* inputs, used by start_i)
  // --------------------------------------------------------------------------------------
  logic t_hi;     // cfg_steps_i above T_MAX (only where the port can hold such a value)
  logic cfg_bad;
  if ((1 << TW) - 1 > T_MAX) begin : g_t_hi
    assign t_hi = 32'(cfg_steps_i) > T_MAX;
  end else begin : g_t_hi_never
    assign t_hi = 1'b0;
  end
  assign cfg_bad = (cfg_steps_i == '0) || t_hi || (!cfg_rule_i && (cfg_alpha_ln2_i == '0));

  // --------------------------------------------------------------------------------------
  // Rule 0 datapath
  // --------------------------------------------------------------------------------------
  // New sums S_j + U_j (sign-extended membranes)
  logic [N_CLASSES*S_W-1:0] sum_add;
  for (genvar j = 0; j < N_CLASSES; j++) begin : g_sum
    logic [U_W-1:0] u;
    logic [S_W-1:0] u_ext;
    assign u = cls_data_i[j*U_W +: U_W];
    if (S_W > U_W) begin : g_ext
      assign u_ext = {{(S_W - U_W) {u[U_W-1]}}, u};
    end else begin : g_same
      assign u_ext = u;
    end
    assign sum_add[j*S_W +: S_W] = sum_q[j*S_W +: S_W] + u_ext;
  end

  // S_{k_q}: read mux as a chain of 2:1 muxes
  logic [S_W-1:0] sum_sel;
  for (genvar j = 0; j < N_CLASSES; j++) begin : g_rd
    logic [S_W-1:0] v;  // S_j if k_q == j, else the chain below
    if (j == 0) begin : g_first
      assign v = sum_q[0 +: S_W];
    end else begin : g_next
      assign v = (k_q == K_W'(j)) ? sum_q[j*S_W +: S_W] : g_rd[j-1].v;
    end
  end
  assign sum_sel = g_rd[N_CLASSES-1].v;

  logic                  sel_gt;       // S_{k_q} > best (signed): a new maximum
  logic [S_W-1:0]        d_val;        // D = S_c - S_{k_q} >= 0, fits S_W bits unsigned
  logic [TW+A_W-1:0]     t_a;          // t * A
  logic [NUM_W-1:0]      num;
  logic [DEN_W-1:0]      den;
  logic [R_W-1:0]        div_a;        // 2*num + den
  logic [R_W-1:0]        div_b;        // (2*den) << Q_W
  logic                  div_ge;
  logic [Q_W-1:0]        q_sat;        // saturated quotient
  logic [Y_FRAC-1:0]     lut_idx;
  logic [4:0]            lut_shift;
  logic [LUT_W-1:0]      lut;
  logic [LUT_W-1:0]      term;
  logic [CONF_W-1:0]     conf_new;

  assign sel_gt    = $signed(sum_sel) > $signed(best_q);
  assign d_val     = best_q - sum_sel;
  assign t_a       = (TW + A_W)'(step_q) * (TW + A_W)'(alpha_q);
  assign num       = NUM_W'(d_val) << SH_N;
  assign den       = DEN_W'(t_a) << SH_V;
  assign div_a     = (R_W'(num) << 1) + R_W'(den);
  assign div_b     = R_W'(den) << (Q_W + 1);
  assign div_ge    = rem_q >= dv_q;
  assign q_sat     = quo_q[Q_W] ? '1 : quo_q[Q_W-1:0];
  assign lut_idx   = q_sat[Y_FRAC-1:0];
  assign lut_shift = q_sat[Q_W-1:Y_FRAC];
  assign term      = lut >> lut_shift;
  assign conf_new  = conf_q + CONF_W'(term);

  // EXP2_LUT[f] = round(2^16 * 2^(-f/256)); generated by rramcim.golden.early_stop.rtl_lut_lines
  // and checked against it by tests/test_golden_early_stop.py.
  always_comb begin
    case (lut_idx)
      8'd0  : lut = 17'h10000; 8'd1  : lut = 17'h0ff4f; 8'd2  : lut = 17'h0fe9e; 8'd3  : lut = 17'h0fdee;
      8'd4  : lut = 17'h0fd3e; 8'd5  : lut = 17'h0fc8f; 8'd6  : lut = 17'h0fbe0; 8'd7  : lut = 17'h0fb32;
      8'd8  : lut = 17'h0fa84; 8'd9  : lut = 17'h0f9d6; 8'd10 : lut = 17'h0f929; 8'd11 : lut = 17'h0f87d;
      8'd12 : lut = 17'h0f7d1; 8'd13 : lut = 17'h0f725; 8'd14 : lut = 17'h0f67a; 8'd15 : lut = 17'h0f5d0;
      8'd16 : lut = 17'h0f525; 8'd17 : lut = 17'h0f47c; 8'd18 : lut = 17'h0f3d3; 8'd19 : lut = 17'h0f32a;
      8'd20 : lut = 17'h0f281; 8'd21 : lut = 17'h0f1da; 8'd22 : lut = 17'h0f132; 8'd23 : lut = 17'h0f08b;
      8'd24 : lut = 17'h0efe5; 8'd25 : lut = 17'h0ef3f; 8'd26 : lut = 17'h0ee99; 8'd27 : lut = 17'h0edf4;
      8'd28 : lut = 17'h0ed4f; 8'd29 : lut = 17'h0ecab; 8'd30 : lut = 17'h0ec07; 8'd31 : lut = 17'h0eb64;
      8'd32 : lut = 17'h0eac1; 8'd33 : lut = 17'h0ea1e; 8'd34 : lut = 17'h0e97c; 8'd35 : lut = 17'h0e8db;
      8'd36 : lut = 17'h0e839; 8'd37 : lut = 17'h0e799; 8'd38 : lut = 17'h0e6f8; 8'd39 : lut = 17'h0e658;
      8'd40 : lut = 17'h0e5b9; 8'd41 : lut = 17'h0e51a; 8'd42 : lut = 17'h0e47b; 8'd43 : lut = 17'h0e3dd;
      8'd44 : lut = 17'h0e340; 8'd45 : lut = 17'h0e2a2; 8'd46 : lut = 17'h0e205; 8'd47 : lut = 17'h0e169;
      8'd48 : lut = 17'h0e0cd; 8'd49 : lut = 17'h0e031; 8'd50 : lut = 17'h0df96; 8'd51 : lut = 17'h0defb;
      8'd52 : lut = 17'h0de61; 8'd53 : lut = 17'h0ddc7; 8'd54 : lut = 17'h0dd2e; 8'd55 : lut = 17'h0dc94;
      8'd56 : lut = 17'h0dbfc; 8'd57 : lut = 17'h0db63; 8'd58 : lut = 17'h0dacc; 8'd59 : lut = 17'h0da34;
      8'd60 : lut = 17'h0d99d; 8'd61 : lut = 17'h0d906; 8'd62 : lut = 17'h0d870; 8'd63 : lut = 17'h0d7da;
      8'd64 : lut = 17'h0d745; 8'd65 : lut = 17'h0d6b0; 8'd66 : lut = 17'h0d61b; 8'd67 : lut = 17'h0d587;
      8'd68 : lut = 17'h0d4f3; 8'd69 : lut = 17'h0d460; 8'd70 : lut = 17'h0d3cd; 8'd71 : lut = 17'h0d33a;
      8'd72 : lut = 17'h0d2a8; 8'd73 : lut = 17'h0d216; 8'd74 : lut = 17'h0d185; 8'd75 : lut = 17'h0d0f4;
      8'd76 : lut = 17'h0d063; 8'd77 : lut = 17'h0cfd3; 8'd78 : lut = 17'h0cf43; 8'd79 : lut = 17'h0ceb4;
      8'd80 : lut = 17'h0ce25; 8'd81 : lut = 17'h0cd96; 8'd82 : lut = 17'h0cd08; 8'd83 : lut = 17'h0cc7a;
      8'd84 : lut = 17'h0cbec; 8'd85 : lut = 17'h0cb5f; 8'd86 : lut = 17'h0cad2; 8'd87 : lut = 17'h0ca46;
      8'd88 : lut = 17'h0c9ba; 8'd89 : lut = 17'h0c92e; 8'd90 : lut = 17'h0c8a3; 8'd91 : lut = 17'h0c818;
      8'd92 : lut = 17'h0c78d; 8'd93 : lut = 17'h0c703; 8'd94 : lut = 17'h0c67a; 8'd95 : lut = 17'h0c5f0;
      8'd96 : lut = 17'h0c567; 8'd97 : lut = 17'h0c4df; 8'd98 : lut = 17'h0c456; 8'd99 : lut = 17'h0c3ce;
      8'd100: lut = 17'h0c347; 8'd101: lut = 17'h0c2c0; 8'd102: lut = 17'h0c239; 8'd103: lut = 17'h0c1b2;
      8'd104: lut = 17'h0c12c; 8'd105: lut = 17'h0c0a7; 8'd106: lut = 17'h0c021; 8'd107: lut = 17'h0bf9c;
      8'd108: lut = 17'h0bf18; 8'd109: lut = 17'h0be93; 8'd110: lut = 17'h0be0f; 8'd111: lut = 17'h0bd8c;
      8'd112: lut = 17'h0bd09; 8'd113: lut = 17'h0bc86; 8'd114: lut = 17'h0bc03; 8'd115: lut = 17'h0bb81;
      8'd116: lut = 17'h0baff; 8'd117: lut = 17'h0ba7e; 8'd118: lut = 17'h0b9fd; 8'd119: lut = 17'h0b97c;
      8'd120: lut = 17'h0b8fc; 8'd121: lut = 17'h0b87c; 8'd122: lut = 17'h0b7fc; 8'd123: lut = 17'h0b77d;
      8'd124: lut = 17'h0b6fe; 8'd125: lut = 17'h0b67f; 8'd126: lut = 17'h0b601; 8'd127: lut = 17'h0b583;
      8'd128: lut = 17'h0b505; 8'd129: lut = 17'h0b488; 8'd130: lut = 17'h0b40b; 8'd131: lut = 17'h0b38e;
      8'd132: lut = 17'h0b312; 8'd133: lut = 17'h0b296; 8'd134: lut = 17'h0b21a; 8'd135: lut = 17'h0b19f;
      8'd136: lut = 17'h0b124; 8'd137: lut = 17'h0b0a9; 8'd138: lut = 17'h0b02f; 8'd139: lut = 17'h0afb5;
      8'd140: lut = 17'h0af3b; 8'd141: lut = 17'h0aec2; 8'd142: lut = 17'h0ae49; 8'd143: lut = 17'h0add1;
      8'd144: lut = 17'h0ad58; 8'd145: lut = 17'h0ace0; 8'd146: lut = 17'h0ac69; 8'd147: lut = 17'h0abf1;
      8'd148: lut = 17'h0ab7a; 8'd149: lut = 17'h0ab04; 8'd150: lut = 17'h0aa8d; 8'd151: lut = 17'h0aa17;
      8'd152: lut = 17'h0a9a1; 8'd153: lut = 17'h0a92c; 8'd154: lut = 17'h0a8b7; 8'd155: lut = 17'h0a842;
      8'd156: lut = 17'h0a7ce; 8'd157: lut = 17'h0a759; 8'd158: lut = 17'h0a6e6; 8'd159: lut = 17'h0a672;
      8'd160: lut = 17'h0a5ff; 8'd161: lut = 17'h0a58c; 8'd162: lut = 17'h0a519; 8'd163: lut = 17'h0a4a7;
      8'd164: lut = 17'h0a435; 8'd165: lut = 17'h0a3c3; 8'd166: lut = 17'h0a352; 8'd167: lut = 17'h0a2e1;
      8'd168: lut = 17'h0a270; 8'd169: lut = 17'h0a200; 8'd170: lut = 17'h0a190; 8'd171: lut = 17'h0a120;
      8'd172: lut = 17'h0a0b0; 8'd173: lut = 17'h0a041; 8'd174: lut = 17'h09fd2; 8'd175: lut = 17'h09f64;
      8'd176: lut = 17'h09ef5; 8'd177: lut = 17'h09e87; 8'd178: lut = 17'h09e19; 8'd179: lut = 17'h09dac;
      8'd180: lut = 17'h09d3f; 8'd181: lut = 17'h09cd2; 8'd182: lut = 17'h09c65; 8'd183: lut = 17'h09bf9;
      8'd184: lut = 17'h09b8d; 8'd185: lut = 17'h09b22; 8'd186: lut = 17'h09ab6; 8'd187: lut = 17'h09a4b;
      8'd188: lut = 17'h099e0; 8'd189: lut = 17'h09976; 8'd190: lut = 17'h0990c; 8'd191: lut = 17'h098a2;
      8'd192: lut = 17'h09838; 8'd193: lut = 17'h097cf; 8'd194: lut = 17'h09765; 8'd195: lut = 17'h096fd;
      8'd196: lut = 17'h09694; 8'd197: lut = 17'h0962c; 8'd198: lut = 17'h095c4; 8'd199: lut = 17'h0955c;
      8'd200: lut = 17'h094f5; 8'd201: lut = 17'h0948e; 8'd202: lut = 17'h09427; 8'd203: lut = 17'h093c0;
      8'd204: lut = 17'h0935a; 8'd205: lut = 17'h092f4; 8'd206: lut = 17'h0928e; 8'd207: lut = 17'h09229;
      8'd208: lut = 17'h091c4; 8'd209: lut = 17'h0915f; 8'd210: lut = 17'h090fa; 8'd211: lut = 17'h09096;
      8'd212: lut = 17'h09032; 8'd213: lut = 17'h08fce; 8'd214: lut = 17'h08f6b; 8'd215: lut = 17'h08f07;
      8'd216: lut = 17'h08ea4; 8'd217: lut = 17'h08e41; 8'd218: lut = 17'h08ddf; 8'd219: lut = 17'h08d7d;
      8'd220: lut = 17'h08d1b; 8'd221: lut = 17'h08cb9; 8'd222: lut = 17'h08c58; 8'd223: lut = 17'h08bf7;
      8'd224: lut = 17'h08b96; 8'd225: lut = 17'h08b35; 8'd226: lut = 17'h08ad5; 8'd227: lut = 17'h08a75;
      8'd228: lut = 17'h08a15; 8'd229: lut = 17'h089b5; 8'd230: lut = 17'h08956; 8'd231: lut = 17'h088f7;
      8'd232: lut = 17'h08898; 8'd233: lut = 17'h0883a; 8'd234: lut = 17'h087db; 8'd235: lut = 17'h0877d;
      8'd236: lut = 17'h0871f; 8'd237: lut = 17'h086c2; 8'd238: lut = 17'h08665; 8'd239: lut = 17'h08608;
      8'd240: lut = 17'h085ab; 8'd241: lut = 17'h0854e; 8'd242: lut = 17'h084f2; 8'd243: lut = 17'h08496;
      8'd244: lut = 17'h0843a; 8'd245: lut = 17'h083df; 8'd246: lut = 17'h08383; 8'd247: lut = 17'h08328;
      8'd248: lut = 17'h082ce; 8'd249: lut = 17'h08273; 8'd250: lut = 17'h08219; 8'd251: lut = 17'h081bf;
      8'd252: lut = 17'h08165; 8'd253: lut = 17'h0810b; 8'd254: lut = 17'h080b2; 8'd255: lut = 17'h08059;
      default: lut = '0;
    endcase
  end

  // --------------------------------------------------------------------------------------
  // Rule 1 datapath
  // --------------------------------------------------------------------------------------
  logic [PIX_W-1:0] head;        // x_{t-1} of the pixel being taken
  logic [PIX_W:0]   dx;          // x_t - x_{t-1}, signed
  logic [PIX_W-1:0] adx;         // |dx| <= 2^PIX_W - 1
  logic [M_W-1:0]   m_new;       // metric including the pixel being taken
  logic [BUF_W-1:0] buf_shift;   // buffer after taking a pixel
  logic [TW-1:0]    t_cur;       // step of the pixels being taken
  logic             pix_last;    // the pixel being taken is the N_PIX-th of the step
  logic             conv_rule;   // the convergence rule fires (with the pixel being taken)

  assign head  = buf_q[PIX_W-1:0];
  assign dx    = {pix_data_i[PIX_W-1], pix_data_i} - {head[PIX_W-1], head};
  assign adx   = dx[PIX_W] ? PIX_W'(-dx) : dx[PIX_W-1:0];
  // step 1 has no predecessor: add nothing (also keeps the unreset buffer out of the sums)
  assign m_new = macc_q + ((step_q != '0) ? M_W'(adx) : '0);
  assign t_cur = step_q + TW'(1);
  assign pix_last = (cnt_q == PC_W'(N_PIX - 1));
  assign conv_rule = (32'(t_cur) >= 32'd3) && (m_new < m1_q)
                  && ((32'(t_cur) == 32'd3) || (m1_q < m2_q)) && (m_new < thr_q);
  if (N_PIX > 1) begin : g_buf_shift
    assign buf_shift = {pix_data_i, buf_q[BUF_W-1:PIX_W]};
  end else begin : g_buf_one
    assign buf_shift = pix_data_i;
  end

  // --------------------------------------------------------------------------------------
  // Control
  // --------------------------------------------------------------------------------------
  logic start_ok, idle_refuse;
  // constant part-selects stay out of always_comb (Icarus 11 -Wall warns on them there)
  logic [S_W-1:0] sum_add0;  // new S_0
  logic [Q_W:0]   quo_next;  // quotient with the bit decided in this divider step
  assign sum_add0    = sum_add[0 +: S_W];
  assign quo_next    = {quo_q[Q_W-1:0], div_ge};
  assign start_ok    = start_i && (state_q == StIdle) && !cfg_bad;
  assign idle_refuse = (state_q == StIdle) && !start_ok;

  always_comb begin
    state_d      = state_q;
    cfg_t_d      = cfg_t_q;
    rule_d       = rule_q;
    en_d         = en_q;
    alpha_d      = alpha_q;
    inv_theta_d  = inv_theta_q;
    thr_d        = thr_q;
    step_d       = step_q;
    sum_d        = sum_q;
    best_d       = best_q;
    best_idx_d   = best_idx_q;
    k_d          = k_q;
    rem_d        = rem_q;
    dv_d         = dv_q;
    quo_d        = quo_q;
    qc_d         = qc_q;
    conf_d       = conf_q;
    cnt_d        = cnt_q;
    macc_d       = macc_q;
    m1_d         = m1_q;
    m2_d         = m2_q;
    buf_d        = buf_q;
    dec_stop_d   = dec_stop_q;
    dec_step_d   = dec_step_q;
    dec_class_d  = dec_class_q;
    dec_metric_d = dec_metric_q;
    step_cnt_d   = step_cnt_q;
    stop_cnt_d   = stop_cnt_q;
    err_start_d  = err_start_q;
    err_cfg_d    = err_cfg_q;
    err_last_d   = err_last_q;
    err_data_d   = err_data_q;

    // start_i: legal only while idle with a legal configuration
    if (start_i) begin
      if (state_q != StIdle) begin
        err_start_d = 1'b1;
      end else if (cfg_bad) begin
        err_cfg_d = 1'b1;
      end
    end
    // beats nobody waits for: outside a sample, or on the other rule's stream
    if ((cls_valid_i && (idle_refuse || (state_q != StIdle && rule_q)))
        || (pix_valid_i && (idle_refuse || (state_q != StIdle && !rule_q)))) begin
      err_data_d = 1'b1;
    end

    case (state_q)
      StIdle: begin
        if (start_ok) begin
          cfg_t_d     = cfg_steps_i;
          rule_d      = cfg_rule_i;
          en_d        = cfg_enable_i;
          alpha_d     = cfg_alpha_ln2_i;
          inv_theta_d = cfg_inv_theta_i;
          thr_d       = cfg_conv_thr_i;
          step_d      = '0;
          sum_d       = '0;
          cnt_d       = '0;
          macc_d      = '0;
          m1_d        = '0;
          m2_d        = '0;
          if (cfg_rule_i) begin
            state_d = StPix;
          end else begin
            state_d = StCls;
          end
        end
      end

      StCls: begin
        if (cls_valid_i) begin
          sum_d      = sum_add;
          step_d     = t_cur;
          best_d     = sum_add0;
          best_idx_d = '0;
          k_d        = K_W'(1);
          conf_d     = '0;
          state_d    = StMax;
        end
      end

      StMax: begin
        if (sel_gt) begin
          best_d     = sum_sel;
          best_idx_d = k_q;
        end
        if (k_q == K_W'(N_CLASSES - 1)) begin
          k_d     = '0;
          state_d = StLoad;
        end else begin
          k_d = k_q + K_W'(1);
        end
      end

      StLoad: begin
        rem_d   = div_a;
        dv_d    = div_b;
        quo_d   = '0;
        qc_d    = QC_W'(Q_W);
        state_d = StDiv;
      end

      StDiv: begin
        if (div_ge) begin
          rem_d = rem_q - dv_q;
        end
        quo_d = quo_next;
        dv_d  = dv_q >> 1;
        if (qc_q == '0) begin
          state_d = StAcc;
        end else begin
          qc_d = qc_q - QC_W'(1);
        end
      end

      StAcc: begin
        conf_d = conf_new;
        if (k_q == K_W'(N_CLASSES - 1)) begin
          dec_stop_d   = (en_q && (conf_new < inv_theta_q)) || (step_q == cfg_t_q);
          dec_step_d   = step_q;
          dec_class_d  = CLS_W'(best_idx_q);
          dec_metric_d = MET_W'(conf_new);
          state_d      = StDec;
        end else begin
          k_d     = k_q + K_W'(1);
          state_d = StLoad;
        end
      end

      StPix: begin
        if (pix_valid_i) begin
          buf_d = buf_shift;
          if (pix_last_i != pix_last) begin
            err_last_d = 1'b1;
          end
          if (pix_last) begin
            cnt_d        = '0;
            macc_d       = '0;
            m1_d         = m_new;
            m2_d         = m1_q;
            step_d       = t_cur;
            dec_stop_d   = (en_q && conv_rule) || (t_cur == cfg_t_q);
            dec_step_d   = t_cur;
            dec_class_d  = '0;
            dec_metric_d = (step_q == '0) ? '1 : MET_W'(m_new);
            state_d      = StDec;
          end else begin
            cnt_d  = cnt_q + PC_W'(1);
            macc_d = m_new;
          end
        end
      end

      StDec: begin
        if (dec_ready_i) begin
          step_cnt_d = step_cnt_q + 32'd1;
          if (dec_stop_q) begin
            stop_cnt_d = stop_cnt_q + 32'd1;
            state_d    = StIdle;
          end else if (rule_q) begin
            state_d = StPix;
          end else begin
            state_d = StCls;
          end
        end
      end

      default: begin
        state_d = StIdle;
      end
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q      <= StIdle;
      cfg_t_q      <= '0;
      rule_q       <= 1'b0;
      en_q         <= 1'b0;
      alpha_q      <= '0;
      inv_theta_q  <= '0;
      thr_q        <= '0;
      step_q       <= '0;
      sum_q        <= '0;
      best_q       <= '0;
      best_idx_q   <= '0;
      k_q          <= '0;
      rem_q        <= '0;
      dv_q         <= '0;
      quo_q        <= '0;
      qc_q         <= '0;
      conf_q       <= '0;
      cnt_q        <= '0;
      macc_q       <= '0;
      m1_q         <= '0;
      m2_q         <= '0;
      dec_stop_q   <= 1'b0;
      dec_step_q   <= '0;
      dec_class_q  <= '0;
      dec_metric_q <= '0;
      step_cnt_q   <= '0;
      stop_cnt_q   <= '0;
      err_start_q  <= 1'b0;
      err_cfg_q    <= 1'b0;
      err_last_q   <= 1'b0;
      err_data_q   <= 1'b0;
    end else begin
      state_q      <= state_d;
      cfg_t_q      <= cfg_t_d;
      rule_q       <= rule_d;
      en_q         <= en_d;
      alpha_q      <= alpha_d;
      inv_theta_q  <= inv_theta_d;
      thr_q        <= thr_d;
      step_q       <= step_d;
      sum_q        <= sum_d;
      best_q       <= best_d;
      best_idx_q   <= best_idx_d;
      k_q          <= k_d;
      rem_q        <= rem_d;
      dv_q         <= dv_d;
      quo_q        <= quo_d;
      qc_q         <= qc_d;
      conf_q       <= conf_d;
      cnt_q        <= cnt_d;
      macc_q       <= macc_d;
      m1_q         <= m1_d;
      m2_q         <= m2_d;
      dec_stop_q   <= dec_stop_d;
      dec_step_q   <= dec_step_d;
      dec_class_q  <= dec_class_d;
      dec_metric_q <= dec_metric_d;
      step_cnt_q   <= step_cnt_d;
      stop_cnt_q   <= stop_cnt_d;
      err_start_q  <= err_start_d;
      err_cfg_q    <= err_cfg_d;
      err_last_q   <= err_last_d;
      err_data_q   <= err_data_d;
    end
  end

  // Pixel buffer: no reset (an SRAM in a real chip); step 1 writes every entry before step 2
  // reads any, and the step-1 metric ignores it.
  always_ff @(posedge clk_i) begin
    buf_q <= buf_d;
  end

  // --------------------------------------------------------------------------------------
  // Outputs (all from registers / the registered state)
  // --------------------------------------------------------------------------------------
  assign cls_ready_o  = (state_q == StCls);
  assign pix_ready_o  = (state_q == StPix);
  assign dec_valid_o  = (state_q == StDec);
  assign dec_stop_o   = dec_stop_q;
  assign dec_step_o   = dec_step_q;
  assign dec_class_o  = dec_class_q;
  assign dec_metric_o = dec_metric_q;
  assign busy_o       = (state_q != StIdle);
  assign steps_o      = step_q;
  assign step_count_o = step_cnt_q;
  assign stop_count_o = stop_cnt_q;
  assign err_start_o  = err_start_q;
  assign err_cfg_o    = err_cfg_q;
  assign err_last_o   = err_last_q;
  assign err_data_o   = err_data_q;

  // --------------------------------------------------------------------------------------
  // Run-time invariants (simulation only)
  // --------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Checked only after a reset has been seen. A failure ends the simulation ($fatal) on every
  // simulator (Icarus only prints a $error and would let a bench pass).
  logic                   chk_armed_q;
  logic                   chk_cls_stall_q, chk_pix_stall_q, chk_dec_stall_q;
  logic [N_CLASSES*U_W-1:0] chk_cls_q;
  logic [PIX_W:0]         chk_pix_q;
  logic [TW+CLS_W+MET_W:0] chk_dec_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q     <= 1'b1;
      chk_cls_stall_q <= 1'b0;
      chk_pix_stall_q <= 1'b0;
      chk_dec_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      // a source stalled during a sample holds its beat (a refused beat - after the stop
      // decision or on the other rule's stream - may be withdrawn)
      if (chk_cls_stall_q && state_q != StIdle) begin
        assert (cls_valid_i && cls_data_i == chk_cls_q)
          else $fatal(1, "cim_early_stop: cls beat withdrawn or changed while stalled");
      end
      if (chk_pix_stall_q && state_q != StIdle) begin
        assert (pix_valid_i && {pix_last_i, pix_data_i} == chk_pix_q)
          else $fatal(1, "cim_early_stop: pix beat withdrawn or changed while stalled");
      end
      if (chk_dec_stall_q) begin
        assert (dec_valid_o && {dec_stop_o, dec_step_o, dec_class_o, dec_metric_o} == chk_dec_q)
          else $fatal(1, "cim_early_stop: decision withdrawn or changed while stalled");
      end
      assert (state_q == StIdle || (step_q <= cfg_t_q && cfg_t_q != '0))
        else $fatal(1, "cim_early_stop: step %0d beyond cfg_steps_i %0d", step_q, cfg_t_q);
      assert (32'(k_q) < N_CLASSES && 32'(cnt_q) < N_PIX)
        else $fatal(1, "cim_early_stop: class or pixel index out of range");
      chk_cls_stall_q <= cls_valid_i && !cls_ready_o && state_q != StIdle && !rule_q;
      chk_pix_stall_q <= pix_valid_i && !pix_ready_o && state_q != StIdle && rule_q;
      chk_dec_stall_q <= dec_valid_o && !dec_ready_i;
      chk_cls_q       <= cls_data_i;
      chk_pix_q       <= {pix_last_i, pix_data_i};
      chk_dec_q       <= {dec_stop_o, dec_step_o, dec_class_o, dec_metric_o};
    end
  end
`endif

endmodule
