// cim_xbar_ctrl: read controller of one analogue crossbar macro (cim_xbar_macro).
//
// Purpose
//   Computes matrix-vector products on the macro for a stream of input vectors, exactly as
//   specified in docs/read_path.md (numbering, formats, read order and accumulation there are
//   normative). A vector is cfg_tiles_i row tiles; each tile arrives as one beat of the input
//   stream and is applied bit-serially: for every bit plane b (LSB first) the word lines carry
//   bit b of every element, and the cfg_groups_i column groups of that tile
//   (t*cfg_groups_i + g) are converted one after the other through the ADC interface
//   (cim_adc_if). The signed ADC codes are shifted by b and added, negated on the sign plane of
//   a signed input, into one accumulator per output (cfg_groups_i * N_ADC outputs); the tiles
//   of a vector add into the same accumulators. After the last read of the last tile the
//   accumulators leave as cfg_groups_i output beats (one per group, out_last_o on the last).
//
// Latency (clock edges; L = edges from a request transfer to its response transfer, >= 1,
//   L = 1 when cim_adc_if answers in the cycle after accepting; no stalls)
//   req_valid_o rises in the cycle after a tile transfers; each read takes 1 + L edges (the
//   next request is valid in the cycle after the previous response transfers); after the last
//   read of a tile the next tile can transfer 1 edge later, after the last read of the last tile
//   the first output beat is valid in the next cycle; a new vector can transfer in the cycle
//   after its predecessor's last output beat. A vector of T tiles, B bit planes and G groups
//   takes T * (1 + B*G*(1 + L)) + G edges. Vectors do not overlap.
//
// Handshakes (AXI-Stream rules: transfer on valid && ready; valid never waits for ready; data
//   stable while stalled)
//   - in:  in_ready_o is high while the controller waits for a tile. For the first tile of a
//          vector it is also gated by the configuration check: while err_cfg_o = 1 no vector
//          is accepted (nothing is dropped: the source simply stalls). The tile is copied into
//          an internal register on transfer, so the source may change in_data_i afterwards.
//   - req: req_valid_o with req_group_o (macro column group t*G + g) asks cim_adc_if for one
//          conversion; rd_en_o is high from the first cycle of req_valid_o until the response
//          transfers, and wl_o is stable over that whole window.
//   - rsp: rsp_ready_o is high only while one request is outstanding; rsp_code_i holds N_ADC
//          signed ADC_BITS-bit codes (channel a at [a*ADC_BITS +: ADC_BITS]).
//   - out: out_data_o[a*ACC_W +: ACC_W] = acc[g*N_ADC + a] (two's complement) for group g of
//          the vector; back-pressure by out_ready_i is honoured, data stays stable.
//   One request at most is outstanding; reads are issued in exactly the contract's order.
//
// Configuration
//   cfg_tiles_i (1..N_TILES), cfg_groups_i (1..N_GROUPS, cfg_tiles_i*cfg_groups_i <= N_GROUPS),
//   cfg_in_bits_i (1..IN_BITS) and cfg_in_signed_i are sampled when the first tile of a vector
//   transfers; the contract requires them stable until that vector's last output beat (the
//   controller itself only uses the sampled copy, so a change mid-vector has no effect on the
//   vector in flight). err_cfg_o is a combinational check of the current cfg_* inputs: 1
//   while they are illegal; while it is 1, in_ready_o stays 0 for the first tile of a vector,
//   so the tile waits at the source and nothing is lost. Only the low cfg_in_bits_i bits of
//   every input element are used (higher bits are ignored).
//
// Word lines
//   wl_o[r] = bit b of element r of the current tile (b = current bit plane). The held tile
//   shifts right by one bit per bit plane and wl_o[r] is bit 0 of element r, so wl_o comes
//   straight from flip-flops (glitch-free). It is all zero after reset and from the last read
//   of a tile until the next tile transfers.
//
// Status
//   busy_o: a vector is in flight (from the transfer of its first tile to the transfer of its
//   last output beat). vec_count_o: vectors completed (last output beat transferred),
//   read_count_o: read requests transferred to the ADC interface; both count from 0 after
//   reset and wrap modulo 2^32.
//
// Reset
//   rst_ni asynchronous assert, active low (release synchronised at the top level). All state,
//   the accumulators, the held tile and both counters clear at once; a vector in flight is
//   abandoned (a response still in flight must be discarded by cim_adc_if, which shares the
//   reset). in_ready_o is 0 during reset and in the first cycle after its release, so no
//   source can see a transfer that the controller did not take.
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_ROWS    word lines of the macro, 2 .. 4096
//   IN_BITS   maximum input precision in bits, 1 .. 16
//   N_ADC     ADC channels = outputs per column group, 1 .. 256
//   ADC_BITS  ADC code width in bits (signed), 2 .. 16
//   N_GROUPS  column groups of the macro (mux positions), 1 .. 4096
//   N_TILES   maximum row tiles per vector, 1 .. N_GROUPS
//   ACC_W     accumulator width in bits, >= ADC_BITS + IN_BITS + $clog2(N_TILES) + 1
//             (default: that minimum, which excludes overflow)
//
// Area: the accumulators are N_GROUPS*N_ADC*ACC_W flip-flops and the held tile
//   N_ROWS*IN_BITS (4608 + 4096 for the defaults); read/output mux N_GROUPS:1 of N_ADC*ACC_W
//   bits, N_ADC adders and barrel shifters of ACC_W bits.
module cim_xbar_ctrl #(
  parameter int  N_ROWS   = 512,
  parameter int  IN_BITS  = 8,
  parameter int  N_ADC    = 32,
  parameter int  ADC_BITS = 8,
  parameter int  N_GROUPS = 8,
  parameter int  N_TILES  = 2,
  parameter int  ACC_W    = ADC_BITS + IN_BITS + $clog2(N_TILES) + 1,
  localparam int MUX_W    = N_GROUPS > 1 ? $clog2(N_GROUPS) : 1,
  localparam int TILES_W  = $clog2(N_TILES + 1),
  localparam int GROUPS_W = $clog2(N_GROUPS + 1),
  localparam int BITS_W   = $clog2(IN_BITS + 1)
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  // configuration (sampled with the first tile of a vector)
  input  logic [TILES_W-1:0]        cfg_tiles_i,
  input  logic [GROUPS_W-1:0]       cfg_groups_i,
  input  logic [BITS_W-1:0]         cfg_in_bits_i,
  input  logic                      cfg_in_signed_i,
  output logic                      err_cfg_o,
  // input stream: one row tile per beat, element r at [r*IN_BITS +: IN_BITS]
  input  logic                      in_valid_i,
  output logic                      in_ready_o,
  input  logic [N_ROWS*IN_BITS-1:0] in_data_i,
  // macro word lines
  output logic [N_ROWS-1:0]         wl_o,
  output logic                      rd_en_o,
  // conversion request / response (cim_adc_if)
  output logic                      req_valid_o,
  input  logic                      req_ready_i,
  output logic [MUX_W-1:0]          req_group_o,
  input  logic                      rsp_valid_i,
  output logic                      rsp_ready_o,
  input  logic [N_ADC*ADC_BITS-1:0] rsp_code_i,
  // output stream: one beat per column group of the vector
  output logic                      out_valid_o,
  input  logic                      out_ready_i,
  output logic [N_ADC*ACC_W-1:0]    out_data_o,
  output logic                      out_last_o,
  output logic                      busy_o,
  // counters since reset
  output logic [31:0]               vec_count_o,
  output logic [31:0]               read_count_o
);

  // --------------------------------------------------------------------------------------
  // Parameter checks. Icarus 11 has no elaboration-time system tasks in generate blocks and
  // Yosys 0.23 has no $fatal in initial blocks, so the same conditions are reported both ways.
  // --------------------------------------------------------------------------------------
  localparam int  ACC_W_MIN    = ADC_BITS + IN_BITS + $clog2(N_TILES) + 1;
  localparam bit  BAD_N_ROWS   = (N_ROWS < 2) || (N_ROWS > 4096);
  localparam bit  BAD_IN_BITS  = (IN_BITS < 1) || (IN_BITS > 16);
  localparam bit  BAD_N_ADC    = (N_ADC < 1) || (N_ADC > 256);
  localparam bit  BAD_ADC_BITS = (ADC_BITS < 2) || (ADC_BITS > 16);
  localparam bit  BAD_N_GROUPS = (N_GROUPS < 1) || (N_GROUPS > 4096);
  localparam bit  BAD_N_TILES  = (N_TILES < 1) || (N_TILES > N_GROUPS);
  localparam bit  BAD_ACC_W    = ACC_W < ACC_W_MIN;

