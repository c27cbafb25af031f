// cim_csr: generic control/status register block on an AMBA 3 APB (APB3) slave port, 32-bit
// data, shared by the workload tops.
//
// Purpose
//   N_REGS 32-bit registers at byte addresses 4*i (i = 0 .. N_REGS-1). Each slot is one of:
//     RW   (RW_MASK[i] = 1): stored here; reset to RESET_VAL word i; written by APB writes;
//          its value is on reg_q_o word i for the top to use.
//     RO   (RW_MASK[i] = 0, EXT_WR_MASK[i] = 0): not stored here; an APB read returns
//          reg_rd_i word i (from the top); an APB write is an error (see "Errors").
//     EXT  (RW_MASK[i] = 0, EXT_WR_MASK[i] = 1): an RO slot whose writes are accepted but not
//          stored: a read returns reg_rd_i word i, a write only shows to the top as
//          wr_pulse_o[i] with wr_data_o. This is how a top builds command bits
//          (write-1-to-start) and write-1-to-clear status bits without storing them here.
//   The top may veto any write through wr_err_i (e.g. a field out of range); a vetoed write
//   changes nothing and is answered with an error. Bit-exact reference:
//   python/rramcim/golden/csr.py.
//
// APB3 interface and latency
//   psel_i, penable_i, pwrite_i, paddr_i, pwdata_i in; prdata_o, pready_o, pslverr_o out.
//   Zero wait states: pready_o = 1 always, so every transfer is one setup cycle (psel_i = 1,
//   penable_i = 0) and one access cycle (psel_i = 1, penable_i = 1), and completes at the
//   rising edge that ends the access cycle. There is no pipelining and no other handshake.
//   - Read: prdata_o is combinational in the access cycle (register word i, or reg_rd_i word
//     i sampled in that cycle, the same cycle the master samples prdata_o). prdata_o = 0
//     whenever the bus is not in the access cycle of an error-free read.
//   - Write: takes effect at the edge that ends the access cycle (RW slot: reg_q_o shows the
//     new value from that edge on; EXT slot: wr_pulse_o is high in the access cycle).
//   - pslverr_o is combinational in the access cycle and 0 in every other cycle.
//   Only full-word transfers (APB3 has no byte strobes); paddr_i[1:0] must be 0.
//
// Side-band ports to the top (all combinational, valid in the access cycle only)
//   wr_req_o    = psel_i && penable_i && pwrite_i && the address is valid (aligned and below
//                 4*N_REGS), whatever the slot kind: the top checks the value on wr_idx_o /
//                 wr_data_o and answers on wr_err_i in the same cycle. wr_idx_o and wr_data_o
//                 (= pwdata_i) are meaningful only while wr_req_o = 1.
//   wr_err_i    1 = the write on wr_idx_o / wr_data_o is illegal. Looked at only while
//                 wr_req_o = 1 and the slot is RW or EXT. Must not depend on wr_pulse_o
//                 (combinational loop); it may depend on wr_req_o, wr_idx_o, wr_data_o and the
//                 top's state.
//   wr_pulse_o  bit i = 1 in the access cycle of an accepted write to slot i (RW or EXT: no
//                 address error, not RO, wr_err_i = 0); one cycle long, since pready_o = 1. The
//                 data are on wr_data_o in the same cycle; the top acts at the same edge as
//                 this block (e.g. clears its W1C status bits where wr_data_o has ones).
//   rd_pulse_o  bit i = 1 in the access cycle of an error-free read of slot i (any kind), for
//                 read side effects (clear-on-read); the top acts at the edge ending the cycle.
//
// Errors (pslverr_o = 1 in the access cycle)
//   - any access (read or write) to an unaligned address (paddr_i[1:0] != 0) or to an address
//     >= 4*N_REGS;
//   - a write to an RO slot (nothing happens, no wr_pulse_o; it is a software bug, so it is
//     reported and counted rather than silently ignored);
//   - a write that the top vetoes with wr_err_i (RW or EXT slot): no register change, no
//     wr_pulse_o.
//   Each error transfer increments err_count_o (saturates at 2^32-1; cleared only by reset),
//   sets the sticky err_o and, if err_o was 0 (or is being cleared in the same cycle),
//   captures the transfer's byte address paddr_i in err_addr_o. err_clr_i = 1 in a cycle clears
//   err_o and err_addr_o (to 0) at the next edge; an error transfer in the same cycle wins
//   (err_o = 1, err_addr_o = its address), so no error is lost. The top typically drives
//   err_clr_i from wr_pulse_o of an EXT slot and a bit of wr_data_o (W1C).
//
// Reset (rst_ni, asynchronous, active low)
//   RW registers to their RESET_VAL words, err_o = 0, err_addr_o = 0, err_count_o = 0. The
//   block has no other state (no transfer is "in flight" inside it); the master resets its
//   bus state to IDLE with the same reset.
//
// Storage, area and timing
//   32 flip-flops per RW slot plus 1 + ADDR_W + 32 for the error status; RO and EXT slots have
//   none. Read mux: an AND-OR tree over the N_REGS words. Combinational paths: paddr_i ->
//   decode -> prdata_o / wr_req_o / rd_pulse_o, and through the top's wr_err_i -> pslverr_o /
//   wr_pulse_o / register enables (the top's legality check lies inside this cycle).
//
// Assertions (simulation only, `ifndef SYNTHESIS; $fatal): the APB3 master rules this block
//   relies on - penable_i only with psel_i, every access cycle right after a setup cycle with
//   the same paddr_i / pwrite_i / pwdata_i (writes) - and a known wr_err_i where it is used.
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_REGS       number of register slots, 1 .. 256; wr_idx_o is
//                IDX_W = (N_REGS > 1 ? $clog2(N_REGS) : 1) bits wide
//   ADDR_W       width of paddr_i and err_addr_o in bits (byte address),
//                $clog2(N_REGS) + 2 .. 32
//   RW_MASK      N_REGS bits; bit i = 1: slot i is a stored RW register
//   EXT_WR_MASK  N_REGS bits; bit i = 1: slot i is an EXT slot; must be 0 where RW_MASK is 1
//   RESET_VAL    N_REGS*32 bits; word i (bits 32*i+31 .. 32*i) is the reset value of RW slot
//                i; must be 0 for RO and EXT slots (a value there would be silently unused)
//   Defaults (used by `make synth`): an example map of 16 slots: 0..11 RW (reset 0), 12..14 RO,
//   15 EXT.
module cim_csr #(
  parameter int                   N_REGS      = 16,
  parameter int                   ADDR_W      = 12,
  parameter logic [N_REGS-1:0]    RW_MASK     = 16'h0fff,
  parameter logic [N_REGS-1:0]    EXT_WR_MASK = 16'h8000,
  parameter logic [N_REGS*32-1:0] RESET_VAL   = '0,
  localparam int                  IDX_W       = N_REGS > 1 ? $clog2(N_REGS) : 1
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  // APB3 slave
  input  logic                   psel_i,
  input  logic                   penable_i,
  input  logic                   pwrite_i,
  input  logic [ADDR_W-1:0]      paddr_i,
  input  logic [31:0]            pwdata_i,
  output logic [31:0]            prdata_o,
  output logic                   pready_o,
  output logic                   pslverr_o,
  // register values to / from the top
  output logic [N_REGS*32-1:0]   reg_q_o,     // RW slots: stored value; others: 0
  input  logic [N_REGS*32-1:0]   reg_rd_i,    // RO / EXT slots: read value (RW words unused)
  // write access in its access cycle, veto, pulses
  output logic                   wr_req_o,
  output logic [IDX_W-1:0]       wr_idx_o,
  output logic [31:0]            wr_data_o,
  input  logic                   wr_err_i,
  output logic [N_REGS-1:0]      wr_pulse_o,
  output logic [N_REGS-1:0]      rd_pulse_o,
  // error status
  input  logic                   err_clr_i,
  output logic                   err_o,
  output logic [ADDR_W-1:0]      err_addr_o,
  output logic [31:0]            err_count_o
);

  // --------------------------------------------------------------------------------------
  // Parameter checks. Icarus 11 has no elaboration-time system tasks in generate blocks and
  // Yosys 0.23 has no $fatal in initial blocks, so the same conditions are reported both ways.
  // --------------------------------------------------------------------------------------
  // word i of the result is all ones where bit i of m is set
  function automatic logic [N_REGS*32-1:0] words_of(input logic [N_REGS-1:0] m);
    logic [N_REGS*32-1:0] w;
    w = '0;
    for (int i = 0; i < N_REGS; i++) begin
      w[32*i +: 32] = {32{m[i]}};
    end
    words_of = w;
  endfunction

  localparam logic [N_REGS*32-1:0] RW_WORDS = words_of(RW_MASK);

  localparam bit BAD_N_REGS    = (N_REGS < 1) || (N_REGS > 256);
  localparam bit BAD_ADDR_W    = (ADDR_W < $clog2(N_REGS) + 2) || (ADDR_W > 32);
  localparam bit BAD_EXT_WR    = (RW_MASK & EXT_WR_MASK) != '0;
  localparam bit BAD_RESET_VAL = (RESET_VAL & ~RW_WORDS) != '0;

