// cim_haq_combine: weighted combination of the N_CELLS cell columns of hardware-aware-quantised
// weights (neural field, HAQ, PAPERS.md §3.4).
//
// Purpose
//   HAQ stores each weight on N_CELLS binary cells with a redundant radix ~1.5:
//   w ~ sum_k (c_k - 0.5 c_ref) / ratio^k. The crossbar gives one ADC code per cell column;
//   this block combines the N_CELLS codes of one output into one value. One input beat carries
//   all N_CELLS codes of one output (plus an offset and a tag); one output beat returns the
//   combined value, in input order. Bit-exact reference: python/rramcim/golden/haq_combine.py.
//
// Fixed-point contract (normative; identical in the golden model)
//   Radix weights (unsigned, RADIX_F fraction bits, computed exactly at elaboration):
//     R_k = round(2^RADIX_F * (256 / RATIO_Q8)^k),  k = 0 .. N_CELLS-1   (round half up;
//     R_0 = 2^RADIX_F; RATIO_Q8 = 384 is ratio 1.5)
//   code_k = in_codes_i[k*ADC_BITS +: ADC_BITS], signed (cell 0 = the most significant cell)
//   acc  = sum_k code_k * R_k                     exact; ACC_W = ADC_BITS + RADIX_F +
//                                                 clog2(N_CELLS) bits
//   diff = acc - in_offset_i                      exact; in_offset_i signed OFF_W bits, in acc
//                                                 LSBs (the 0.5 c_ref terms: 0.5 c_ref sum R_k,
//                                                 see offset_for_ref() in the golden model)
//   y    = sat((diff + 2^(OUT_SHIFT-1)) >>> OUT_SHIFT)   (no rounding term for OUT_SHIFT = 0)
//          to [-2^(OUT_W-1), 2^(OUT_W-1) - 1]; a clamp is one saturation event
//   The output LSB is 2^(OUT_SHIFT - RADIX_F) ADC code units of cell 0.
//
// Latency and throughput (clock edges)
//   Two registers: stage 1 (acc - offset, the tag) and the output register (round, saturate).
//   A beat that transfers on the input at edge E is valid on the output from edge E + 1 on and
//   transfers at edge E + 2 at the earliest. One beat per cycle. Back-pressure stalls both
//   stages (global enable).
//
// Handshakes (AXI-Stream rules: transfer on valid && ready; valid never waits for ready; data
//   stable while stalled)
//   - in:  in_ready_o = !out_valid_o || out_ready_i (combinational from out_ready_i), and 0
//          during reset and in the first cycle after its release. The beat is in_codes_i,
//          in_offset_i and in_tag_i (passed through).
//   - out: out_value_o (signed OUT_W bits), out_sat_o (this beat saturated), out_tag_o.
//          Registers, stable while stalled.
//
// Status
//   sat_count_o: saturated output beats since reset (counted when the beat enters the output
//   register), sticks at 2^32-1. busy_o: a beat is in stage 1 or in the output register.
//
// Reset (rst_ni, asynchronous, active low)
//   Empties both stages (out_valid_o = 0), clears every register and sat_count_o. in_ready_o is
//   0 during reset and one cycle after it.
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_CELLS    cells (columns) per weight, 1 .. 16 (HAQ uses 8 .. 12)
//   ADC_BITS   width of one ADC code in bits (two's complement), 2 .. 16
//   RATIO_Q8   radix ratio in Q8 (ratio = RATIO_Q8 / 256), 288 .. 512 (1.125 .. 2.0; HAQ
//              uses 1.4 .. 1.6 = 358 .. 410)
//   RADIX_F    fraction bits of the radix weights, 4 .. 20; also R_(N_CELLS-1) >= 1 (every
//              cell must have a non-zero weight)
//   OFF_W      width of in_offset_i in bits (two's complement, acc LSBs), 2 .. 48
//   OUT_W      width of out_value_o in bits (two's complement), 4 .. 32
//   OUT_SHIFT  rounding right shift of the result in bits, 0 .. max(ACC_W, OFF_W)
//   TAG_W      width of the pass-through tag in bits, 1 .. 32
module cim_haq_combine #(
  parameter int N_CELLS   = 12,
  parameter int ADC_BITS  = 8,
  parameter int RATIO_Q8  = 384,
  parameter int RADIX_F   = 12,
  parameter int OFF_W     = 24,
  parameter int OUT_W     = 16,
  parameter int OUT_SHIFT = 8,
  parameter int TAG_W     = 8
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  // input stream: the N_CELLS codes of one output per beat
  input  logic                        in_valid_i,
  output logic                        in_ready_o,
  input  logic [N_CELLS*ADC_BITS-1:0] in_codes_i,   // code k at [k*ADC_BITS +: ADC_BITS]
  input  logic [OFF_W-1:0]            in_offset_i,  // signed, acc LSBs
  input  logic [TAG_W-1:0]            in_tag_i,
  // output stream: one beat per input beat, same order
  output logic                        out_valid_o,
  input  logic                        out_ready_i,
  output logic [OUT_W-1:0]            out_value_o,  // signed
  output logic                        out_sat_o,
  output logic [TAG_W-1:0]            out_tag_o,
  // status
  output logic [31:0]                 sat_count_o,
  output logic                        busy_o
);

  // --------------------------------------------------------------------------------------
  // Radix weights, computed exactly with wide integers (ratio^k for k <= 15 needs 135 bits)
  // --------------------------------------------------------------------------------------
  localparam int RW = RADIX_F + 1;  // R_k <= 2^RADIX_F

  function automatic logic [RW-1:0] radix(input int k);
    logic [191:0] num, den;
    num = 192'd1 << (RADIX_F + 8 * k);
    den = 192'd1;
    for (int j = 0; j < k; j++) begin
      den = den * 192'(RATIO_Q8);
    end
    radix = RW'((2 * num + den) / (2 * den));
  endfunction

  // |acc| <= 2^(ADC_BITS-1) * sum_k R_k <= 2^(ADC_BITS-1) * N_CELLS * 2^RADIX_F
  localparam int ACC_W  = ADC_BITS + RADIX_F + $clog2(N_CELLS);
  localparam int DIFF_W = ((ACC_W > OFF_W) ? ACC_W : OFF_W) + 1;
  localparam int RND_W  = DIFF_W + 1;

  // --------------------------------------------------------------------------------------
  // Parameter checks (reported both ways, see cim_lif_array)
  // --------------------------------------------------------------------------------------
  localparam bit BAD_N_CELLS   = (N_CELLS < 1) || (N_CELLS > 16);
  localparam bit BAD_ADC_BITS  = (ADC_BITS < 2) || (ADC_BITS > 16);
  localparam bit BAD_RATIO_Q8  = (RATIO_Q8 < 288) || (RATIO_Q8 > 512);
  localparam bit BAD_RADIX_F   = (RADIX_F < 4) || (RADIX_F > 20) || (radix(N_CELLS - 1) == 0);
  localparam bit BAD_OFF_W     = (OFF_W < 2) || (OFF_W > 48);
  localparam bit BAD_OUT_W     = (OUT_W < 4) || (OUT_W > 32);
  localparam bit BAD_OUT_SHIFT = (OUT_SHIFT < 0) || (OUT_SHIFT > DIFF_W - 1);
  localparam bit BAD_TAG_W     = (TAG_W < 1) || (TAG_W > 32);

