// cim_dac_spi: SPI driver for N_CHIPS multi-channel DAC chips (12-bit by default) that share
// SCLK, chip select and LDAC and have one MOSI line each.
//
// Purpose
//   Turns one input beat (a channel address, one code per chip, a chip mask and a "last"
//   flag) into one SPI frame clocked into every chip in parallel, and, after a beat marked
//   last, one LDAC pulse so that all chips move their outputs together. Meant for the ODE
//   sequencer (cim_ode_seq), which drives the analogue inputs of the closed-loop solver macro
//   through it; reference model: rramcim.golden.dac_spi (python/rramcim/golden/dac_spi.py);
//   bus monitor for benches: tb/vip/spi.py.
//
// Frame format (per chip, FRAME_W bits, most significant bit first on that chip's MOSI)
//     bit FRAME_W-1 .. FRAME_W-4   cmd[3:0]
//     bit FRAME_W-5 .. FRAME_W-8   addr[3:0]   (the DAC channel, 0 .. N_CH-1)
//     next DATA_W bits             data[DATA_W-1:0]
//     remaining FRAME_W-DATA_W-8   zero padding (none when FRAME_W = DATA_W+8)
//   Chip k with in_mask_i[k] = 1: cmd = CMD_WRITE, addr = in_addr_i,
//   data = in_data_i[k*DATA_W +: DATA_W]. Chip k with in_mask_i[k] = 0: cmd = CMD_NOP,
//   addr = 0, data = 0 (SCLK and CS are shared, so every chip clocks a frame every time).
//   Example (defaults, DATA_W 12, FRAME_W 24): {4'h0, addr, code[11:0], 4'h0}.
//
// Pin timing (clock cycles of clk_i; every pin is a flip-flop output; a beat accepted at the
//   rising edge ending cycle a; "cycle a+n" is the n-th cycle after that edge)
//   - CS low: cycles a+1 .. a+W, with W = T_LEAD + (2*FRAME_W - 1)*CLK_DIV + T_LAG.
//   - SCLK: CPOL while CS is high and in the T_LEAD cycles after CS falls; it toggles at the
//     start of cycle a+1+T_LEAD+k*CLK_DIV for k = 0 .. 2*FRAME_W-1 (2*FRAME_W edges, half
//     period CLK_DIV cycles) and is back at CPOL after the last edge; CS rises T_LAG cycles
//     after the last edge.
//   - MOSI: bit 0 (the MSB) from the CS-low cycle a+1 (setup T_LEAD cycles before the first
//     edge); bit i >= 1 from edge 2*i-1+CPHA (the edge opposite to the sampling edge);
//     the slave samples bit i at edge 2*i+CPHA (CPHA = 0: leading edges 0, 2, ..;
//     CPHA = 1: trailing edges 1, 3, ..). CPHA = 1 holds the last bit until CS rises;
//     CPHA = 0 shifts a 0 in at the last (trailing) edge. MOSI = 0 while CS is high.
//   - CS high after a frame: at least T_IDLE cycles before the next CS-low window or LDAC
//     pulse. LDAC after a beat with in_last_i: ldac_n_o low for LDAC_W cycles starting T_IDLE
//     cycles after CS rose (cycles a+W+T_IDLE+1 .. a+W+T_IDLE+LDAC_W), followed by T_IDLE
//     cycles before the next CS-low window. LDAC is never low while CS is low.
//   Throughput (back to back, source always valid): one frame every
//       P = T_LEAD + (2*FRAME_W - 1)*CLK_DIV + T_LAG + T_IDLE cycles,
//   with exactly T_IDLE cycles of CS high between frames; a beat with in_last_i adds
//   LDAC_W + T_IDLE cycles. A bad beat (below) takes 1 cycle, or LDAC_W + T_IDLE cycles when
//   it carries in_last_i.
//   Default parameters: W = 2 + 47*2 + 2 = 98, P = 100 cycles per frame.
//
// Input stream (AXI-Stream rules: transfer on valid && ready; valid never waits for ready;
//   data stable while stalled, checked by an assertion)
//   in_ready_o = 1 in IDLE and in the last of the T_IDLE cycles after a frame or LDAC pulse
//   (unless an LDAC pulse is still due), so the next frame's CS falls exactly T_IDLE cycles
//   after the previous one rose. Latency: CS falls one cycle after the accepting edge
//   (cycle a+1). in_ready_o depends on registers only (no path from in_valid_i).
//   in_addr_i: channel; in_data_i: chip k's code at [k*DATA_W +: DATA_W]; in_mask_i[k]:
//   write chip k (else it gets a NOP frame); in_last_i: pulse LDAC after this beat.
//   Bad beat: in_addr_i >= N_CH (exists only for N_CH < 16). It is consumed, sends no frame,
//   increments err_count_o and sets err_addr_o; if it carries in_last_i, the LDAC pulse is
//   still issued (from cycle a+1, after the T_IDLE cycles of a preceding frame have passed),
//   so that a batch always ends with an update.
//
// Status
//   busy_o = 1 from the accepting edge until the block is back in IDLE: during the frame,
//   the T_IDLE cycles after it, the LDAC pulse and the T_IDLE cycles after that (busy_o = 0
//   implies in_ready_o = 1; a bad beat without in_last_i does not raise busy_o).
//   frame_count_o: frames completed (counted in the cycle CS rises), ldac_count_o: LDAC
//   pulses completed (counted in the cycle LDAC rises), err_count_o: bad beats (counted in
//   the cycle after acceptance); each 32 bits, saturating at 2^32-1. err_addr_o: sticky.
//
// Reset (rst_ni, asynchronous, active low)
//   Returns to IDLE at once: CS high, LDAC high, SCLK = CPOL, MOSI = 0, busy_o = 0 and
//   in_ready_o = 1 (the source must keep in_valid_i low during reset); clears the counters
//   and err_addr_o. A frame or LDAC pulse in progress is cut (and was not counted: counters
//   only count completed frames and pulses, and are cleared anyway).
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_CHIPS    DAC chips (MOSI lines), 1 .. 8
//   N_CH       channels per chip, 1 .. 16 (address field 4 bits)
//   DATA_W     DAC code width in bits, 8 .. 16
//   FRAME_W    frame length in bits, DATA_W+8 .. 32
//   CLK_DIV    SCLK half period in clk_i cycles, 1 .. 255
//   CPOL       SCLK idle level, 0 .. 1
//   CPHA       0: slave samples on the leading SCLK edge, 1: on the trailing edge (default
//              mode 1: CPOL 0, CPHA 1, sampled on the falling edge), 0 .. 1
//   T_LEAD     cycles from CS low to the first SCLK edge, 1 .. 255
//   T_LAG      cycles from the last SCLK edge to CS high, 1 .. 255
//   T_IDLE     minimum CS-high / quiet cycles between frames and LDAC pulses, 1 .. 255
//   LDAC_W     LDAC low pulse width in cycles, 1 .. 255
//   CMD_WRITE  4-bit command of a written chip, 0 .. 15 (default 0: write input register)
//   CMD_NOP    4-bit command of a masked chip, 0 .. 15, != CMD_WRITE (default 15)
module cim_dac_spi #(
  parameter int  N_CHIPS   = 4,
  parameter int  N_CH      = 8,
  parameter int  DATA_W    = 12,
  parameter int  FRAME_W   = 24,
  parameter int  CLK_DIV   = 2,
  parameter int  CPOL      = 0,
  parameter int  CPHA      = 1,
  parameter int  T_LEAD    = 2,
  parameter int  T_LAG     = 2,
  parameter int  T_IDLE    = 2,
  parameter int  LDAC_W    = 2,
  parameter int  CMD_WRITE = 0,
  parameter int  CMD_NOP   = 15,
  localparam int DataBusW  = N_CHIPS * DATA_W
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // input stream: one beat = one frame on every chip
  input  logic                in_valid_i,
  output logic                in_ready_o,
  input  logic [3:0]          in_addr_i,
  input  logic [DataBusW-1:0] in_data_i,
  input  logic [N_CHIPS-1:0]  in_mask_i,
  input  logic                in_last_i,
  // SPI / DAC pins
  output logic                sclk_o,
  output logic                cs_n_o,
  output logic [N_CHIPS-1:0]  mosi_o,
  output logic                ldac_n_o,
  // status
  output logic                busy_o,
  output logic [31:0]         frame_count_o,
  output logic [31:0]         ldac_count_o,
  output logic [31:0]         err_count_o,
  output logic                err_addr_o
);

  // ---------------------------------------------------------------------------------------
  // Parameter checks. Icarus 11 has no elaboration-time system tasks in generate blocks and
  // Yosys 0.23 has no $fatal in initial blocks, so the same conditions are reported both ways.
  // ---------------------------------------------------------------------------------------
  localparam bit BAD_N_CHIPS = (N_CHIPS < 1) || (N_CHIPS > 8);
  localparam bit BAD_N_CH    = (N_CH < 1) || (N_CH > 16);
  localparam bit BAD_DATA_W  = (DATA_W < 8) || (DATA_W > 16);
  localparam bit BAD_FRAME_W = (FRAME_W < DATA_W + 8) || (FRAME_W > 32);
  localparam bit BAD_CLK_DIV = (CLK_DIV < 1) || (CLK_DIV > 255);
  localparam bit BAD_MODE    = (CPOL < 0) || (CPOL > 1) || (CPHA < 0) || (CPHA > 1);
  localparam bit BAD_TIMING  = (T_LEAD < 1) || (T_LEAD > 255) || (T_LAG < 1) || (T_LAG > 255)
                               || (T_IDLE < 1) || (T_IDLE > 255) || (LDAC_W < 1)
                               || (LDAC_W > 255);
  localparam bit BAD_CMD     = (CMD_WRITE < 0) || (CMD_WRITE > 15) || (CMD_NOP < 0)
                               || (CMD_NOP > 15) || (CMD_WRITE == CMD_NOP);