`ifdef YOSYS
  if (BAD_N_REGS) begin : g_bad_n_regs
    $error("cim_csr: N_REGS out of range 1..256");
  end
  if (BAD_ADDR_W) begin : g_bad_addr_w
    $error("cim_csr: ADDR_W out of range $clog2(N_REGS)+2..32");
  end
  if (BAD_EXT_WR) begin : g_bad_ext_wr
    $error("cim_csr: EXT_WR_MASK overlaps RW_MASK");
  end
  if (BAD_RESET_VAL) begin : g_bad_reset_val
    $error("cim_csr: RESET_VAL is not 0 in a word of an RO or EXT slot");
  end
`else
  initial begin
    if (BAD_N_REGS) $fatal(1, "cim_csr: N_REGS (%0d) out of range 1..256", N_REGS);
    if (BAD_ADDR_W) begin
      $fatal(1, "cim_csr: ADDR_W (%0d) out of range %0d..32", ADDR_W, $clog2(N_REGS) + 2);
    end
    if (BAD_EXT_WR) begin
      $fatal(1, "cim_csr: EXT_WR_MASK (%h) overlaps RW_MASK (%h)", EXT_WR_MASK, RW_MASK);
    end
    if (BAD_RESET_VAL) begin
      $fatal(1, "cim_csr: RESET_VAL is not 0 in a word of an RO or EXT slot (RW_MASK %h)",
             RW_MASK);
    end
  end
