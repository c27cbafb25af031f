// cim_lif_array: time-multiplexed array of leaky integrate-and-fire (LIF) neurons in fixed point
// (PRIME classification cell, PAPERS.md §1.3), with an output-integrator mode.
//
// Purpose
//   Holds the membrane potential U and the last spike s_prev of N_NEURONS neurons and applies
//   one neuron update per input beat (neuron index + synaptic input I of this timestep), in
//   any order. Each update returns one output beat (index, new spike, new U), in input order.
//   Bit-exact reference: python/rramcim/golden/lif_array.py.
//
// Fixed-point contract (normative; identical in the golden model)
//   U is a U_W-bit two's-complement number with F fractional bits (LSB = 2^-F). I arrives as
//   an IN_W-bit signed integer already in membrane LSBs (the scaling of crossbar codes to
//   membrane units happens upstream). m_q8 values are unsigned Q0.8 (m = m_q8 / 256).
//     mul_q8(x, m) = floor((x*m + 128) / 256)       round half up, arithmetic; |result| <= |x|
//     sat_U(x)     = clamp(x, -2^(U_W-1), 2^(U_W-1)-1)
//     sat_to_range(I) = clamp(I, -2^(U_W+1), 2^(U_W+1)-1)   a width reduction only: since
//                     |u2| <= 2^(U_W-1), it never changes sat_U(u2 + I), and whenever it clamps,
//                     u2 + sat_to_range(I) is already outside the U range (so the saturation
//                     event below is exactly "the exact u2 + I lies outside the U range")
//   LIF mode (cfg_mode_i = 0):
//     u1 = s_prev ? 0 : U                         hard reset if the neuron spiked last step
//     u2 = mul_q8(u1, cfg_leak_q8_i)              leak (PRIME: 1 - decay = 0.2 -> 51)
//     u3 = sat_U(u2 + sat_to_range(I))            a clamp here is one saturation event
//     u4 = (u3 < 0) ? mul_q8(u3, cfg_neg_q8_i) : u3   LeakyReLU (PRIME: 0.1 -> 26)
//     s  = (u4 > cfg_vth_i)                       signed compare, cfg_vth_i in membrane LSBs
//     store U = u4, s_prev = s
//   Integrator mode (cfg_mode_i = 1; PRIME's output cell: no leak, no reset):
//     u3 = sat_U(U + sat_to_range(I)); u4 = LeakyReLU as above; s = 0; store U = u4, s_prev = 0
//   Clear (clr_i while idle): every U = 0 and every s_prev = 0 (start of a new sample).
//
// Latency and throughput (clock edges)
//   A beat that transfers on the input at edge E is in stage 1 (state read, arithmetic) until
//   the first edge at which the output register is free or drains (E+1 without back-pressure);
//   there its result is written back and loaded into the output register, so its output beat
//   is valid from edge E+1 and transfers at edge E+2 at the earliest (latency 2). Without
//   back-pressure the array takes one beat per cycle, any index sequence included: a beat
//   whose index equals that of the beat one ahead (back-to-back same neuron) reads the result
//   of that beat through a bypass register (the memory read of the same edge returns the old
//   value). Beats further apart see the memory already written.
//
// Handshakes (AXI-Stream rules: transfer on valid && ready; valid never waits for ready; data
//   stable while stalled)
//   - in:  in_ready_o = !stage1_full || !out_valid_o || out_ready_i (a combinational path from
//          out_ready_i), and 0 during reset and in the first cycle after its release. The beat
//          is in_idx_i, in_cur_i and the configuration cfg_mode_i, cfg_leak_q8_i, cfg_neg_q8_i,
//          cfg_vth_i, all sampled on the transfer (each beat carries its own configuration; the
//          source holds all of them stable while stalled, checked by an assertion).
//   - out: out_idx_o = the beat's index, out_spike_o = s, out_mem_o = new U (u4, two's
//          complement; in integrator mode the integrated output), out_err_o = 1 for a beat
//          whose index was >= N_NEURONS (then out_spike_o = 0, out_mem_o = 0). Registers,
//          stable while out_valid_o && !out_ready_i.
//   - Bad index (in_idx_i >= N_NEURONS, only possible when N_NEURONS is not a power of two or
//     is 1): the beat is consumed and answered (out_err_o = 1), counted in upd_count_o, sets
//     the sticky err_idx_o, changes no neuron.
//   - clr_i: one-cycle pulse, legal only while busy_o = 0 (nothing in flight). A legal clear
//     takes effect at its edge; an input beat that transfers on the same edge is applied to the
//     cleared array. A clear while busy_o = 1 is ignored (no state change) and sets the sticky
//     err_clr_o.
//
// Status (all include a beat from the edge at which its output becomes valid)
//   upd_count_o: input beats processed (bad indices included); spike_count_o: output beats
//   with out_spike_o = 1; sat_count_o: updates whose u2 + I was clamped by sat_U (either
//   direction). All three count since reset (not cleared by clr_i) and stick at 2^32-1.
//   err_idx_o, err_clr_o: sticky since reset. busy_o: a beat is in stage 1 or in the output
//   register.
//
// Reset (rst_ni, asynchronous, active low)
//   Empties the pipeline (out_valid_o = 0), clears every neuron (U = 0, s_prev = 0, through the
//   per-neuron valid bits), the counters and the sticky errors. in_ready_o is 0 during reset and
//   in the first cycle after its release.
//
// Storage
//   The neuron state {s_prev, U} sits in a RAM-style array of N_NEURONS words of U_W+1 bits
//   with one synchronous read port (read at the input transfer) and one write port (written
//   when the beat leaves stage 1), no reset: it can be replaced by a 1R1W SRAM macro with
//   read-first behaviour. A valid bit per neuron (N_NEURONS flip-flops, cleared by reset and
//   clr_i in one cycle) marks words written since the last clear; an invalid word reads as
//   U = 0, s_prev = 0. Besides the array and the valid bits: about 5*U_W + 2*IDX_W + 127
//   flip-flops (stage 1 with the memory read register, bypass, output register, counters),
//   two U_W x 9-bit multipliers and a U_W+3-bit adder in stage 1 (the critical path: read
//   mux -> leak multiplier -> adder/saturation -> slope multiplier -> threshold compare and
//   write-back).
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_NEURONS  neurons held, 1 .. 65536; in_idx_i / out_idx_o are
//              IDX_W = (N_NEURONS > 1 ? $clog2(N_NEURONS) : 1) bits wide
//   U_W        membrane word width in bits (two's complement), 8 .. 32
//   F          fractional bits of the membrane word (LSB = 2^-F), 0 .. U_W-2; informational:
//              the arithmetic above is in LSBs and does not depend on F (cfg_vth_i and in_cur_i
//              are already scaled), the value documents the instance and is range-checked
//   IN_W       width of in_cur_i in bits (two's complement, membrane LSBs), 8 .. 40
module cim_lif_array #(
  parameter int  N_NEURONS = 256,
  parameter int  U_W       = 16,
  parameter int  F         = 10,
  parameter int  IN_W      = 24,
  localparam int IDX_W     = N_NEURONS > 1 ? $clog2(N_NEURONS) : 1
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  // configuration (sampled with each input beat)
  input  logic                 cfg_mode_i,     // 0: LIF, 1: output integrator
  input  logic [7:0]           cfg_leak_q8_i,  // leak factor, unsigned Q0.8
  input  logic [7:0]           cfg_neg_q8_i,   // LeakyReLU negative slope, unsigned Q0.8
  input  logic [U_W-1:0]       cfg_vth_i,      // threshold, signed, membrane LSBs
  // start of a new sample: clear every neuron (only while idle)
  input  logic                 clr_i,
  // input stream: one neuron update per beat
  input  logic                 in_valid_i,
  output logic                 in_ready_o,
  input  logic [IDX_W-1:0]     in_idx_i,
  input  logic [IN_W-1:0]      in_cur_i,       // synaptic input, signed, membrane LSBs
  // output stream: one beat per input beat, same order
  output logic                 out_valid_o,
  input  logic                 out_ready_i,
  output logic [IDX_W-1:0]     out_idx_o,
  output logic                 out_spike_o,
  output logic [U_W-1:0]       out_mem_o,      // new membrane value, signed
  output logic                 out_err_o,      // the beat's index was >= N_NEURONS
  // status
  output logic [31:0]          sat_count_o,
  output logic [31:0]          upd_count_o,
  output logic [31:0]          spike_count_o,
  output logic                 err_idx_o,
  output logic                 err_clr_o,
  output logic                 busy_o
);

  // --------------------------------------------------------------------------------------
  // Parameter checks. Icarus 11 has no elaboration-time system tasks in generate blocks and
  // Yosys 0.23 has no $fatal in initial blocks, so the same conditions are reported both ways.
  // --------------------------------------------------------------------------------------
  localparam bit BAD_N_NEURONS = (N_NEURONS < 1) || (N_NEURONS > 65536);
  localparam bit BAD_U_W       = (U_W < 8) || (U_W > 32);
  localparam bit BAD_F         = (F < 0) || (F > U_W - 2);
  localparam bit BAD_IN_W      = (IN_W < 8) || (IN_W > 40);