`ifdef YOSYS
  if (BAD_N_CHIPS) begin : g_bad_n_chips
    $error("cim_dac_spi: N_CHIPS out of range 1..8");
  end
  if (BAD_N_CH) begin : g_bad_n_ch
    $error("cim_dac_spi: N_CH out of range 1..16");
  end
  if (BAD_DATA_W) begin : g_bad_data_w
    $error("cim_dac_spi: DATA_W out of range 8..16");
  end
  if (BAD_FRAME_W) begin : g_bad_frame_w
    $error("cim_dac_spi: FRAME_W out of range DATA_W+8..32");
  end
  if (BAD_CLK_DIV) begin : g_bad_clk_div
    $error("cim_dac_spi: CLK_DIV out of range 1..255");
  end
  if (BAD_MODE) begin : g_bad_mode
    $error("cim_dac_spi: CPOL and CPHA must be 0 or 1");
  end
  if (BAD_TIMING) begin : g_bad_timing
    $error("cim_dac_spi: T_LEAD, T_LAG, T_IDLE and LDAC_W must be in 1..255");
  end
  if (BAD_CMD) begin : g_bad_cmd
    $error("cim_dac_spi: CMD_WRITE and CMD_NOP must be different values in 0..15");
  end
`else
  initial begin
    if (BAD_N_CHIPS) $fatal(1, "cim_dac_spi: N_CHIPS (%0d) out of range 1..8", N_CHIPS);
    if (BAD_N_CH) $fatal(1, "cim_dac_spi: N_CH (%0d) out of range 1..16", N_CH);
    if (BAD_DATA_W) $fatal(1, "cim_dac_spi: DATA_W (%0d) out of range 8..16", DATA_W);
    if (BAD_FRAME_W) begin
      $fatal(1, "cim_dac_spi: FRAME_W (%0d) out of range DATA_W+8 (%0d) .. 32", FRAME_W,
             DATA_W + 8);
    end
    if (BAD_CLK_DIV) $fatal(1, "cim_dac_spi: CLK_DIV (%0d) out of range 1..255", CLK_DIV);
    if (BAD_MODE) $fatal(1, "cim_dac_spi: CPOL (%0d) / CPHA (%0d) not 0 or 1", CPOL, CPHA);
    if (BAD_TIMING) begin
      $fatal(1, "cim_dac_spi: T_LEAD (%0d), T_LAG (%0d), T_IDLE (%0d), LDAC_W (%0d) %s",
             T_LEAD, T_LAG, T_IDLE, LDAC_W, "not all in 1..255");
    end
    if (BAD_CMD) begin
      $fatal(1, "cim_dac_spi: CMD_WRITE (%0d) / CMD_NOP (%0d) not different values in 0..15",
             CMD_WRITE, CMD_NOP);
    end
  end