`ifdef YOSYS
  if (BAD_N_CELLS) begin : g_bad_n_cells
    $error("cim_haq_combine: N_CELLS out of range 1..16");
  end
  if (BAD_ADC_BITS) begin : g_bad_adc_bits
    $error("cim_haq_combine: ADC_BITS out of range 2..16");
  end
  if (BAD_RATIO_Q8) begin : g_bad_ratio_q8
    $error("cim_haq_combine: RATIO_Q8 out of range 288..512");
  end
  if (BAD_RADIX_F) begin : g_bad_radix_f
    $error("cim_haq_combine: RADIX_F out of range 4..20 or R_(N_CELLS-1) = 0");
  end
  if (BAD_OFF_W) begin : g_bad_off_w
    $error("cim_haq_combine: OFF_W out of range 2..48");
  end
  if (BAD_OUT_W) begin : g_bad_out_w
    $error("cim_haq_combine: OUT_W out of range 4..32");
  end
  if (BAD_OUT_SHIFT) begin : g_bad_out_shift
    $error("cim_haq_combine: OUT_SHIFT out of range 0..max(ACC_W, OFF_W)");
  end
  if (BAD_TAG_W) begin : g_bad_tag_w
    $error("cim_haq_combine: TAG_W out of range 1..32");
  end
`else
  initial begin
    if (BAD_N_CELLS) $fatal(1, "cim_haq_combine: N_CELLS (%0d) out of range 1..16", N_CELLS);
    if (BAD_ADC_BITS) begin
      $fatal(1, "cim_haq_combine: ADC_BITS (%0d) out of range 2..16", ADC_BITS);
    end
    if (BAD_RATIO_Q8) begin
      $fatal(1, "cim_haq_combine: RATIO_Q8 (%0d) out of range 288..512", RATIO_Q8);
    end
    if (BAD_RADIX_F) begin
      $fatal(1, "cim_haq_combine: RADIX_F (%0d) out of range 4..20 or R_(N_CELLS-1) = 0",
             RADIX_F);
    end
    if (BAD_OFF_W) $fatal(1, "cim_haq_combine: OFF_W (%0d) out of range 2..48", OFF_W);
    if (BAD_OUT_W) $fatal(1, "cim_haq_combine: OUT_W (%0d) out of range 4..32", OUT_W);
    if (BAD_OUT_SHIFT) begin
      $fatal(1, "cim_haq_combine: OUT_SHIFT (%0d) out of range 0..max(ACC_W, OFF_W) (%0d)",
             OUT_SHIFT, DIFF_W - 1);
    end
    if (BAD_TAG_W) $fatal(1, "cim_haq_combine: TAG_W (%0d) out of range 1..32", TAG_W);
  end
