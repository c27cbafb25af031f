// cim_ode_seq: tick sequencer of the closed-loop analogue ODE/SDE solver (diffusion sampler).
//
// Purpose
//   Runs the analogue solver as a sequence of ticks. Per tick it computes one signed Q1.15
//   value for every DAC channel (drift/score coefficients, time embedding, drive waveforms,
//   noise), converts it to a DAC code and sends the codes to cim_dac_spi as N_ADDR beats (one
//   per channel address, every chip in parallel, LDAC after the last); it sets the switch
//   pins S1..S4 of the run phase and, on sample ticks, asks the ADC interface (cim_adc_if's
//   rsp side) for one conversion of the solver state and streams the result out.
//   Reference model: rramcim.golden.ode_seq (python/rramcim/golden/ode_seq.py), whose module
//   docstring gives the same arithmetic in Python.
//
// Channels (ch = chip*N_ADDR + addr, N_CH = N_CHIPS*N_ADDR; each value v is signed Q1.15;
//   sat16 clamps to [-32768, 32767]; >>> is an arithmetic (floor) shift)
//   Register words (cfg_addr_i = ch*4 + field): field 0 = {ref[4:0] at [12:8], mode[2:0]},
//   fields 1..3 = p0, p1, p2 (32 bits). A NOISE channel can refer to channels 0..31 only (the
//   ref field is 5 bits wide).
//   0 OFF    not written: value 0, mask bit 0 and data 0 for its chip in its beat.
//   1 CONST  v = p0[15:0].
//   2 RAMP   A_0 = p0, A_{k+1} = A_k + p1 (32-bit wrap); v = sat16((A_k + 2^15) >>> 16).
//   3 SINE   P_0 = p0[15:0], P_{k+1} = P_k + p1[15:0] (mod 2^16, full turn 2^16);
//            v = sat16(((amp * sin_q15(P_k)) >>> 15) + off), amp = p2[15:0], off = p2[31:16].
//   4 TABLE  I_0 = p0, I' = I_k + p1, I_{k+1} = I' >= len*256 ? I' - len*256 : I';
//            v = table[base + (I_k >> 8)], base = p2[15:0], len = p2[31:16].
//   5 NOISE  g = sum of 4 signed 12-bit uniforms: 4 steps of xorshift32 (x ^= x << 13;
//            x ^= x >> 17; x ^= x << 5), each contributing signed(x[31:20]); g_scaled =
//            sat16((g * amp) >>> 11), amp = p1[15:0]; v = sat16(((g_scaled * v_ref) >>> 15)
//            + off), off = p0[15:0], v_ref = this tick's value of channel ref (ref < ch).
//            The generator is loaded with seed_i at start; NOISE channels draw in increasing
//            ch, one sample (4 steps) per channel per tick.
//   Values are computed for every tick k of the run (RESET and LOAD ticks included, HOLD
//   excluded), channels in increasing order.
//   sin_q15 (CORDIC, rotation mode, one iteration per cycle, CORDIC_ITERS iterations):
//   quadrant q = P[15:14]; z_0 = P[13:0]*16 (22-bit signed, unit 2^-20 turn); x_0 = 39797
//   (round(2^16 * prod_i 1/sqrt(1+2^-2i)), gain compensation, the same for 8..16
//   iterations), y_0 = 0 (x, y 18-bit signed, Q1.16); iteration i: d = (z >= 0) ? +1 : -1,
//   x -= d*(y >>> i), y += d*(x >>> i) (both from the old values), z -= d*ATAN[i] with
//   ATAN[i] = round(atan(2^-i)/(2 pi) * 2^20). r = q[0] ? x : y, negated when q[1];
//   sin_q15 = sat16((r + 1) >>> 1). Cosine: phase + 0x4000. Error against round(2^15 sin):
//   at most 6 LSB for 16 iterations, 257 LSB for 8 (measured over all phases by the golden
//   model's unit tests).
//   DAC code: code = clamp(2^(DATA_W-1) + ((v + h) >>> (16-DATA_W)), 0, 2^DATA_W-1), h =
//   2^(15-DATA_W) (0 for DATA_W 16), i.e. round half up; a clamped code of a written channel
//   increments dac_sat_count_o.
//   One 16x16 signed multiplier is shared by SINE (amp*sin) and NOISE (g*amp, g_scaled*v_ref).
//
// Run sequence (sw_o = {S4,S3,S2,S1}, phase_o: 0 IDLE, 1 RESET, 2 LOAD, 3 INTEGRATE, 4 HOLD)
//   IDLE sw 0000 -> RESET 0001 for n_reset_i ticks -> LOAD 0010 for n_load_i ticks ->
//   INTEGRATE 0100 for n_int_i ticks -> HOLD 1000 (one tick: the final sample) -> IDLE 0000,
//   done_o pulse, run_count_o + 1. Phases with 0 ticks are skipped.
//   start_i (pulse, in IDLE; ignored while busy): n_int_i == 0 or seed_i == 0 refuses the run
//   at once. Otherwise the configuration check runs one channel per cycle (N_CH cycles, which
//   also load every accumulator with p0); the first broken rule refuses the run. A refused
//   run sets cfg_err_o (sticky until reset), err_code_o (1 n_int == 0, 2 seed == 0, 3 mode
//   6/7, 4 TABLE len == 0 or base+len > TAB_DEPTH, 5 TABLE p1 >= len*256, 6 TABLE p0 >=
//   len*256, 7 NOISE ref >= ch; holds the last refusal) and err_ch_o (its channel, 0 for
//   rules 1 and 2). Tick 0 begins at the edge after the last check cycle, i.e. tick_o/sw_o
//   show it N_CH+1 cycles after the cycle in which start_i was high.
//   At the beginning of each tick k (tick_o = k, phase_o / sw_o of tick k from that cycle):
//   (1) switches; (2) when a sample is due - at integrate tick j (counted from 0) when j > 0
//   and sample_every_i != 0 and j % sample_every_i == 0, and in HOLD (final sample) - one
//   ADC request, the response, and one sample beat on the sample stream, in that order;
//   (3) except in HOLD: the channel values (cycles per channel: OFF/CONST/RAMP 1, TABLE 2,
//   SINE CORDIC_ITERS+2, NOISE 7), then beats addr 0..N_ADDR-1 (dac_last_o on the last; an
//   all-OFF address still sends its beat with mask 0, so every tick ends with LDAC).
//   Tick timer: with s_k the first cycle showing tick k, d_k the cycle of tick k's last beat
//   transfer, and T = max(t_tick_cyc_i, 1): tick k+1 (or HOLD) begins at s_{k+1} = c + 1,
//   c the first cycle >= max(s_k + T, d_k + 2) - 1 with dac_idle_i = 1 (the DAC driver has
//   sent tick k's frames and LDAC pulse; with dac_idle_i always 1, s_{k+1} =
//   max(s_k + T, d_k + 2)). So the switches of tick k+1 and its sample never come before
//   tick k's LDAC pulse: the solver board integrates tick k with tick k's switches, and a
//   sample sees every tick before it. When s_{k+1} > s_k + T (tick k's work not finished in
//   time, or the DAC driver still busy) the tick slips and overrun_count_o increments at the edge that begins tick k+1 (the timer
//   restarts from the late start: slips are not caught up). The HOLD tick
//   ends as soon as its sample beat is transferred (done_o is high in the next cycle, phase
//   and switches back to IDLE).
//   Run inputs (n_reset_i .. seed_i) are read throughout the run and must be held stable.
//
// Latency (cycles; c = the cycle in which start_i is high)
//   - refusal by rule 1 or 2: cfg_err_o/err_code_o from cycle c+1; by a channel rule found
//     at channel ch: from cycle c+ch+2 (busy_o falls then).
//   - tick 0: first shown in cycle c+N_CH+1 (N_CH check cycles).
//   - work of a tick without stalls: 3 cycles + the ADC's response time when a sample is
//     due, plus the sum of the channel cycles (OFF/CONST/RAMP 1, TABLE 2, SINE
//     CORDIC_ITERS+2, NOISE 7), plus N_ADDR beat cycles; then the next tick per the timer
//     rule below (at least 2 cycles after the last beat transfer).
//   - done_o: the cycle after the final sample's transfer (phase_o, sw_o, busy_o already
//     IDLE / 0000 / 0 in that cycle).
//
// Handshakes (AXI-Stream rules: transfer on valid && ready; valid never waits for ready;
//   payload stable while stalled, checked by assertions on the outputs)
//   dac_*: dac_valid_o, addr, data (chip c at [c*DATA_W +: DATA_W], 0 for masked chips),
//   mask, last; from registers and the registered value file.
//   adc_req_valid_o / adc_req_ready_i: one request per sample (group 0: the top ties
//   cim_adc_if's req_group_i to 0). adc_rsp_ready_o is high only while waiting for the
//   response; code, sat and timeout are captured on the transfer.
//   smp_*: smp_code_o (the response codes, state channel a at [a*ADC_BITS +: ADC_BITS]),
//   smp_tick_o (tick index at whose beginning the sample was taken), smp_flags_o =
//   {final, timeout, sat[N_STATE-1:0]}; back-pressure stalls the tick (counted as overrun
//   when it makes the tick late).
//   Configuration writes (cfg_we_i, tab_we_i) are taken only in IDLE and to existing
//   addresses (cfg_addr_i < 4*N_CH, tab_addr_i < TAB_DEPTH); any other write is refused and
//   counted in wr_err_count_o (one per refused write port per cycle). Bits of field 0 other
//   than [2:0] and [12:8] are ignored.
//
// Abort (abort_i pulse while busy_o): at the next edge phase_o and sw_o return to IDLE/0000
//   and the run ends without done_o; the block stays busy only to finish a handshake it has
//   started: a DAC beat, ADC request or sample beat already presented stays valid until
//   accepted and is then the last one (the dropped beats of the tick mean no LDAC for it);
//   an ADC request already accepted has its response consumed and dropped. The timer, the
//   channel computation and the beat stream stop at once (a channel value finishing in the
//   abort cycle itself is still written and a saturation of it counted). run_count_o is not
//   incremented; the next start reloads every accumulator and the noise seed.
//
// Reset (rst_ni, asynchronous, active low): IDLE, sw 0000, every register cleared: channel
//   table (all OFF, p0..p2 = 0), counters, error flags, tick, sample registers. The drive
//   table is a RAM and keeps its contents.
//
// Status: busy_o = not IDLE (check, run and abort drain); run_count_o (completed runs),
//   overrun_count_o (slipped ticks), dac_sat_count_o (clamped codes), wr_err_count_o
//   (refused writes): 32-bit, saturating at 2^32-1, cleared only by reset.
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_CHIPS       DAC chips, 1 .. 8
//   N_ADDR        channels per chip, 1 .. 16
//   DATA_W        DAC code width in bits, 8 .. 16
//   N_STATE       state channels per ADC conversion, 1 .. 16
//   ADC_BITS      ADC code width in bits, 4 .. 16
//   TAB_DEPTH     drive-table entries (Q1.15), power of two, 16 .. 1024
//   CORDIC_ITERS  CORDIC iterations per sine, 8 .. 16
module cim_ode_seq #(
  parameter int  N_CHIPS      = 4,
  parameter int  N_ADDR       = 4,
  parameter int  DATA_W       = 12,
  parameter int  N_STATE      = 2,
  parameter int  ADC_BITS     = 12,
  parameter int  TAB_DEPTH    = 256,
  parameter int  CORDIC_ITERS = 16,
  localparam int DataBusW     = N_CHIPS * DATA_W,
  localparam int CodeW        = N_STATE * ADC_BITS,
  localparam int TickW        = 18
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // channel table and drive table (written by the CSR block)
  input  logic                cfg_we_i,
  input  logic [8:0]          cfg_addr_i,
  input  logic [31:0]         cfg_wdata_i,
  input  logic                tab_we_i,
  input  logic [9:0]          tab_addr_i,
  input  logic [15:0]         tab_wdata_i,
  // run parameters (held stable) and commands
  input  logic [15:0]         n_reset_i,
  input  logic [15:0]         n_load_i,
  input  logic [15:0]         n_int_i,
  input  logic [31:0]         t_tick_cyc_i,
  input  logic [15:0]         sample_every_i,
  input  logic [31:0]         seed_i,
  input  logic                start_i,
  input  logic                abort_i,
  // DAC beats (to cim_dac_spi)
  output logic                dac_valid_o,
  input  logic                dac_ready_i,
  input  logic                dac_idle_i,     // the DAC driver is idle (cim_dac_spi !busy_o)
  output logic [3:0]          dac_addr_o,
  output logic [DataBusW-1:0] dac_data_o,
  output logic [N_CHIPS-1:0]  dac_mask_o,
  output logic                dac_last_o,
  // ADC conversion (cim_adc_if)
  output logic                adc_req_valid_o,
  input  logic                adc_req_ready_i,
  input  logic                adc_rsp_valid_i,
  output logic                adc_rsp_ready_o,
  input  logic [CodeW-1:0]    adc_rsp_code_i,
  input  logic [N_STATE-1:0]  adc_rsp_sat_i,
  input  logic                adc_rsp_timeout_i,
  // sample stream
  output logic                smp_valid_o,
  input  logic                smp_ready_i,
  output logic [CodeW-1:0]    smp_code_o,
  output logic [TickW-1:0]    smp_tick_o,
  output logic [N_STATE+1:0]  smp_flags_o,
  // switches and status
  output logic [3:0]          sw_o,
  output logic [2:0]          phase_o,
  output logic [TickW-1:0]    tick_o,
  output logic                busy_o,
  output logic                done_o,
  output logic [31:0]         run_count_o,
  output logic [31:0]         overrun_count_o,
  output logic [31:0]         dac_sat_count_o,
  output logic [31:0]         wr_err_count_o,
  output logic                cfg_err_o,
  output logic [2:0]          err_code_o,
  output logic [6:0]          err_ch_o
);

  // ---------------------------------------------------------------------------------------
  // Parameter checks (Yosys 0.23 has no $fatal in initial blocks: $error in generate there)
  // ---------------------------------------------------------------------------------------
  localparam bit BAD_N_CHIPS = (N_CHIPS < 1) || (N_CHIPS > 8);
  localparam bit BAD_N_ADDR  = (N_ADDR < 1) || (N_ADDR > 16);
  localparam bit BAD_DATA_W  = (DATA_W < 8) || (DATA_W > 16);
  localparam bit BAD_N_STATE = (N_STATE < 1) || (N_STATE > 16);
  localparam bit BAD_ADC     = (ADC_BITS < 4) || (ADC_BITS > 16);
  localparam bit BAD_TAB     = (TAB_DEPTH < 16) || (TAB_DEPTH > 1024)
                               || ((TAB_DEPTH & (TAB_DEPTH - 1)) != 0);
  localparam bit BAD_ITERS   = (CORDIC_ITERS < 8) || (CORDIC_ITERS > 16);

