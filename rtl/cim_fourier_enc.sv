// cim_fourier_enc: sin and cos of the Gaussian-encoder phases (neural field, PAPERS.md §3.2):
// the sin(2 pi Bx) / cos(2 pi Bx) half of gamma(x) = [x, sin 2 pi Bx, cos 2 pi Bx].
//
// Purpose
//   The product Bx is computed in the RRAM array; after the ADC and scaling it arrives here as
//   a signed fixed-point phase in units of turns. One input beat (phase, tag) gives one output
//   beat (sin, cos, tag), in input order. A pipelined rotation-mode CORDIC with quadrant
//   folding computes both values. Bit-exact reference: python/rramcim/golden/fourier_enc.py.
//
// Fixed-point contract (normative; identical in the golden model)
//   Input: P = in_phase_i, a PHASE_W-bit two's-complement number with PHASE_F fraction bits,
//   so the phase is P / 2^PHASE_F turns. 2 pi * P mod 2 pi depends only on the low PHASE_F
//   bits u = P[PHASE_F-1:0] (unsigned): the integer part wraps, the range reduction is exact.
//   Internal formats: angle z in ZF = max(PHASE_F, OUT_W + 8) fraction bits of a turn
//   (ZW = ZF - 1 bits signed); x, y in XF = OUT_W + 4 fraction bits (XW = XF + 2 bits signed);
//   G = XF - (OUT_W - 1) = 5 guard bits.
//   Tables (from 32-bit constants; rounding is "half up", i.e. floor(v + 1/2)):
//     ATAN32[i] = round(atan(2^-i) / (2 pi) * 2^32), i = 0 .. 19
//     atan_i    = round(ATAN32[i] / 2^(32 - ZF))         (= ATAN32[i] when ZF = 32)
//     K32       = round(2^32 * prod_{i<20} 1/sqrt(1 + 2^-2i))   (= 2608131496, gain of 20
//                 iterations, used for every ITERS: the gain of 8 iterations differs by 2^-17)
//     X0        = round(K32 / 2^(32 - XF))
//   Quadrant folding to the nearest quarter turn: q = (u[PHASE_F-1:PHASE_F-2] + u[PHASE_F-3])
//   mod 4; z0 = u[PHASE_F-3:0] read as a signed (PHASE_F-2)-bit number (so u = q/4 + z0 turns
//   mod 1, |z0| <= 1/8 turn), scaled to ZF fraction bits: z = z0 * 2^(ZF - PHASE_F).
//   Iterations i = 0 .. ITERS-1 from x = X0, y = 0: d = (z >= 0) ? +1 : -1;
//     x' = x - d * (y >>> i);  y' = y + d * (x >>> i);  z' = z - d * atan_i
//   (>>> arithmetic, i.e. floor). Then (x, y) ~ 2^XF (cos, sin) of z0 turns, and
//     q = 0: (c, s) = ( x,  y)   q = 1: (c, s) = (-y,  x)
//     q = 2: (c, s) = (-x, -y)   q = 3: (c, s) = ( y, -x)
//   out = sat((v + 2^(G-1)) >>> G) to [-2^(OUT_W-1), 2^(OUT_W-1) - 1] for v = s (sin), c (cos),
//   i.e. Q1.(OUT_W-1); +1.0 (code 2^(OUT_W-1)) saturates to the largest code. Each saturated
//   value (sin or cos) is one saturation event.
//   Accuracy (measured on every phase code by tests/test_golden_fourier_enc.py): |error| <=
//   2^(OUT_W-1) * atan(2^-(ITERS-1)) + 1.5 LSB against float sin/cos (OUT_W 16: 16.4 LSB at
//   ITERS 12, 1.6 LSB at ITERS 16, 0.8 LSB at ITERS 20).
//
// Latency and throughput (clock edges)
//   A pipeline of ITERS + 2 registers: stage 0 (folded input), ITERS iteration stages, the
//   output register (unfold, round, saturate). A beat that transfers on the input at edge E is
//   valid on the output from edge E + ITERS + 1 on (latency ITERS + 1 cycles; the first
//   possible output transfer is at edge E + ITERS + 2). Throughput: one beat per cycle.
//   Back-pressure stalls the whole pipeline (global enable): while out_valid_o && !out_ready_i
//   no stage moves, bubbles included.
//
// Handshakes (AXI-Stream rules: transfer on valid && ready; valid never waits for ready; data
//   stable while stalled)
//   - in:  in_ready_o = !out_valid_o || out_ready_i (a combinational path from out_ready_i),
//          and 0 during reset and in the first cycle after its release. The beat is
//          in_phase_i and in_tag_i (passed through unchanged).
//   - out: out_sin_o, out_cos_o (signed Q1.(OUT_W-1)), out_tag_o, out_sat_o (2 bits:
//          [1] sin saturated, [0] cos saturated). Registers, stable while stalled.
//
// Status
//   sat_count_o: saturated output values (sin and cos counted separately) since reset,
//   counted when the beat enters the output register; sticks at 2^32-1. busy_o: a beat is in
//   the pipeline or the output register.
//
// Reset (rst_ni, asynchronous, active low)
//   Empties the pipeline (every valid bit 0, out_valid_o = 0) and clears sat_count_o; the data
//   registers are reset to 0 as well. in_ready_o is 0 during reset and one cycle after it.
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   PHASE_W  width of in_phase_i in bits (two's complement), 8 .. 32
//   PHASE_F  fraction bits of in_phase_i (LSB = 2^-PHASE_F turn), 4 .. PHASE_W; the phase
//            range is [-2^(PHASE_W-PHASE_F-1), 2^(PHASE_W-PHASE_F-1)) turns
//   OUT_W    width of out_sin_o / out_cos_o in bits (Q1.(OUT_W-1)), 8 .. 24
//   ITERS    CORDIC iterations, 8 .. 20 (the residual angle is at most atan(2^-(ITERS-1)))
//   TAG_W    width of the pass-through tag in bits, 1 .. 32
module cim_fourier_enc #(
  parameter int PHASE_W = 16,
  parameter int PHASE_F = 14,
  parameter int OUT_W   = 16,
  parameter int ITERS   = 16,
  parameter int TAG_W   = 8
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  // input stream: one phase per beat
  input  logic               in_valid_i,
  output logic               in_ready_o,
  input  logic [PHASE_W-1:0] in_phase_i,   // signed, turns, PHASE_F fraction bits
  input  logic [TAG_W-1:0]   in_tag_i,
  // output stream: one beat per input beat, same order
  output logic               out_valid_o,
  input  logic               out_ready_i,
  output logic [OUT_W-1:0]   out_sin_o,    // signed Q1.(OUT_W-1)
  output logic [OUT_W-1:0]   out_cos_o,    // signed Q1.(OUT_W-1)
  output logic [TAG_W-1:0]   out_tag_o,
  output logic [1:0]         out_sat_o,    // {sin saturated, cos saturated}
  // status
  output logic [31:0]        sat_count_o,
  output logic               busy_o
);

  // --------------------------------------------------------------------------------------
  // Parameter checks (reported both ways, as in cim_lif_array: Yosys 0.23 has no $fatal in
  // initial blocks, Icarus 11 no elaboration-time tasks in generate blocks).
  // --------------------------------------------------------------------------------------
  localparam bit BAD_PHASE_W = (PHASE_W < 8) || (PHASE_W > 32);
  localparam bit BAD_PHASE_F = (PHASE_F < 4) || (PHASE_F > PHASE_W);
  localparam bit BAD_OUT_W   = (OUT_W < 8) || (OUT_W > 24);
  localparam bit BAD_ITERS   = (ITERS < 8) || (ITERS > 20);
  localparam bit BAD_TAG_W   = (TAG_W < 1) || (TAG_W > 32);

