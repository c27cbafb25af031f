// cim_spike_router: event-driven input side of a spiking layer on the crossbar (PRIME).
//
// Purpose
//   Accumulates the AER events (channel c, row y, column x) of one timestep into a frame
//   buffer of small unsigned counts (write side), and emits the crossbar row vectors of a
//   convolution over that buffer as row-tile beats for cim_xbar_ctrl (emit side). A fully
//   connected layer is the special case K = H = W, PAD = 0 (one vector). Two banks let the
//   next timestep be written while the last one is emitted. Bit-exact reference:
//   python/rramcim/golden/spike_router.py.
//
// Frame buffer (normative; identical in the golden model)
//   Two banks (0, 1) of MAX_CH_ROWS words; a word holds MAX_W elements of EL_W bits (element
//   x at [x*EL_W +: EL_W]). With frame dimensions C x H x W, element (c, y, x) is element x of
//   word c*H + y. A valid bit per word and bank marks the words written since the last clear;
//   an invalid word reads as all zero. Reading a frame with dimensions C x H x W returns, for
//   x >= W, zero (whatever the word holds there).
//
// Write side
//   Input stream ev_* (AXI-Stream rules) into a FIFO of FIFO_DEPTH beats (cim_fifo). A beat is
//   an event (ev_eof_i = 0; ev_c_i, ev_y_i, ev_x_i) or an end-of-frame marker (ev_eof_i = 1;
//   the address fields are ignored). The head of the FIFO is applied ("popped") while
//   wr_en_i = 1 and err_cfg_wr_o = 0; otherwise it waits (nothing is ever dropped: a full
//   FIFO back-pressures the source). At the pop the write configuration is sampled:
//   bank cfg_wr_bank_i, dimensions C = cfg_wr_c_i, H = cfg_wr_h_i, W = cfg_wr_w_i, pooling
//   shift s = cfg_wr_shift_i (0..3) and count width b = cfg_wr_bits_i (1..EL_W). The event is
//   mapped to (c, y >> s, x >> s) (2^s x 2^s sum pooling by counting).
//   - c >= C or (y >> s) >= H or (x >> s) >= W: discarded, counted in bad_count_o, sets the
//     sticky err_addr_o;
//   - otherwise element (c, y >> s, x >> s) of the bank: if it is below 2^b - 1 it is
//     incremented, else it is left unchanged and the event is counted in sat_count_o (an
//     element can exceed 2^b - 1 only if b was lowered without a clear; it then stays as is).
//   Every applied event counts in ev_count_o; an applied end-of-frame marker counts in
//   frame_count_o and pulses frame_done_o. All counters are 32 bits and stick at 2^32 - 1.
//   err_cfg_wr_o (combinational, of the current cfg_wr_* inputs) = 1 when C = 0, H = 0, W = 0,
//   H > MAX_W, W > MAX_W, C*H > MAX_CH_ROWS, b = 0 or b > EL_W; while it is 1 nothing is
//   popped (beats wait, the write side stalls).
//
// Clear
//   clr_i (one-cycle pulse) clears bank clr_bank_i at its edge (all valid bits of the bank).
//   It is illegal, ignored and sets the sticky err_clr_o when, in that cycle,
//     (emit_busy_o = 1 and the emit bank is clr_bank_i), or
//     (the write pipeline holds a popped event with a good address for bank clr_bank_i, i.e.
//      one that writes that bank at this edge).
//   Beats still in the FIFO do not make a clear illegal (their bank is sampled at the pop);
//   an event popped at the edge of a legal clear of its bank sees the cleared bank.
//
// Emit side
//   emit_start_i (one-cycle pulse) samples cfg_rd_bank_i, C = cfg_rd_c_i, H = cfg_rd_h_i,
//   W = cfg_rd_w_i, K = cfg_rd_k_i, PAD = cfg_rd_pad_i and the tile height TR = cfg_rd_tile_i.
//   OH = H + 2*PAD - K + 1, OW = W + 2*PAD - K + 1, KV = C*K*K. err_cfg_rd_o (combinational,
//   of the current cfg_rd_* inputs) = 1 when C, H or W = 0, H or W > MAX_W, C*H >
//   MAX_CH_ROWS, K = 0 or K > MAX_K, PAD > MAX_K - 1, OH < 1 or OW < 1, OH or OW >
//   2^ADDR_W (vec_oy_o / vec_ox_o must hold OH-1 / OW-1), TR = 0 or TR > N_ROWS. A start
//   while emit_busy_o = 1 or while err_cfg_rd_o = 1 is refused (no output) and sets the
//   sticky err_start_o.
//   For each output position in row-major order (oy = 0..OH-1, ox = 0..OW-1) the vector
//     v[(c*K + ky)*K + kx] = frame[c][oy + ky - PAD][ox + kx - PAD]   (0 outside the frame)
//   leaves as ceil(KV/TR) tile beats: tile t holds v[t*TR .. min(KV, (t+1)*TR) - 1] at element
//   positions 0.. of vec_data_o (element r at [r*EL_W +: EL_W]); every other position is 0.
//   vec_last_o marks the last tile of a vector, vec_end_o the last tile of the frame;
//   vec_oy_o / vec_ox_o give the vector's position on every tile. TR need not be a multiple
//   of K (a kernel-row segment may straddle tiles) and may be smaller than K.
//   vec_count_o counts transferred vectors (last tiles), 32 bits, sticks at 2^32 - 1.
//   emit_busy_o = 1 from the start edge until the frame's last tile transfers.
//   The top never writes (pops events for) the bank it emits from (checked by assertions).
//
// Latency and throughput (clock edges)
//   Write side: a beat accepted by the FIFO at edge A is popped at the first edge >= A+1 at
//   which it is the head, wr_en_i = 1 and err_cfg_wr_o = 0 (A+1 when the FIFO was empty): its
//   word is read at the pop and written back, and the event counted, at pop+1. One event per
//   cycle sustained, any address sequence: an event popped one edge after an event to the
//   same word takes that word from a bypass register (the RAM read at that edge returns the
//   old word). An end-of-frame marker popped at edge P is applied at P+1: frame_done_o is 1 in
//   the cycle after P+1, when the bank already holds every event before the marker (written
//   at P at the latest) and ev_count_o, bad_count_o, sat_count_o, frame_count_o include them.
//   With an empty FIFO and wr_en_i = 1: marker accepted at A, frame_done_o 1 after edge A+2.
//   Emit side: one bank word (c, y) per cycle. A "chunk" is the part of one kernel-row
//   segment (K elements of one (c, ky)) that falls into one tile; a vector has
//   C*K + B chunks, B = the number of tile boundaries t*TR (0 < t*TR < KV) that are not a
//   multiple of K (each costs one extra cycle). For a start at edge E and no back-pressure,
//   chunk j (counted over the whole frame, j = 0, 1, ...) is placed at edge E+2+j and a tile
//   is valid from the edge that places its last chunk: the first tile is valid after edge
//   E+1+m (m = chunks of tile 0), vectors follow each other without gaps, the last tile is
//   valid after E+1+P (P = OH*OW*(C*K + B)) and emit_busy_o falls at E+2+P if it transfers
//   at once. Under back-pressure a finished tile waits in the output register and the next
//   tile is assembled until it is finished too, then the emit side stalls.
//   PRIME (TR = 512): conv0 C=2, H=W=34, K=5, PAD=1: 10 chunks/vector, 1024 vectors;
//   conv1 C=12, H=W=16, K=5: 60 chunks, 144 vectors; fc C=64, H=W=K=6: 384 + 3 chunks
//   in 5 tiles (86, 86, 86, 86, 43 chunks).
//
// Handshakes (AXI-Stream rules: transfer on valid && ready; valid never waits for ready; data
//   stable while stalled)
//   - ev:  ev_ready_o = FIFO not full (no path from wr_en_i or the write pipeline), 0 during
//          reset and in the first cycle after its release. The source holds the beat while
//          stalled (checked by an assertion in cim_fifo).
//   - vec: vec_valid_o and every vec_* output come from registers, stable while
//          vec_ready_i = 0. vec_ready_i enables the tile hand-over combinationally (a path from
//          vec_ready_i into the emit pipeline's enables, none to other outputs).
//   - wr_busy_o = 1 while the FIFO or the write pipeline holds a beat.
//
// Reset (rst_ni, asynchronous, active low)
//   Empties the FIFO and both pipelines, clears the valid bits of both banks, the counters
//   and the sticky errors; abandons an emit in progress (vec_valid_o = 0, emit_busy_o = 0).
//   ev_ready_o is 0 during reset and in the first cycle after its release.
//
// Storage
//   Each bank is a RAM-style array of MAX_CH_ROWS words of MAX_W*EL_W bits with one
//   synchronous read port (shared: the emit side while it emits from the bank, else the
//   write side) and one write port (write side), read-first, no reset: it can be replaced by a
//   1R1W SRAM macro per bank. Besides the banks: 2*MAX_CH_ROWS valid bits, the FIFO
//   (FIFO_DEPTH x (3*ADDR_W+1) bits), the tile assembly and output registers
//   (2*N_ROWS*EL_W flip-flops), a bypass word, five 32-bit counters and about 12*ADDR_W
//   configuration and sequencer bits. Logic: an ADDR_W x ADDR_W multiplier for the word
//   address of an event (c*H + y) and one in each configuration check (C*H), the element
//   read-modify-write of the write side, a MAX_W-to-MAX_K element window and the placement
//   shifter of MAX_K elements into the N_ROWS-element tile (the largest part for large
//   N_ROWS).
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_ROWS       word lines per tile (elements per tile beat), 2 .. 4096
//   EL_W         element width in bits (unsigned counts), 1 .. 8
//   MAX_W        largest frame width and height in elements, 2 .. 256
//   MAX_CH_ROWS  words per bank (largest C*H), 2 .. 65536
//   MAX_K        largest kernel size, 1 .. 16 (PRIME's fc layer needs 6)
//   FIFO_DEPTH   event FIFO depth in beats, a power of two, 2 .. 4096
//   ADDR_W       width of the c / y / x address fields, of the frame dimension inputs and of
//                vec_oy_o / vec_ox_o in bits, 2 .. 16
//   Port widths derived from them: cfg_wr_bits_i BITS_W = clog2(EL_W+1), cfg_rd_k_i and
//   cfg_rd_pad_i K_W = clog2(MAX_K+1), cfg_rd_tile_i TILE_W = clog2(N_ROWS+1).
module cim_spike_router #(
  parameter int  N_ROWS      = 64,
  parameter int  EL_W        = 3,
  parameter int  MAX_W       = 16,
  parameter int  MAX_CH_ROWS = 64,
  parameter int  MAX_K       = 5,
  parameter int  FIFO_DEPTH  = 8,
  parameter int  ADDR_W      = 8,
  localparam int BITS_W      = $clog2(EL_W + 1),
  localparam int K_W         = $clog2(MAX_K + 1),
  localparam int TILE_W      = $clog2(N_ROWS + 1)
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  // event input stream (AER)
  input  logic                   ev_valid_i,
  output logic                   ev_ready_o,
  input  logic                   ev_eof_i,       // end-of-frame marker (no event)
  input  logic [ADDR_W-1:0]      ev_c_i,         // channel
  input  logic [ADDR_W-1:0]      ev_y_i,         // row, before pooling
  input  logic [ADDR_W-1:0]      ev_x_i,         // column, before pooling
  // write side
  input  logic                   wr_en_i,        // apply FIFO beats to the bank
  input  logic                   cfg_wr_bank_i,
  input  logic [ADDR_W-1:0]      cfg_wr_c_i,     // frame channels C
  input  logic [ADDR_W-1:0]      cfg_wr_h_i,     // frame height H (after pooling)
  input  logic [ADDR_W-1:0]      cfg_wr_w_i,     // frame width W (after pooling)
  input  logic [1:0]             cfg_wr_shift_i, // pooling: address >> shift
  input  logic [BITS_W-1:0]      cfg_wr_bits_i,  // counts saturate at 2^bits - 1
  output logic                   err_cfg_wr_o,   // current cfg_wr_* illegal (write stalls)
  output logic                   frame_done_o,   // end-of-frame marker applied (1 cycle)
  output logic                   wr_busy_o,
  // clear of one bank
  input  logic                   clr_i,
  input  logic                   clr_bank_i,
  // emit side
  input  logic                   emit_start_i,
  input  logic                   cfg_rd_bank_i,
  input  logic [ADDR_W-1:0]      cfg_rd_c_i,
  input  logic [ADDR_W-1:0]      cfg_rd_h_i,
  input  logic [ADDR_W-1:0]      cfg_rd_w_i,
  input  logic [K_W-1:0]         cfg_rd_k_i,     // kernel size K
  input  logic [K_W-1:0]         cfg_rd_pad_i,   // zero padding PAD
  input  logic [TILE_W-1:0]      cfg_rd_tile_i,  // tile height TR (elements per tile)
  output logic                   err_cfg_rd_o,   // current cfg_rd_* illegal
  output logic                   emit_busy_o,
  // tile output stream (to cim_xbar_ctrl)
  output logic                   vec_valid_o,
  input  logic                   vec_ready_i,
  output logic [N_ROWS*EL_W-1:0] vec_data_o,
  output logic                   vec_last_o,     // last tile of a vector
  output logic                   vec_end_o,      // last tile of the frame
  output logic [ADDR_W-1:0]      vec_oy_o,
  output logic [ADDR_W-1:0]      vec_ox_o,
  // status (counters since reset, sticky at 2^32 - 1; sticky error flags)
  output logic [31:0]            ev_count_o,
  output logic [31:0]            bad_count_o,
  output logic [31:0]            sat_count_o,
  output logic [31:0]            frame_count_o,
  output logic [31:0]            vec_count_o,
  output logic                   err_addr_o,
  output logic                   err_clr_o,
  output logic                   err_start_o
);

  // --------------------------------------------------------------------------------------
  // Parameter checks. Icarus 11 has no elaboration-time system tasks in generate blocks and
  // Yosys 0.23 has no $fatal in initial blocks, so the same conditions are reported both ways.
  // --------------------------------------------------------------------------------------
  localparam bit BAD_N_ROWS      = (N_ROWS < 2) || (N_ROWS > 4096);
  localparam bit BAD_EL_W        = (EL_W < 1) || (EL_W > 8);
  localparam bit BAD_MAX_W       = (MAX_W < 2) || (MAX_W > 256);
  localparam bit BAD_MAX_CH_ROWS = (MAX_CH_ROWS < 2) || (MAX_CH_ROWS > 65536);
  localparam bit BAD_MAX_K       = (MAX_K < 1) || (MAX_K > 16);
  localparam bit BAD_FIFO_DEPTH  = (FIFO_DEPTH < 2) || (FIFO_DEPTH > 4096)
                                   || ((FIFO_DEPTH & (FIFO_DEPTH - 1)) != 0);
  localparam bit BAD_ADDR_W      = (ADDR_W < 2) || (ADDR_W > 16);

