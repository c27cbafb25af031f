// cim_fifo: generic synchronous first-word-fall-through FIFO with valid/ready on both sides.
//
// Purpose
//   Buffers up to DEPTH beats of DATA_W bits between a source and a sink of one clock domain,
//   in order, and reports its occupancy (count_o, full_o, empty_o) and the highest occupancy
//   seen since reset (max_count_o, a high-water mark for sizing DEPTH). Used, e.g., by
//   cim_spike_router for its event input; reference model: the bench's queue
//   (tb/cim_fifo/test_cim_fifo.py).
//
// Latency and throughput (clock edges)
//   A beat that transfers on the input at edge E is at the output (out_valid_o = 1, first word
//   fall through) from edge E+1 when the FIFO was empty, i.e. it can leave at edge E+1 at the
//   earliest (latency 1); behind other beats it waits its turn. One beat per cycle in and out
//   at the same time: a push and a pop at the same edge leave count_o unchanged. The one
//   exception is the full FIFO: in_ready_o = !full_o does not look at out_ready_i (no
//   combinational path through the FIFO), so while it is full only the pop happens and the
//   input takes a beat again from the next cycle on: when the sink of a full FIFO resumes,
//   the input loses one cycle, then both sides move one beat per cycle.
//
// Handshakes (AXI-Stream rules: transfer on valid && ready; valid never waits for ready; data
//   stable while stalled)
//   - in:  in_ready_o = !full_o, and 0 during reset and in the first cycle after its release.
//          The source must hold in_valid_i and in_data_i while stalled (checked by an
//          assertion).
//   - out: out_valid_o = !empty_o; out_data_o is the oldest beat, stable until it is popped
//          (out_valid_o && out_ready_i). out_data_o is undefined while out_valid_o = 0.
//   No combinational path from out_ready_i to in_ready_o or from in_valid_i to out_valid_o.
//
// Status
//   count_o: beats held (0 .. DEPTH), full_o = (count_o == DEPTH), empty_o = (count_o == 0);
//   max_count_o: the largest count_o since reset (it rises together with count_o).
//
// Reset (rst_ni, asynchronous, active low)
//   Empties the FIFO (count_o = 0, max_count_o = 0); in_ready_o is 0 during reset and in the
//   first cycle after its release, so no source sees a transfer the FIFO did not take.
//
// Storage
//   DEPTH words of DATA_W bits in a RAM-style array with one write port and one asynchronous
//   read port (a register file: first word fall through needs the head word without a read
//   cycle), no reset. Pointers, count, high-water mark and the ready enable are
//   2*log2(DEPTH) + 2*(log2(DEPTH)+1) + 1 flip-flops.
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   DATA_W  beat width in bits, 1 .. 4096
//   DEPTH   capacity in beats, a power of two, 2 .. 4096; count_o and max_count_o are
//           CNT_W = log2(DEPTH) + 1 bits wide
module cim_fifo #(
  parameter int  DATA_W = 32,
  parameter int  DEPTH  = 8,
  localparam int AW     = $clog2(DEPTH),
  localparam int CNT_W  = $clog2(DEPTH) + 1
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // input stream
  input  logic              in_valid_i,
  output logic              in_ready_o,
  input  logic [DATA_W-1:0] in_data_i,
  // output stream (first word fall through)
  output logic              out_valid_o,
  input  logic              out_ready_i,
  output logic [DATA_W-1:0] out_data_o,
  // status
  output logic [CNT_W-1:0]  count_o,
  output logic              full_o,
  output logic              empty_o,
  output logic [CNT_W-1:0]  max_count_o
);

  // --------------------------------------------------------------------------------------
  // Parameter checks. Icarus 11 has no elaboration-time system tasks in generate blocks and
  // Yosys 0.23 has no $fatal in initial blocks, so the same conditions are reported both ways.
  // --------------------------------------------------------------------------------------
  localparam bit BAD_DATA_W = (DATA_W < 1) || (DATA_W > 4096);
  localparam bit BAD_DEPTH  = (DEPTH < 2) || (DEPTH > 4096) || ((DEPTH & (DEPTH - 1)) != 0);

`ifdef YOSYS
  if (BAD_DATA_W) begin : g_bad_data_w
    $error("cim_fifo: DATA_W out of range 1..4096");
  end
  if (BAD_DEPTH) begin : g_bad_depth
    $error("cim_fifo: DEPTH must be a power of two in 2..4096");
  end
`else
  initial begin
    if (BAD_DATA_W) $fatal(1, "cim_fifo: DATA_W (%0d) out of range 1..4096", DATA_W);
    if (BAD_DEPTH) begin
      $fatal(1, "cim_fifo: DEPTH (%0d) must be a power of two in 2..4096", DEPTH);
    end
  end