`endif

  // --------------------------------------------------------------------------------------
  // State
  // --------------------------------------------------------------------------------------
  logic               s1_valid_q, s1_valid_d;
  logic [DIFF_W-1:0]  s1_diff_q, s1_diff_d;
  logic [TAG_W-1:0]   s1_tag_q, s1_tag_d;
  logic               out_valid_q, out_valid_d;
  logic [OUT_W-1:0]   out_value_q, out_value_d;
  logic               out_sat_q, out_sat_d;
  logic [TAG_W-1:0]   out_tag_q, out_tag_d;
  logic [31:0]        sat_cnt_q, sat_cnt_d;
  logic               rdy_en_q;

  logic adv;      // both stages move at the next edge
  logic in_fire;  // an input beat transfers at the next edge

  assign adv        = !out_valid_q || out_ready_i;
  assign in_ready_o = rdy_en_q && adv;
  assign in_fire    = in_valid_i && in_ready_o;
  assign busy_o     = s1_valid_q || out_valid_q;

  // --------------------------------------------------------------------------------------
  // Stage 1 input: acc = sum_k code_k * R_k (constant multipliers), minus the offset
  // --------------------------------------------------------------------------------------
  // part[k*ACC_W +: ACC_W]: sum of the products of the cells below k (flat: Yosys 0.23 does
  // not take continuous assignments to unpacked array words). Each slice depends only on the
  // slice below it; Verilator's scheduler sees the one vector as a loop (UNOPTFLAT, a
  // simulation-speed note, not a logic loop), so the warning is off for this signal.
  /* verilator lint_off UNOPTFLAT */
  logic [(N_CELLS+1)*ACC_W-1:0] part;
  /* verilator lint_on UNOPTFLAT */

  assign part[0 +: ACC_W] = '0;
  for (genvar k = 0; k < N_CELLS; k++) begin : g_cell
    localparam logic [RW-1:0] R_K = radix(k);
    logic signed [ADC_BITS-1:0] code;
    logic signed [ACC_W-1:0]    prod;
    assign code                    = $signed(in_codes_i[k*ADC_BITS +: ADC_BITS]);
    assign prod                    = ACC_W'(code) * $signed({1'b0, R_K});
    assign part[(k+1)*ACC_W +: ACC_W] = $signed(part[k*ACC_W +: ACC_W]) + prod;
  end

  logic signed [DIFF_W-1:0] diff_in;
  logic signed [ACC_W-1:0]  acc;
  assign acc     = $signed(part[N_CELLS*ACC_W +: ACC_W]);
  assign diff_in = DIFF_W'(acc) - DIFF_W'($signed(in_offset_i));

  // --------------------------------------------------------------------------------------
  // Output stage: round half up by OUT_SHIFT bits, saturate to OUT_W bits
  // --------------------------------------------------------------------------------------
  localparam logic signed [RND_W-1:0] HALF = (OUT_SHIFT == 0) ? '0
                                           : RND_W'(1) <<< (OUT_SHIFT > 0 ? OUT_SHIFT - 1 : 0);
  localparam int CMP_W = ((RND_W > OUT_W) ? RND_W : OUT_W) + 1;
  localparam logic signed [CMP_W-1:0] Y_MAX = CMP_W'((64'sd1 <<< (OUT_W - 1)) - 64'sd1);
  localparam logic signed [CMP_W-1:0] Y_MIN = -CMP_W'(64'sd1 <<< (OUT_W - 1));

  logic signed [RND_W-1:0] rnd_sum, rnd;
  logic                    y_hi, y_lo;
  logic [OUT_W-1:0]        y_out;

  assign rnd_sum = RND_W'($signed(s1_diff_q)) + HALF;
  assign rnd     = rnd_sum >>> OUT_SHIFT;
  assign y_hi    = CMP_W'(rnd) > Y_MAX;
  assign y_lo    = CMP_W'(rnd) < Y_MIN;
  assign y_out   = y_hi ? OUT_W'(Y_MAX) : (y_lo ? OUT_W'(Y_MIN) : OUT_W'(rnd));

  logic [32:0] sat_sum;
  logic [31:0] sat_cnt_inc;
  assign sat_sum     = {1'b0, sat_cnt_q} + 33'(y_hi || y_lo);
  assign sat_cnt_inc = sat_sum[32] ? '1 : sat_sum[31:0];

  always_comb begin
    s1_valid_d  = s1_valid_q;
    s1_diff_d   = s1_diff_q;
    s1_tag_d    = s1_tag_q;
    out_valid_d = out_valid_q;
    out_value_d = out_value_q;
    out_sat_d   = out_sat_q;
    out_tag_d   = out_tag_q;
    sat_cnt_d   = sat_cnt_q;
    if (adv) begin
      out_valid_d = s1_valid_q;
      if (s1_valid_q) begin
        out_value_d = y_out;
        out_sat_d   = y_hi || y_lo;
        out_tag_d   = s1_tag_q;
        sat_cnt_d   = sat_cnt_inc;
      end
      s1_valid_d = in_fire;
      if (in_fire) begin
        s1_diff_d = diff_in;
        s1_tag_d  = in_tag_i;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_valid_q  <= 1'b0;
      s1_diff_q   <= '0;
      s1_tag_q    <= '0;
      out_valid_q <= 1'b0;
      out_value_q <= '0;
      out_sat_q   <= 1'b0;
      out_tag_q   <= '0;
      sat_cnt_q   <= '0;
      rdy_en_q    <= 1'b0;
    end else begin
      s1_valid_q  <= s1_valid_d;
      s1_diff_q   <= s1_diff_d;
      s1_tag_q    <= s1_tag_d;
      out_valid_q <= out_valid_d;
      out_value_q <= out_value_d;
      out_sat_q   <= out_sat_d;
      out_tag_q   <= out_tag_d;
      sat_cnt_q   <= sat_cnt_d;
      rdy_en_q    <= 1'b1;
    end
  end

  assign out_valid_o = out_valid_q;
  assign out_value_o = out_value_q;
  assign out_sat_o   = out_sat_q;
  assign out_tag_o   = out_tag_q;
  assign sat_count_o = sat_cnt_q;

  // --------------------------------------------------------------------------------------
  // Run-time invariants (simulation only); checked after a reset has been seen
  // --------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  logic                                    chk_armed_q;
  logic                                    chk_in_stall_q;
  logic                                    chk_out_stall_q;
  logic [N_CELLS*ADC_BITS+OFF_W+TAG_W-1:0] chk_in_q;
  logic [OUT_W+TAG_W:0]                    chk_out_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q     <= 1'b1;
      chk_in_stall_q  <= 1'b0;
      chk_out_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      if (chk_in_stall_q) begin
        assert (in_valid_i && {in_codes_i, in_offset_i, in_tag_i} == chk_in_q)
          else $fatal(1, "cim_haq_combine: input beat changed or withdrawn while stalled");
      end
      if (chk_out_stall_q) begin
        assert (out_valid_o && {out_value_o, out_sat_o, out_tag_o} == chk_out_q)
          else $fatal(1, "cim_haq_combine: output beat changed or withdrawn while stalled");
      end
      chk_in_stall_q  <= in_valid_i && !in_ready_o;
      chk_out_stall_q <= out_valid_o && !out_ready_i;
      chk_in_q        <= {in_codes_i, in_offset_i, in_tag_i};
      chk_out_q       <= {out_value_o, out_sat_o, out_tag_o};
    end
  end
`endif

endmodule