`ifdef YOSYS
  if (BAD_N_ROWS) begin : g_bad_n_rows
    $error("cim_spike_router: N_ROWS out of range 2..4096");
  end
  if (BAD_EL_W) begin : g_bad_el_w
    $error("cim_spike_router: EL_W out of range 1..8");
  end
  if (BAD_MAX_W) begin : g_bad_max_w
    $error("cim_spike_router: MAX_W out of range 2..256");
  end
  if (BAD_MAX_CH_ROWS) begin : g_bad_max_ch_rows
    $error("cim_spike_router: MAX_CH_ROWS out of range 2..65536");
  end
  if (BAD_MAX_K) begin : g_bad_max_k
    $error("cim_spike_router: MAX_K out of range 1..16");
  end
  if (BAD_FIFO_DEPTH) begin : g_bad_fifo_depth
    $error("cim_spike_router: FIFO_DEPTH must be a power of two in 2..4096");
  end
  if (BAD_ADDR_W) begin : g_bad_addr_w
    $error("cim_spike_router: ADDR_W out of range 2..16");
  end
`else
  initial begin
    if (BAD_N_ROWS) $fatal(1, "cim_spike_router: N_ROWS (%0d) out of range 2..4096", N_ROWS);
    if (BAD_EL_W) $fatal(1, "cim_spike_router: EL_W (%0d) out of range 1..8", EL_W);
    if (BAD_MAX_W) $fatal(1, "cim_spike_router: MAX_W (%0d) out of range 2..256", MAX_W);
    if (BAD_MAX_CH_ROWS) begin
      $fatal(1, "cim_spike_router: MAX_CH_ROWS (%0d) out of range 2..65536", MAX_CH_ROWS);
    end
    if (BAD_MAX_K) $fatal(1, "cim_spike_router: MAX_K (%0d) out of range 1..16", MAX_K);
    if (BAD_FIFO_DEPTH) begin
      $fatal(1, "cim_spike_router: FIFO_DEPTH (%0d) must be a power of two in 2..4096",
             FIFO_DEPTH);
    end
    if (BAD_ADDR_W) $fatal(1, "cim_spike_router: ADDR_W (%0d) out of range 2..16", ADDR_W);
  end