`ifdef YOSYS
  if (BAD_N_ROWS) begin : g_bad_n_rows
    $error("cim_xbar_ctrl: N_ROWS out of range 2..4096");
  end
  if (BAD_IN_BITS) begin : g_bad_in_bits
    $error("cim_xbar_ctrl: IN_BITS out of range 1..16");
  end
  if (BAD_N_ADC) begin : g_bad_n_adc
    $error("cim_xbar_ctrl: N_ADC out of range 1..256");
  end
  if (BAD_ADC_BITS) begin : g_bad_adc_bits
    $error("cim_xbar_ctrl: ADC_BITS out of range 2..16");
  end
  if (BAD_N_GROUPS) begin : g_bad_n_groups
    $error("cim_xbar_ctrl: N_GROUPS out of range 1..4096");
  end
  if (BAD_N_TILES) begin : g_bad_n_tiles
    $error("cim_xbar_ctrl: N_TILES out of range 1..N_GROUPS");
  end
  if (BAD_ACC_W) begin : g_bad_acc_w
    $error("cim_xbar_ctrl: ACC_W below ADC_BITS + IN_BITS + $clog2(N_TILES) + 1");
  end
`else
  initial begin
    if (BAD_N_ROWS) $fatal(1, "cim_xbar_ctrl: N_ROWS (%0d) out of range 2..4096", N_ROWS);
    if (BAD_IN_BITS) $fatal(1, "cim_xbar_ctrl: IN_BITS (%0d) out of range 1..16", IN_BITS);
    if (BAD_N_ADC) $fatal(1, "cim_xbar_ctrl: N_ADC (%0d) out of range 1..256", N_ADC);
    if (BAD_ADC_BITS) $fatal(1, "cim_xbar_ctrl: ADC_BITS (%0d) out of range 2..16", ADC_BITS);
    if (BAD_N_GROUPS) $fatal(1, "cim_xbar_ctrl: N_GROUPS (%0d) out of range 1..4096", N_GROUPS);
    if (BAD_N_TILES) begin
      $fatal(1, "cim_xbar_ctrl: N_TILES (%0d) out of range 1..N_GROUPS (%0d)", N_TILES,
             N_GROUPS);
    end
    if (BAD_ACC_W) begin
      $fatal(1, "cim_xbar_ctrl: ACC_W (%0d) < ADC_BITS + IN_BITS + $clog2(N_TILES) + 1 = %0d",
             ACC_W, ACC_W_MIN);
    end
  end