`endif

  localparam logic [CNT_W-1:0] FULL_CNT = CNT_W'(DEPTH);

  // --------------------------------------------------------------------------------------
  // State
  // --------------------------------------------------------------------------------------
  logic [AW-1:0]    wr_ptr_q, wr_ptr_d;
  logic [AW-1:0]    rd_ptr_q, rd_ptr_d;
  logic [CNT_W-1:0] count_q, count_d;
  logic [CNT_W-1:0] max_q, max_d;
  logic             rdy_en_q;  // 0 in reset and the first cycle after it

  logic push, pop, full, empty;

  assign full       = (count_q == FULL_CNT);
  assign empty      = (count_q == '0);
  assign in_ready_o = rdy_en_q && !full;
  assign push       = in_valid_i && in_ready_o;
  assign pop        = !empty && out_ready_i;

  // --------------------------------------------------------------------------------------
  // Storage (RAM style, see "Storage"): written like a RAM (no reset, write enable) instead of
  // the _q/_d pair; the pointers and the counter carry the reset.
  // --------------------------------------------------------------------------------------
  logic [DATA_W-1:0] mem_q [0:DEPTH-1];

  always_ff @(posedge clk_i) begin
    if (push) begin
      mem_q[wr_ptr_q] <= in_data_i;
    end
  end

  assign out_data_o = mem_q[rd_ptr_q];

  // --------------------------------------------------------------------------------------
  // Next state
  // --------------------------------------------------------------------------------------
  always_comb begin
    wr_ptr_d = wr_ptr_q;
    rd_ptr_d = rd_ptr_q;
    count_d  = count_q;
    max_d    = max_q;
    if (push) begin
      wr_ptr_d = wr_ptr_q + AW'(1);  // DEPTH is a power of two: wraps by itself
    end
    if (pop) begin
      rd_ptr_d = rd_ptr_q + AW'(1);
    end
    if (push && !pop) begin
      count_d = count_q + CNT_W'(1);
      // count rises by one at most per cycle and max_q >= count_q, so the high-water mark
      // moves exactly when the count passes it
      if (count_q == max_q) begin
        max_d = max_q + CNT_W'(1);
      end
    end else if (pop && !push) begin
      count_d = count_q - CNT_W'(1);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_ptr_q <= '0;
      rd_ptr_q <= '0;
      count_q  <= '0;
      max_q    <= '0;
      rdy_en_q <= 1'b0;
    end else begin
      wr_ptr_q <= wr_ptr_d;
      rd_ptr_q <= rd_ptr_d;
      count_q  <= count_d;
      max_q    <= max_d;
      rdy_en_q <= 1'b1;
    end
  end

  // --------------------------------------------------------------------------------------
  // Outputs
  // --------------------------------------------------------------------------------------
  assign out_valid_o = !empty;
  assign count_o     = count_q;
  assign full_o      = full;
  assign empty_o     = empty;
  assign max_count_o = max_q;

  // --------------------------------------------------------------------------------------
  // Run-time invariants (simulation only)
  // --------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Checked only after a reset has been seen. A failure ends the simulation ($fatal) on every
  // simulator: Icarus only prints a $error and would let a bench pass.
  logic              chk_armed_q;
  logic              chk_in_stall_q;
  logic [DATA_W-1:0] chk_in_data_q;
  logic [AW-1:0]     chk_ptr_diff;  // occupancy modulo DEPTH

  assign chk_ptr_diff = wr_ptr_q - rd_ptr_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q    <= 1'b1;
      chk_in_stall_q <= 1'b0;
    end else if (chk_armed_q) begin
      if (chk_in_stall_q) begin
        assert (in_valid_i && in_data_i == chk_in_data_q)
          else $fatal(1, "cim_fifo: input beat withdrawn or changed while stalled");
      end
      assert (count_q <= FULL_CNT && max_q <= FULL_CNT && count_q <= max_q)
        else $fatal(1, "cim_fifo: count %0d / high-water mark %0d inconsistent", count_q, max_q);
      assert (CNT_W'(chk_ptr_diff) == (full ? '0 : count_q))
        else $fatal(1, "cim_fifo: pointers disagree with the count");
      chk_in_stall_q <= in_valid_i && !in_ready_o;
      chk_in_data_q  <= in_data_i;
    end
  end
`endif

endmodule