`ifdef YOSYS
  if (BAD_N_CHIPS || BAD_N_ADDR || BAD_DATA_W || BAD_N_STATE || BAD_ADC || BAD_TAB
      || BAD_ITERS) begin : g_bad_param
    $error("cim_ode_seq: parameter out of range (see the header)");
  end
`else
  initial begin
    if (BAD_N_CHIPS) $fatal(1, "cim_ode_seq: N_CHIPS (%0d) out of range 1..8", N_CHIPS);
    if (BAD_N_ADDR) $fatal(1, "cim_ode_seq: N_ADDR (%0d) out of range 1..16", N_ADDR);
    if (BAD_DATA_W) $fatal(1, "cim_ode_seq: DATA_W (%0d) out of range 8..16", DATA_W);
    if (BAD_N_STATE) $fatal(1, "cim_ode_seq: N_STATE (%0d) out of range 1..16", N_STATE);
    if (BAD_ADC) $fatal(1, "cim_ode_seq: ADC_BITS (%0d) out of range 4..16", ADC_BITS);
    if (BAD_TAB) begin
      $fatal(1, "cim_ode_seq: TAB_DEPTH (%0d) not a power of two in 16..1024", TAB_DEPTH);
    end
    if (BAD_ITERS) begin
      $fatal(1, "cim_ode_seq: CORDIC_ITERS (%0d) out of range 8..16", CORDIC_ITERS);
    end
  end