`ifdef YOSYS
  if (BAD_PHASE_W) begin : g_bad_phase_w
    $error("cim_fourier_enc: PHASE_W out of range 8..32");
  end
  if (BAD_PHASE_F) begin : g_bad_phase_f
    $error("cim_fourier_enc: PHASE_F out of range 4..PHASE_W");
  end
  if (BAD_OUT_W) begin : g_bad_out_w
    $error("cim_fourier_enc: OUT_W out of range 8..24");
  end
  if (BAD_ITERS) begin : g_bad_iters
    $error("cim_fourier_enc: ITERS out of range 8..20");
  end
  if (BAD_TAG_W) begin : g_bad_tag_w
    $error("cim_fourier_enc: TAG_W out of range 1..32");
  end
`else
  initial begin
    if (BAD_PHASE_W) $fatal(1, "cim_fourier_enc: PHASE_W (%0d) out of range 8..32", PHASE_W);
    if (BAD_PHASE_F) begin
      $fatal(1, "cim_fourier_enc: PHASE_F (%0d) out of range 4..PHASE_W (%0d)", PHASE_F,
             PHASE_W);
    end
    if (BAD_OUT_W) $fatal(1, "cim_fourier_enc: OUT_W (%0d) out of range 8..24", OUT_W);
    if (BAD_ITERS) $fatal(1, "cim_fourier_enc: ITERS (%0d) out of range 8..20", ITERS);
    if (BAD_TAG_W) $fatal(1, "cim_fourier_enc: TAG_W (%0d) out of range 1..32", TAG_W);
  end