`endif

  // --------------------------------------------------------------------------------------
  // Widths
  // --------------------------------------------------------------------------------------
  localparam int WORD_W = MAX_W * EL_W;                 // one bank word
  localparam int EXT_W  = (MAX_W + MAX_K - 1) * EL_W;   // word with MAX_K-1 zeros below
  localparam int WIN_W  = MAX_K * EL_W;                 // K-element window of a word
  localparam int TDAT_W = N_ROWS * EL_W;                // one tile
  localparam int CH_AW  = $clog2(MAX_CH_ROWS);          // word address
  localparam int X_W    = $clog2(MAX_W);                // element index in a word
  localparam int POS_W  = $clog2(N_ROWS);               // element position in a tile
  localparam int EV_W   = 3 * ADDR_W + 1;               // FIFO beat {eof, c, y, x}
  localparam int CNT_W  = $clog2(FIFO_DEPTH) + 1;
  // signed row / column arithmetic (two's complement, sign = MSB): |values| < 2^(max+1)
  localparam int S_W    = ((ADDR_W > K_W) ? ADDR_W : K_W) + 3;
  localparam int M_W    = (K_W > TILE_W) ? K_W : TILE_W;  // compare K-range with TR-range
  localparam int SH_W   = S_W + 4;                      // element index * EL_W (EL_W <= 8)
  localparam int P_W    = 2 * ADDR_W;                   // C*H products

  // --------------------------------------------------------------------------------------
  // Configuration checks (combinational, of the current inputs)
  // --------------------------------------------------------------------------------------
  logic [P_W-1:0] wr_ch, rd_ch;
  logic [S_W-1:0] rd_oh, rd_ow;  // OH, OW (two's complement)
  logic           rd_oh_ok, rd_ow_ok;

  assign wr_ch = P_W'(cfg_wr_c_i) * P_W'(cfg_wr_h_i);
  assign rd_ch = P_W'(cfg_rd_c_i) * P_W'(cfg_rd_h_i);
  assign rd_oh = S_W'(cfg_rd_h_i) + S_W'({cfg_rd_pad_i, 1'b0}) - S_W'(cfg_rd_k_i) + S_W'(1);
  assign rd_ow = S_W'(cfg_rd_w_i) + S_W'({cfg_rd_pad_i, 1'b0}) - S_W'(cfg_rd_k_i) + S_W'(1);
  assign rd_oh_ok = !rd_oh[S_W-1] && (rd_oh != '0) && (rd_oh <= S_W'(1 << ADDR_W));
  assign rd_ow_ok = !rd_ow[S_W-1] && (rd_ow != '0) && (rd_ow <= S_W'(1 << ADDR_W));

  // Upper-limit checks, each only where the port can exceed the limit (a comparison that is
  // constant for some parameters would be a lint warning in every instance that has them).
  logic wr_hw_big, rd_hw_big, wr_ch_big, rd_ch_big, wr_bits_big, rd_k_big, rd_pad_big;
  logic rd_tile_big;

  if (MAX_W < (1 << ADDR_W) - 1) begin : g_chk_hw
    assign wr_hw_big = (32'(cfg_wr_h_i) > MAX_W) || (32'(cfg_wr_w_i) > MAX_W);
    assign rd_hw_big = (32'(cfg_rd_h_i) > MAX_W) || (32'(cfg_rd_w_i) > MAX_W);
  end else begin : g_no_chk_hw
    assign wr_hw_big = 1'b0;
    assign rd_hw_big = 1'b0;
  end
  // (2^ADDR_W - 1)^2 exceeds the largest MAX_CH_ROWS for ADDR_W > 8
  if ((ADDR_W > 8) || (MAX_CH_ROWS < ((1 << ADDR_W) - 1) * ((1 << ADDR_W) - 1)))
  begin : g_chk_ch
    assign wr_ch_big = 32'(wr_ch) > MAX_CH_ROWS;
    assign rd_ch_big = 32'(rd_ch) > MAX_CH_ROWS;
  end else begin : g_no_chk_ch
    assign wr_ch_big = 1'b0;
    assign rd_ch_big = 1'b0;
  end
  if (EL_W < (1 << BITS_W) - 1) begin : g_chk_bits
    assign wr_bits_big = 32'(cfg_wr_bits_i) > EL_W;
  end else begin : g_no_chk_bits
    assign wr_bits_big = 1'b0;
  end
  if (MAX_K < (1 << K_W) - 1) begin : g_chk_k
    assign rd_k_big = 32'(cfg_rd_k_i) > MAX_K;
  end else begin : g_no_chk_k
    assign rd_k_big = 1'b0;
  end
  assign rd_pad_big = 32'(cfg_rd_pad_i) > MAX_K - 1;  // the port always reaches MAX_K
  if (N_ROWS < (1 << TILE_W) - 1) begin : g_chk_tile
    assign rd_tile_big = 32'(cfg_rd_tile_i) > N_ROWS;
  end else begin : g_no_chk_tile
    assign rd_tile_big = 1'b0;
  end

  assign err_cfg_wr_o = (cfg_wr_c_i == '0) || (cfg_wr_h_i == '0) || (cfg_wr_w_i == '0)
                     || wr_hw_big || wr_ch_big || (cfg_wr_bits_i == '0) || wr_bits_big;
  assign err_cfg_rd_o = (cfg_rd_c_i == '0) || (cfg_rd_h_i == '0) || (cfg_rd_w_i == '0)
                     || rd_hw_big || rd_ch_big || (cfg_rd_k_i == '0) || rd_k_big
                     || rd_pad_big || !rd_oh_ok || !rd_ow_ok
                     || (cfg_rd_tile_i == '0) || rd_tile_big;

  // --------------------------------------------------------------------------------------
  // State
  // --------------------------------------------------------------------------------------
  // write pipeline stage W1: the beat popped at the last edge (RAM word being read)
  logic                  w1_valid_q, w1_valid_d;
  logic                  w1_eof_q, w1_eof_d;
  logic                  w1_bad_q, w1_bad_d;     // address out of the frame
  logic                  w1_bank_q, w1_bank_d;
  logic [CH_AW-1:0]      w1_addr_q, w1_addr_d;
  logic [X_W-1:0]        w1_x_q, w1_x_d;
  logic [EL_W-1:0]       w1_max_q, w1_max_d;     // 2^bits - 1
  logic                  w1_rdvld_q, w1_rdvld_d; // the word read had been written since clear
  logic                  w1_byp_q, w1_byp_d;     // use byp_word_q instead of the RAM word
  logic [WORD_W-1:0]     byp_word_q, byp_word_d; // word written by the event one ahead
  logic                  frame_done_q, frame_done_d;
  // emit: sampled configuration
  logic                  em_busy_q, em_busy_d;
  logic                  em_bank_q, em_bank_d;
  logic [ADDR_W-1:0]     em_c_q, em_c_d;
  logic [ADDR_W-1:0]     em_h_q, em_h_d;
  logic [ADDR_W-1:0]     em_w_q, em_w_d;
  logic [K_W-1:0]        em_k_q, em_k_d;
  logic [K_W-1:0]        em_pad_q, em_pad_d;
  logic [TILE_W-1:0]     em_tr_q, em_tr_d;
  logic [ADDR_W-1:0]     em_ohl_q, em_ohl_d;     // OH - 1
  logic [ADDR_W-1:0]     em_owl_q, em_owl_d;     // OW - 1
  // emit stage S0: the sequencer (next kernel-row segment to read)
  logic                  sq_act_q, sq_act_d;
  logic [ADDR_W-1:0]     sq_oy_q, sq_oy_d;
  logic [ADDR_W-1:0]     sq_ox_q, sq_ox_d;
  logic [ADDR_W-1:0]     sq_c_q, sq_c_d;
  logic [K_W-1:0]        sq_ky_q, sq_ky_d;
  logic [CH_AW-1:0]      sq_base_q, sq_base_d;   // c*H
  logic [S_W-1:0]        sq_row_q, sq_row_d;     // oy + ky - PAD (two's complement)
  // emit stage S1: the segment whose word has been read, placed chunk by chunk
  logic                  s1_valid_q, s1_valid_d;
  logic                  s1_vld_q, s1_vld_d;     // word valid and row inside the frame
  logic [S_W-1:0]        s1_e0_q, s1_e0_d;       // window start in the extended word
  logic [MAX_K-1:0]      s1_mask_q, s1_mask_d;   // window elements inside the frame (kx < K)
  logic                  s1_lseg_q, s1_lseg_d;   // last segment of its vector
  logic                  s1_lvec_q, s1_lvec_d;   // its vector is the frame's last
  logic [ADDR_W-1:0]     s1_oy_q, s1_oy_d;
  logic [ADDR_W-1:0]     s1_ox_q, s1_ox_d;
  logic [K_W-1:0]        s1_kx0_q, s1_kx0_d;     // elements of the segment already placed
  // tile assembly and output registers
  logic [TDAT_W-1:0]     asm_q, asm_d;
  logic [POS_W-1:0]      pos_q, pos_d;           // elements in asm_q
  logic                  out_valid_q, out_valid_d;
  logic [TDAT_W-1:0]     out_data_q, out_data_d;
  logic                  out_last_q, out_last_d;
  logic                  out_end_q, out_end_d;
  logic [ADDR_W-1:0]     out_oy_q, out_oy_d;
  logic [ADDR_W-1:0]     out_ox_q, out_ox_d;
  // status
  logic [31:0]           ev_cnt_q, ev_cnt_d;
  logic [31:0]           bad_cnt_q, bad_cnt_d;
  logic [31:0]           sat_cnt_q, sat_cnt_d;
  logic [31:0]           frm_cnt_q, frm_cnt_d;
  logic [31:0]           vec_cnt_q, vec_cnt_d;
  logic                  err_addr_q, err_addr_d;
  logic                  err_clr_q, err_clr_d;
  logic                  err_start_q, err_start_d;

  // --------------------------------------------------------------------------------------
  // Event FIFO
  // --------------------------------------------------------------------------------------
  logic              fifo_valid, fifo_empty, pop;
  logic [EV_W-1:0]   fifo_data;
  logic [CNT_W-1:0]  unused_fifo_count, unused_fifo_max;
  logic              unused_fifo_full;

  cim_fifo #(
    .DATA_W (EV_W),
    .DEPTH  (FIFO_DEPTH)
  ) u_fifo (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .in_valid_i  (ev_valid_i),
    .in_ready_o  (ev_ready_o),
    .in_data_i   ({ev_eof_i, ev_c_i, ev_y_i, ev_x_i}),
    .out_valid_o (fifo_valid),
    .out_ready_i (pop),
    .out_data_o  (fifo_data),
    .count_o     (unused_fifo_count),
    .full_o      (unused_fifo_full),
    .empty_o     (fifo_empty),
    .max_count_o (unused_fifo_max)
  );

  // --------------------------------------------------------------------------------------
  // Write side, pop: map the head beat (pooling, bounds, word address)
  // --------------------------------------------------------------------------------------
  logic              hd_eof;
  logic [ADDR_W-1:0] hd_c, hd_y, hd_x, hd_ys, hd_xs;
  logic              hd_bad, wr_re;
  logic [CH_AW-1:0]  hd_addr;
  logic [EL_W-1:0]   hd_max;

  assign {hd_eof, hd_c, hd_y, hd_x} = fifo_data;
  assign hd_ys   = hd_y >> cfg_wr_shift_i;
  assign hd_xs   = hd_x >> cfg_wr_shift_i;
  assign hd_bad  = (hd_c >= cfg_wr_c_i) || (hd_ys >= cfg_wr_h_i) || (hd_xs >= cfg_wr_w_i);
  // c*H + y < C*H <= MAX_CH_ROWS for a good address: the low CH_AW bits are the address
  assign hd_addr = CH_AW'(P_W'(hd_c) * P_W'(cfg_wr_h_i) + P_W'(hd_ys));
  assign hd_max  = EL_W'((9'd1 << cfg_wr_bits_i) - 9'd1);
  assign pop     = fifo_valid && wr_en_i && !err_cfg_wr_o;
  assign wr_re   = pop && !hd_eof && !hd_bad;

  // --------------------------------------------------------------------------------------
  // Clear
  // --------------------------------------------------------------------------------------
  logic       w1_we;      // W1 writes its word at the next edge
  logic       clr_ok;     // a clear now would be legal
  logic [1:0] clr_bank;   // bank b is cleared at the next edge

  assign w1_we    = w1_valid_q && !w1_eof_q && !w1_bad_q;
  assign clr_ok   = !(em_busy_q && (em_bank_q == clr_bank_i))
                 && !(w1_we && (w1_bank_q == clr_bank_i));
  assign clr_bank = {clr_i && clr_ok && clr_bank_i, clr_i && clr_ok && !clr_bank_i};

  // --------------------------------------------------------------------------------------
  // Emit stage S0 (sequencer): address of the next segment and its window
  // --------------------------------------------------------------------------------------
  logic              s1_fin;     // S1 finishes its segment at the next edge
  logic              s0_issue;   // S0 hands a segment to S1 at the next edge
  logic              row_ok;     // the segment's row lies inside the frame
  logic              em_re;
  logic [CH_AW-1:0]  em_ra;
  logic [S_W-1:0]    sq_xs0;     // ox - PAD
  logic [MAX_K-1:0]  sq_mask;
  logic              last_ky, last_c, last_ox, last_oy;

  assign s0_issue = sq_act_q && (!s1_valid_q || s1_fin);
  assign row_ok   = !sq_row_q[S_W-1] && (sq_row_q < S_W'(em_h_q));
  assign em_re    = s0_issue && row_ok;
  assign em_ra    = CH_AW'(32'(sq_base_q) + 32'(sq_row_q));
  assign sq_xs0   = S_W'(sq_ox_q) - S_W'(em_pad_q);
  assign last_ky  = (sq_ky_q == em_k_q - K_W'(1));
  assign last_c   = (sq_c_q == em_c_q - ADDR_W'(1));
  assign last_ox  = (sq_ox_q == em_owl_q);
  assign last_oy  = (sq_oy_q == em_ohl_q);

  for (genvar k = 0; k < MAX_K; k++) begin : g_sq_mask
    logic [S_W-1:0] xk;  // column of window element k
    assign xk         = sq_xs0 + S_W'(k);
    assign sq_mask[k] = (K_W'(k) < em_k_q) && !xk[S_W-1] && (xk < S_W'(em_w_q));
  end

  // --------------------------------------------------------------------------------------
  // Banks (RAM style, see "Storage"): written like a RAM (no reset, write enable) instead of
  // the _q/_d pair; the valid bits carry the reset. The read port of a bank belongs to the
  // emit side while it emits from that bank, otherwise to the write side.
  // --------------------------------------------------------------------------------------
  logic [WORD_W-1:0]   w1_word;    // word written by W1
  logic [2*WORD_W-1:0] bank_rd;    // read registers of both banks
  logic [1:0]          bank_vld;   // valid bit at each bank's read address (after a clear)

  for (genvar b = 0; b < 2; b++) begin : g_bank
    logic [WORD_W-1:0]      mem_q [0:MAX_CH_ROWS-1];
    logic [WORD_W-1:0]      rd_q;
    logic [MAX_CH_ROWS-1:0] vld_q, vld_d;
    logic                   sel_em, re, we, clr_me;
    logic [CH_AW-1:0]       ra;

    assign sel_em = em_busy_q && (em_bank_q == 1'(b));
    assign ra     = sel_em ? em_ra : hd_addr;
    assign re     = sel_em ? em_re : (wr_re && (cfg_wr_bank_i == 1'(b)));
    assign we     = w1_we && (w1_bank_q == 1'(b));
    assign clr_me = clr_bank[b];
    assign bank_vld[b] = vld_q[ra] && !clr_me;
    assign bank_rd[b*WORD_W +: WORD_W] = rd_q;

    always_ff @(posedge clk_i) begin
      if (we) begin
        mem_q[w1_addr_q] <= w1_word;
      end
      if (re) begin
        rd_q <= mem_q[ra];
      end
    end

    always_comb begin
      vld_d = vld_q;
      if (clr_me) begin
        vld_d = '0;
      end
      if (we) begin
        vld_d[w1_addr_q] = 1'b1;  // never together with a clear of this bank (illegal then)
      end
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        vld_q <= '0;
      end else begin
        vld_q <= vld_d;
      end
    end
  end

  // --------------------------------------------------------------------------------------
  // Write side, stage W1: read-modify-write of one element
  // --------------------------------------------------------------------------------------
  logic [WORD_W-1:0] rd_word0, rd_word1;
  logic [WORD_W-1:0] w1_old;
  logic [EL_W-1:0]   w1_el;
  logic              w1_sat;
  logic [EL_W-1:0]   w1_el_new;
  logic [WORD_W-1:0] w1_el_mask;
  logic              byp_hit;

  assign rd_word0   = bank_rd[WORD_W-1:0];
  assign rd_word1   = bank_rd[2*WORD_W-1:WORD_W];
  assign w1_old     = w1_byp_q ? byp_word_q
                    : (w1_rdvld_q ? (w1_bank_q ? rd_word1 : rd_word0) : '0);
  assign w1_el      = EL_W'(w1_old >> (SH_W'(w1_x_q) * SH_W'(EL_W)));
  assign w1_sat     = (w1_el >= w1_max_q);
  assign w1_el_new  = w1_sat ? w1_el : w1_el + EL_W'(1);
  assign w1_el_mask = WORD_W'({EL_W{1'b1}}) << (SH_W'(w1_x_q) * SH_W'(EL_W));
  assign w1_word    = (w1_old & ~w1_el_mask)
                    | (WORD_W'(w1_el_new) << (SH_W'(w1_x_q) * SH_W'(EL_W)));
  // the beat popped now reads the word W1 writes at the same edge: forward it
  assign byp_hit    = wr_re && w1_we && (w1_bank_q == cfg_wr_bank_i) && (w1_addr_q == hd_addr);

  // --------------------------------------------------------------------------------------
  // Emit stage S1: place the next chunk of the segment into the tile
  // --------------------------------------------------------------------------------------
  logic [WORD_W-1:0] s1_word;
  logic [EXT_W-1:0]  s1_ext;
  logic [WIN_W-1:0]  s1_win, s1_win_mask, s1_shifted, s1_keep, s1_chunk;
  logic [TDAT_W-1:0] placed;
  logic [K_W-1:0]    rem_seg, n_put;
  logic [TILE_W-1:0] rem_tile;
  logic              seg_done, tile_full, vec_done, handover, out_free, s1_act, out_fire;

  assign s1_word    = s1_vld_q ? (em_bank_q ? rd_word1 : rd_word0) : '0;
  assign s1_ext     = EXT_W'(s1_word) << ((MAX_K - 1) * EL_W);
  assign s1_win     = WIN_W'(s1_ext >> (SH_W'(s1_e0_q) * SH_W'(EL_W)));
  assign s1_shifted = (s1_win & s1_win_mask) >> (SH_W'(s1_kx0_q) * SH_W'(EL_W));
  assign s1_chunk   = s1_shifted & s1_keep;
  assign placed     = TDAT_W'(s1_chunk) << (SH_W'(pos_q) * SH_W'(EL_W));

  for (genvar k = 0; k < MAX_K; k++) begin : g_win_mask
    assign s1_win_mask[k*EL_W +: EL_W] = {EL_W{s1_mask_q[k]}};
    assign s1_keep[k*EL_W +: EL_W]     = {EL_W{K_W'(k) < n_put}};
  end

  assign rem_seg   = em_k_q - s1_kx0_q;               // 1 .. K
  assign rem_tile  = em_tr_q - TILE_W'(pos_q);        // 1 .. TR
  assign seg_done  = M_W'(rem_seg) <= M_W'(rem_tile);
  assign tile_full = M_W'(rem_tile) <= M_W'(rem_seg);
  assign n_put     = seg_done ? rem_seg : K_W'(rem_tile);
  assign vec_done  = seg_done && s1_lseg_q;
  assign handover  = tile_full || vec_done;
  assign out_fire  = out_valid_q && vec_ready_i;
  assign out_free  = !out_valid_q || vec_ready_i;
  assign s1_act    = s1_valid_q && (!handover || out_free);
  assign s1_fin    = s1_act && seg_done;

  // --------------------------------------------------------------------------------------
  // Emit start
  // --------------------------------------------------------------------------------------
  logic start_ok;
  assign start_ok = emit_start_i && !em_busy_q && !err_cfg_rd_o;

  // Saturating counter increments (33-bit sums: bit 32 is the overflow). Kept out of the
  // always_comb below: Icarus 11 -Wall warns on constant part-selects inside always_*.
  logic [32:0] ev_sum, bad_sum, sat_sum, frm_sum, vec_sum;
  logic [31:0] ev_cnt_inc, bad_cnt_inc, sat_cnt_inc, frm_cnt_inc, vec_cnt_inc;
  assign ev_sum      = {1'b0, ev_cnt_q} + 33'(w1_valid_q && !w1_eof_q);
  assign bad_sum     = {1'b0, bad_cnt_q} + 33'(w1_valid_q && !w1_eof_q && w1_bad_q);
  assign sat_sum     = {1'b0, sat_cnt_q} + 33'(w1_we && w1_sat);
  assign frm_sum     = {1'b0, frm_cnt_q} + 33'(w1_valid_q && w1_eof_q);
  assign vec_sum     = {1'b0, vec_cnt_q} + 33'(out_fire && out_last_q);
  assign ev_cnt_inc  = ev_sum[32] ? '1 : ev_sum[31:0];
  assign bad_cnt_inc = bad_sum[32] ? '1 : bad_sum[31:0];
  assign sat_cnt_inc = sat_sum[32] ? '1 : sat_sum[31:0];
  assign frm_cnt_inc = frm_sum[32] ? '1 : frm_sum[31:0];
  assign vec_cnt_inc = vec_sum[32] ? '1 : vec_sum[31:0];

  logic [S_W-1:0] row_first;  // oy - PAD of the current output row
  assign row_first = S_W'(sq_oy_q) - S_W'(em_pad_q);

  // --------------------------------------------------------------------------------------
  // Next state
  // --------------------------------------------------------------------------------------
  always_comb begin
    w1_valid_d   = 1'b0;  // W1 always completes in one cycle
    w1_eof_d     = w1_eof_q;
    w1_bad_d     = w1_bad_q;
    w1_bank_d    = w1_bank_q;
    w1_addr_d    = w1_addr_q;
    w1_x_d       = w1_x_q;
    w1_max_d     = w1_max_q;
    w1_rdvld_d   = w1_rdvld_q;
    w1_byp_d     = w1_byp_q;
    byp_word_d   = byp_word_q;
    frame_done_d = 1'b0;
    em_busy_d    = em_busy_q;
    em_bank_d    = em_bank_q;
    em_c_d       = em_c_q;
    em_h_d       = em_h_q;
    em_w_d       = em_w_q;
    em_k_d       = em_k_q;
    em_pad_d     = em_pad_q;
    em_tr_d      = em_tr_q;
    em_ohl_d     = em_ohl_q;
    em_owl_d     = em_owl_q;
    sq_act_d     = sq_act_q;
    sq_oy_d      = sq_oy_q;
    sq_ox_d      = sq_ox_q;
    sq_c_d       = sq_c_q;
    sq_ky_d      = sq_ky_q;
    sq_base_d    = sq_base_q;
    sq_row_d     = sq_row_q;
    s1_valid_d   = s1_valid_q;
    s1_vld_d     = s1_vld_q;
    s1_e0_d      = s1_e0_q;
    s1_mask_d    = s1_mask_q;
    s1_lseg_d    = s1_lseg_q;
    s1_lvec_d    = s1_lvec_q;
    s1_oy_d      = s1_oy_q;
    s1_ox_d      = s1_ox_q;
    s1_kx0_d     = s1_kx0_q;
    asm_d        = asm_q;
    pos_d        = pos_q;
    out_valid_d  = out_valid_q;
    out_data_d   = out_data_q;
    out_last_d   = out_last_q;
    out_end_d    = out_end_q;
    out_oy_d     = out_oy_q;
    out_ox_d     = out_ox_q;
    ev_cnt_d     = ev_cnt_q;
    bad_cnt_d    = bad_cnt_q;
    sat_cnt_d    = sat_cnt_q;
    frm_cnt_d    = frm_cnt_q;
    vec_cnt_d    = vec_cnt_q;
    err_addr_d   = err_addr_q;
    err_clr_d    = err_clr_q;
    err_start_d  = err_start_q;

    // ---- write side: W1 applies its beat (the RAM write itself is in g_bank) -------------
    if (w1_valid_q) begin
      ev_cnt_d  = ev_cnt_inc;
      bad_cnt_d = bad_cnt_inc;
      sat_cnt_d = sat_cnt_inc;
      frm_cnt_d = frm_cnt_inc;
      if (w1_eof_q) begin
        frame_done_d = 1'b1;
      end else if (w1_bad_q) begin
        err_addr_d = 1'b1;
      end
    end
    // ---- write side: pop the FIFO head into W1 -------------------------------------------
    if (pop) begin
      w1_valid_d = 1'b1;
      w1_eof_d   = hd_eof;
      w1_bad_d   = !hd_eof && hd_bad;
      w1_bank_d  = cfg_wr_bank_i;
      w1_addr_d  = hd_addr;
      w1_x_d     = X_W'(hd_xs);
      w1_max_d   = hd_max;
      w1_rdvld_d = bank_vld[cfg_wr_bank_i];
      w1_byp_d   = byp_hit;
      if (byp_hit) begin
        byp_word_d = w1_word;
      end
    end

    // ---- clear ----------------------------------------------------------------------------
    if (clr_i && !clr_ok) begin
      err_clr_d = 1'b1;
    end

    // ---- emit: output register ------------------------------------------------------------
    if (out_fire) begin
      out_valid_d = 1'b0;
      vec_cnt_d   = vec_cnt_inc;
      if (out_end_q) begin
        em_busy_d = 1'b0;
      end
    end
    // ---- emit: S1 places a chunk, hands a finished tile over ------------------------------
    if (s1_act) begin
      if (handover) begin
        out_valid_d = 1'b1;
        out_data_d  = asm_q | placed;
        out_last_d  = vec_done;
        out_end_d   = vec_done && s1_lvec_q;
        out_oy_d    = s1_oy_q;
        out_ox_d    = s1_ox_q;
        asm_d       = '0;
        pos_d       = '0;
      end else begin
        asm_d = asm_q | placed;
        pos_d = POS_W'(TILE_W'(pos_q) + TILE_W'(n_put));
      end
      if (seg_done) begin
        s1_valid_d = 1'b0;
      end else begin
        s1_kx0_d = s1_kx0_q + n_put;
      end
    end
    // ---- emit: S0 hands the next segment to S1 and steps the sequencer ---------------------
    if (s0_issue) begin
      s1_valid_d = 1'b1;
      s1_vld_d   = row_ok && bank_vld[em_bank_q];
      s1_e0_d    = sq_xs0 + S_W'(MAX_K - 1);
      s1_mask_d  = sq_mask;
      s1_lseg_d  = last_ky && last_c;
      s1_lvec_d  = last_ox && last_oy;
      s1_oy_d    = sq_oy_q;
      s1_ox_d    = sq_ox_q;
      s1_kx0_d   = '0;
      if (!last_ky) begin
        sq_ky_d  = sq_ky_q + K_W'(1);
        sq_row_d = sq_row_q + S_W'(1);
      end else begin
        sq_ky_d = '0;
        if (!last_c) begin
          sq_c_d    = sq_c_q + ADDR_W'(1);
          sq_base_d = CH_AW'(32'(sq_base_q) + 32'(em_h_q));
          sq_row_d  = row_first;
        end else begin
          sq_c_d    = '0;
          sq_base_d = '0;
          if (!last_ox) begin
            sq_ox_d  = sq_ox_q + ADDR_W'(1);
            sq_row_d = row_first;
          end else begin
            sq_ox_d = '0;
            if (!last_oy) begin
              sq_oy_d  = sq_oy_q + ADDR_W'(1);
              sq_row_d = row_first + S_W'(1);
            end else begin
              sq_act_d = 1'b0;
            end
          end
        end
      end
    end
    // ---- emit: start ---------------------------------------------------------------------
    if (emit_start_i && !start_ok) begin
      err_start_d = 1'b1;
    end
    if (start_ok) begin
      em_busy_d = 1'b1;
      em_bank_d = cfg_rd_bank_i;
      em_c_d    = cfg_rd_c_i;
      em_h_d    = cfg_rd_h_i;
      em_w_d    = cfg_rd_w_i;
      em_k_d    = cfg_rd_k_i;
      em_pad_d  = cfg_rd_pad_i;
      em_tr_d   = cfg_rd_tile_i;
      em_ohl_d  = ADDR_W'(rd_oh - S_W'(1));
      em_owl_d  = ADDR_W'(rd_ow - S_W'(1));
      sq_act_d  = 1'b1;
      sq_oy_d   = '0;
      sq_ox_d   = '0;
      sq_c_d    = '0;
      sq_ky_d   = '0;
      sq_base_d = '0;
      sq_row_d  = S_W'(0) - S_W'(cfg_rd_pad_i);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      w1_valid_q   <= 1'b0;
      w1_eof_q     <= 1'b0;
      w1_bad_q     <= 1'b0;
      w1_bank_q    <= 1'b0;
      w1_addr_q    <= '0;
      w1_x_q       <= '0;
      w1_max_q     <= '0;
      w1_rdvld_q   <= 1'b0;
      w1_byp_q     <= 1'b0;
      byp_word_q   <= '0;
      frame_done_q <= 1'b0;
      em_busy_q    <= 1'b0;
      em_bank_q    <= 1'b0;
      em_c_q       <= '0;
      em_h_q       <= '0;
      em_w_q       <= '0;
      em_k_q       <= '0;
      em_pad_q     <= '0;
      em_tr_q      <= '0;
      em_ohl_q     <= '0;
      em_owl_q     <= '0;
      sq_act_q     <= 1'b0;
      sq_oy_q      <= '0;
      sq_ox_q      <= '0;
      sq_c_q       <= '0;
      sq_ky_q      <= '0;
      sq_base_q    <= '0;
      sq_row_q     <= '0;
      s1_valid_q   <= 1'b0;
      s1_vld_q     <= 1'b0;
      s1_e0_q      <= '0;
      s1_mask_q    <= '0;
      s1_lseg_q    <= 1'b0;
      s1_lvec_q    <= 1'b0;
      s1_oy_q      <= '0;
      s1_ox_q      <= '0;
      s1_kx0_q     <= '0;
      asm_q        <= '0;
      pos_q        <= '0;
      out_valid_q  <= 1'b0;
      out_data_q   <= '0;
      out_last_q   <= 1'b0;
      out_end_q    <= 1'b0;
      out_oy_q     <= '0;
      out_ox_q     <= '0;
      ev_cnt_q     <= '0;
      bad_cnt_q    <= '0;
      sat_cnt_q    <= '0;
      frm_cnt_q    <= '0;
      vec_cnt_q    <= '0;
      err_addr_q   <= 1'b0;
      err_clr_q    <= 1'b0;
      err_start_q  <= 1'b0;
    end else begin
      w1_valid_q   <= w1_valid_d;
      w1_eof_q     <= w1_eof_d;
      w1_bad_q     <= w1_bad_d;
      w1_bank_q    <= w1_bank_d;
      w1_addr_q    <= w1_addr_d;
      w1_x_q       <= w1_x_d;
      w1_max_q     <= w1_max_d;
      w1_rdvld_q   <= w1_rdvld_d;
      w1_byp_q     <= w1_byp_d;
      byp_word_q   <= byp_word_d;
      frame_done_q <= frame_done_d;
      em_busy_q    <= em_busy_d;
      em_bank_q    <= em_bank_d;
      em_c_q       <= em_c_d;
      em_h_q       <= em_h_d;
      em_w_q       <= em_w_d;
      em_k_q       <= em_k_d;
      em_pad_q     <= em_pad_d;
      em_tr_q      <= em_tr_d;
      em_ohl_q     <= em_ohl_d;
      em_owl_q     <= em_owl_d;
      sq_act_q     <= sq_act_d;
      sq_oy_q      <= sq_oy_d;
      sq_ox_q      <= sq_ox_d;
      sq_c_q       <= sq_c_d;
      sq_ky_q      <= sq_ky_d;
      sq_base_q    <= sq_base_d;
      sq_row_q     <= sq_row_d;
      s1_valid_q   <= s1_valid_d;
      s1_vld_q     <= s1_vld_d;
      s1_e0_q      <= s1_e0_d;
      s1_mask_q    <= s1_mask_d;
      s1_lseg_q    <= s1_lseg_d;
      s1_lvec_q    <= s1_lvec_d;
      s1_oy_q      <= s1_oy_d;
      s1_ox_q      <= s1_ox_d;
      s1_kx0_q     <= s1_kx0_d;
      asm_q        <= asm_d;
      pos_q        <= pos_d;
      out_valid_q  <= out_valid_d;
      out_data_q   <= out_data_d;
      out_last_q   <= out_last_d;
      out_end_q    <= out_end_d;
      out_oy_q     <= out_oy_d;
      out_ox_q     <= out_ox_d;
      ev_cnt_q     <= ev_cnt_d;
      bad_cnt_q    <= bad_cnt_d;
      sat_cnt_q    <= sat_cnt_d;
      frm_cnt_q    <= frm_cnt_d;
      vec_cnt_q    <= vec_cnt_d;
      err_addr_q   <= err_addr_d;
      err_clr_q    <= err_clr_d;
      err_start_q  <= err_start_d;
    end
  end

  // --------------------------------------------------------------------------------------
  // Outputs (registers, except ev_ready_o from the FIFO and the combinational err_cfg_*)
  // --------------------------------------------------------------------------------------
  assign frame_done_o  = frame_done_q;
  assign wr_busy_o     = !fifo_empty || w1_valid_q;
  assign emit_busy_o   = em_busy_q;
  assign vec_valid_o   = out_valid_q;
  assign vec_data_o    = out_data_q;
  assign vec_last_o    = out_last_q;
  assign vec_end_o     = out_end_q;
  assign vec_oy_o      = out_oy_q;
  assign vec_ox_o      = out_ox_q;
  assign ev_count_o    = ev_cnt_q;
  assign bad_count_o   = bad_cnt_q;
  assign sat_count_o   = sat_cnt_q;
  assign frame_count_o = frm_cnt_q;
  assign vec_count_o   = vec_cnt_q;
  assign err_addr_o    = err_addr_q;
  assign err_clr_o     = err_clr_q;
  assign err_start_o   = err_start_q;

  // --------------------------------------------------------------------------------------
  // Run-time invariants (simulation only)
  // --------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Checked only after a reset has been seen. A failure ends the simulation ($fatal) on every
  // simulator: Icarus only prints a $error and would let a bench pass.
  logic                       chk_armed_q;
  logic                       chk_out_stall_q;
  logic [TDAT_W+2*ADDR_W+1:0] chk_out_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q     <= 1'b1;
      chk_out_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      if (chk_out_stall_q) begin
        assert (vec_valid_o && {vec_data_o, vec_last_o, vec_end_o, vec_oy_o, vec_ox_o}
                == chk_out_q)
          else $fatal(1, "cim_spike_router: tile beat changed or withdrawn while stalled");
      end
      // the top never writes the bank it emits from
      assert (!(wr_re && em_busy_q && (em_bank_q == cfg_wr_bank_i)))
        else $fatal(1, "cim_spike_router: event popped for bank %0d while it is emitted",
                    cfg_wr_bank_i);
      assert (!(w1_we && em_busy_q && (em_bank_q == w1_bank_q)))
        else $fatal(1, "cim_spike_router: write to bank %0d while it is emitted", w1_bank_q);
      // S1 always has something to place and room to place it
      if (s1_valid_q) begin
        assert (rem_seg != '0 && rem_tile != '0 && M_W'(rem_seg) <= M_W'(em_k_q)
                && M_W'(rem_tile) <= M_W'(em_tr_q))
          else $fatal(1, "cim_spike_router: tile assembly out of step");
      end
      assert (!(s1_valid_q || sq_act_q || out_valid_q) || em_busy_q)
        else $fatal(1, "cim_spike_router: emit pipeline active while not busy");
      chk_out_stall_q <= vec_valid_o && !vec_ready_i;
      chk_out_q       <= {vec_data_o, vec_last_o, vec_end_o, vec_oy_o, vec_ox_o};
    end
  end
`endif

endmodule