`endif

  // --------------------------------------------------------------------------------------
  // Widths and types
  // --------------------------------------------------------------------------------------
  localparam int TILE_W  = N_TILES > 1 ? $clog2(N_TILES) : 1;  // tile index
  localparam int BIT_W   = IN_BITS > 1 ? $clog2(IN_BITS) : 1;  // bit-plane index
  localparam int ROW_W   = N_ADC * ACC_W;                      // one group of accumulators
  localparam int PROD_W  = TILES_W + GROUPS_W;                 // cfg_tiles_i * cfg_groups_i

  typedef enum logic [1:0] {
    StTile = 2'd0,  // wait for a tile beat
    StReq  = 2'd1,  // conversion request outstanding (req_valid_o)
    StRsp  = 2'd2,  // wait for the conversion response (rsp_ready_o)
    StOut  = 2'd3   // stream the accumulators out
  } state_e;

  state_e                    state_q, state_d;
  logic [N_ROWS*IN_BITS-1:0] tile_q, tile_d;          // held tile, shifted one bit per plane
  logic [TILE_W-1:0]         tile_idx_q, tile_idx_d;  // current tile t
  logic [BIT_W-1:0]          bit_q, bit_d;            // current bit plane b
  logic [MUX_W-1:0]          grp_q, grp_d;            // group g inside the vector / out beat
  logic [MUX_W-1:0]          mgrp_q, mgrp_d;          // macro group t*G + g being read
  logic [MUX_W-1:0]          base_q, base_d;          // macro group t*G of the current tile
  logic [TILE_W-1:0]         last_tile_q, last_tile_d;  // sampled cfg_tiles_i - 1
  logic [MUX_W-1:0]          last_grp_q, last_grp_d;    // sampled cfg_groups_i - 1
  logic [BIT_W-1:0]          last_bit_q, last_bit_d;    // sampled cfg_in_bits_i - 1
  logic                      signed_q, signed_d;        // sampled cfg_in_signed_i
  logic [N_GROUPS*ROW_W-1:0] acc_q, acc_d;            // acc[g][a] at [(g*N_ADC+a)*ACC_W]
  logic [31:0]               vec_cnt_q, vec_cnt_d;
  logic [31:0]               rd_cnt_q, rd_cnt_d;
  logic                      active_q, active_d;  // 0 in reset and the cycle after it

  logic                      in_ready;
  logic                      acc_we;      // write the new sums into group grp_q
  logic [ROW_W-1:0]          acc_row;     // accumulators of group grp_q
  logic [ROW_W-1:0]          sum_row;     // acc_row (or 0) + shifted, signed codes
  logic                      first_read;  // first read of the vector for this group
  logic                      neg_plane;   // sign plane of a signed input
  logic [PROD_W-1:0]         cfg_prod;
  logic                      tiles_hi, groups_hi, bits_hi;  // cfg_* above its maximum

  // --------------------------------------------------------------------------------------
  // Configuration check (combinational on the cfg_* inputs)
  // --------------------------------------------------------------------------------------
  // "Above the maximum" exists only where the port can hold such a value (a comparison that
  // is constant for this parameter set would be a lint warning).
  if ((1 << TILES_W) - 1 > N_TILES) begin : g_tiles_hi
    assign tiles_hi = 32'(cfg_tiles_i) > N_TILES;
  end else begin : g_tiles_hi_never
    assign tiles_hi = 1'b0;
  end
  if ((1 << GROUPS_W) - 1 > N_GROUPS) begin : g_groups_hi
    assign groups_hi = 32'(cfg_groups_i) > N_GROUPS;
  end else begin : g_groups_hi_never
    assign groups_hi = 1'b0;
  end
  if ((1 << BITS_W) - 1 > IN_BITS) begin : g_bits_hi
    assign bits_hi = 32'(cfg_in_bits_i) > IN_BITS;
  end else begin : g_bits_hi_never
    assign bits_hi = 1'b0;
  end
  assign cfg_prod  = PROD_W'(cfg_tiles_i) * PROD_W'(cfg_groups_i);
  assign err_cfg_o = (cfg_tiles_i == '0) || tiles_hi
                  || (cfg_groups_i == '0) || groups_hi
                  || (32'(cfg_prod) > N_GROUPS)
                  || (cfg_in_bits_i == '0) || bits_hi;

  // --------------------------------------------------------------------------------------
  // Datapath: read-modify-write of the N_ADC accumulators of group grp_q
  // --------------------------------------------------------------------------------------
  // Read mux as a chain of 2:1 muxes (Yosys maps a variable part-select of the flat
  // accumulator vector to a much larger shifter).
  for (genvar g = 0; g < N_GROUPS; g++) begin : g_rd
    logic [ROW_W-1:0] row;  // acc row of group grp_q if grp_q <= g
    if (g == 0) begin : g_first
      assign row = acc_q[0 +: ROW_W];
    end else begin : g_next
      assign row = (grp_q == MUX_W'(g)) ? acc_q[g*ROW_W +: ROW_W] : g_rd[g-1].row;
    end
  end
  assign acc_row = g_rd[N_GROUPS-1].row;
  assign first_read = (tile_idx_q == '0) && (bit_q == '0);
  assign neg_plane  = signed_q && (bit_q == last_bit_q);

  for (genvar a = 0; a < N_ADC; a++) begin : g_chan
    logic [ADC_BITS-1:0] code;
    logic [ACC_W-1:0]    term;    // sign-extended code << b
    logic [ACC_W-1:0]    base;

    assign code   = rsp_code_i[a*ADC_BITS +: ADC_BITS];
    assign term   = {{(ACC_W - ADC_BITS){code[ADC_BITS-1]}}, code} << bit_q;
    assign base   = first_read ? '0 : acc_row[a*ACC_W +: ACC_W];
    // base - term on the sign plane of a signed input (two's complement: ~term + 1)
    assign sum_row[a*ACC_W +: ACC_W] = base + (term ^ {ACC_W{neg_plane}}) + ACC_W'(neg_plane);
  end

  // --------------------------------------------------------------------------------------
  // Sequencer
  // --------------------------------------------------------------------------------------
  always_comb begin
    state_d     = state_q;
    tile_d      = tile_q;
    tile_idx_d  = tile_idx_q;
    bit_d       = bit_q;
    grp_d       = grp_q;
    mgrp_d      = mgrp_q;
    base_d      = base_q;
    last_tile_d = last_tile_q;
    last_grp_d  = last_grp_q;
    last_bit_d  = last_bit_q;
    signed_d    = signed_q;
    vec_cnt_d   = vec_cnt_q;
    rd_cnt_d    = rd_cnt_q;
    active_d    = 1'b1;
    acc_we      = 1'b0;

    case (state_q)
      StTile: begin
        // A new vector (tile index 0) only starts with a legal configuration.
        if (in_valid_i && in_ready) begin
          tile_d  = in_data_i;
          state_d = StReq;
          if (tile_idx_q == '0) begin
            last_tile_d = TILE_W'(cfg_tiles_i - TILES_W'(1));
            last_grp_d  = MUX_W'(cfg_groups_i - GROUPS_W'(1));
            last_bit_d  = BIT_W'(cfg_in_bits_i - BITS_W'(1));
            signed_d    = cfg_in_signed_i;
            base_d      = '0;
            mgrp_d      = '0;
          end
        end
      end

      StReq: begin
        if (req_ready_i) begin
          state_d  = StRsp;
          rd_cnt_d = rd_cnt_q + 32'd1;
        end
      end

      StRsp: begin
        if (rsp_valid_i) begin
          acc_we  = 1'b1;
          state_d = StReq;
          if (grp_q != last_grp_q) begin
            // next group, same bit plane
            grp_d  = grp_q + MUX_W'(1);
            mgrp_d = mgrp_q + MUX_W'(1);
          end else if (bit_q != last_bit_q) begin
            // next bit plane: every element shifts right by one
            grp_d  = '0;
            mgrp_d = base_q;
            bit_d  = bit_q + BIT_W'(1);
            // Every element shifts right by one: bit b reaches bit 0 (= wl_o) after b shifts.
            // Zero-filling each element's top bit is not needed for correctness (a bit that
            // crossed from the element above would need IN_BITS shifts to reach bit 0, at most
            // IN_BITS - 1 happen per tile) but it is cheaper: Yosys 0.23 saves one mux per row.
            tile_d = tile_q >> 1;
            for (int r = 0; r < N_ROWS; r++) begin
              tile_d[r*IN_BITS + IN_BITS - 1] = 1'b0;
            end
          end else begin
            // tile done: release it (word lines go to zero)
            grp_d  = '0;
            bit_d  = '0;
            for (int r = 0; r < N_ROWS; r++) begin  // per element: no > 8192-bit '0 fill
              tile_d[r*IN_BITS +: IN_BITS] = '0;
            end
            if (tile_idx_q != last_tile_q) begin
              tile_idx_d = tile_idx_q + TILE_W'(1);
              base_d     = mgrp_q + MUX_W'(1);
              mgrp_d     = mgrp_q + MUX_W'(1);
              state_d    = StTile;
            end else begin
              tile_idx_d = '0;
              state_d    = StOut;
            end
          end
        end
      end

      StOut: begin
        if (out_ready_i) begin
          if (grp_q != last_grp_q) begin
            grp_d = grp_q + MUX_W'(1);
          end else begin
            grp_d     = '0;
            vec_cnt_d = vec_cnt_q + 32'd1;
            state_d   = StTile;
          end
        end
      end

      default: begin
        state_d = StTile;
      end
    endcase
  end

  // Accumulator write: only the row of group grp_q changes.
  always_comb begin
    acc_d = acc_q;
    for (int g = 0; g < N_GROUPS; g++) begin
      if (acc_we && (grp_q == MUX_W'(g))) begin
        acc_d[g*ROW_W +: ROW_W] = sum_row;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StTile;
      for (int r = 0; r < N_ROWS; r++) begin  // per element / channel: wide '0 fills
        tile_q[r*IN_BITS +: IN_BITS] <= '0;   // beyond 8192 bits are a Verilator warning
      end
      for (int k = 0; k < N_GROUPS * N_ADC; k++) begin
        acc_q[k*ACC_W +: ACC_W] <= '0;
      end
      tile_idx_q  <= '0;
      bit_q       <= '0;
      grp_q       <= '0;
      mgrp_q      <= '0;
      base_q      <= '0;
      last_tile_q <= '0;
      last_grp_q  <= '0;
      last_bit_q  <= '0;
      signed_q    <= 1'b0;
      vec_cnt_q   <= '0;
      rd_cnt_q    <= '0;
      active_q    <= 1'b0;
    end else begin
      state_q     <= state_d;
      tile_q      <= tile_d;
      tile_idx_q  <= tile_idx_d;
      bit_q       <= bit_d;
      grp_q       <= grp_d;
      mgrp_q      <= mgrp_d;
      base_q      <= base_d;
      last_tile_q <= last_tile_d;
      last_grp_q  <= last_grp_d;
      last_bit_q  <= last_bit_d;
      signed_q    <= signed_d;
      acc_q       <= acc_d;
      vec_cnt_q   <= vec_cnt_d;
      rd_cnt_q    <= rd_cnt_d;
      active_q    <= active_d;
    end
  end

  // --------------------------------------------------------------------------------------
  // Outputs
  // --------------------------------------------------------------------------------------
  always_comb begin
    for (int r = 0; r < N_ROWS; r++) begin
      wl_o[r] = tile_q[r*IN_BITS];
    end
  end

  // a continuous assign, not a value set twice in the sequencer's always_comb: Icarus 11.0
  // re-runs unrelated always_comb processes on such a glitch (iverilog issue #508) and the
  // PRIME top's read path then loops at one time step
  assign in_ready = (state_q == StTile) && active_q && ((tile_idx_q != '0) || !err_cfg_o);
  assign in_ready_o   = in_ready;
  assign rd_en_o      = (state_q == StReq) || (state_q == StRsp);
  assign req_valid_o  = (state_q == StReq);
  assign req_group_o  = mgrp_q;
  assign rsp_ready_o  = (state_q == StRsp);
  assign out_valid_o  = (state_q == StOut);
  assign out_data_o   = acc_row;
  assign out_last_o   = (state_q == StOut) && (grp_q == last_grp_q);
  assign busy_o       = (state_q != StTile) || (tile_idx_q != '0);
  assign vec_count_o  = vec_cnt_q;
  assign read_count_o = rd_cnt_q;

  // --------------------------------------------------------------------------------------
  // Run-time invariants (simulation only)
  // --------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Checked once the block is active (active_q: out of reset; its unknown value at time zero
  // skips the checks instead of reporting the inputs' initial X as a protocol error).
  always @(posedge clk_i) begin
    if (active_q) begin
      // The ADC interface answers only an outstanding request.
      assert (!rsp_valid_i || (state_q == StRsp))
        else $error("cim_xbar_ctrl: rsp_valid_i without an outstanding request");
      // Sequencer indices stay inside the sampled configuration.
      if (state_q != StTile) begin
        assert (grp_q <= last_grp_q) else $error("cim_xbar_ctrl: group index out of range");
        assert (bit_q <= last_bit_q) else $error("cim_xbar_ctrl: bit-plane index out of range");
        assert (tile_idx_q <= last_tile_q) else $error("cim_xbar_ctrl: tile index out of range");
      end
    end
  end
`endif

endmodule