`endif

  // ---------------------------------------------------------------------------------------
  // Constants
  // ---------------------------------------------------------------------------------------
  // Only the first DATA_W+8 bits of a frame carry information; the padding is shifted in as
  // zeros, so each chip's shift register holds SrW bits.
  localparam int SrW   = DATA_W + 8;
  localparam int EdgeW = $clog2(2 * FRAME_W);  // SCLK edge index 0 .. 2*FRAME_W-1
  localparam int CntW  = 8;                    // down-counter for CLK_DIV and T_* (<= 255)
  localparam logic [EdgeW-1:0] EdgeLast   = EdgeW'(2 * FRAME_W - 1);
  localparam logic [CntW-1:0]  HalfLoad   = CntW'(CLK_DIV - 1);
  localparam logic [CntW-1:0]  LeadLoad   = CntW'(T_LEAD - 1);
  localparam logic [CntW-1:0]  LagLoad    = CntW'(T_LAG - 1);
  localparam logic [CntW-1:0]  IdleLoad   = CntW'(T_IDLE - 1);
  localparam logic [CntW-1:0]  LdacLoad   = CntW'(LDAC_W - 1);
  localparam logic [3:0]       CmdWrite   = 4'(CMD_WRITE);
  localparam logic [3:0]       CmdNop     = 4'(CMD_NOP);
  localparam logic             SclkIdle   = (CPOL != 0);
  localparam logic             CphaBit    = (CPHA != 0);

  typedef enum logic [2:0] {
    StIdle  = 3'd0,  // waiting for a beat (in_ready_o = 1)
    StLead  = 3'd1,  // CS low, T_LEAD cycles before the first SCLK edge
    StShift = 3'd2,  // 2*FRAME_W SCLK edges, CLK_DIV cycles apart
    StLag   = 3'd3,  // T_LAG cycles from the last edge to CS high
    StGap   = 3'd4,  // T_IDLE quiet cycles after a frame or an LDAC pulse
    StLdac  = 3'd5   // LDAC low, LDAC_W cycles
  } state_e;

  // ---------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------
  state_e                    state_q, state_d;
  logic [CntW-1:0]           cnt_q, cnt_d;
  logic [EdgeW-1:0]          edge_q, edge_d;        // index of the next SCLK edge
  logic [N_CHIPS*SrW-1:0]    sr_q, sr_d;            // chip k at [k*SrW +: SrW], MSB on MOSI
  logic                      cs_n_q, cs_n_d;
  logic                      sclk_q, sclk_d;
  logic                      ldac_n_q, ldac_n_d;
  logic                      ldac_pend_q, ldac_pend_d;  // LDAC pulse due after this frame
  logic [31:0]               frame_cnt_q, frame_cnt_d;
  logic [31:0]               ldac_cnt_q, ldac_cnt_d;
  logic [31:0]               err_cnt_q, err_cnt_d;
  logic                      err_addr_q, err_addr_d;

  // ---------------------------------------------------------------------------------------
  // Input decode (continuous assigns: Icarus 11 -Wall warns on constant part-selects inside
  // always_*)
  // ---------------------------------------------------------------------------------------
  logic accept, addr_bad;

  assign in_ready_o = (state_q == StIdle)
                      || (state_q == StGap && cnt_q == '0 && !ldac_pend_q);
  assign accept     = in_valid_i && in_ready_o;

  if (N_CH < 16) begin : g_addr_chk
    assign addr_bad = ({1'b0, in_addr_i} >= 5'(N_CH));
  end else begin : g_addr_all_legal
    assign addr_bad = 1'b0;
  end

  logic [N_CHIPS*SrW-1:0] sr_load, sr_shl;
  for (genvar k = 0; k < N_CHIPS; k++) begin : g_chip
    logic [DATA_W-1:0] code;
    assign code                   = in_data_i[k*DATA_W +: DATA_W];
    assign sr_load[k*SrW +: SrW]  = in_mask_i[k] ? {CmdWrite, in_addr_i, code}
                                                 : {CmdNop, 4'h0, {DATA_W{1'b0}}};
    assign sr_shl[k*SrW +: SrW]   = {sr_q[k*SrW +: SrW-1], 1'b0};
    assign mosi_o[k]              = sr_q[k*SrW + SrW - 1];
  end

  // The edge being produced (index edge_q) moves MOSI to the next bit when it is the edge
  // opposite to the sampling edge: odd edges for CPHA = 0, even edges >= 2 for CPHA = 1
  // (edge 0 is produced in LEAD, where bit 0 is already on MOSI).
  logic edge_odd, edge_shifts, edge_last;
  assign edge_odd    = edge_q[0];
  assign edge_shifts = edge_odd ^ CphaBit;
  assign edge_last   = (edge_q == EdgeLast);

  // Saturating counter increments (33-bit sums: bit 32 is the overflow).
  logic [32:0] frame_sum, ldac_sum, err_sum;
  logic [31:0] frame_cnt_inc, ldac_cnt_inc, err_cnt_inc;
  assign frame_sum     = {1'b0, frame_cnt_q} + 33'd1;
  assign ldac_sum      = {1'b0, ldac_cnt_q} + 33'd1;
  assign err_sum       = {1'b0, err_cnt_q} + 33'd1;
  assign frame_cnt_inc = frame_sum[32] ? '1 : frame_sum[31:0];
  assign ldac_cnt_inc  = ldac_sum[32] ? '1 : ldac_sum[31:0];
  assign err_cnt_inc   = err_sum[32] ? '1 : err_sum[31:0];

  // ---------------------------------------------------------------------------------------
  // FSM and datapath
  // ---------------------------------------------------------------------------------------
  always_comb begin
    state_d     = state_q;
    cnt_d       = cnt_q;
    edge_d      = edge_q;
    sr_d        = sr_q;
    cs_n_d      = cs_n_q;
    sclk_d      = sclk_q;
    ldac_n_d    = ldac_n_q;
    ldac_pend_d = ldac_pend_q;
    frame_cnt_d = frame_cnt_q;
    ldac_cnt_d  = ldac_cnt_q;
    err_cnt_d   = err_cnt_q;
    err_addr_d  = err_addr_q;

    case (state_q)
      StIdle: begin
        // leaves only on an acceptance (below)
      end
      StLead: begin
        if (cnt_q == '0) begin
          sclk_d  = ~sclk_q;  // edge 0
          edge_d  = EdgeW'(1);
          cnt_d   = HalfLoad;
          state_d = StShift;
        end else begin
          cnt_d = cnt_q - CntW'(1);
        end
      end
      StShift: begin
        if (cnt_q == '0) begin
          sclk_d = ~sclk_q;  // edge edge_q
          if (edge_shifts) begin
            sr_d = sr_shl;
          end
          if (edge_last) begin
            cnt_d   = LagLoad;
            state_d = StLag;
          end else begin
            edge_d = edge_q + EdgeW'(1);
            cnt_d  = HalfLoad;
          end
        end else begin
          cnt_d = cnt_q - CntW'(1);
        end
      end
      StLag: begin
        if (cnt_q == '0) begin
          cs_n_d      = 1'b1;
          sr_d        = '0;
          frame_cnt_d = frame_cnt_inc;
          cnt_d       = IdleLoad;
          state_d     = StGap;
        end else begin
          cnt_d = cnt_q - CntW'(1);
        end
      end
      StGap: begin
        if (cnt_q == '0) begin
          if (ldac_pend_q) begin
            ldac_n_d    = 1'b0;
            ldac_pend_d = 1'b0;
            cnt_d       = LdacLoad;
            state_d     = StLdac;
          end else begin
            state_d = StIdle;  // unless a beat is accepted in this cycle (below)
          end
        end else begin
          cnt_d = cnt_q - CntW'(1);
        end
      end
      StLdac: begin
        if (cnt_q == '0) begin
          ldac_n_d   = 1'b1;
          ldac_cnt_d = ldac_cnt_inc;
          cnt_d      = IdleLoad;
          state_d    = StGap;
        end else begin
          cnt_d = cnt_q - CntW'(1);
        end
      end
      default: begin
        state_d = StIdle;
      end
    endcase

    // acceptance (in IDLE or in the last quiet cycle of GAP, see in_ready_o)
    if (accept) begin
      if (addr_bad) begin
        err_cnt_d  = err_cnt_inc;
        err_addr_d = 1'b1;
        if (in_last_i) begin
          ldac_n_d = 1'b0;
          cnt_d    = LdacLoad;
          state_d  = StLdac;
        end else begin
          state_d = StIdle;
        end
      end else begin
        cs_n_d      = 1'b0;
        sr_d        = sr_load;
        edge_d      = '0;
        ldac_pend_d = in_last_i;
        cnt_d       = LeadLoad;
        state_d     = StLead;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      cnt_q       <= '0;
      edge_q      <= '0;
      sr_q        <= '0;
      cs_n_q      <= 1'b1;
      sclk_q      <= SclkIdle;
      ldac_n_q    <= 1'b1;
      ldac_pend_q <= 1'b0;
      frame_cnt_q <= '0;
      ldac_cnt_q  <= '0;
      err_cnt_q   <= '0;
      err_addr_q  <= 1'b0;
    end else begin
      state_q     <= state_d;
      cnt_q       <= cnt_d;
      edge_q      <= edge_d;
      sr_q        <= sr_d;
      cs_n_q      <= cs_n_d;
      sclk_q      <= sclk_d;
      ldac_n_q    <= ldac_n_d;
      ldac_pend_q <= ldac_pend_d;
      frame_cnt_q <= frame_cnt_d;
      ldac_cnt_q  <= ldac_cnt_d;
      err_cnt_q   <= err_cnt_d;
      err_addr_q  <= err_addr_d;
    end
  end

  // ---------------------------------------------------------------------------------------
  // Outputs (all from registers / the registered state)
  // ---------------------------------------------------------------------------------------
  assign sclk_o        = sclk_q;
  assign cs_n_o        = cs_n_q;
  assign ldac_n_o      = ldac_n_q;
  assign busy_o        = (state_q != StIdle);
  assign frame_count_o = frame_cnt_q;
  assign ldac_count_o  = ldac_cnt_q;
  assign err_count_o   = err_cnt_q;
  assign err_addr_o    = err_addr_q;

  // ---------------------------------------------------------------------------------------
  // Run-time invariants (simulation only)
  // ---------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Checked only after a reset has been seen. A failure ends the simulation ($fatal) on every
  // simulator: Icarus only prints a $error and would let a bench pass.
  logic                chk_armed_q;
  logic                chk_in_stall_q;
  logic [3:0]          chk_addr_q;
  logic [DataBusW-1:0] chk_data_q;
  logic [N_CHIPS-1:0]  chk_mask_q;
  logic                chk_last_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q    <= 1'b1;
      chk_in_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      if (chk_in_stall_q) begin
        assert (in_valid_i && in_addr_i == chk_addr_q && in_data_i == chk_data_q
                && in_mask_i == chk_mask_q && in_last_i == chk_last_q)
          else $fatal(1, "cim_dac_spi: input beat withdrawn or changed while stalled");
      end
      assert (cs_n_q || state_q == StLead || state_q == StShift || state_q == StLag)
        else $fatal(1, "cim_dac_spi: CS low outside a frame (state %0d)", state_q);
      assert (!cs_n_q || sclk_q == SclkIdle)
        else $fatal(1, "cim_dac_spi: SCLK not at CPOL while CS is high");
      assert (ldac_n_q || cs_n_q)
        else $fatal(1, "cim_dac_spi: LDAC low during a frame");
      assert (!cs_n_q || sr_q == '0)
        else $fatal(1, "cim_dac_spi: MOSI data left while CS is high");
      chk_in_stall_q <= in_valid_i && !in_ready_o;
      chk_addr_q     <= in_addr_i;
      chk_data_q     <= in_data_i;
      chk_mask_q     <= in_mask_i;
      chk_last_q     <= in_last_i;
    end
  end
`endif

endmodule