`endif

  // --------------------------------------------------------------------------------------
  // Address decode (access cycle)
  // --------------------------------------------------------------------------------------
  logic              access;    // access cycle of a transfer
  logic [ADDR_W-1:0] word;      // word address
  logic              addr_ok;   // aligned and below 4*N_REGS
  logic [IDX_W-1:0]  idx;
  logic [N_REGS-1:0] sel;       // one-hot slot of a valid address, else 0
  logic              sel_wr;    // the slot takes writes (RW or EXT)
  logic              wr_ok;     // an accepted write
  logic              xfer_err;  // an error transfer

  assign access  = psel_i && penable_i;
  assign word    = paddr_i >> 2;
  assign addr_ok = (paddr_i[1:0] == 2'b00) && ({1'b0, word} < (ADDR_W + 1)'(N_REGS));
  assign idx     = word[IDX_W-1:0];

  always_comb begin
    sel = '0;
    for (int i = 0; i < N_REGS; i++) begin
      sel[i] = addr_ok && (idx == IDX_W'(i));
    end
  end

  assign sel_wr   = (sel & (RW_MASK | EXT_WR_MASK)) != '0;
  assign wr_req_o = access && pwrite_i && addr_ok;
  assign wr_ok    = wr_req_o && sel_wr && !wr_err_i;
  assign xfer_err = access && (!addr_ok || (pwrite_i && (!sel_wr || wr_err_i)));

  assign wr_idx_o   = idx;
  assign wr_data_o  = pwdata_i;
  assign wr_pulse_o = wr_ok ? sel : '0;
  assign rd_pulse_o = (access && !pwrite_i) ? sel : '0;
  assign pready_o   = 1'b1;
  assign pslverr_o  = xfer_err;

  // --------------------------------------------------------------------------------------
  // Registers: RW slots store, RO / EXT slots read reg_rd_i
  // --------------------------------------------------------------------------------------
  for (genvar i = 0; i < N_REGS; i++) begin : g_slot
    if (RW_MASK[i]) begin : g_rw
      logic [31:0] reg_q, reg_d;

      // (a continuous assignment: Icarus 11 cannot take a constant bit select such as
      // sel[i] inside always_comb)
      assign reg_d = (wr_ok && sel[i]) ? pwdata_i : reg_q;

      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          reg_q <= RESET_VAL[32*i +: 32];
        end else begin
          reg_q <= reg_d;
        end
      end

      assign reg_q_o[32*i +: 32] = reg_q;
    end else begin : g_ro
      assign reg_q_o[32*i +: 32] = 32'h0;
    end
  end

  // reg_rd_i words of RW slots are unused by design (the slot reads its stored value)
  logic unused_rd_rw;
  assign unused_rd_rw = ^(reg_rd_i & RW_WORDS);

  // Read mux: AND-OR over the slots (smaller in Yosys than an indexed part select, which
  // becomes a shifter). It reads reg_q_o and reg_rd_i whole in one process, not through
  // per-slot assignments, so an event-driven simulator evaluates it once per change.
  always_comb begin
    prdata_o = 32'h0;
    if (access && !pwrite_i) begin
      for (int i = 0; i < N_REGS; i++) begin
        prdata_o = prdata_o | ((RW_MASK[i] ? reg_q_o[32*i +: 32] : reg_rd_i[32*i +: 32])
                               & {32{sel[i]}});
      end
    end
  end

  // --------------------------------------------------------------------------------------
  // Error status
  // --------------------------------------------------------------------------------------
  logic              err_q, err_d;
  logic [ADDR_W-1:0] err_addr_q, err_addr_d;
  logic [31:0]       err_cnt_q, err_cnt_d;

  always_comb begin
    err_d      = err_q;
    err_addr_d = err_addr_q;
    err_cnt_d  = err_cnt_q;
    if (err_clr_i) begin
      err_d      = 1'b0;
      err_addr_d = '0;
    end
    if (xfer_err) begin
      err_d = 1'b1;
      if (!err_q || err_clr_i) begin
        err_addr_d = paddr_i;
      end
      if (err_cnt_q != 32'hffff_ffff) begin
        err_cnt_d = err_cnt_q + 32'd1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      err_q      <= 1'b0;
      err_addr_q <= '0;
      err_cnt_q  <= '0;
    end else begin
      err_q      <= err_d;
      err_addr_q <= err_addr_d;
      err_cnt_q  <= err_cnt_d;
    end
  end

  assign err_o       = err_q;
  assign err_addr_o  = err_addr_q;
  assign err_count_o = err_cnt_q;

`ifndef SYNTHESIS
  // APB3 master rules this block relies on, checked only after a reset has been seen. A
  // failure ends the simulation ($fatal) on every simulator: Icarus only prints a $error and
  // would let a bench pass.
  //   - penable_i only together with psel_i;
  //   - an access cycle follows a setup cycle of the same transfer (paddr_i, pwrite_i,
  //     pwdata_i unchanged), and since pready_o = 1 it lasts exactly one cycle;
  //   - wr_err_i is known whenever it is looked at.
  logic              chk_armed_q;
  logic              chk_setup_q;
  logic [ADDR_W-1:0] chk_addr_q;
  logic              chk_write_q;
  logic [31:0]       chk_wdata_q;

  initial chk_armed_q = 1'b0;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      chk_armed_q <= 1'b1;
      chk_setup_q <= 1'b0;
    end else if (chk_armed_q) begin
      assert (!(penable_i && !psel_i))
        else $fatal(1, "cim_csr: penable_i high without psel_i");
      if (access) begin
        assert (chk_setup_q && paddr_i == chk_addr_q && pwrite_i == chk_write_q
                && (!pwrite_i || pwdata_i == chk_wdata_q))
          else $fatal(1, "cim_csr: access cycle without a matching setup cycle %s",
                      "(paddr_i, pwrite_i or pwdata_i changed)");
      end
      if (wr_req_o && sel_wr) begin
        assert (!$isunknown(wr_err_i))
          else $fatal(1, "cim_csr: wr_err_i unknown in a write access cycle");
      end
      chk_setup_q <= psel_i && !penable_i;
      chk_addr_q  <= paddr_i;
      chk_write_q <= pwrite_i;
      chk_wdata_q <= pwdata_i;
    end
  end
`endif

endmodule