`endif

  // ---------------------------------------------------------------------------------------
  // Constants and types
  // ---------------------------------------------------------------------------------------
  localparam int N_CH  = N_CHIPS * N_ADDR;
  localparam int ChW   = N_CH > 1 ? $clog2(N_CH) : 1;
  localparam int TabAW = $clog2(TAB_DEPTH);
  localparam int Shift = 16 - DATA_W;
  localparam logic [16:0]    CodeHalf = 17'((1 << Shift) >> 1);
  localparam logic [16:0]    CodeMid  = 17'(1 << (DATA_W - 1));
  localparam logic [ChW-1:0] ChLast   = ChW'(N_CH - 1);
  localparam logic [3:0]     AddrLast = 4'(N_ADDR - 1);
  localparam logic [4:0]     ItLast   = 5'(CORDIC_ITERS - 1);
  localparam logic [17:0]    CordicX0 = 18'd39797;

  localparam logic [2:0] MOff   = 3'd0;
  localparam logic [2:0] MConst = 3'd1;
  localparam logic [2:0] MRamp  = 3'd2;
  localparam logic [2:0] MSine  = 3'd3;
  localparam logic [2:0] MTable = 3'd4;
  localparam logic [2:0] MNoise = 3'd5;

  localparam logic [2:0] PhIdle  = 3'd0;
  localparam logic [2:0] PhReset = 3'd1;
  localparam logic [2:0] PhLoad  = 3'd2;
  localparam logic [2:0] PhInt   = 3'd3;
  localparam logic [2:0] PhHold  = 3'd4;

  localparam logic [2:0] ErrNInt     = 3'd1;
  localparam logic [2:0] ErrSeed     = 3'd2;
  localparam logic [2:0] ErrMode     = 3'd3;
  localparam logic [2:0] ErrTabLen   = 3'd4;
  localparam logic [2:0] ErrTabStep  = 3'd5;
  localparam logic [2:0] ErrTabStart = 3'd6;
  localparam logic [2:0] ErrNoiseRef = 3'd7;

  typedef enum logic [3:0] {
    StIdle    = 4'd0,   // waiting for start_i
    StChk     = 4'd1,   // configuration check, one channel per cycle
    StReq     = 4'd2,   // ADC request presented
    StRsp     = 4'd3,   // waiting for the ADC response
    StSmp     = 4'd4,   // sample beat presented
    StCh      = 4'd5,   // dispatch of channel ch_q (OFF/CONST/RAMP finish here)
    StCordic  = 4'd6,   // SINE: CORDIC iterations
    StSinMul  = 4'd7,   // SINE: amp * sin + off
    StTabRd   = 4'd8,   // TABLE: RAM read data
    StNoise   = 4'd9,   // NOISE: four xorshift steps
    StNMul1   = 4'd10,  // NOISE: g * amp
    StNMul2   = 4'd11,  // NOISE: g_scaled * v_ref + off
    StBeat    = 4'd12,  // DAC beat addr_q presented
    StWait    = 4'd13   // waiting for the tick timer
  } state_e;

  // Clamp a signed 21-bit value to the signed 16-bit range.
  function automatic logic [15:0] sat16(input logic [20:0] x);
    if (!x[20] && x[19:15] != 5'b00000) begin
      sat16 = 16'h7fff;
    end else if (x[20] && x[19:15] != 5'b11111) begin
      sat16 = 16'h8000;
    end else begin
      sat16 = x[15:0];
    end
  endfunction

  // DAC code of a Q1.15 value: {saturated, code}.
  function automatic logic [DATA_W:0] code_of(input logic [15:0] v);
    logic [16:0] rounded;
    logic [16:0] shifted;
    logic [16:0] biased;
    rounded = {v[15], v} + CodeHalf;
    shifted = 17'($signed(rounded) >>> Shift);
    biased  = shifted + CodeMid;
    if (biased[DATA_W]) begin
      code_of = {1'b1, {DATA_W{1'b1}}};
    end else begin
      code_of = {1'b0, biased[DATA_W-1:0]};
    end
  endfunction

  // ---------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------
  state_e                state_q, state_d;
  logic                  abrt_q, abrt_d;         // abort drain in progress
  logic [ChW-1:0]        ch_q, ch_d;
  logic [3:0]            addr_q, addr_d;
  logic [2:0]            ph_q, ph_d;
  logic [3:0]            sw_q, sw_d;
  logic [15:0]           pcnt_q, pcnt_d;         // tick index within the phase
  logic [15:0]           scnt_q, scnt_d;         // integrate ticks since the last sample
  logic [TickW-1:0]      tick_q, tick_d;
  logic [31:0]           tmr_q, tmr_d;           // cycles left until the next tick is due
  logic                  late_q, late_d;         // the next tick was due before work ended
  logic [31:0]           rng_q, rng_d;
  logic [13:0]           g_q, g_d;
  logic [1:0]            dcnt_q, dcnt_d;
  logic [15:0]           gs_q, gs_d;
  logic signed [17:0]    cx_q, cx_d, cy_q, cy_d;
  logic signed [21:0]    cz_q, cz_d;
  logic [4:0]            it_q, it_d;
  logic [1:0]            quad_q, quad_d;
  logic [CodeW-1:0]      smp_code_q, smp_code_d;
  logic [N_STATE+1:0]    smp_flags_q, smp_flags_d;
  logic [TickW-1:0]      smp_tick_q, smp_tick_d;
  logic                  done_q, done_d;
  logic [31:0]           run_cnt_q, run_cnt_d;
  logic [31:0]           ovr_cnt_q, ovr_cnt_d;
  logic [31:0]           sat_cnt_q, sat_cnt_d;
  logic [31:0]           wre_cnt_q, wre_cnt_d;
  logic                  cfg_err_q, cfg_err_d;
  logic [2:0]            err_code_q, err_code_d;
  logic [6:0]            err_ch_q, err_ch_d;
  // channel table, accumulators and this tick's values (channel ch at [ch*W +: W])
  logic [N_CH*3-1:0]     mode_q, mode_d;
  logic [N_CH*5-1:0]     ref_q, ref_d;
  logic [N_CH*32-1:0]    p0_q, p0_d, p1_q, p1_d, p2_q, p2_d;
  logic [N_CH*32-1:0]    acc_q, acc_d;
  logic [N_CH*16-1:0]    val_q, val_d;

  // ---------------------------------------------------------------------------------------
  // Configuration writes
  // ---------------------------------------------------------------------------------------
  logic idle, cfg_wr, tab_wr, cfg_wr_bad, tab_wr_bad;
  assign idle       = (state_q == StIdle);
  assign cfg_wr     = cfg_we_i && idle && ({1'b0, cfg_addr_i} < 10'(4 * N_CH));
  assign tab_wr     = tab_we_i && idle && ({1'b0, tab_addr_i} < 11'(TAB_DEPTH));
  assign cfg_wr_bad = cfg_we_i && !cfg_wr;
  assign tab_wr_bad = tab_we_i && !tab_wr;

  // ---------------------------------------------------------------------------------------
  // Current channel (ch_q): configuration, check, per-mode datapath
  // ---------------------------------------------------------------------------------------
  logic [2:0]  cur_mode;
  logic [4:0]  cur_ref;
  logic [31:0] cur_p0, cur_p1, cur_p2, cur_acc;
  logic [15:0] v_ref;
  assign cur_mode = mode_q[3*ch_q +: 3];
  assign cur_ref  = ref_q[5*ch_q +: 5];
  assign cur_p0   = p0_q[32*ch_q +: 32];
  assign cur_p1   = p1_q[32*ch_q +: 32];
  assign cur_p2   = p2_q[32*ch_q +: 32];
  assign cur_acc  = acc_q[32*ch_q +: 32];
  assign v_ref    = val_q[16*cur_ref +: 16];

  // configuration rules of the current channel (StChk)
  logic [23:0] tab_span;
  logic [16:0] tab_end;
  logic        bad_len, bad_step, bad_start, bad_ref;
  logic [2:0]  chk_code;
  assign tab_span  = {cur_p2[31:16], 8'h00};
  assign tab_end   = {1'b0, cur_p2[15:0]} + {1'b0, cur_p2[31:16]};
  assign bad_len   = (cur_p2[31:16] == 16'h0) || (tab_end > 17'(TAB_DEPTH));
  assign bad_step  = (cur_p1 >= {8'h00, tab_span});
  assign bad_start = (cur_p0 >= {8'h00, tab_span});
  assign bad_ref   = ({3'b000, cur_ref} >= 8'(ch_q));
  assign chk_code  = (cur_mode > MNoise) ? ErrMode
                   : (cur_mode == MTable && bad_len) ? ErrTabLen
                   : (cur_mode == MTable && bad_step) ? ErrTabStep
                   : (cur_mode == MTable && bad_start) ? ErrTabStart
                   : (cur_mode == MNoise && bad_ref) ? ErrNoiseRef
                   : 3'd0;

  // RAMP
  // (A + 2^15) >>> 16 = A[31:16] + A[15] (17-bit signed)
  logic [16:0] ramp_sum;
  logic [15:0] ramp_v;
  assign ramp_sum = {cur_acc[31], cur_acc[31:16]} + {16'h0, cur_acc[15]};
  assign ramp_v   = sat16({{4{ramp_sum[16]}}, ramp_sum});

  // TABLE: index accumulator and RAM read address
  logic [24:0]      tab_sum, tab_wrap;
  logic [TabAW-1:0] tab_raddr;
  assign tab_sum   = {1'b0, cur_acc[23:0]} + {1'b0, cur_p1[23:0]};
  assign tab_wrap  = (tab_sum >= {1'b0, tab_span}) ? tab_sum - {1'b0, tab_span} : tab_sum;
  assign tab_raddr = cur_p2[TabAW-1:0] + cur_acc[TabAW+7:8];  // < TAB_DEPTH by the check

  // drive table RAM (no reset: keeps its contents), synchronous read. A RAM is the one
  // exception to "always_ff holds only reset and _q <= _d": Yosys infers it as a memory.
  logic [15:0] tab_mem [TAB_DEPTH];
  logic [15:0] tab_rdata_q;
  always_ff @(posedge clk_i) begin
    if (tab_wr) begin
      tab_mem[tab_addr_i[TabAW-1:0]] <= tab_wdata_i;
    end
    tab_rdata_q <= tab_mem[tab_raddr];
  end

  // NOISE: xorshift32 step
  logic [31:0] xs1, xs2, xs3;
  assign xs1 = rng_q ^ {rng_q[18:0], 13'h0};
  assign xs2 = xs1 ^ {17'h0, xs1[31:17]};
  assign xs3 = xs2 ^ {xs2[26:0], 5'h0};

  // CORDIC iteration
  logic [21:0]        atan_i;
  logic [3:0]         it_lo;
  logic signed [17:0] cx_sh, cy_sh;
  logic               cz_pos;
  assign it_lo = it_q[3:0];
  always_comb begin
    case (it_lo)
      4'd0:    atan_i = 22'd131072;
      4'd1:    atan_i = 22'd77376;
      4'd2:    atan_i = 22'd40884;
      4'd3:    atan_i = 22'd20753;
      4'd4:    atan_i = 22'd10417;
      4'd5:    atan_i = 22'd5213;
      4'd6:    atan_i = 22'd2607;
      4'd7:    atan_i = 22'd1304;
      4'd8:    atan_i = 22'd652;
      4'd9:    atan_i = 22'd326;
      4'd10:   atan_i = 22'd163;
      4'd11:   atan_i = 22'd81;
      4'd12:   atan_i = 22'd41;
      4'd13:   atan_i = 22'd20;
      4'd14:   atan_i = 22'd10;
      default: atan_i = 22'd5;
    endcase
  end
  assign cx_sh  = cx_q >>> it_q;
  assign cy_sh  = cy_q >>> it_q;
  assign cz_pos = !cz_q[21];

  logic start_sine, cordic_run;
  assign start_sine = (state_q == StCh) && (cur_mode == MSine) && !abrt_q;
  assign cordic_run = (state_q == StCordic);
  assign quad_d = start_sine ? cur_acc[15:14] : quad_q;
  assign it_d   = start_sine ? 5'd0 : cordic_run ? it_q + 5'd1 : it_q;
  assign cx_d   = start_sine ? CordicX0
                : !cordic_run ? cx_q
                : cz_pos ? cx_q - cy_sh : cx_q + cy_sh;
  assign cy_d   = start_sine ? 18'sd0
                : !cordic_run ? cy_q
                : cz_pos ? cy_q + cx_sh : cy_q - cx_sh;
  assign cz_d   = start_sine ? $signed({4'h0, cur_acc[13:0], 4'h0})
                : !cordic_run ? cz_q
                : cz_pos ? cz_q - $signed(atan_i) : cz_q + $signed(atan_i);

  // sine of the finished CORDIC: fold the quadrant, Q1.16 -> Q1.15
  logic [17:0] sin_r;
  logic [18:0] sin_n;
  logic [17:0] sin_h;
  logic [15:0] sin_v;
  assign sin_r  = quad_q[0] ? cx_q : cy_q;
  assign sin_n  = quad_q[1] ? -{sin_r[17], sin_r} : {sin_r[17], sin_r};
  assign sin_h  = sin_n[18:1] + {17'h0, sin_n[0]};  // (r + 1) >>> 1
  assign sin_v  = sat16({{3{sin_h[17]}}, sin_h});

  // the shared multiplier
  logic signed [15:0] mul_a, mul_b;
  logic signed [31:0] prod;
  logic [15:0]        mul_off;
  logic [17:0]        mul_sum;
  logic [15:0]        mul_v, gs_v;
  assign mul_a   = (state_q == StSinMul) ? $signed(cur_p2[15:0])
                 : (state_q == StNMul1) ? $signed({{2{g_q[13]}}, g_q})
                 : (state_q == StNMul2) ? $signed(gs_q)
                 : 16'sd0;
  assign mul_b   = (state_q == StSinMul) ? $signed(sin_v)
                 : (state_q == StNMul1) ? $signed(cur_p1[15:0])
                 : (state_q == StNMul2) ? $signed(v_ref)
                 : 16'sd0;
  assign prod    = mul_a * mul_b;
  assign mul_off = (state_q == StSinMul) ? cur_p2[31:16] : cur_p0[15:0];
  assign mul_sum = {prod[31], prod[31:15]} + {{2{mul_off[15]}}, mul_off};
  assign mul_v   = sat16({{3{mul_sum[17]}}, mul_sum});
  assign gs_v    = sat16(21'(prod >>> 11));

  // value of the current channel, written when its computation finishes
  logic        val_we, acc_we;
  logic [15:0] val_new;
  logic [31:0] acc_new;
  logic [DATA_W:0] new_code;
  logic        sat_inc;
  logic val_ch;
  assign val_ch  = (state_q == StCh)
                   && ((cur_mode == MOff) || (cur_mode == MConst) || (cur_mode == MRamp));
  assign val_we  = !abrt_q && (val_ch || (state_q == StSinMul) || (state_q == StNMul2)
                               || (state_q == StTabRd));
  assign val_new = (state_q == StTabRd) ? tab_rdata_q
                 : (state_q != StCh) ? mul_v
                 : (cur_mode == MConst) ? cur_p0[15:0]
                 : (cur_mode == MRamp) ? ramp_v : 16'h0;
  assign new_code = code_of(val_new);
  assign sat_inc  = val_we && (cur_mode != MOff) && new_code[DATA_W];

  logic [31:0] ramp_next, sine_next;
  assign ramp_next = cur_acc + cur_p1;
  assign sine_next = {16'h0, cur_acc[15:0] + cur_p1[15:0]};
  assign acc_we    = (state_q == StChk)
                     || ((state_q == StCh) && !abrt_q
                         && ((cur_mode == MRamp) || (cur_mode == MSine)
                             || (cur_mode == MTable)));
  assign acc_new   = (state_q == StChk) ? cur_p0
                   : (cur_mode == MRamp) ? ramp_next
                   : (cur_mode == MSine) ? sine_next : {7'h0, tab_wrap};

  // per-channel register file: configuration writes, accumulator and value updates
  for (genvar c = 0; c < N_CH; c++) begin : g_ch
    logic wsel, csel;
    assign wsel = cfg_wr && (cfg_addr_i[8:2] == 7'(c));
    assign csel = (ch_q == ChW'(c));
    assign mode_d[3*c +: 3]  = (wsel && cfg_addr_i[1:0] == 2'd0) ? cfg_wdata_i[2:0]
                                                                 : mode_q[3*c +: 3];
    assign ref_d[5*c +: 5]   = (wsel && cfg_addr_i[1:0] == 2'd0) ? cfg_wdata_i[12:8]
                                                                 : ref_q[5*c +: 5];
    assign p0_d[32*c +: 32]  = (wsel && cfg_addr_i[1:0] == 2'd1) ? cfg_wdata_i
                                                                 : p0_q[32*c +: 32];
    assign p1_d[32*c +: 32]  = (wsel && cfg_addr_i[1:0] == 2'd2) ? cfg_wdata_i
                                                                 : p1_q[32*c +: 32];
    assign p2_d[32*c +: 32]  = (wsel && cfg_addr_i[1:0] == 2'd3) ? cfg_wdata_i
                                                                 : p2_q[32*c +: 32];
    assign acc_d[32*c +: 32] = (acc_we && csel) ? acc_new : acc_q[32*c +: 32];
    assign val_d[16*c +: 16] = (val_we && csel) ? val_new : val_q[16*c +: 16];
  end

  // DAC beat payload: chip k's channel at address addr_q
  for (genvar k = 0; k < N_CHIPS; k++) begin : g_chip
    logic [7:0]      bch;
    logic [15:0]     bval;
    logic [2:0]      bmode;
    logic [DATA_W:0] bcode;
    assign bch   = 8'(k * N_ADDR) + {4'h0, addr_q};
    assign bval  = val_q[16*bch +: 16];
    assign bmode = mode_q[3*bch +: 3];
    assign bcode = code_of(bval);
    assign dac_mask_o[k] = (bmode != MOff);
    // (a saturated code is already all ones; the OR only makes that explicit)
    assign dac_data_o[k*DATA_W +: DATA_W] = (bmode != MOff)
                                            ? (bcode[DATA_W-1:0] | {DATA_W{bcode[DATA_W]}})
                                            : '0;
  end

  // ---------------------------------------------------------------------------------------
  // Tick sequencing: phase, index and sample decision of the next tick
  // ---------------------------------------------------------------------------------------
  logic        first, stay, int_stay, smp_hit, nt_smp;
  logic [16:0] pcnt_inc, scnt_inc;
  logic [2:0]  ph_first, ph_after, nt_ph;
  logic [15:0] nt_pcnt, nt_scnt;
  logic [31:0] tmr_load;
  assign first    = (state_q == StChk);
  assign pcnt_inc = {1'b0, pcnt_q} + 17'd1;
  assign scnt_inc = {1'b0, scnt_q} + 17'd1;
  assign ph_first = (n_reset_i != 16'h0) ? PhReset : (n_load_i != 16'h0) ? PhLoad : PhInt;
  assign stay     = (ph_q == PhReset) ? (pcnt_inc < {1'b0, n_reset_i})
                  : (ph_q == PhLoad) ? (pcnt_inc < {1'b0, n_load_i})
                  : (pcnt_inc < {1'b0, n_int_i});
  assign ph_after = (ph_q == PhReset) ? ((n_load_i != 16'h0) ? PhLoad : PhInt)
                  : (ph_q == PhLoad) ? PhInt : PhHold;
  assign nt_ph    = first ? ph_first : stay ? ph_q : ph_after;
  assign nt_pcnt  = (first || !stay) ? 16'h0 : pcnt_inc[15:0];
  assign int_stay = !first && (ph_q == PhInt) && stay;
  assign smp_hit  = int_stay && (scnt_inc == {1'b0, sample_every_i});
  assign nt_scnt  = (int_stay && !smp_hit) ? scnt_inc[15:0] : 16'h0;
  assign nt_smp   = smp_hit || (nt_ph == PhHold);
  assign tmr_load = (t_tick_cyc_i == 32'h0) ? 32'h0 : t_tick_cyc_i - 32'd1;

  // saturating counter increments
  logic [32:0] run_sum, ovr_sum, sat_sum, wre_sum;
  logic [31:0] run_inc, ovr_inc, sat_inc_v, wre_inc;
  logic [1:0]  wre_n;
  logic [13:0] noise_u;
  assign wre_n   = {1'b0, cfg_wr_bad} + {1'b0, tab_wr_bad};
  assign run_sum = {1'b0, run_cnt_q} + 33'd1;
  assign ovr_sum = {1'b0, ovr_cnt_q} + 33'd1;
  assign sat_sum = {1'b0, sat_cnt_q} + 33'd1;
  assign wre_sum = {1'b0, wre_cnt_q} + {31'h0, wre_n};
  assign run_inc   = run_sum[32] ? run_cnt_q : run_sum[31:0];
  assign ovr_inc   = ovr_sum[32] ? ovr_cnt_q : ovr_sum[31:0];
  assign sat_inc_v = (sat_inc && !sat_sum[32]) ? sat_sum[31:0] : sat_cnt_q;
  assign wre_inc   = wre_sum[32] ? 32'hffff_ffff : wre_sum[31:0];
  assign noise_u   = {{2{xs3[31]}}, xs3[31:20]};

  // ---------------------------------------------------------------------------------------
  // Control FSM
  // ---------------------------------------------------------------------------------------
  logic tick_go;
  always_comb begin
    state_d     = state_q;
    abrt_d      = abrt_q;
    ch_d        = ch_q;
    addr_d      = addr_q;
    ph_d        = ph_q;
    pcnt_d      = pcnt_q;
    scnt_d      = scnt_q;
    tick_d      = tick_q;
    tmr_d       = (tmr_q == 32'h0) ? 32'h0 : tmr_q - 32'd1;
    late_d      = late_q || (tmr_q == 32'h0 && state_q != StIdle &&
                             (state_q != StWait || !dac_idle_i));
    rng_d       = rng_q;
    g_d         = g_q;
    dcnt_d      = dcnt_q;
    gs_d        = gs_q;
    smp_code_d  = smp_code_q;
    smp_flags_d = smp_flags_q;
    smp_tick_d  = smp_tick_q;
    done_d      = 1'b0;
    run_cnt_d   = run_cnt_q;
    ovr_cnt_d   = ovr_cnt_q;
    sat_cnt_d   = sat_inc_v;
    wre_cnt_d   = wre_inc;
    cfg_err_d   = cfg_err_q;
    err_code_d  = err_code_q;
    err_ch_d    = err_ch_q;
    tick_go     = 1'b0;

    case (state_q)
      StIdle: begin
        if (start_i) begin
          if (n_int_i == 16'h0) begin
            cfg_err_d  = 1'b1;
            err_code_d = ErrNInt;
            err_ch_d   = 7'h0;
          end else if (seed_i == 32'h0) begin
            cfg_err_d  = 1'b1;
            err_code_d = ErrSeed;
            err_ch_d   = 7'h0;
          end else begin
            rng_d   = seed_i;
            ch_d    = '0;
            state_d = StChk;
          end
        end
      end
      StChk: begin
        if (chk_code != 3'd0) begin
          cfg_err_d  = 1'b1;
          err_code_d = chk_code;
          err_ch_d   = 7'(ch_q);
          state_d    = StIdle;
        end else if (ch_q == ChLast) begin
          tick_go = 1'b1;
        end else begin
          ch_d = ch_q + ChW'(1);
        end
      end
      StReq: begin
        if (adc_req_ready_i) begin
          state_d = StRsp;
        end
      end
      StRsp: begin
        if (adc_rsp_valid_i) begin
          smp_code_d  = adc_rsp_code_i;
          smp_flags_d = {ph_q == PhHold, adc_rsp_timeout_i, adc_rsp_sat_i};
          smp_tick_d  = tick_q;
          if (abrt_q) begin
            state_d = StIdle;
          end else begin
            state_d = StSmp;
          end
        end
      end
      StSmp: begin
        if (smp_ready_i) begin
          if (abrt_q) begin
            state_d = StIdle;
          end else if (ph_q == PhHold) begin
            done_d    = 1'b1;
            run_cnt_d = run_inc;
            ph_d      = PhIdle;
            state_d   = StIdle;
          end else begin
            ch_d    = '0;
            state_d = StCh;
          end
        end
      end
      StCh: begin
        case (cur_mode)
          MSine: state_d = StCordic;
          MTable: state_d = StTabRd;
          MNoise: begin
            g_d     = '0;
            dcnt_d  = '0;
            state_d = StNoise;
          end
          default: begin
          end
        endcase
      end
      StCordic: begin
        if (it_q == ItLast) begin
          state_d = StSinMul;
        end
      end
      StNoise: begin
        rng_d  = xs3;
        g_d    = g_q + noise_u;
        dcnt_d = dcnt_q + 2'd1;
        if (dcnt_q == 2'd3) begin
          state_d = StNMul1;
        end
      end
      StNMul1: begin
        gs_d    = gs_v;
        state_d = StNMul2;
      end
      StBeat: begin
        if (dac_ready_i) begin
          if (abrt_q) begin
            state_d = StIdle;
          end else if (addr_q == AddrLast) begin
            state_d = StWait;
          end else begin
            addr_d = addr_q + 4'd1;
          end
        end
      end
      StWait: begin
        if (tmr_q == 32'h0 && dac_idle_i) begin
          tick_go = 1'b1;
        end
      end
      default: begin
        state_d = StIdle;
      end
    endcase

    // end of a channel's computation (StCh for OFF/CONST/RAMP, StSinMul, StTabRd, StNMul2)
    if (val_we) begin
      if (ch_q == ChLast) begin
        addr_d  = 4'd0;
        state_d = StBeat;
      end else begin
        ch_d    = ch_q + ChW'(1);
        state_d = StCh;
      end
    end

    // beginning of a tick
    if (tick_go) begin
      ph_d    = nt_ph;
      pcnt_d  = nt_pcnt;
      scnt_d  = nt_scnt;
      tick_d  = first ? '0 : tick_q + TickW'(1);
      tmr_d   = tmr_load;
      late_d  = 1'b0;
      ch_d    = '0;
      if (nt_smp) begin
        state_d = StReq;
      end else begin
        state_d = StCh;
      end
      if (!first && late_q) begin
        ovr_cnt_d = ovr_inc;
      end
    end

    // abort: finish a presented handshake, drop everything else
    if (abort_i && state_q != StIdle && !abrt_q) begin
      ph_d = PhIdle;
      case (state_q)
        StReq: begin
          abrt_d  = 1'b1;
          if (adc_req_ready_i) begin
            state_d = StRsp;
          end
        end
        StRsp: begin
          abrt_d  = !adc_rsp_valid_i;
          if (adc_rsp_valid_i) begin
            state_d = StIdle;
          end
        end
        StSmp: begin
          abrt_d  = !smp_ready_i;
          if (smp_ready_i) begin
            state_d = StIdle;
          end
        end
        StBeat: begin
          abrt_d  = !dac_ready_i;
          if (dac_ready_i) begin
            state_d = StIdle;
          end
        end
        default: begin
          state_d = StIdle;
        end
      endcase
      done_d    = 1'b0;
      run_cnt_d = run_cnt_q;
      ovr_cnt_d = ovr_cnt_q;
    end
    if (state_d == StIdle) begin
      abrt_d = 1'b0;
    end
  end

  assign sw_d = (ph_d == PhReset) ? 4'b0001
              : (ph_d == PhLoad) ? 4'b0010
              : (ph_d == PhInt) ? 4'b0100
              : (ph_d == PhHold) ? 4'b1000 : 4'b0000;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      abrt_q      <= 1'b0;
      ch_q        <= '0;
      addr_q      <= '0;
      ph_q        <= PhIdle;
      sw_q        <= '0;
      pcnt_q      <= '0;
      scnt_q      <= '0;
      tick_q      <= '0;
      tmr_q       <= '0;
      late_q      <= 1'b0;
      rng_q       <= '0;
      g_q         <= '0;
      dcnt_q      <= '0;
      gs_q        <= '0;
      cx_q        <= '0;
      cy_q        <= '0;
      cz_q        <= '0;
      it_q        <= '0;
      quad_q      <= '0;
      smp_code_q  <= '0;
      smp_flags_q <= '0;
      smp_tick_q  <= '0;
      done_q      <= 1'b0;
      run_cnt_q   <= '0;
      ovr_cnt_q   <= '0;
      sat_cnt_q   <= '0;
      wre_cnt_q   <= '0;
      cfg_err_q   <= 1'b0;
      err_code_q  <= '0;
      err_ch_q    <= '0;
      mode_q      <= '0;
      ref_q       <= '0;
      p0_q        <= '0;
      p1_q        <= '0;
      p2_q        <= '0;
      acc_q       <= '0;
      val_q       <= '0;
    end else begin
      state_q     <= state_d;
      abrt_q      <= abrt_d;
      ch_q        <= ch_d;
      addr_q      <= addr_d;
      ph_q        <= ph_d;
      sw_q        <= sw_d;
      pcnt_q      <= pcnt_d;
      scnt_q      <= scnt_d;
      tick_q      <= tick_d;
      tmr_q       <= tmr_d;
      late_q      <= late_d;
      rng_q       <= rng_d;
      g_q         <= g_d;
      dcnt_q      <= dcnt_d;
      gs_q        <= gs_d;
      cx_q        <= cx_d;
      cy_q        <= cy_d;
      cz_q        <= cz_d;
      it_q        <= it_d;
      quad_q      <= quad_d;
      smp_code_q  <= smp_code_d;
      smp_flags_q <= smp_flags_d;
      smp_tick_q  <= smp_tick_d;
      done_q      <= done_d;
      run_cnt_q   <= run_cnt_d;
      ovr_cnt_q   <= ovr_cnt_d;
      sat_cnt_q   <= sat_cnt_d;
      wre_cnt_q   <= wre_cnt_d;
      cfg_err_q   <= cfg_err_d;
      err_code_q  <= err_code_d;
      err_ch_q    <= err_ch_d;
      mode_q      <= mode_d;
      ref_q       <= ref_d;
      p0_q        <= p0_d;
      p1_q        <= p1_d;
      p2_q        <= p2_d;
      acc_q       <= acc_d;
      val_q       <= val_d;
    end
  end

  // ---------------------------------------------------------------------------------------
  // Outputs
  // ---------------------------------------------------------------------------------------
  assign dac_valid_o     = (state_q == StBeat);
  assign dac_addr_o      = addr_q;
  assign dac_last_o      = (addr_q == AddrLast);
  assign adc_req_valid_o = (state_q == StReq);
  assign adc_rsp_ready_o = (state_q == StRsp);
  assign smp_valid_o     = (state_q == StSmp);
  assign smp_code_o      = smp_code_q;
  assign smp_tick_o      = smp_tick_q;
  assign smp_flags_o     = smp_flags_q;
  assign sw_o            = sw_q;
  assign phase_o         = ph_q;
  assign tick_o          = tick_q;
  assign busy_o          = !idle;
  assign done_o          = done_q;
  assign run_count_o     = run_cnt_q;
  assign overrun_count_o = ovr_cnt_q;
  assign dac_sat_count_o = sat_cnt_q;
  assign wr_err_count_o  = wre_cnt_q;
  assign cfg_err_o       = cfg_err_q;
  assign err_code_o      = err_code_q;
  assign err_ch_o        = err_ch_q;

  // ---------------------------------------------------------------------------------------
  // Run-time invariants (simulation only; armed by the first reset, checked on registers)
  // ---------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  logic                chk_armed_q;
  logic                chk_dac_stall_q, chk_req_stall_q, chk_smp_stall_q;
  logic [3:0]          chk_addr_q;
  logic [DataBusW-1:0] chk_data_q;
  logic [N_CHIPS-1:0]  chk_mask_q;
  logic                chk_last_q;
  logic [CodeW-1:0]    chk_scode_q;
  logic [TickW-1:0]    chk_stick_q;
  logic [N_STATE+1:0]  chk_sflags_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q     <= 1'b1;
      chk_dac_stall_q <= 1'b0;
      chk_req_stall_q <= 1'b0;
      chk_smp_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      if (chk_dac_stall_q) begin
        assert (dac_valid_o && dac_addr_o == chk_addr_q && dac_data_o == chk_data_q
                && dac_mask_o == chk_mask_q && dac_last_o == chk_last_q)
          else $fatal(1, "cim_ode_seq: DAC beat withdrawn or changed while stalled");
      end
      if (chk_req_stall_q) begin
        assert (adc_req_valid_o)
          else $fatal(1, "cim_ode_seq: ADC request withdrawn while stalled");
      end
      if (chk_smp_stall_q) begin
        assert (smp_valid_o && smp_code_o == chk_scode_q && smp_tick_o == chk_stick_q
                && smp_flags_o == chk_sflags_q)
          else $fatal(1, "cim_ode_seq: sample beat withdrawn or changed while stalled");
      end
      assert ((sw_q & (sw_q - 4'd1)) == 4'd0)
        else $fatal(1, "cim_ode_seq: more than one switch phase active (sw %b)", sw_q);
      assert (state_q != StCh || abrt_q || cur_mode <= MNoise)
        else $fatal(1, "cim_ode_seq: illegal mode %0d in a run", cur_mode);
      assert (state_q != StBeat || addr_q <= AddrLast)
        else $fatal(1, "cim_ode_seq: beat address %0d beyond N_ADDR", addr_q);
      chk_dac_stall_q <= dac_valid_o && !dac_ready_i;
      chk_req_stall_q <= adc_req_valid_o && !adc_req_ready_i;
      chk_smp_stall_q <= smp_valid_o && !smp_ready_i;
      chk_addr_q      <= dac_addr_o;
      chk_data_q      <= dac_data_o;
      chk_mask_q      <= dac_mask_o;
      chk_last_q      <= dac_last_o;
      chk_scode_q     <= smp_code_o;
      chk_stick_q     <= smp_tick_o;
      chk_sflags_q    <= smp_flags_o;
    end
  end
`endif

endmodule