`endif

  // --------------------------------------------------------------------------------------
  // Formats and tables
  // --------------------------------------------------------------------------------------
  localparam int ZF = (PHASE_F > OUT_W + 8) ? PHASE_F : OUT_W + 8;
  localparam int ZW = ZF - 1;
  localparam int XF = OUT_W + 4;
  localparam int XW = XF + 2;
  localparam int G  = XF - (OUT_W - 1);
  localparam int NS = ITERS + 1;  // registers before the output register: stage 0 .. ITERS

  // round(atan(2^-i) / (2 pi) * 2^32)
  function automatic logic [31:0] atan32(input int i);
    case (i)
      0:       atan32 = 32'd536870912;
      1:       atan32 = 32'd316933406;
      2:       atan32 = 32'd167458907;
      3:       atan32 = 32'd85004756;
      4:       atan32 = 32'd42667331;
      5:       atan32 = 32'd21354465;
      6:       atan32 = 32'd10679838;
      7:       atan32 = 32'd5340245;
      8:       atan32 = 32'd2670163;
      9:       atan32 = 32'd1335087;
      10:      atan32 = 32'd667544;
      11:      atan32 = 32'd333772;
      12:      atan32 = 32'd166886;
      13:      atan32 = 32'd83443;
      14:      atan32 = 32'd41722;
      15:      atan32 = 32'd20861;
      16:      atan32 = 32'd10430;
      17:      atan32 = 32'd5215;
      18:      atan32 = 32'd2608;
      19:      atan32 = 32'd1304;
      default: atan32 = 32'd0;
    endcase
  endfunction

  // round(v / 2^(32 - f)) for a 32-bit constant v, f <= 32
  function automatic logic [32:0] round32(input logic [31:0] v, input int f);
    logic [32:0] t;
    t = {1'b0, v};
    if (f < 32) begin
      t = (t + (33'd1 << (31 - f))) >> (32 - f);
    end
    round32 = t;
  endfunction

  localparam logic [31:0] K32 = 32'd2608131496;
  localparam logic signed [XW-1:0] X0 = XW'(round32(K32, XF));
  localparam logic signed [XW-1:0] OUT_MAX_X = XW'((1 << (OUT_W - 1)) - 1);
  localparam logic signed [XW-1:0] OUT_MIN_X = -XW'(1 << (OUT_W - 1));

  // --------------------------------------------------------------------------------------
  // Pipeline state: slot 0 .. ITERS (x, y, z, quadrant, tag, valid), then the output register
  // --------------------------------------------------------------------------------------
  logic [NS-1:0]             vld_q, vld_d;
  // slot k of a field of width W sits at bits [k*W +: W] (flat: Yosys 0.23 has no packed
  // multi-dimensional arrays)
  logic [NS*XW-1:0]          x_q, x_d;
  logic [NS*XW-1:0]          y_q, y_d;
  logic [NS*ZW-1:0]          z_q, z_d;
  logic [NS*2-1:0]           quad_q, quad_d;
  logic [NS*TAG_W-1:0]       tag_q, tag_d;
  logic                      out_valid_q, out_valid_d;
  logic [OUT_W-1:0]          out_sin_q, out_sin_d;
  logic [OUT_W-1:0]          out_cos_q, out_cos_d;
  logic [TAG_W-1:0]          out_tag_q, out_tag_d;
  logic [1:0]                out_sat_q, out_sat_d;
  logic [31:0]               sat_cnt_q, sat_cnt_d;
  logic                      rdy_en_q;

  // --------------------------------------------------------------------------------------
  // Handshake: one global enable (see "Latency and throughput")
  // --------------------------------------------------------------------------------------
  logic adv;      // every stage moves at the next edge
  logic in_fire;  // an input beat transfers at the next edge

  assign adv        = !out_valid_q || out_ready_i;
  assign in_ready_o = rdy_en_q && adv;
  assign in_fire    = in_valid_i && in_ready_o;
  assign busy_o     = (vld_q != '0) || out_valid_q;

  // --------------------------------------------------------------------------------------
  // Stage 0 input: quadrant folding (exact) and scaling of the residual angle to ZF bits
  // --------------------------------------------------------------------------------------
  logic [PHASE_F-3:0] z_frac;   // u[PHASE_F-3:0], signed (PHASE_F-2)-bit residual angle
  logic [1:0]         q_in;
  logic [ZW-1:0]      z_in;

  assign z_frac = in_phase_i[PHASE_F-3:0];
  assign q_in   = in_phase_i[PHASE_F-1:PHASE_F-2] + {1'b0, in_phase_i[PHASE_F-3]};
  if (ZF > PHASE_F) begin : g_z_scale
    assign z_in = {z_frac[PHASE_F-3], z_frac, {(ZF - PHASE_F) {1'b0}}};
  end else begin : g_z_same
    assign z_in = {z_frac[PHASE_F-3], z_frac};
  end

  assign vld_d[0]          = adv ? in_fire : vld_q[0];
  assign x_d[0 +: XW]       = X0;
  assign y_d[0 +: XW]       = '0;
  assign z_d[0 +: ZW]       = adv ? z_in : z_q[0 +: ZW];
  assign quad_d[0 +: 2]     = adv ? q_in : quad_q[0 +: 2];
  assign tag_d[0 +: TAG_W]  = adv ? in_tag_i : tag_q[0 +: TAG_W];

  // --------------------------------------------------------------------------------------
  // Iteration stages: slot i+1 holds the result of iteration i applied to slot i
  // --------------------------------------------------------------------------------------
  for (genvar i = 0; i < ITERS; i++) begin : g_iter
    localparam logic [32:0] ATAN_R = round32(atan32(i), ZF);
    localparam logic signed [ZW-1:0] ATAN_I = ZW'(ATAN_R);
    logic signed [XW-1:0] xi, yi, xs, ys, xn, yn;
    logic signed [ZW-1:0] zi, zn;
    assign xi = $signed(x_q[i*XW +: XW]);
    assign yi = $signed(y_q[i*XW +: XW]);
    assign zi = $signed(z_q[i*ZW +: ZW]);
    assign xs = xi >>> i;
    assign ys = yi >>> i;
    assign xn = zi[ZW-1] ? xi + ys : xi - ys;
    assign yn = zi[ZW-1] ? yi - xs : yi + xs;
    assign zn = zi[ZW-1] ? zi + ATAN_I : zi - ATAN_I;
    assign vld_d[i+1]                  = adv ? vld_q[i] : vld_q[i+1];
    assign x_d[(i+1)*XW +: XW]         = adv ? xn : x_q[(i+1)*XW +: XW];
    assign y_d[(i+1)*XW +: XW]         = adv ? yn : y_q[(i+1)*XW +: XW];
    assign z_d[(i+1)*ZW +: ZW]         = adv ? zn : z_q[(i+1)*ZW +: ZW];
    assign quad_d[(i+1)*2 +: 2]        = adv ? quad_q[i*2 +: 2] : quad_q[(i+1)*2 +: 2];
    assign tag_d[(i+1)*TAG_W +: TAG_W] = adv ? tag_q[i*TAG_W +: TAG_W]
                                             : tag_q[(i+1)*TAG_W +: TAG_W];
  end

  // --------------------------------------------------------------------------------------
  // Output stage: unfold the quadrant, round (G guard bits, half up), saturate
  // --------------------------------------------------------------------------------------
  logic signed [XW-1:0] xl, yl, s_full, c_full;
  logic signed [XW:0]   s_sum, c_sum;
  logic signed [XW:0]   s_rnd, c_rnd;
  logic                 s_hi, s_lo, c_hi, c_lo;
  logic [OUT_W-1:0]     s_out, c_out;
  logic [1:0]           sat_now;

  logic             vld_l;     // the last slot's valid bit, quadrant and tag
  logic [1:0]       quad_l;
  logic [TAG_W-1:0] tag_l;
  assign vld_l  = vld_q[NS-1];
  assign quad_l = quad_q[(NS-1)*2 +: 2];
  assign tag_l  = tag_q[(NS-1)*TAG_W +: TAG_W];
  assign xl     = $signed(x_q[(NS-1)*XW +: XW]);
  assign yl     = $signed(y_q[(NS-1)*XW +: XW]);
  // kept out of always_* below: Icarus 11 -Wall warns on constant selects inside always_*
  always_comb begin
    case (quad_l)
      2'd0:    begin s_full = yl;  c_full = xl;  end
      2'd1:    begin s_full = xl;  c_full = -yl; end
      2'd2:    begin s_full = -yl; c_full = -xl; end
      default: begin s_full = -xl; c_full = yl;  end
    endcase
  end
  assign s_sum = (XW + 1)'(s_full) + (XW + 1)'(1 << (G - 1));
  assign c_sum = (XW + 1)'(c_full) + (XW + 1)'(1 << (G - 1));
  assign s_rnd = s_sum >>> G;
  assign c_rnd = c_sum >>> G;
  assign s_hi  = s_rnd > (XW + 1)'(OUT_MAX_X);
  assign s_lo  = s_rnd < (XW + 1)'(OUT_MIN_X);
  assign c_hi  = c_rnd > (XW + 1)'(OUT_MAX_X);
  assign c_lo  = c_rnd < (XW + 1)'(OUT_MIN_X);
  assign s_out = s_hi ? OUT_W'(OUT_MAX_X) : (s_lo ? OUT_W'(OUT_MIN_X) : OUT_W'(s_rnd));
  assign c_out = c_hi ? OUT_W'(OUT_MAX_X) : (c_lo ? OUT_W'(OUT_MIN_X) : OUT_W'(c_rnd));
  assign sat_now = {s_hi || s_lo, c_hi || c_lo};

  // saturating status counter (33-bit sum: bit 32 is the overflow)
  logic [32:0] sat_sum;
  logic [31:0] sat_cnt_inc;
  assign sat_sum     = {1'b0, sat_cnt_q} + 33'(sat_now[1]) + 33'(sat_now[0]);
  assign sat_cnt_inc = sat_sum[32] ? '1 : sat_sum[31:0];

  always_comb begin
    out_valid_d = out_valid_q;
    out_sin_d   = out_sin_q;
    out_cos_d   = out_cos_q;
    out_tag_d   = out_tag_q;
    out_sat_d   = out_sat_q;
    sat_cnt_d   = sat_cnt_q;
    if (adv) begin
      out_valid_d = vld_l;
      if (vld_l) begin
        out_sin_d = s_out;
        out_cos_d = c_out;
        out_tag_d = tag_l;
        out_sat_d = sat_now;
        sat_cnt_d = sat_cnt_inc;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      vld_q       <= '0;
      x_q         <= '0;
      y_q         <= '0;
      z_q         <= '0;
      quad_q      <= '0;
      tag_q       <= '0;
      out_valid_q <= 1'b0;
      out_sin_q   <= '0;
      out_cos_q   <= '0;
      out_tag_q   <= '0;
      out_sat_q   <= '0;
      sat_cnt_q   <= '0;
      rdy_en_q    <= 1'b0;
    end else begin
      vld_q       <= vld_d;
      x_q         <= x_d;
      y_q         <= y_d;
      z_q         <= z_d;
      quad_q      <= quad_d;
      tag_q       <= tag_d;
      out_valid_q <= out_valid_d;
      out_sin_q   <= out_sin_d;
      out_cos_q   <= out_cos_d;
      out_tag_q   <= out_tag_d;
      out_sat_q   <= out_sat_d;
      sat_cnt_q   <= sat_cnt_d;
      rdy_en_q    <= 1'b1;
    end
  end

  assign out_valid_o = out_valid_q;
  assign out_sin_o   = out_sin_q;
  assign out_cos_o   = out_cos_q;
  assign out_tag_o   = out_tag_q;
  assign out_sat_o   = out_sat_q;
  assign sat_count_o = sat_cnt_q;

  // --------------------------------------------------------------------------------------
  // Run-time invariants (simulation only); checked after a reset has been seen
  // --------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  logic                       chk_armed_q;
  logic                       chk_in_stall_q;
  logic                       chk_out_stall_q;
  logic [PHASE_W+TAG_W-1:0]   chk_in_q;
  logic [2*OUT_W+TAG_W+1:0]   chk_out_q;
  logic signed [ZW-1:0]       chk_z_last;

  initial chk_armed_q = 1'b0;
  assign chk_z_last = $signed(z_q[(NS-1)*ZW +: ZW]);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q     <= 1'b1;
      chk_in_stall_q  <= 1'b0;
      chk_out_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      if (chk_in_stall_q) begin
        assert (in_valid_i && {in_phase_i, in_tag_i} == chk_in_q)
          else $fatal(1, "cim_fourier_enc: input beat changed or withdrawn while stalled");
      end
      if (chk_out_stall_q) begin
        assert (out_valid_o && {out_sin_o, out_cos_o, out_tag_o, out_sat_o} == chk_out_q)
          else $fatal(1, "cim_fourier_enc: output beat changed or withdrawn while stalled");
      end
      // the residual angle converges: |z| <= 1/8 turn is kept with a factor-2 margin
      if (vld_q[NS-1]) begin
        assert (chk_z_last[ZW-1] == chk_z_last[ZW-2])
          else $fatal(1, "cim_fourier_enc: residual angle out of range");
      end
      chk_in_stall_q  <= in_valid_i && !in_ready_o;
      chk_out_stall_q <= out_valid_o && !out_ready_i;
      chk_in_q        <= {in_phase_i, in_tag_i};
      chk_out_q       <= {out_sin_o, out_cos_o, out_tag_o, out_sat_o};
    end
  end
`endif

endmodule
