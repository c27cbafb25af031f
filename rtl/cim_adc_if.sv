// cim_adc_if: conversion handshake between the crossbar controller and the shared column ADCs
// of the analogue macro (cim_xbar_macro).
//
// Purpose
//   Turns one conversion request (a column-mux group) into one macro conversion: drives the
//   column-mux select, waits T_SETTLE_CYC cycles for the mux / word lines to settle, pulses
//   adc_start_o for one cycle, captures the N_ADC codes on the cycle adc_done_i is high (or
//   gives up after T_TIMEOUT_CYC cycles), and returns them with per-channel saturation flags.
//   Keeps status counters (saturated channel samples, conversions) and sticky error flags.
//   One conversion is in flight at a time.
//
// States
//   IDLE -(accept)-> SETTLE (T_SETTLE_CYC cycles; skipped when 0) -> START (adc_start_o = 1
//   for exactly one cycle) -> WAIT (until adc_done_i, at most T_TIMEOUT_CYC cycles) -> RESP
//   (rsp_valid_o = 1 until rsp_ready_i) -> IDLE.
//
// Latency (cycles, counted in rising edges after the edge that accepts the request;
//          T_CONV = number of edges from the edge that samples adc_start_o to the edge that
//          samples adc_done_i, i.e. the macro's T_CONV_CYC)
//   - mux_sel_o takes the group on the accepting edge (good groups only).
//   - adc_start_o is high in the cycle ending at edge T_SETTLE_CYC + 1, so the mux has
//     T_SETTLE_CYC full cycles to settle before the start cycle.
//   - normal conversion: rsp_valid_o is first sampled high at edge T_SETTLE_CYC + T_CONV + 2.
//   - timeout (no adc_done_i in T_TIMEOUT_CYC WAIT cycles; a done with T_CONV equal to
//     T_TIMEOUT_CYC is still taken): rsp_valid_o at edge T_SETTLE_CYC + T_TIMEOUT_CYC + 2.
//   - bad group: rsp_valid_o at edge 1.
//   - throughput without back-pressure: one request every T_SETTLE_CYC + T_CONV + 3 cycles
//     (the response transfer and the next acceptance take one cycle each).
//
// Handshake / back-pressure (AXI-Stream rules: transfer on valid && ready)
//   - req: req_ready_o = 1 only in IDLE; req_group_i is taken on the transfer. The requester
//     must hold req_valid_i and req_group_i while stalled (checked by an assertion).
//   - rsp: rsp_valid_o does not wait for rsp_ready_i; rsp_code_o, rsp_sat_o and rsp_timeout_o
//     are registers that stay stable while rsp_valid_o && !rsp_ready_i. The block accepts no
//     new request until the response has been taken.
//   - rsp_code_o: channel a at [a*ADC_BITS +: ADC_BITS], signed two's complement, as captured
//     from adc_code_i on the adc_done_i cycle. rsp_sat_o[a] = 1 where that code equals
//     -2^(ADC_BITS-1) or 2^(ADC_BITS-1)-1. rsp_timeout_o = 1: the conversion timed out;
//     codes and flags are then 0.
//   - Bad group: a request with req_group_i >= N_GROUPS (possible only when N_GROUPS is not a
//     power of two, or N_GROUPS = 1) is still answered, with codes 0, rsp_sat_o = 0 and
//     rsp_timeout_o = 0; it sets err_group_o, starts no conversion (conv_count_o unchanged)
//     and leaves mux_sel_o at its previous value (the mux never selects a group that does not
//     exist).
//   - Macro side: adc_done_i must come only in WAIT (a done outside WAIT, e.g. a late one after
//     a timeout, is a protocol error flagged by an assertion and otherwise ignored). After a
//     timeout the macro may still be converting; the integrator must size T_TIMEOUT_CYC above
//     the macro's T_CONV_CYC.
//
// Status
//   conv_count_o: adc_start_o pulses since reset (so it equals the macro's read number of the
//   next read), saturating at 2^32-1. sat_count_o: saturated channel samples since reset (sum
//   of rsp_sat_o over all responses), saturating at 2^32-1. Both already include a response's
//   conversion when its rsp_valid_o rises. err_timeout_o / err_group_o: sticky since reset.
//   busy_o = 1 outside IDLE.
//
// Reset (rst_ni, asynchronous, active low)
//   Returns to IDLE, drops rsp_valid_o and adc_start_o, clears codes, flags, counters and
//   sticky errors, and sets mux_sel_o to group 0. A conversion in flight is abandoned (the
//   macro is reset by the same signal).
//
// Parameters (unit, legal range)
//   N_ADC          ADC channels, 1 .. 256
//   ADC_BITS       ADC resolution in bits, 2 .. 16
//   N_GROUPS       column-mux groups, 1 .. 4096; req_group_i / mux_sel_o are
//                  MuxW = (N_GROUPS > 1 ? $clog2(N_GROUPS) : 1) bits wide
//   T_SETTLE_CYC   clock cycles between the mux change and the start cycle, 0 .. 255
//   T_TIMEOUT_CYC  clock cycles waited for adc_done_i after the start cycle, 1 .. 65535
module cim_adc_if #(
  parameter int N_ADC         = 32,
  parameter int ADC_BITS      = 8,
  parameter int N_GROUPS      = 8,
  parameter int T_SETTLE_CYC  = 2,
  parameter int T_TIMEOUT_CYC = 1024,
  localparam int MuxW          = N_GROUPS > 1 ? $clog2(N_GROUPS) : 1,
  localparam int CodeW         = N_ADC * ADC_BITS
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // conversion request
  input  logic              req_valid_i,
  output logic              req_ready_o,
  input  logic [MuxW-1:0]  req_group_i,
  // conversion response
  output logic              rsp_valid_o,
  input  logic              rsp_ready_i,
  output logic [CodeW-1:0] rsp_code_o,
  output logic [N_ADC-1:0]  rsp_sat_o,
  output logic              rsp_timeout_o,
  // macro side
  output logic [MuxW-1:0]  mux_sel_o,
  output logic              adc_start_o,
  input  logic              adc_done_i,
  input  logic [CodeW-1:0] adc_code_i,
  // status
  output logic [31:0]       sat_count_o,
  output logic [31:0]       conv_count_o,
  output logic              err_timeout_o,
  output logic              err_group_o,
  output logic              busy_o
);

  // ---------------------------------------------------------------------------------------
  // Parameter check
  // ---------------------------------------------------------------------------------------
  initial begin
    if (N_ADC < 1 || N_ADC > 256)
      $fatal(1, "cim_adc_if: N_ADC (%0d) out of 1..256", N_ADC);
    if (ADC_BITS < 2 || ADC_BITS > 16)
      $fatal(1, "cim_adc_if: ADC_BITS (%0d) out of 2..16", ADC_BITS);
    if (N_GROUPS < 1 || N_GROUPS > 4096)
      $fatal(1, "cim_adc_if: N_GROUPS (%0d) out of 1..4096", N_GROUPS);
    if (T_SETTLE_CYC < 0 || T_SETTLE_CYC > 255)
      $fatal(1, "cim_adc_if: T_SETTLE_CYC (%0d) out of 0..255", T_SETTLE_CYC);
    if (T_TIMEOUT_CYC < 1 || T_TIMEOUT_CYC > 65535)
      $fatal(1, "cim_adc_if: T_TIMEOUT_CYC (%0d) out of 1..65535", T_TIMEOUT_CYC);
  end

  // ---------------------------------------------------------------------------------------
  // Constants
  // ---------------------------------------------------------------------------------------
  // settle / timeout down-counter: holds T_SETTLE_CYC-1 and T_TIMEOUT_CYC-1
  localparam int CntMax = T_TIMEOUT_CYC > T_SETTLE_CYC ? T_TIMEOUT_CYC : T_SETTLE_CYC;
  localparam int CntW   = CntMax > 1 ? $clog2(CntMax) : 1;
  localparam int PopW   = $clog2(N_ADC + 1);  // saturated channels in one conversion
  localparam logic [CntW-1:0] SettleLoad  = CntW'(T_SETTLE_CYC > 0 ? T_SETTLE_CYC - 1 : 0);
  localparam logic [CntW-1:0] TimeoutLoad = CntW'(T_TIMEOUT_CYC - 1);
  localparam logic [ADC_BITS-1:0] CodeMin = {1'b1, {(ADC_BITS - 1) {1'b0}}};
  localparam logic [ADC_BITS-1:0] CodeMax = {1'b0, {(ADC_BITS - 1) {1'b1}}};

  typedef enum logic [2:0] {
    StIdle   = 3'd0,
    StSettle = 3'd1,
    StStart  = 3'd2,
    StWait   = 3'd3,
    StResp   = 3'd4
  } state_e;

  // ---------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------
  state_e              state_q, state_d;
  logic [CntW-1:0]     cnt_q, cnt_d;
  logic [MuxW-1:0]    mux_q, mux_d;
  logic [CodeW-1:0]   code_q, code_d;
  logic [N_ADC-1:0]    sat_q, sat_d;
  logic                tmo_q, tmo_d;
  logic [31:0]         sat_cnt_q, sat_cnt_d;
  logic [31:0]         conv_cnt_q, conv_cnt_d;
  logic                err_tmo_q, err_tmo_d;
  logic                err_grp_q, err_grp_d;

  // ---------------------------------------------------------------------------------------
  // Group range check (a comparison only exists when some select value is out of range)
  // ---------------------------------------------------------------------------------------
  logic group_bad;
  if (N_GROUPS < (1 << MuxW)) begin : g_group_chk
    assign group_bad = ({1'b0, req_group_i} >= (MuxW + 1)'(N_GROUPS));
  end else begin : g_group_all_legal
    assign group_bad = 1'b0;
  end

  // ---------------------------------------------------------------------------------------
  // Saturation of the incoming codes
  // ---------------------------------------------------------------------------------------
  logic [N_ADC-1:0] sat_in;
  logic [PopW-1:0]  sat_num;
  for (genvar a = 0; a < N_ADC; a++) begin : g_sat
    logic [ADC_BITS-1:0] code;
    assign code      = adc_code_i[a*ADC_BITS +: ADC_BITS];
    assign sat_in[a] = (code == CodeMin) || (code == CodeMax);
  end

  assign sat_num = PopW'($countones(sat_in));

  // Saturating counter increments (33-bit sums: bit 32 is the overflow). Kept out of the
  // always_comb below: Icarus 11 -Wall warns on constant part-selects inside always_*.
  logic [32:0] sat_sum, conv_sum;
  logic [31:0] sat_cnt_inc, conv_cnt_inc;
  assign sat_sum      = {1'b0, sat_cnt_q} + 33'(sat_num);
  assign conv_sum     = {1'b0, conv_cnt_q} + 33'd1;
  assign sat_cnt_inc  = sat_sum[32] ? '1 : sat_sum[31:0];
  assign conv_cnt_inc = conv_sum[32] ? '1 : conv_sum[31:0];

  // ---------------------------------------------------------------------------------------
  // FSM and datapath
  // ---------------------------------------------------------------------------------------
  always_comb begin
    state_d    = state_q;
    cnt_d      = cnt_q;
    mux_d      = mux_q;
    code_d     = code_q;
    sat_d      = sat_q;
    tmo_d      = tmo_q;
    sat_cnt_d  = sat_cnt_q;
    conv_cnt_d = conv_cnt_q;
    err_tmo_d  = err_tmo_q;
    err_grp_d  = err_grp_q;

    case (state_q)
      StIdle: begin
        if (req_valid_i) begin
          if (group_bad) begin
            code_d    = '0;
            sat_d     = '0;
            tmo_d     = 1'b0;
            err_grp_d = 1'b1;
            state_d   = StResp;
          end else begin
            mux_d   = req_group_i;
            cnt_d   = SettleLoad;
            state_d = (T_SETTLE_CYC == 0) ? StStart : StSettle;
          end
        end
      end
      StSettle: begin
        if (cnt_q == '0) begin
          state_d = StStart;
        end else begin
          cnt_d = cnt_q - CntW'(1);
        end
      end
      StStart: begin
        cnt_d      = TimeoutLoad;
        conv_cnt_d = conv_cnt_inc;
        state_d    = StWait;
      end
      StWait: begin
        if (adc_done_i) begin
          code_d    = adc_code_i;
          sat_d     = sat_in;
          tmo_d     = 1'b0;
          sat_cnt_d = sat_cnt_inc;
          state_d   = StResp;
        end else if (cnt_q == '0) begin
          code_d    = '0;
          sat_d     = '0;
          tmo_d     = 1'b1;
          err_tmo_d = 1'b1;
          state_d   = StResp;
        end else begin
          cnt_d = cnt_q - CntW'(1);
        end
      end
      StResp: begin
        if (rsp_ready_i) begin
          state_d = StIdle;
        end
      end
      default: begin
        state_d = StIdle;
      end
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q    <= StIdle;
      cnt_q      <= '0;
      mux_q      <= '0;
      code_q     <= '0;
      sat_q      <= '0;
      tmo_q      <= 1'b0;
      sat_cnt_q  <= '0;
      conv_cnt_q <= '0;
      err_tmo_q  <= 1'b0;
      err_grp_q  <= 1'b0;
    end else begin
      state_q    <= state_d;
      cnt_q      <= cnt_d;
      mux_q      <= mux_d;
      code_q     <= code_d;
      sat_q      <= sat_d;
      tmo_q      <= tmo_d;
      sat_cnt_q  <= sat_cnt_d;
      conv_cnt_q <= conv_cnt_d;
      err_tmo_q  <= err_tmo_d;
      err_grp_q  <= err_grp_d;
    end
  end

  // ---------------------------------------------------------------------------------------
  // Outputs (all from registers / the registered state)
  // ---------------------------------------------------------------------------------------
  assign req_ready_o   = (state_q == StIdle);
  assign rsp_valid_o   = (state_q == StResp);
  assign rsp_code_o    = code_q;
  assign rsp_sat_o     = sat_q;
  assign rsp_timeout_o = tmo_q;
  assign mux_sel_o     = mux_q;
  assign adc_start_o   = (state_q == StStart);
  assign sat_count_o   = sat_cnt_q;
  assign conv_count_o  = conv_cnt_q;
  assign err_timeout_o = err_tmo_q;
  assign err_group_o   = err_grp_q;
  assign busy_o        = (state_q != StIdle);

  // ---------------------------------------------------------------------------------------
  // Run-time invariants (simulation only)
  // ---------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Checked only after a reset has been seen (inputs and state are unknown before), so a
  // clock edge at time 0 cannot fire them. A failure ends the simulation ($fatal) on every
  // simulator: Icarus only prints a $error and would let a bench pass.
  logic              chk_armed_q;
  logic              chk_rsp_stall_q;
  logic              chk_req_stall_q;
  logic [CodeW-1:0]  chk_code_q;
  logic [N_ADC-1:0]  chk_sat_q;
  logic              chk_tmo_q;
  logic [MuxW-1:0]   chk_group_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q     <= 1'b1;
      chk_rsp_stall_q <= 1'b0;
      chk_req_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      assert (!adc_done_i || state_q == StWait)
        else $fatal(1, "cim_adc_if: adc_done_i outside WAIT (state %0d)", state_q);
      if (chk_rsp_stall_q) begin
        assert (rsp_valid_o && rsp_code_o == chk_code_q && rsp_sat_o == chk_sat_q
                && rsp_timeout_o == chk_tmo_q)
          else $fatal(1, "cim_adc_if: response changed or withdrawn while stalled");
      end
      if (chk_req_stall_q) begin
        assert (req_valid_i && req_group_i == chk_group_q)
          else $fatal(1, "cim_adc_if: req_valid_i dropped or req_group_i changed while stalled");
      end
      chk_rsp_stall_q <= rsp_valid_o && !rsp_ready_i;
      chk_req_stall_q <= req_valid_i && !req_ready_o;
      chk_code_q      <= rsp_code_o;
      chk_sat_q       <= rsp_sat_o;
      chk_tmo_q       <= rsp_timeout_o;
      chk_group_q     <= req_group_i;
    end
  end
`endif

endmodule