`ifdef YOSYS
  if (BAD_N_NEURONS) begin : g_bad_n_neurons
    $error("cim_lif_array: N_NEURONS out of range 1..65536");
  end
  if (BAD_U_W) begin : g_bad_u_w
    $error("cim_lif_array: U_W out of range 8..32");
  end
  if (BAD_F) begin : g_bad_f
    $error("cim_lif_array: F out of range 0..U_W-2");
  end
  if (BAD_IN_W) begin : g_bad_in_w
    $error("cim_lif_array: IN_W out of range 8..40");
  end
`else
  initial begin
    if (BAD_N_NEURONS) begin
      $fatal(1, "cim_lif_array: N_NEURONS (%0d) out of range 1..65536", N_NEURONS);
    end
    if (BAD_U_W) $fatal(1, "cim_lif_array: U_W (%0d) out of range 8..32", U_W);
    if (BAD_F) $fatal(1, "cim_lif_array: F (%0d) out of range 0..U_W-2 (%0d)", F, U_W - 2);
    if (BAD_IN_W) $fatal(1, "cim_lif_array: IN_W (%0d) out of range 8..40", IN_W);
  end
`endif

  // --------------------------------------------------------------------------------------
  // Widths and constants
  // --------------------------------------------------------------------------------------
  localparam int CUR_W  = (IN_W > U_W + 2) ? U_W + 2 : IN_W;  // I after sat_to_range
  localparam int SUM_W  = U_W + 3;                            // u2 + I, no overflow
  localparam int PROD_W = U_W + 9;                            // x * m (m as signed 9 bits)
  localparam logic signed [U_W-1:0] U_MAX = {1'b0, {(U_W - 1) {1'b1}}};
  localparam logic signed [U_W-1:0] U_MIN = {1'b1, {(U_W - 1) {1'b0}}};
  localparam logic signed [PROD_W-1:0] HALF_Q8 = PROD_W'(128);

  // --------------------------------------------------------------------------------------
  // State
  // --------------------------------------------------------------------------------------
  // stage 1: the beat whose neuron state is being read and updated
  logic                  s1_valid_q, s1_valid_d;
  logic [IDX_W-1:0]      s1_idx_q, s1_idx_d;
  logic                  s1_bad_q, s1_bad_d;
  logic [CUR_W-1:0]      s1_cur_q, s1_cur_d;
  logic                  s1_mode_q, s1_mode_d;
  logic [7:0]            s1_leak_q, s1_leak_d;
  logic [7:0]            s1_neg_q, s1_neg_d;
  logic [U_W-1:0]        s1_vth_q, s1_vth_d;
  logic                  rd_vld_q, rd_vld_d;     // the word read had been written since clear
  logic                  byp_hit_q, byp_hit_d;   // use the bypass instead of the memory word
  logic [U_W:0]          byp_q, byp_d;           // {s, U} written by the beat one ahead
  // output register
  logic                  out_valid_q, out_valid_d;
  logic [IDX_W-1:0]      out_idx_q, out_idx_d;
  logic                  out_spike_q, out_spike_d;
  logic [U_W-1:0]        out_mem_q, out_mem_d;
  logic                  out_err_q, out_err_d;
  // per-neuron valid bits, status
  logic [N_NEURONS-1:0]  vld_q;
  logic [31:0]           sat_cnt_q, sat_cnt_d;
  logic [31:0]           upd_cnt_q, upd_cnt_d;
  logic [31:0]           spk_cnt_q, spk_cnt_d;
  logic                  err_idx_q, err_idx_d;
  logic                  err_clr_q, err_clr_d;
  logic                  rdy_en_q;               // 0 in reset and the first cycle after it

  // --------------------------------------------------------------------------------------
  // Handshake
  // --------------------------------------------------------------------------------------
  logic s1_adv;     // stage 1 moves into the output register at the next edge
  logic in_fire;    // an input beat transfers at the next edge
  logic idx_ok;     // in_idx_i names an existing neuron
  logic clr_apply;  // a legal clear at the next edge
  logic mem_we;     // the stage-1 beat writes its neuron at the next edge

  assign s1_adv     = !out_valid_q || out_ready_i;
  assign in_ready_o = rdy_en_q && (!s1_valid_q || s1_adv);
  assign in_fire    = in_valid_i && in_ready_o;
  assign busy_o     = s1_valid_q || out_valid_q;
  assign clr_apply  = clr_i && !busy_o;
  assign mem_we     = s1_valid_q && s1_adv && !s1_bad_q;

  if (N_NEURONS < (1 << IDX_W)) begin : g_idx_chk
    assign idx_ok = ({1'b0, in_idx_i} < (IDX_W + 1)'(N_NEURONS));
  end else begin : g_idx_all_legal
    assign idx_ok = 1'b1;
  end

  // --------------------------------------------------------------------------------------
  // Neuron state memory (RAM style, see "Storage"): one synchronous read port at the input
  // transfer, one write port at the stage-1 exit; read-first when both hit the same word at
  // one edge (the bypass below supplies the new value then). It is written like a RAM
  // (no reset, write enable) instead of the _q/_d pair: the valid bits carry the reset.
  // --------------------------------------------------------------------------------------
  logic [U_W:0] mem_q [0:N_NEURONS-1];
  logic [U_W:0] mem_rd_q;
  logic [U_W:0] mem_wd;
  logic         mem_re;

  assign mem_re = in_fire && idx_ok;

  always_ff @(posedge clk_i) begin
    if (mem_we) begin
      mem_q[s1_idx_q] <= mem_wd;
    end
    if (mem_re) begin
      mem_rd_q <= mem_q[in_idx_i];
    end
  end

  // --------------------------------------------------------------------------------------
  // Input side: sat_to_range(I) (a width reduction, see the header)
  // --------------------------------------------------------------------------------------
  logic [CUR_W-1:0] cur_in;
  if (IN_W > CUR_W) begin : g_cur_sat
    logic [IN_W-CUR_W:0] cur_top;  // bits that must all equal the sign of the CUR_W result
    logic                cur_fits;
    assign cur_top  = in_cur_i[IN_W-1:CUR_W-1];
    assign cur_fits = (cur_top == '0) || (cur_top == '1);
    assign cur_in   = cur_fits ? in_cur_i[CUR_W-1:0]
                    : (in_cur_i[IN_W-1] ? {1'b1, {(CUR_W - 1) {1'b0}}}
                                        : {1'b0, {(CUR_W - 1) {1'b1}}});
  end else begin : g_cur_fits
    assign cur_in = in_cur_i;
  end

  // --------------------------------------------------------------------------------------
  // Stage 1 datapath: the LIF / integrator step of the fixed-point contract
  // --------------------------------------------------------------------------------------
  logic signed [U_W-1:0]    u_old;      // U of the neuron before this update
  logic                     s_old;      // its s_prev
  logic signed [U_W-1:0]    u1, u2, u3, u4, u3_neg, u1_leak;
  logic signed [PROD_W-1:0] prod_leak, prod_neg, rnd_leak, rnd_neg;
  logic signed [SUM_W-1:0]  sum;
  logic                     sat_hi, sat_lo;
  logic                     spike;

  assign u_old = byp_hit_q ? $signed(byp_q[U_W-1:0])
               : (rd_vld_q ? $signed(mem_rd_q[U_W-1:0]) : '0);
  assign s_old = byp_hit_q ? byp_q[U_W] : (rd_vld_q && mem_rd_q[U_W]);

  // u1: hard reset (LIF mode only)
  assign u1 = (!s1_mode_q && s_old) ? '0 : u_old;
  // u2 = mul_q8(u1, leak) in LIF mode, u1 in integrator mode. The products fit PROD_W bits;
  // the rounded quotients fit U_W bits (|mul_q8(x, m)| <= |x| for m <= 255).
  assign prod_leak = PROD_W'(u1) * $signed({1'b0, s1_leak_q});
  assign rnd_leak  = (prod_leak + HALF_Q8) >>> 8;
  assign u1_leak   = U_W'(rnd_leak);
  assign u2        = s1_mode_q ? u1 : u1_leak;
  // u3 = sat_U(u2 + I)
  assign sum    = SUM_W'(u2) + SUM_W'($signed(s1_cur_q));
  assign sat_hi = !sum[SUM_W-1] && (sum[SUM_W-2:U_W-1] != '0);
  assign sat_lo = sum[SUM_W-1] && (sum[SUM_W-2:U_W-1] != '1);
  assign u3     = sat_hi ? U_MAX : (sat_lo ? U_MIN : sum[U_W-1:0]);
  // u4 = LeakyReLU(u3)
  assign prod_neg = PROD_W'(u3) * $signed({1'b0, s1_neg_q});
  assign rnd_neg  = (prod_neg + HALF_Q8) >>> 8;
  assign u3_neg   = U_W'(rnd_neg);
  assign u4       = u3[U_W-1] ? u3_neg : u3;
  // threshold (LIF mode only)
  assign spike  = !s1_mode_q && (u4 > $signed(s1_vth_q));
  assign mem_wd = {spike, u4};

  // Saturating counter increments (33-bit sums: bit 32 is the overflow). Kept out of the
  // always_comb below: Icarus 11 -Wall warns on constant part-selects inside always_*.
  logic        s1_good;
  logic [32:0] sat_sum, upd_sum, spk_sum;
  logic [31:0] sat_cnt_inc, upd_cnt_inc, spk_cnt_inc;
  assign s1_good     = !s1_bad_q;
  assign sat_sum     = {1'b0, sat_cnt_q} + 33'(s1_good && (sat_hi || sat_lo));
  assign upd_sum     = {1'b0, upd_cnt_q} + 33'd1;
  assign spk_sum     = {1'b0, spk_cnt_q} + 33'(s1_good && spike);
  assign sat_cnt_inc = sat_sum[32] ? '1 : sat_sum[31:0];
  assign upd_cnt_inc = upd_sum[32] ? '1 : upd_sum[31:0];
  assign spk_cnt_inc = spk_sum[32] ? '1 : spk_sum[31:0];

  // Bypass: the beat accepted at this edge names the neuron the stage-1 beat writes now.
  logic byp_hit;
  assign byp_hit = mem_re && mem_we && (in_idx_i == s1_idx_q);

  // Valid bit of the word being read (a clear at this very edge empties it).
  logic rd_vld_in;
  assign rd_vld_in = idx_ok && !clr_apply && vld_q[in_idx_i];

  // --------------------------------------------------------------------------------------
  // Next state
  // --------------------------------------------------------------------------------------
  always_comb begin
    s1_valid_d  = s1_valid_q;
    s1_idx_d    = s1_idx_q;
    s1_bad_d    = s1_bad_q;
    s1_cur_d    = s1_cur_q;
    s1_mode_d   = s1_mode_q;
    s1_leak_d   = s1_leak_q;
    s1_neg_d    = s1_neg_q;
    s1_vth_d    = s1_vth_q;
    rd_vld_d    = rd_vld_q;
    byp_hit_d   = byp_hit_q;
    byp_d       = byp_q;
    out_valid_d = out_valid_q;
    out_idx_d   = out_idx_q;
    out_spike_d = out_spike_q;
    out_mem_d   = out_mem_q;
    out_err_d   = out_err_q;
    sat_cnt_d   = sat_cnt_q;
    upd_cnt_d   = upd_cnt_q;
    spk_cnt_d   = spk_cnt_q;
    err_idx_d   = err_idx_q;
    err_clr_d   = err_clr_q;

    // output register: drained by the consumer, refilled from stage 1
    if (out_valid_q && out_ready_i) begin
      out_valid_d = 1'b0;
    end
    if (s1_valid_q && s1_adv) begin
      out_valid_d = 1'b1;
      out_idx_d   = s1_idx_q;
      out_err_d   = s1_bad_q;
      out_spike_d = s1_good && spike;
      out_mem_d   = s1_good ? u4 : '0;
      sat_cnt_d   = sat_cnt_inc;
      upd_cnt_d   = upd_cnt_inc;
      spk_cnt_d   = spk_cnt_inc;
      if (s1_bad_q) begin
        err_idx_d = 1'b1;
      end
      s1_valid_d = 1'b0;
    end

    // stage 1: refilled from the input
    if (in_fire) begin
      s1_valid_d = 1'b1;
      s1_idx_d   = in_idx_i;
      s1_bad_d   = !idx_ok;
      s1_cur_d   = cur_in;
      s1_mode_d  = cfg_mode_i;
      s1_leak_d  = cfg_leak_q8_i;
      s1_neg_d   = cfg_neg_q8_i;
      s1_vth_d   = cfg_vth_i;
      rd_vld_d   = rd_vld_in;
      byp_hit_d  = byp_hit;
      if (byp_hit) begin
        byp_d = mem_wd;
      end
    end

    // clear: legal only while nothing is in flight (so no write-back can coincide with it)
    if (clr_i && !clr_apply) begin
      err_clr_d = 1'b1;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_valid_q  <= 1'b0;
      s1_idx_q    <= '0;
      s1_bad_q    <= 1'b0;
      s1_cur_q    <= '0;
      s1_mode_q   <= 1'b0;
      s1_leak_q   <= '0;
      s1_neg_q    <= '0;
      s1_vth_q    <= '0;
      rd_vld_q    <= 1'b0;
      byp_hit_q   <= 1'b0;
      byp_q       <= '0;
      out_valid_q <= 1'b0;
      out_idx_q   <= '0;
      out_spike_q <= 1'b0;
      out_mem_q   <= '0;
      out_err_q   <= 1'b0;
      sat_cnt_q   <= '0;
      upd_cnt_q   <= '0;
      spk_cnt_q   <= '0;
      err_idx_q   <= 1'b0;
      err_clr_q   <= 1'b0;
      rdy_en_q    <= 1'b0;
    end else begin
      s1_valid_q  <= s1_valid_d;
      s1_idx_q    <= s1_idx_d;
      s1_bad_q    <= s1_bad_d;
      s1_cur_q    <= s1_cur_d;
      s1_mode_q   <= s1_mode_d;
      s1_leak_q   <= s1_leak_d;
      s1_neg_q    <= s1_neg_d;
      s1_vth_q    <= s1_vth_d;
      rd_vld_q    <= rd_vld_d;
      byp_hit_q   <= byp_hit_d;
      byp_q       <= byp_d;
      out_valid_q <= out_valid_d;
      out_idx_q   <= out_idx_d;
      out_spike_q <= out_spike_d;
      out_mem_q   <= out_mem_d;
      out_err_q   <= out_err_d;
      sat_cnt_q   <= sat_cnt_d;
      upd_cnt_q   <= upd_cnt_d;
      spk_cnt_q   <= spk_cnt_d;
      err_idx_q   <= err_idx_d;
      err_clr_q   <= err_clr_d;
      rdy_en_q    <= 1'b1;
    end
  end

  // Valid bits: set by the stage-1 write-back (mem_we), all cleared by a legal clear (which
  // never coincides with a write-back: it needs busy_o = 0). Kept out of the next-state block
  // above: copying all N_NEURONS bits through vld_d on every evaluation of that block was the
  // largest single cost of an event-driven simulation of the PRIME top (Icarus).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      vld_q <= N_NEURONS'(0);
    end else if (clr_apply) begin
      vld_q <= N_NEURONS'(0);
    end else if (mem_we) begin
      vld_q[s1_idx_q] <= 1'b1;
    end
  end

  // --------------------------------------------------------------------------------------
  // Outputs (all from registers, except in_ready_o, see "Handshakes")
  // --------------------------------------------------------------------------------------
  assign out_valid_o   = out_valid_q;
  assign out_idx_o     = out_idx_q;
  assign out_spike_o   = out_spike_q;
  assign out_mem_o     = out_mem_q;
  assign out_err_o     = out_err_q;
  assign sat_count_o   = sat_cnt_q;
  assign upd_count_o   = upd_cnt_q;
  assign spike_count_o = spk_cnt_q;
  assign err_idx_o     = err_idx_q;
  assign err_clr_o     = err_clr_q;

  // --------------------------------------------------------------------------------------
  // Run-time invariants (simulation only)
  // --------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Checked only after a reset has been seen (inputs and state are unknown before). A failure
  // ends the simulation ($fatal) on every simulator: Icarus only prints a $error and would
  // let a bench pass.
  logic              chk_armed_q;
  logic              chk_in_stall_q;
  logic              chk_out_stall_q;
  logic [IDX_W-1:0]  chk_in_idx_q;
  logic [IN_W-1:0]   chk_in_cur_q;
  logic [U_W+16:0]   chk_in_cfg_q;
  logic [U_W+IDX_W+1:0] chk_out_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q     <= 1'b1;
      chk_in_stall_q  <= 1'b0;
      chk_out_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      if (chk_in_stall_q) begin
        assert (in_valid_i && in_idx_i == chk_in_idx_q && in_cur_i == chk_in_cur_q
                && {cfg_mode_i, cfg_leak_q8_i, cfg_neg_q8_i, cfg_vth_i} == chk_in_cfg_q)
          else $fatal(1, "cim_lif_array: input beat (valid, index, current, cfg_*) %s",
                      "changed while stalled");
      end
      if (chk_out_stall_q) begin
        assert (out_valid_o
                && {out_idx_o, out_spike_o, out_mem_o, out_err_o} == chk_out_q)
          else $fatal(1, "cim_lif_array: output beat changed or withdrawn while stalled");
      end
      // mul_q8 results fit U_W bits (the header's |mul_q8(x, m)| <= |x|): the bits dropped by
      // the U_W'() casts are sign extension
      if (s1_valid_q) begin
        assert (rnd_leak[PROD_W-1:U_W-1] == '0 || rnd_leak[PROD_W-1:U_W-1] == '1)
          else $fatal(1, "cim_lif_array: leak product overflows U_W bits");
        assert (rnd_neg[PROD_W-1:U_W-1] == '0 || rnd_neg[PROD_W-1:U_W-1] == '1)
          else $fatal(1, "cim_lif_array: LeakyReLU product overflows U_W bits");
      end
      // the bypass is only ever armed for a beat of the neuron written one edge earlier
      if (s1_valid_q && byp_hit_q) begin
        assert (!s1_bad_q && out_valid_q && !out_err_q && out_idx_q == s1_idx_q)
          else $fatal(1, "cim_lif_array: bypass armed for a different neuron");
      end
      chk_in_stall_q  <= in_valid_i && !in_ready_o;
      chk_out_stall_q <= out_valid_o && !out_ready_i;
      chk_in_idx_q    <= in_idx_i;
      chk_in_cur_q    <= in_cur_i;
      chk_in_cfg_q    <= {cfg_mode_i, cfg_leak_q8_i, cfg_neg_q8_i, cfg_vth_i};
      chk_out_q       <= {out_idx_o, out_spike_o, out_mem_o, out_err_o};
    end
  end
`endif

endmodule
