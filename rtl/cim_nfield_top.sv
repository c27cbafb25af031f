// cim_nfield_top: neural-field accelerator top (paper 3, PAPERS.md §3): RRAM Gaussian encoder,
// sin/cos, HAQ-programmed SIREN layers on crossbar macros, with an APB3 register interface.
//
// Purpose
//   Evaluates a neural field f(x) at coordinates streamed in by a host, one coordinate at a
//   time, and programs the MLP macros' cells through cim_haq_quant. The datapath is exactly
//   the contract of python/rramcim/golden/nfield_top.py (items 1-11, normative; the bit-exact
//   reference is rramcim.golden.nfield_top.run_nfield with the constants that
//   rramcim.apps.nfield.hw.map_field computes). Per coordinate c (N_IN unsigned COORD_BITS
//   codes):
//     1. ENC: the encoder macro (formed conductances; not programmed by this top) is read
//        through its own cim_xbar_ctrl + cim_adc_if (unsigned, COORD_BITS bit planes, the
//        ENC groups); accumulator j < n_freq becomes the phase
//          P_j = wrap_PHASE_W(round_shift(acc_j * ENC_GAIN, ENC_SHIFT))
//        and cim_fourier_enc gives sin/cos; each is rounded to an IN_BITS layer input
//        (sat_IN_BITS(round_shift(v, SIN_W - IN_BITS)), the expected +1.0 clamp counted in
//        ACT_CLAMP). The input buffer of layer 0 is [c_i << (L0-1-COORD_BITS) (i < N_IN),
//        sin_j << (L0-IN_BITS), cos_j << (L0-IN_BITS)], L0 = max(IN_BITS, COORD_BITS+1).
//     2. for each layer l < n_layers: the tile [buffer (n_in_l elements), bias row 2^(L-2),
//        zeros] is read on MLP macro l through the shared MLP cim_xbar_ctrl + cim_adc_if
//        (signed, L bit planes: L0 for layer 0, IN_BITS after it; groups_l column groups).
//        Every accumulator is pre-shifted and clamped to the combiner width A_l:
//          a = sat_A_l(round_shift(acc, PRE_l)),  PRE_l = max(0, L + M_ADC_BITS - 16),
//          A_l = L + M_ADC_BITS - PRE_l                          (clamps counted, PRE_CLAMP)
//        and stored. After the last group, output j < n_out_l is one cim_haq_combine beat:
//        codes a[j*N_CELLS + k] (k < N_CELLS), offset (a[ref] * sum_k R_k + 1) >>> 1 with
//        ref = n_out_l * N_CELLS (the reference column, every G+ SET). Its value y_j is
//          hidden layer: P = wrap_PHASE_W(round_shift(y_j * GAIN_l, SHIFT_l)) -> sine of
//                        cim_fourier_enc -> IN_BITS input j of layer l+1 (as in 1.)
//          last layer:   out_j = sat_OUT_W(round_shift(y_j * GAIN_l, SHIFT_l)) -> out stream
//   round_shift(v, s) = (v + 2^(s-1)) >>> s (v for s = 0); wrap_w keeps the low w bits
//   (an exact whole-turn wrap of a phase, not a saturation).
//
// Programming (MLP macros; the host's mapping procedure is rramcim.apps.nfield.hw.map_field)
//   - Raw operations: PROG_CMD issues one SET / RESET / FORM / VERIFY on the cell at PROG_ADDR
//     (row, column, G- select, macro) through that macro's program/verify port; a VERIFY's
//     code lands in PROG_VERIFY. With PROG_CMD[4] the column of PROG_ADDR then advances by 1.
//   - HAQ: each HAQ_TGT write queues one weight {target, PROG_ADDR} in a FIFO of
//     HAQ_FIFO_DEPTH entries and advances PROG_ADDR's column by N_CELLS (the next weight of
//     the row); cim_haq_quant programs the queued weights one by one (cells at row, columns
//     col .. col+N_CELLS-1, cfg_code_unit/cfg_code_reset from HAQ_CFG) and HAQ_LAST holds
//     the last result. Raw operations are refused while HAQ work is queued or running, HAQ_TGT
//     while a raw operation is in flight or the FIFO is full (pslverr, counted in CSR_ERRS;
//     nothing is dropped silently).
//
// Interfaces (AXI-Stream rules on every stream: transfer on valid && ready; valid never waits
//   for ready; data stable while stalled)
//   - APB3 slave (cim_csr): the register map below, zero wait states; pslverr_o on illegal
//     accesses (unmapped or unaligned address, write to a read-only register, a refused
//     command, a configuration write while a coordinate is in flight).
//   - coord: one coordinate per beat, coordinate i at coord_data_i[i*COORD_BITS +:
//     COORD_BITS] (unsigned code floor(x_i 2^COORD_BITS)). Taken only while CTRL.eval = 1, the
//     configuration is consistent (STATUS.cfg_err = 0), no HAQ work is queued or running and
//     no coordinate is in flight.
//   - out: one beat per output j of the last layer, out_data_o = out_j (signed OUT_W bits,
//     the Q(OUT_W-F).F code of the golden contract), out_idx_o = j, out_last_o on the last
//     output of the coordinate. Back-pressure stalls the datapath.
//   - Encoder macro (models/hdl/cim_xbar_macro, read port only): xe_*.
//   - MLP macros (one per layer, models/hdl/cim_xbar_macro): word lines xm_wl_o and the
//     column mux xm_mux_sel_o are shared (only the active macro has xm_rd_en_o[l]);
//     xm_adc_start_o[l] / xm_adc_done_i[l] / xm_adc_code_i[l] are per macro (a macro with
//     fewer than M_N_ADC ADCs returns 0 on the missing channels). The program port
//     (op, row, column, neg) is shared; xm_prog_valid_o[l], xm_prog_ready_i[l],
//     xm_verify_valid_i[l] and xm_verify_code_i[l] are per macro.
//   - Read numbering (noise keys): every macro numbers its reads from 0 after each reset; the
//     reads of coordinate v (v-th after reset) on a macro start at v * B * G (B bit planes, G
//     groups of that macro), as golden item 11 requires. Program operations are not reads.
//
// Register map (32-bit words at byte address 4*i; RW stored, RO read-only, EXT top-owned)
//    0 ID          RO  32'h4E46_4401 ("NFD", version 1)
//    1 CMD         EXT write 1s: [0] CLEAR (sticky error flags and the CSR error). Reads 0.
//    2 STATUS      RO  [0] eval busy (a coordinate in flight), [1] HAQ busy (queued, running
//                      or a raw operation in flight), [2] cfg_err (the configuration is
//                      inconsistent now: coordinates wait), [3] CSR error (sticky), [4] raw
//                      VERIFY answered (PROG_VERIFY valid), [5] HAQ verify timeout (sticky),
//                      [6] ADC timeout on either read path (sticky), [7] HAQ cfg error
//                      (code_unit <= code_reset at a weight, sticky), [11:8] stage (0 idle,
//                      1 encoder, 2 + l layer l), [31:16] HAQ FIFO level
//    3 CTRL        RW  [0] eval: accept coordinates
//    4 NET         RW  [2:0] layers (1..N_LAYERS), [15:4] n_freq (1..N_FREQ), [23:16] encoder
//                      groups (1..E_GROUPS, n_freq <= groups * E_N_ADC)
//    5 ENC_GAIN    RW  [23:0] ENC_GAIN (unsigned, GAIN_BITS used), [29:24] ENC_SHIFT (0..63)
//    6 HAQ_CFG     RW  [15:0] code_unit, [31:16] code_reset (verify codes of the nominal SET /
//                      RESET levels)
//    7 PROG_ADDR   EXT [11:0] row (< M_ROWS), [23:12] column (< M_GROUPS*M_N_ADC), [24] G-
//                      select, [27:25] macro (MLP layer, < N_LAYERS); out of range, or a raw
//                      op in flight: refused. Accepted while HAQ work is queued (each queued
//                      weight holds its own address). Reads the current address (it advances).
//    8 PROG_CMD    EXT [1:0] op (0 SET, 1 RESET, 2 FORM, 3 VERIFY), [4] advance the column.
//                      Refused while HAQ work is queued/running, a raw op or a coordinate is
//                      in flight.
//    9 PROG_VERIFY RO  [15:0] code of the last raw VERIFY, [31] valid (cleared by PROG_CMD,
//                      set when the macro answers: 3 cycles after the PROG_CMD write with a
//                      macro that answers in the cycle after the operation; poll [31]). A
//                      VERIFY unanswered for VERIFY_TIMEOUT_CYC cycles ends, counted in
//                      HAQ_TIMEOUTS and STATUS[5], and leaves [31] = 0.
//   10 HAQ_TGT     EXT [15:0] target (signed, TGT_W bits used, w / max|W|), queued with
//                      PROG_ADDR; refused when the FIFO is full, a raw op or a coordinate is
//                      in flight
//   11 HAQ_LAST    RO  [15:0] cell bits of the last programmed weight, [16] verify timeout,
//                      [31] valid
//   12 HAQ_ACC     RO  low 32 bits of its accumulator (signed ACC_W of cim_haq_quant)
//   16+2l L_SHAPE  RW  layer l (l < 4): [11:0] n_in (1..M_ROWS-1), [23:12] n_out
//                      (1..M_GROUPS*M_N_ADC), [31:24] groups (1..M_GROUPS)
//   17+2l L_GAIN   RW  [23:0] gain, [29:24] shift (0..63) of ACT (hidden) or OUT (last)
//   24 COORDS      25 ENC_READS   26 MLP_READS   27 ADC_SAT (saturated channel samples, both
//   paths)         28 PRE_CLAMP   29 COMB_SAT    30 SIN_SAT (cim_fourier_enc saturations)
//   31 ACT_CLAMP   32 OUT_SAT     33 HAQ_WEIGHTS 34 HAQ_TIMEOUTS (cim_haq_quant's and raw
//   VERIFYs')      35 PROG_OPS (raw)   36 CSR_ERRS   37 CSR_ERR_ADDR (byte address of the
//   first error since reset or CLEAR)                                      (all RO, 32 bit)
//   Counters count since reset and stick at 2^32-1.
//   Consistency (STATUS.cfg_err = 0 needed to take a coordinate): layers in 1..N_LAYERS;
//   n_freq in 1..N_FREQ <= groups_e * E_N_ADC, groups_e in 1..E_GROUPS; layer 0 n_in =
//   N_IN + 2 n_freq; layer l > 0 n_in = n_out of layer l-1; n_in + 1 <= M_ROWS;
//   n_out * N_CELLS + 1 <= groups * M_N_ADC; groups in 1..M_GROUPS; last layer n_out <= 256.
//
// Latency (clock cycles, no back-pressure): per coordinate the encoder read (B_e * G_e reads)
//   and n_freq sin/cos beats, then per layer B_l * G_l reads, G_l store beats and n_out_l
//   combiner beats (each through cim_fourier_enc on hidden layers: ITERS + 3 cycles of
//   pipeline latency per layer). A read costs T_SETTLE_CYC + T_CONV_CYC + 4 cycles.
//
// Reset (rst_ni, asynchronous assert, released through a two-flop synchroniser): every block
//   restarts (counters, FIFO, flags, address cleared; registers to 0). The macros' programmed
//   state is not touched (it lives in the analogue array).
//
// Parameters (unit, legal range; an illegal value stops elaboration; the defaults are a small
//   instance for synthesis, the CT instances are in tb/cim_nfield_top)
//   N_IN            coordinate dimension, 1..4; COORD_BITS coordinate code bits, 4..15
//   IN_BITS         layer input bits, 4..15 (L0 = max(IN_BITS, COORD_BITS+1) <= 16)
//   SIN_W, PHASE_W, PHASE_F, CORDIC_ITERS   cim_fourier_enc's OUT_W, PHASE_W, PHASE_F, ITERS
//   GAIN_BITS       width of every gain constant, 8..24
//   N_FREQ          maximum encoder frequencies, 1..2048
//   E_N_ADC, E_ADC_BITS, E_GROUPS   encoder macro: ADC channels, code bits, column groups
//   N_LAYERS        MLP macros (layer slots), 1..4
//   M_ROWS          MLP macro rows (largest n_in + 1), 2..4096
//   M_N_ADC, M_ADC_BITS, M_GROUPS   MLP macros: ADC channels, code bits (L0 + M_ADC_BITS <=
//                   32), column groups (M_GROUPS * M_N_ADC <= 4096)
//   N_CELLS, RATIO_Q8, COMB_RADIX_F, COMB_OUT_SHIFT   HAQ cells per weight and cim_haq_combine
//   TGT_W, HAQ_RADIX_F, VERIFY_BITS, VERIFY_TIMEOUT_CYC   cim_haq_quant
//   HAQ_FIFO_DEPTH  queued weights, power of two, 2..4096
//   OUT_W           output code bits, 8..32
//   T_SETTLE_CYC, T_TIMEOUT_CYC   cim_adc_if timing of both read paths
module cim_nfield_top #(
  parameter int  N_IN               = 2,
  parameter int  COORD_BITS         = 8,
  parameter int  IN_BITS            = 8,
  parameter int  SIN_W              = 12,
  parameter int  PHASE_W            = 24,
  parameter int  PHASE_F            = 16,
  parameter int  CORDIC_ITERS       = 12,
  parameter int  GAIN_BITS          = 16,
  parameter int  N_FREQ             = 4,
  parameter int  E_N_ADC            = 4,
  parameter int  E_ADC_BITS         = 12,
  parameter int  E_GROUPS           = 1,
  parameter int  N_LAYERS           = 4,
  parameter int  M_ROWS             = 11,
  parameter int  M_N_ADC            = 16,
  parameter int  M_ADC_BITS         = 8,
  parameter int  M_GROUPS           = 4,
  parameter int  N_CELLS            = 12,
  parameter int  RATIO_Q8           = 384,
  parameter int  COMB_RADIX_F       = 12,
  parameter int  COMB_OUT_SHIFT     = 10,
  parameter int  TGT_W              = 12,
  parameter int  HAQ_RADIX_F        = 16,
  parameter int  VERIFY_BITS        = 12,
  parameter int  VERIFY_TIMEOUT_CYC = 64,
  parameter int  HAQ_FIFO_DEPTH     = 64,
  parameter int  OUT_W              = 16,
  parameter int  T_SETTLE_CYC       = 1,
  parameter int  T_TIMEOUT_CYC      = 1024,
  localparam int ERows              = N_IN > 2 ? N_IN : 2,
  localparam int EMuxW              = E_GROUPS > 1 ? $clog2(E_GROUPS) : 1,
  localparam int MMuxW              = M_GROUPS > 1 ? $clog2(M_GROUPS) : 1,
  localparam int MCols              = M_GROUPS * M_N_ADC,
  localparam int RowW               = M_ROWS > 1 ? $clog2(M_ROWS) : 1,
  localparam int ColW               = MCols > 1 ? $clog2(MCols) : 1
) (
  input  logic                               clk_i,
  input  logic                               rst_ni,
  // APB3 register interface
  input  logic                               psel_i,
  input  logic                               penable_i,
  input  logic                               pwrite_i,
  input  logic [7:0]                         paddr_i,
  input  logic [31:0]                        pwdata_i,
  output logic [31:0]                        prdata_o,
  output logic                               pready_o,
  output logic                               pslverr_o,
  // coordinate stream
  input  logic                               coord_valid_i,
  output logic                               coord_ready_o,
  input  logic [N_IN*COORD_BITS-1:0]         coord_data_i,
  // output stream
  output logic                               out_valid_o,
  input  logic                               out_ready_i,
  output logic [OUT_W-1:0]                   out_data_o,
  output logic [7:0]                         out_idx_o,
  output logic                               out_last_o,
  // encoder macro (read port)
  output logic [ERows-1:0]                   xe_wl_o,
  output logic                               xe_rd_en_o,
  output logic [EMuxW-1:0]                   xe_mux_sel_o,
  output logic                               xe_adc_start_o,
  input  logic                               xe_adc_done_i,
  input  logic [E_N_ADC*E_ADC_BITS-1:0]      xe_adc_code_i,
  // MLP macros: read ports
  output logic [M_ROWS-1:0]                  xm_wl_o,
  output logic [N_LAYERS-1:0]                xm_rd_en_o,
  output logic [MMuxW-1:0]                   xm_mux_sel_o,
  output logic [N_LAYERS-1:0]                xm_adc_start_o,
  input  logic [N_LAYERS-1:0]                xm_adc_done_i,
  input  logic [N_LAYERS*M_N_ADC*M_ADC_BITS-1:0] xm_adc_code_i,
  // MLP macros: program / verify ports
  output logic [N_LAYERS-1:0]                xm_prog_valid_o,
  input  logic [N_LAYERS-1:0]                xm_prog_ready_i,
  output logic [1:0]                         xm_prog_op_o,
  output logic [RowW-1:0]                    xm_prog_row_o,
  output logic [ColW-1:0]                    xm_prog_col_o,
  output logic                               xm_prog_neg_o,
  input  logic [N_LAYERS-1:0]                xm_verify_valid_i,
  input  logic [N_LAYERS*VERIFY_BITS-1:0]    xm_verify_code_i,
  // status
  output logic                               busy_o,
  output logic [3:0]                         stage_o
);
  // --------------------------------------------------------------------------------------
  // Derived constants
  // --------------------------------------------------------------------------------------
  localparam int L0      = IN_BITS > COORD_BITS + 1 ? IN_BITS : COORD_BITS + 1;
  localparam int AccE    = E_ADC_BITS + COORD_BITS + 1;   // cim_xbar_ctrl ACC_W (1 tile)
  localparam int AccM    = M_ADC_BITS + L0 + 1;
  localparam int Pre0    = L0 + M_ADC_BITS > 16 ? L0 + M_ADC_BITS - 16 : 0;
  localparam int Pre1    = IN_BITS + M_ADC_BITS > 16 ? IN_BITS + M_ADC_BITS - 16 : 0;
  localparam int A0      = L0 + M_ADC_BITS - Pre0;        // combiner code width, layer 0
  localparam int A1      = IN_BITS + M_ADC_BITS - Pre1;   // layers >= 1
  localparam int AW      = A0 > A1 ? A0 : A1;
  localparam int SumW    = COMB_RADIX_F + 6;
  localparam int CbOffW  = AW + COMB_RADIX_F + 1;
  localparam int CbOutW0 = AW + COMB_RADIX_F + 3 - COMB_OUT_SHIFT;
  localparam int CbOutW  = CbOutW0 > 32 ? 32 : CbOutW0;
  localparam int NBuf    = M_ROWS - 1;                    // layer inputs (the bias row aside)
  localparam int IdxW    = 12;                            // element / output index width
  localparam int LayW    = N_LAYERS > 1 ? $clog2(N_LAYERS) : 1;
  localparam int EGrpW   = $clog2(E_GROUPS + 1);
  localparam int MGrpW   = $clog2(M_GROUPS + 1);
  localparam int CoordW  = N_IN * COORD_BITS;
  localparam int HaqAccW = VERIFY_BITS + HAQ_RADIX_F + 7;
  localparam int FifoW   = 3 + 1 + 12 + 12 + TGT_W;
  localparam int FifoCntW = $clog2(HAQ_FIFO_DEPTH) + 1;
  localparam int NRegs   = 40;

  // --------------------------------------------------------------------------------------
  // Parameter checks (the blocks check their own; these are the top's)
  // --------------------------------------------------------------------------------------
  localparam bit BadIn    = (N_IN < 1) || (N_IN > 4) || (COORD_BITS < 4) || (COORD_BITS > 15) ||
                            (IN_BITS < 4) || (IN_BITS > 15) || (L0 > 16);
  localparam bit BadGain  = (GAIN_BITS < 8) || (GAIN_BITS > 24);
  localparam bit BadEnc   = (N_FREQ < 1) || (N_FREQ > 2048) || (N_FREQ > E_GROUPS * E_N_ADC);
  localparam bit BadMlp   = (N_LAYERS < 1) || (N_LAYERS > 4) || (M_ROWS < 2) ||
                            (M_ROWS > 4096) || (MCols > 4096) ||
                            (M_ROWS - 1 < N_IN + 2 * N_FREQ) || (L0 + M_ADC_BITS > 32);
  localparam bit BadOut   = (OUT_W < 8) || (OUT_W > 32);
  localparam bit BadFifo  = (HAQ_FIFO_DEPTH < 2) || (HAQ_FIFO_DEPTH > 4096) ||
                            ((HAQ_FIFO_DEPTH & (HAQ_FIFO_DEPTH - 1)) != 0);
  localparam bit BadAddr  = (RowW > 12) || (ColW > 12);
`ifdef YOSYS
  generate
    if (BadIn || BadGain || BadEnc || BadMlp || BadOut || BadFifo || BadAddr) begin : g_bad_param
      $error("cim_nfield_top: illegal parameter (see the header)");
    end
  endgenerate
`else
  initial begin
    if (BadIn)   $fatal(1, "cim_nfield_top: N_IN/COORD_BITS/IN_BITS out of range");
    if (BadGain) $fatal(1, "cim_nfield_top: GAIN_BITS (%0d) out of 8..24", GAIN_BITS);
    if (BadEnc)  $fatal(1, "cim_nfield_top: N_FREQ (%0d) out of 1..min(2048, E_GROUPS*E_N_ADC)",
                        N_FREQ);
    if (BadMlp)  $fatal(1, "cim_nfield_top: MLP geometry out of range (see the header)");
    if (BadOut)  $fatal(1, "cim_nfield_top: OUT_W (%0d) out of 8..32", OUT_W);
    if (BadFifo) $fatal(1, "cim_nfield_top: HAQ_FIFO_DEPTH (%0d) not a power of two in 2..4096",
                        HAQ_FIFO_DEPTH);
    if (BadAddr) $fatal(1, "cim_nfield_top: macro address wider than 12 bits");
  end
`endif

  // Sum of cim_haq_combine's radix weights R_k = round(2^RADIX_F (256/RATIO_Q8)^k) (half up,
  // the same definition), the multiplier of the reference column's offset.
  function automatic logic [SumW-1:0] sum_radix_f(input int n);
    logic [191:0] num, den;
    logic [SumW-1:0] s;
    s = '0;
    for (int k = 0; k < n; k++) begin
      num = 192'd1 << (COMB_RADIX_F + 8 * k);
      den = 192'd1;
      for (int j = 0; j < k; j++) begin
        den = den * 192'(RATIO_Q8);
      end
      s = s + SumW'((2 * num + den) / (2 * den));
    end
    sum_radix_f = s;
  endfunction
  localparam logic [SumW-1:0] SumR = sum_radix_f(N_CELLS);

  // round_shift(v, s) = (v + 2^(s-1)) >>> s (v for s = 0), in 64-bit signed arithmetic
  function automatic logic signed [63:0] rshift_f(input logic signed [63:0] v,
                                                   input logic [5:0] s);
    logic signed [63:0] h;
    h = (s == 6'd0) ? 64'sd0 : (64'sd1 <<< (s - 6'd1));
    rshift_f = (v + h) >>> s;
  endfunction

  // --------------------------------------------------------------------------------------
  // Reset synchroniser (asynchronous assert, synchronous release)
  // --------------------------------------------------------------------------------------
  logic rst_sync_q1, rst_sync_q2, rst_n;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rst_sync_q1 <= 1'b0;
      rst_sync_q2 <= 1'b0;
    end else begin
      rst_sync_q1 <= 1'b1;
      rst_sync_q2 <= rst_sync_q1;
    end
  end
  assign rst_n = rst_sync_q2;

  // --------------------------------------------------------------------------------------
  // Registers
  // --------------------------------------------------------------------------------------
  localparam int RegCmd = 1, RegCtrl = 3, RegNet = 4, RegEncGain = 5, RegHaqCfg = 6;
  localparam int RegProgAddr = 7, RegProgCmd = 8, RegHaqTgt = 10, RegLayer0 = 16;
  localparam logic [NRegs-1:0] RwMask  = NRegs'(64'h0000_0000_00FF_0078);  // 3..6, 16..23
  localparam logic [NRegs-1:0] ExtMask = NRegs'(64'h0000_0000_0000_0582);  // 1, 7, 8, 10

  logic [NRegs*32-1:0] reg_q, reg_rd;
  logic                wr_req, wr_err, csr_err, err_clr;
  logic [5:0]          wr_idx;
  logic [31:0]         wr_data, csr_err_count;
  logic [7:0]          csr_err_addr;
  logic [NRegs-1:0]    wr_pulse, rd_pulse;

  cim_csr #(
    .N_REGS(NRegs), .ADDR_W(8), .RW_MASK(RwMask), .EXT_WR_MASK(ExtMask), .RESET_VAL('0)
  ) u_csr (
    .clk_i(clk_i), .rst_ni(rst_n),
    .psel_i(psel_i), .penable_i(penable_i), .pwrite_i(pwrite_i), .paddr_i(paddr_i),
    .pwdata_i(pwdata_i), .prdata_o(prdata_o), .pready_o(pready_o), .pslverr_o(pslverr_o),
    .reg_q_o(reg_q), .reg_rd_i(reg_rd),
    .wr_req_o(wr_req), .wr_idx_o(wr_idx), .wr_data_o(wr_data), .wr_err_i(wr_err),
    .wr_pulse_o(wr_pulse), .rd_pulse_o(rd_pulse), .err_clr_i(err_clr),
    .err_o(csr_err), .err_count_o(csr_err_count), .err_addr_o(csr_err_addr)
  );

  // configuration fields
  logic                eval_en;
  logic [2:0]          n_layers;
  logic [11:0]         n_freq;
  logic [7:0]          e_groups;
  logic [23:0]         enc_gain;
  logic [5:0]          enc_shift;
  logic [15:0]         code_unit, code_reset;
  logic [4*12-1:0]     l_n_in, l_n_out;  // layer l at [l*W +: W] (packed: no memories)
  logic [4*8-1:0]      l_groups;
  logic [4*24-1:0]     l_gain;
  logic [4*6-1:0]      l_shift;
  assign eval_en    = reg_q[RegCtrl*32];
  assign n_layers   = reg_q[RegNet*32 +: 3];
  assign n_freq     = reg_q[RegNet*32 + 4 +: 12];
  assign e_groups   = reg_q[RegNet*32 + 16 +: 8];
  assign enc_gain   = reg_q[RegEncGain*32 +: 24];
  assign enc_shift  = reg_q[RegEncGain*32 + 24 +: 6];
  assign code_unit  = reg_q[RegHaqCfg*32 +: 16];
  assign code_reset = reg_q[RegHaqCfg*32 + 16 +: 16];
  for (genvar l = 0; l < 4; l++) begin : g_lcfg
    assign l_n_in[l*12 +: 12] = reg_q[(RegLayer0 + 2*l)*32 +: 12];
    assign l_n_out[l*12 +: 12] = reg_q[(RegLayer0 + 2*l)*32 + 12 +: 12];
    assign l_groups[l*8 +: 8]  = reg_q[(RegLayer0 + 2*l)*32 + 24 +: 8];
    assign l_gain[l*24 +: 24]  = reg_q[(RegLayer0 + 2*l + 1)*32 +: 24];
    assign l_shift[l*6 +: 6]   = reg_q[(RegLayer0 + 2*l + 1)*32 + 24 +: 6];
  end

  // consistency of the configuration (STATUS.cfg_err)
  logic       cfg_err;
  logic [3:0] lay_err;
  for (genvar l = 0; l < 4; l++) begin : g_lchk
    logic [11:0] n_in_l, n_out_l, n_in_ok;
    logic [7:0]  grp_l;
    assign n_in_l  = l_n_in[l*12 +: 12];
    assign n_out_l = l_n_out[l*12 +: 12];
    assign grp_l   = l_groups[l*8 +: 8];
    if (l == 0) begin : g_first
      assign n_in_ok = 12'(N_IN + 2 * 32'(n_freq));
    end else begin : g_next
      assign n_in_ok = l_n_out[(l-1)*12 +: 12];
    end
    assign lay_err[l] = (l < N_LAYERS) && (3'(l) < n_layers) && (
        (n_in_l != n_in_ok) || (n_in_l == 12'd0) || (32'(n_in_l) + 1 > M_ROWS) ||
        (n_out_l == 12'd0) || (grp_l == 8'd0) || (32'(grp_l) > M_GROUPS) ||
        (32'(n_out_l) * N_CELLS + 1 > 32'(grp_l) * M_N_ADC) ||
        ((3'(l + 1) == n_layers) && (32'(n_out_l) > 256)));
  end
  assign cfg_err = (n_layers == 3'd0) || (32'(n_layers) > N_LAYERS) ||
                   (n_freq == 12'd0) || (32'(n_freq) > N_FREQ) ||
                   (e_groups == 8'd0) || (32'(e_groups) > E_GROUPS) ||
                   (32'(n_freq) > 32'(e_groups) * E_N_ADC) || (lay_err != 4'd0);

  // --------------------------------------------------------------------------------------
  // Datapath state
  // --------------------------------------------------------------------------------------
  typedef enum logic [2:0] {
    S_IDLE, S_ENC_IN, S_ENC, S_L_IN, S_L_ACC, S_L_OFF, S_L_COMB
  } state_e;

  state_e            state_q, state_d;
  logic [LayW-1:0]   layer_q, layer_d;
  logic [CoordW-1:0] coord_q, coord_d;
  logic [NBuf*L0-1:0] buf_q, buf_d;            // layer inputs, element r at [r*L0 +: L0]
  logic [MCols*AW-1:0] mem_q, mem_d;           // pre-shifted accumulators of one layer
  logic [MGrpW-1:0]  mbeat_q, mbeat_d;         // MLP output beats stored
  logic [IdxW-1:0]   issue_q, issue_d;         // combiner beats issued
  logic [IdxW-1:0]   done_q, done_d;           // results written (sin/cos or out beats)
  logic [CbOffW-1:0] off_q, off_d;
  logic              eval_busy;
  logic              haq_active;               // HAQ work queued or running, or a raw op

  // current layer's configuration
  logic              last_layer;
  logic [11:0]       cur_n_in, cur_n_out;
  logic [7:0]        cur_groups;
  logic [23:0]       cur_gain;
  logic [5:0]        cur_shift;
  always_comb begin
    cur_n_in   = 12'd0;
    cur_n_out  = 12'd0;
    cur_groups = 8'd0;
    cur_gain   = 24'd0;
    cur_shift  = 6'd0;
    for (int l = 0; l < N_LAYERS; l++) begin
      if (32'(layer_q) == l) begin
        cur_n_in   = l_n_in[l*12 +: 12];
        cur_n_out  = l_n_out[l*12 +: 12];
        cur_groups = l_groups[l*8 +: 8];
        cur_gain   = l_gain[l*24 +: 24];
        cur_shift  = l_shift[l*6 +: 6];
      end
    end
  end
  assign last_layer = (32'(layer_q) + 1 == 32'(n_layers));
  assign eval_busy  = (state_q != S_IDLE);

  // --------------------------------------------------------------------------------------
  // Encoder read path
  // --------------------------------------------------------------------------------------
  logic                    e_in_valid, e_in_ready, e_err_cfg, e_out_valid, e_out_ready;
  logic                    e_out_last, e_busy;
  logic [ERows*COORD_BITS-1:0] e_tile;
  logic [E_N_ADC*AccE-1:0] e_out_data;
  logic                    e_req_valid, e_req_ready, e_rsp_valid, e_rsp_ready;
  logic [EMuxW-1:0]        e_req_group;
  logic [E_N_ADC*E_ADC_BITS-1:0] e_rsp_code;
  logic [E_N_ADC-1:0]      e_rsp_sat;
  logic                    e_rsp_timeout;
  logic [31:0]             e_vec_count, e_read_count, e_sat_count, e_conv_count;
  logic                    e_err_timeout, e_err_group, e_adc_busy;

  assign e_tile = (ERows*COORD_BITS)'(coord_q);

  cim_xbar_ctrl #(
    .N_ROWS(ERows), .IN_BITS(COORD_BITS), .N_ADC(E_N_ADC), .ADC_BITS(E_ADC_BITS),
    .N_GROUPS(E_GROUPS), .N_TILES(1)
  ) u_enc_ctrl (
    .clk_i(clk_i), .rst_ni(rst_n),
    .cfg_tiles_i(1'b1), .cfg_groups_i(EGrpW'(e_groups)), .cfg_in_bits_i($clog2(COORD_BITS + 1)'(COORD_BITS)),
    .cfg_in_signed_i(1'b0), .err_cfg_o(e_err_cfg),
    .in_valid_i(e_in_valid), .in_ready_o(e_in_ready), .in_data_i(e_tile),
    .wl_o(xe_wl_o), .rd_en_o(xe_rd_en_o),
    .req_valid_o(e_req_valid), .req_ready_i(e_req_ready), .req_group_o(e_req_group),
    .rsp_valid_i(e_rsp_valid), .rsp_ready_o(e_rsp_ready), .rsp_code_i(e_rsp_code),
    .out_valid_o(e_out_valid), .out_ready_i(e_out_ready), .out_data_o(e_out_data),
    .out_last_o(e_out_last), .busy_o(e_busy),
    .vec_count_o(e_vec_count), .read_count_o(e_read_count)
  );

  cim_adc_if #(
    .N_ADC(E_N_ADC), .ADC_BITS(E_ADC_BITS), .N_GROUPS(E_GROUPS), .T_SETTLE_CYC(T_SETTLE_CYC),
    .T_TIMEOUT_CYC(T_TIMEOUT_CYC)
  ) u_enc_adc (
    .clk_i(clk_i), .rst_ni(rst_n),
    .req_valid_i(e_req_valid), .req_ready_o(e_req_ready), .req_group_i(e_req_group),
    .rsp_valid_o(e_rsp_valid), .rsp_ready_i(e_rsp_ready), .rsp_code_o(e_rsp_code),
    .rsp_sat_o(e_rsp_sat), .rsp_timeout_o(e_rsp_timeout),
    .mux_sel_o(xe_mux_sel_o), .adc_start_o(xe_adc_start_o), .adc_done_i(xe_adc_done_i),
    .adc_code_i(xe_adc_code_i),
    .sat_count_o(e_sat_count), .conv_count_o(e_conv_count),
    .err_timeout_o(e_err_timeout), .err_group_o(e_err_group), .busy_o(e_adc_busy)
  );

  // Encoder serialiser: one output beat (E_N_ADC accumulators of group g) -> one phase per
  // cycle into cim_fourier_enc for every channel j = g*E_N_ADC + a < n_freq (others skipped).
  localparam int EAW = E_N_ADC > 1 ? $clog2(E_N_ADC) : 1;
  logic                    ser_valid_q, ser_valid_d;
  logic [E_N_ADC*AccE-1:0] ser_data_q, ser_data_d;
  logic [IdxW-1:0]         ser_base_q, ser_base_d;   // g * E_N_ADC
  logic [EAW-1:0]          ser_a_q, ser_a_d;
  logic [IdxW-1:0]         ser_j;
  logic                    ser_use;
  logic signed [AccE-1:0]  ser_acc;
  logic [PHASE_W-1:0]      enc_phase;

  assign ser_j   = ser_base_q + IdxW'(ser_a_q);
  assign ser_use = ser_valid_q && (ser_j < n_freq);
  assign e_out_ready = !ser_valid_q;
  always_comb begin
    ser_acc = '0;
    for (int a = 0; a < E_N_ADC; a++) begin
      if (32'(ser_a_q) == a) ser_acc = $signed(ser_data_q[a*AccE +: AccE]);
    end
  end
  assign enc_phase = PHASE_W'(rshift_f(64'(ser_acc) * $signed({40'd0, enc_gain}), enc_shift));

  // --------------------------------------------------------------------------------------
  // MLP read path (shared by the layer macros; macro l = layer l)
  // --------------------------------------------------------------------------------------
  logic                    m_in_valid, m_in_ready, m_err_cfg, m_out_valid, m_out_ready;
  logic                    m_out_last, m_busy;
  logic [M_ROWS*L0-1:0]    m_tile;
  logic [M_N_ADC*AccM-1:0] m_out_data;
  logic                    m_req_valid, m_req_ready, m_rsp_valid, m_rsp_ready;
  logic [MMuxW-1:0]        m_req_group;
  logic [M_N_ADC*M_ADC_BITS-1:0] m_rsp_code, m_adc_code;
  logic [M_N_ADC-1:0]      m_rsp_sat;
  logic                    m_rsp_timeout, m_adc_start, m_adc_done, m_rd_en;
  logic [31:0]             m_vec_count, m_read_count, m_sat_count, m_conv_count;
  logic                    m_err_timeout, m_err_group, m_adc_busy;
  logic [4:0]              m_in_bits;

  assign m_in_bits = (layer_q == '0) ? 5'(L0) : 5'(IN_BITS);
  // tile: the buffer's n_in elements, then the bias row 2^(L-2), then zeros
  logic [M_ROWS*L0-1:0] buf_ext;
  assign buf_ext = (M_ROWS*L0)'(buf_q);
  always_comb begin
    m_tile = '0;
    for (int r = 0; r < M_ROWS; r++) begin
      if (32'(r) < 32'(cur_n_in)) begin
        m_tile[r*L0 +: L0] = buf_ext[r*L0 +: L0];
      end else if (32'(r) == 32'(cur_n_in)) begin
        m_tile[r*L0 +: L0] = (layer_q == '0) ? L0'(1 << (L0 - 2)) : L0'(1 << (IN_BITS - 2));
      end
    end
  end

  cim_xbar_ctrl #(
    .N_ROWS(M_ROWS), .IN_BITS(L0), .N_ADC(M_N_ADC), .ADC_BITS(M_ADC_BITS),
    .N_GROUPS(M_GROUPS), .N_TILES(1)
  ) u_mlp_ctrl (
    .clk_i(clk_i), .rst_ni(rst_n),
    .cfg_tiles_i(1'b1), .cfg_groups_i(MGrpW'(cur_groups)),
    .cfg_in_bits_i($clog2(L0 + 1)'(m_in_bits)), .cfg_in_signed_i(1'b1), .err_cfg_o(m_err_cfg),
    .in_valid_i(m_in_valid), .in_ready_o(m_in_ready), .in_data_i(m_tile),
    .wl_o(xm_wl_o), .rd_en_o(m_rd_en),
    .req_valid_o(m_req_valid), .req_ready_i(m_req_ready), .req_group_o(m_req_group),
    .rsp_valid_i(m_rsp_valid), .rsp_ready_o(m_rsp_ready), .rsp_code_i(m_rsp_code),
    .out_valid_o(m_out_valid), .out_ready_i(m_out_ready), .out_data_o(m_out_data),
    .out_last_o(m_out_last), .busy_o(m_busy),
    .vec_count_o(m_vec_count), .read_count_o(m_read_count)
  );

  cim_adc_if #(
    .N_ADC(M_N_ADC), .ADC_BITS(M_ADC_BITS), .N_GROUPS(M_GROUPS), .T_SETTLE_CYC(T_SETTLE_CYC),
    .T_TIMEOUT_CYC(T_TIMEOUT_CYC)
  ) u_mlp_adc (
    .clk_i(clk_i), .rst_ni(rst_n),
    .req_valid_i(m_req_valid), .req_ready_o(m_req_ready), .req_group_i(m_req_group),
    .rsp_valid_o(m_rsp_valid), .rsp_ready_i(m_rsp_ready), .rsp_code_o(m_rsp_code),
    .rsp_sat_o(m_rsp_sat), .rsp_timeout_o(m_rsp_timeout),
    .mux_sel_o(xm_mux_sel_o), .adc_start_o(m_adc_start), .adc_done_i(m_adc_done),
    .adc_code_i(m_adc_code),
    .sat_count_o(m_sat_count), .conv_count_o(m_conv_count),
    .err_timeout_o(m_err_timeout), .err_group_o(m_err_group), .busy_o(m_adc_busy)
  );

  // macro select: the active layer's macro
  always_comb begin
    xm_rd_en_o     = '0;
    xm_adc_start_o = '0;
    m_adc_done     = 1'b0;
    m_adc_code     = '0;
    for (int l = 0; l < N_LAYERS; l++) begin
      if (32'(layer_q) == l) begin
        xm_rd_en_o[l]     = m_rd_en;
        xm_adc_start_o[l] = m_adc_start;
        m_adc_done        = xm_adc_done_i[l];
        m_adc_code        = xm_adc_code_i[l*M_N_ADC*M_ADC_BITS +: M_N_ADC*M_ADC_BITS];
      end
    end
  end

  // pre-shift and clamp of one output beat: a = sat_A(round_shift(acc, PRE))
  logic [M_N_ADC*AW-1:0] m_pre;
  logic [M_N_ADC-1:0]    m_pre_clamp;
  always_comb begin
    logic signed [63:0] v, lo, hi;
    for (int a = 0; a < M_N_ADC; a++) begin
      if (layer_q == '0) begin
        v  = rshift_f(64'($signed(m_out_data[a*AccM +: AccM])), 6'(Pre0));
        lo = -(64'sd1 <<< (A0 - 1));
        hi = (64'sd1 <<< (A0 - 1)) - 64'sd1;
      end else begin
        v  = rshift_f(64'($signed(m_out_data[a*AccM +: AccM])), 6'(Pre1));
        lo = -(64'sd1 <<< (A1 - 1));
        hi = (64'sd1 <<< (A1 - 1)) - 64'sd1;
      end
      m_pre_clamp[a] = (v < lo) || (v > hi);
      if (v < lo) v = lo;
      if (v > hi) v = hi;
      m_pre[a*AW +: AW] = AW'(v);
    end
  end
  // clamps of the used columns (0 .. n_out*N_CELLS) of this beat
  logic [IdxW-1:0]  ref_col;
  logic [7:0]       m_pre_count;
  assign ref_col = IdxW'(32'(cur_n_out) * N_CELLS);
  always_comb begin
    m_pre_count = '0;
    for (int a = 0; a < M_N_ADC; a++) begin
      if (m_pre_clamp[a] && (32'(mbeat_q) * M_N_ADC + a <= 32'(ref_col)))
        m_pre_count = m_pre_count + 8'd1;
    end
  end

  // --------------------------------------------------------------------------------------
  // Combiner (one beat per output: its N_CELLS stored codes and the reference offset)
  // --------------------------------------------------------------------------------------
  logic                      cb_in_valid, cb_in_ready, cb_out_valid, cb_out_ready, cb_out_sat;
  logic [N_CELLS*AW-1:0]     cb_codes;
  logic [CbOutW-1:0]         cb_value;
  logic [IdxW-1:0]           cb_tag;
  logic [31:0]               cb_sat_count;
  logic                      cb_busy;
  logic signed [AW-1:0]      ref_code;
  logic signed [63:0]        off_full;

  // variable part-selects (a shifter in synthesis; one operation per read in simulation);
  // the padding keeps a select past the last output in range
  logic [(MCols+N_CELLS)*AW-1:0] mem_ext;
  logic [IdxW-1:0]               cb_base;
  assign mem_ext  = ((MCols+N_CELLS)*AW)'(mem_q);
  assign cb_base  = (issue_q < cur_n_out) ? IdxW'(32'(issue_q) * N_CELLS) : '0;
  assign cb_codes = mem_ext[32'(cb_base)*AW +: N_CELLS*AW];
  assign ref_code = $signed(mem_ext[32'(ref_col)*AW +: AW]);
  assign off_full = (64'(ref_code) * $signed({1'b0, 63'(SumR)}) + 64'sd1) >>> 1;

  cim_haq_combine #(
    .N_CELLS(N_CELLS), .ADC_BITS(AW), .RATIO_Q8(RATIO_Q8), .RADIX_F(COMB_RADIX_F),
    .OFF_W(CbOffW), .OUT_W(CbOutW), .OUT_SHIFT(COMB_OUT_SHIFT), .TAG_W(IdxW)
  ) u_comb (
    .clk_i(clk_i), .rst_ni(rst_n),
    .in_valid_i(cb_in_valid), .in_ready_o(cb_in_ready), .in_codes_i(cb_codes),
    .in_offset_i(off_q), .in_tag_i(issue_q),
    .out_valid_o(cb_out_valid), .out_ready_i(cb_out_ready), .out_value_o(cb_value),
    .out_sat_o(cb_out_sat), .out_tag_o(cb_tag),
    .sat_count_o(cb_sat_count), .busy_o(cb_busy)
  );

  // gain stage after the combiner: phase (hidden layer) or output code (last layer)
  logic signed [63:0]  cb_scaled;
  logic [PHASE_W-1:0]  act_phase;
  logic [OUT_W-1:0]    out_code;
  logic                out_clamp;
  assign cb_scaled = rshift_f(64'($signed(cb_value)) * $signed({40'd0, cur_gain}), cur_shift);
  assign act_phase = PHASE_W'(cb_scaled);
  always_comb begin
    logic signed [63:0] lo, hi;
    lo = -(64'sd1 <<< (OUT_W - 1));
    hi = (64'sd1 <<< (OUT_W - 1)) - 64'sd1;
    out_clamp = (cb_scaled < lo) || (cb_scaled > hi);
    out_code  = (cb_scaled < lo) ? OUT_W'(lo) : ((cb_scaled > hi) ? OUT_W'(hi) : OUT_W'(cb_scaled));
  end

  // --------------------------------------------------------------------------------------
  // sin/cos (shared by the encoder and the hidden-layer activations)
  // --------------------------------------------------------------------------------------
  logic               fe_in_valid, fe_in_ready, fe_out_valid;
  logic [PHASE_W-1:0] fe_phase;
  logic [IdxW-1:0]    fe_tag_in, fe_tag;
  logic [SIN_W-1:0]   fe_sin, fe_cos;
  logic [1:0]         fe_sat;
  logic [31:0]        fe_sat_count;
  logic               fe_busy;

  always_comb begin
    if (state_q == S_ENC) begin
      fe_in_valid = ser_use;
      fe_phase    = enc_phase;
      fe_tag_in   = ser_j;
    end else begin
      fe_in_valid = (state_q == S_L_COMB) && !last_layer && cb_out_valid;
      fe_phase    = act_phase;
      fe_tag_in   = cb_tag;
    end
  end

  cim_fourier_enc #(
    .PHASE_W(PHASE_W), .PHASE_F(PHASE_F), .OUT_W(SIN_W), .ITERS(CORDIC_ITERS), .TAG_W(IdxW)
  ) u_sincos (
    .clk_i(clk_i), .rst_ni(rst_n),
    .in_valid_i(fe_in_valid), .in_ready_o(fe_in_ready), .in_phase_i(fe_phase),
    .in_tag_i(fe_tag_in),
    .out_valid_o(fe_out_valid), .out_ready_i(1'b1), .out_sin_o(fe_sin), .out_cos_o(fe_cos),
    .out_tag_o(fe_tag), .out_sat_o(fe_sat),
    .sat_count_o(fe_sat_count), .busy_o(fe_busy)
  );

  // sin/cos code -> IN_BITS layer input: sat_IN_BITS(round_shift(v, SIN_W - IN_BITS))
  function automatic logic [IN_BITS:0] in_code_f(input logic [SIN_W-1:0] v);
    logic signed [63:0] r, lo, hi;
    logic clamp;
    r  = rshift_f(64'($signed(v)), 6'(SIN_W - IN_BITS));
    lo = -(64'sd1 <<< (IN_BITS - 1));
    hi = (64'sd1 <<< (IN_BITS - 1)) - 64'sd1;
    clamp = (r < lo) || (r > hi);
    if (r < lo) r = lo;
    if (r > hi) r = hi;
    in_code_f = {clamp, IN_BITS'(r)};
  endfunction
  logic [IN_BITS:0]   sin_in, cos_in;
  logic [L0-1:0]      sin_elem, cos_elem, act_elem;  // buffer elements (encoder / activation)
  logic               sin_clamp, cos_clamp, sin_sat, cos_sat;
  assign sin_in    = in_code_f(fe_sin);
  assign cos_in    = in_code_f(fe_cos);
  assign sin_clamp = sin_in[IN_BITS];
  assign cos_clamp = cos_in[IN_BITS];
  assign sin_sat   = fe_sat[1];
  assign cos_sat   = fe_sat[0];
  assign act_elem  = L0'($signed(sin_in[IN_BITS-1:0]));
  assign sin_elem  = act_elem << (L0 - IN_BITS);
  assign cos_elem  = L0'($signed(cos_in[IN_BITS-1:0])) << (L0 - IN_BITS);
  // the coordinates as layer-0 elements: c << (L0 - 1 - COORD_BITS)
  logic [N_IN*L0-1:0] coord_elem;
  for (genvar i = 0; i < N_IN; i++) begin : g_coord
    assign coord_elem[i*L0 +: L0] = L0'(coord_data_i[i*COORD_BITS +: COORD_BITS]) <<
                                    (L0 - 1 - COORD_BITS);
  end

  // --------------------------------------------------------------------------------------
  // Sequencer
  // --------------------------------------------------------------------------------------
  logic coord_fire, out_fire, fe_write_enc, fe_write_act;
  assign coord_ready_o = (state_q == S_IDLE) && eval_en && !cfg_err && !haq_active;
  assign coord_fire    = coord_valid_i && coord_ready_o;
  assign e_in_valid    = (state_q == S_ENC_IN);
  assign m_in_valid    = (state_q == S_L_IN);
  assign m_out_ready   = (state_q == S_L_ACC);
  assign cb_in_valid   = (state_q == S_L_COMB) && (issue_q < cur_n_out);
  assign cb_out_ready  = (state_q == S_L_COMB) && (last_layer ? out_ready_i : fe_in_ready);
  assign out_valid_o   = (state_q == S_L_COMB) && last_layer && cb_out_valid;
  assign out_data_o    = out_code;
  assign out_idx_o     = 8'(cb_tag);
  assign out_last_o    = (cb_tag + IdxW'(1) == cur_n_out);
  assign out_fire      = out_valid_o && out_ready_i;
  assign fe_write_enc  = fe_out_valid && (state_q == S_ENC);
  assign fe_write_act  = fe_out_valid && (state_q == S_L_COMB);

  // encoder serialiser (independent of the state: skips channels >= n_freq)
  always_comb begin
    ser_valid_d = ser_valid_q;
    ser_data_d  = ser_data_q;
    ser_base_d  = ser_base_q;
    ser_a_d     = ser_a_q;
    if (!ser_valid_q) begin
      if (e_out_valid) begin
        ser_valid_d = 1'b1;
        ser_data_d  = e_out_data;
        ser_a_d     = '0;
      end
    end else if (!ser_use || (fe_in_valid && fe_in_ready)) begin
      if (32'(ser_a_q) == E_N_ADC - 1) begin
        ser_valid_d = 1'b0;
        ser_base_d  = ser_base_q + IdxW'(E_N_ADC);
      end else begin
        ser_a_d = ser_a_q + EAW'(1);
      end
    end
    if (coord_fire) ser_base_d = '0;
  end

  // layer-input buffer: coordinates, then the sin/cos results
  always_comb begin
    buf_d   = buf_q;
    coord_d = coord_q;
    if (coord_fire) begin
      coord_d = coord_data_i;
      buf_d[0 +: N_IN*L0] = coord_elem;
    end
    if (fe_write_enc) begin
      buf_d[(32'(fe_tag) + N_IN)*L0 +: L0] = sin_elem;
      buf_d[(32'(fe_tag) + N_IN + 32'(n_freq))*L0 +: L0] = cos_elem;
    end
    if (fe_write_act) buf_d[32'(fe_tag)*L0 +: L0] = act_elem;
  end

  // accumulator store: one output beat (group mbeat) of the MLP read path
  always_comb begin
    mem_d = mem_q;
    if (state_q == S_L_ACC && m_out_valid)
      mem_d[32'(mbeat_q)*M_N_ADC*AW +: M_N_ADC*AW] = m_pre;
  end

  always_comb begin
    state_d = state_q;
    layer_d = layer_q;
    mbeat_d = mbeat_q;
    issue_d = issue_q;
    done_d  = done_q;
    off_d   = off_q;
    if (fe_write_enc || fe_write_act) done_d = done_q + IdxW'(1);
    case (state_q)
      S_IDLE: begin
        if (coord_fire) begin
          layer_d = '0;
          done_d  = '0;
          state_d = S_ENC_IN;
        end
      end
      S_ENC_IN: begin
        if (e_in_ready) state_d = S_ENC;
      end
      S_ENC: begin
        if (done_q == n_freq) begin
          state_d = S_L_IN;
          done_d  = '0;
        end
      end
      S_L_IN: begin
        if (m_in_ready) begin
          state_d = S_L_ACC;
          mbeat_d = '0;
        end
      end
      S_L_ACC: begin
        if (m_out_valid) begin
          mbeat_d = mbeat_q + MGrpW'(1);
          if (m_out_last) state_d = S_L_OFF;
        end
      end
      S_L_OFF: begin
        off_d   = CbOffW'(off_full);
        issue_d = '0;
        done_d  = '0;
        state_d = S_L_COMB;
      end
      S_L_COMB: begin
        if (cb_in_valid && cb_in_ready) issue_d = issue_q + IdxW'(1);
        if (last_layer) begin
          if (out_fire) done_d = done_q + IdxW'(1);
          if (out_fire && (done_q + IdxW'(1) == cur_n_out)) begin
            state_d = S_IDLE;
          end
        end else if (done_q == cur_n_out) begin
          layer_d = layer_q + LayW'(1);
          done_d  = '0;
          state_d = S_L_IN;
        end
      end
      default: state_d = S_IDLE;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      state_q     <= S_IDLE;
      layer_q     <= '0;
      coord_q     <= '0;
      buf_q       <= '0;
      for (int c = 0; c < MCols; c++) mem_q[c*AW +: AW] <= '0;  // (no >8 K-bit fill)
      mbeat_q     <= '0;
      issue_q     <= '0;
      done_q      <= '0;
      off_q       <= '0;
      ser_valid_q <= 1'b0;
      ser_data_q  <= '0;
      ser_base_q  <= '0;
      ser_a_q     <= '0;
    end else begin
      state_q     <= state_d;
      layer_q     <= layer_d;
      coord_q     <= coord_d;
      buf_q       <= buf_d;
      mem_q       <= mem_d;
      mbeat_q     <= mbeat_d;
      issue_q     <= issue_d;
      done_q      <= done_d;
      off_q       <= off_d;
      ser_valid_q <= ser_valid_d;
      ser_data_q  <= ser_data_d;
      ser_base_q  <= ser_base_d;
      ser_a_q     <= ser_a_d;
    end
  end

  // --------------------------------------------------------------------------------------
  // Programming: raw operations and the HAQ queue, on one shared program port
  // --------------------------------------------------------------------------------------
  logic [11:0] pa_row_q, pa_row_d, pa_col_q, pa_col_d;
  logic        pa_neg_q, pa_neg_d;
  logic [2:0]  pa_mac_q, pa_mac_d;
  logic        raw_busy_q, raw_busy_d, raw_wait_q, raw_wait_d;
  logic [1:0]  raw_op_q, raw_op_d;
  logic [11:0] raw_row_q, raw_row_d, raw_col_q, raw_col_d;
  logic        raw_neg_q, raw_neg_d;
  logic [2:0]  raw_mac_q, raw_mac_d;
  logic [15:0] raw_tmo_q, raw_tmo_d;
  logic [15:0] pv_code_q, pv_code_d;
  logic        pv_valid_q, pv_valid_d;
  logic        raw_cmd, haq_push;

  // HAQ queue and quantizer
  logic                 fq_in_ready, fq_out_valid, fq_out_ready, fq_full, fq_empty;
  logic [FifoW-1:0]     fq_in_data, fq_out_data;
  logic [FifoCntW-1:0]  fq_count, fq_max;
  logic                 hq_prog_valid, hq_prog_ready, hq_verify_valid, hq_out_valid;
  logic [1:0]           hq_prog_op;
  logic [RowW-1:0]      hq_prog_row;
  logic [ColW-1:0]      hq_prog_col;
  logic                 hq_prog_neg, hq_out_err, hq_err_cfg, hq_busy;
  logic [N_CELLS-1:0]   hq_out_bits;
  logic [HaqAccW-1:0]   hq_out_acc;
  logic [15:0]          hq_cnt_timeout, hq_cnt_proto;
  logic [2:0]           hq_mac_q, hq_mac_d;
  logic [VERIFY_BITS-1:0] sel_verify_code;
  logic                 sel_verify_valid, sel_prog_ready;

  // fields of the written word
  logic [11:0] wd_row, wd_col;
  logic        wd_neg, wd_adv, wd_clear;
  logic [2:0]  wd_mac;
  logic [1:0]  wd_op;
  assign wd_row   = wr_data[11:0];
  assign wd_col   = wr_data[23:12];
  assign wd_neg   = wr_data[24];
  assign wd_mac   = wr_data[27:25];
  assign wd_op    = wr_data[1:0];
  assign wd_adv   = wr_data[4];
  assign wd_clear = wr_data[0];
  assign raw_cmd  = wr_pulse[RegProgCmd];
  logic pa_we;
  assign pa_we    = wr_pulse[RegProgAddr];
  assign haq_push = wr_pulse[RegHaqTgt];
  assign haq_active = raw_busy_q || !fq_empty || hq_busy;

  // write veto (the CSR block answers pslverr and counts it)
  logic cfg_slot;
  assign cfg_slot = (wr_idx == 6'(RegNet)) || (wr_idx == 6'(RegEncGain)) ||
                    (wr_idx == 6'(RegHaqCfg)) ||
                    (wr_idx >= 6'(RegLayer0) && wr_idx < 6'(RegLayer0 + 8));
  assign wr_err = wr_req && (
      (cfg_slot && eval_busy) ||
      (wr_idx == 6'(RegHaqCfg) && haq_active) ||
      (wr_idx == 6'(RegProgAddr) && (raw_busy_q || (32'(wd_mac) >= N_LAYERS) ||
                                     (32'(wd_row) >= M_ROWS) ||
                                     (32'(wd_col) >= MCols))) ||
      (wr_idx == 6'(RegProgCmd) && (haq_active || eval_busy)) ||
      (wr_idx == 6'(RegHaqTgt) && (raw_busy_q || !fq_in_ready || eval_busy)));

  assign fq_in_data = {pa_mac_q, pa_neg_q, pa_row_q, pa_col_q, wr_data[TGT_W-1:0]};

  cim_fifo #(.DATA_W(FifoW), .DEPTH(HAQ_FIFO_DEPTH)) u_haq_fifo (
    .clk_i(clk_i), .rst_ni(rst_n),
    .in_valid_i(haq_push), .in_ready_o(fq_in_ready), .in_data_i(fq_in_data),
    .out_valid_o(fq_out_valid), .out_ready_i(fq_out_ready), .out_data_o(fq_out_data),
    .count_o(fq_count), .full_o(fq_full), .empty_o(fq_empty), .max_count_o(fq_max)
  );

  // the shared program port: a raw operation, else cim_haq_quant
  always_comb begin
    sel_prog_ready   = 1'b0;
    sel_verify_valid = 1'b0;
    sel_verify_code  = '0;
    for (int l = 0; l < N_LAYERS; l++) begin
      if (32'(raw_busy_q ? raw_mac_q : hq_mac_q) == l) begin
        sel_prog_ready   = xm_prog_ready_i[l];
        sel_verify_valid = xm_verify_valid_i[l];
        sel_verify_code  = xm_verify_code_i[l*VERIFY_BITS +: VERIFY_BITS];
      end
    end
  end
  always_comb begin
    xm_prog_valid_o = '0;
    if (raw_busy_q) begin
      xm_prog_op_o  = raw_op_q;
      xm_prog_row_o = RowW'(raw_row_q);
      xm_prog_col_o = ColW'(raw_col_q);
      xm_prog_neg_o = raw_neg_q;
      for (int l = 0; l < N_LAYERS; l++) begin
        if (32'(raw_mac_q) == l) xm_prog_valid_o[l] = !raw_wait_q;
      end
    end else begin
      xm_prog_op_o  = hq_prog_op;
      xm_prog_row_o = hq_prog_row;
      xm_prog_col_o = hq_prog_col;
      xm_prog_neg_o = hq_prog_neg;
      for (int l = 0; l < N_LAYERS; l++) begin
        if (32'(hq_mac_q) == l) xm_prog_valid_o[l] = hq_prog_valid;
      end
    end
  end
  assign hq_prog_ready   = !raw_busy_q && sel_prog_ready;
  assign hq_verify_valid = !raw_busy_q && sel_verify_valid;

  // a weight enters cim_haq_quant from the queue head; its macro is remembered
  logic hq_in_ready, hq_in_fire;
  assign fq_out_ready = hq_in_ready && !raw_busy_q;
  assign hq_in_fire   = fq_out_valid && fq_out_ready;
  assign hq_mac_d     = hq_in_fire ? fq_out_data[FifoW-1 -: 3] : hq_mac_q;

  cim_haq_quant #(
    .N_CELLS(N_CELLS), .TGT_W(TGT_W), .VERIFY_BITS(VERIFY_BITS), .RADIX_F(HAQ_RADIX_F),
    .RATIO_Q8(RATIO_Q8), .ROW_W(RowW), .COL_W(ColW), .VERIFY_UNSET(1),
    .TIMEOUT_CYC(VERIFY_TIMEOUT_CYC)
  ) u_haq (
    .clk_i(clk_i), .rst_ni(rst_n),
    .cfg_code_unit_i(VERIFY_BITS'(code_unit)), .cfg_code_reset_i(VERIFY_BITS'(code_reset)),
    .in_valid_i(fq_out_valid && !raw_busy_q), .in_ready_o(hq_in_ready),
    .in_target_i(fq_out_data[TGT_W-1:0]),
    .in_row_i(RowW'(fq_out_data[TGT_W + 12 +: 12])), .in_col_i(ColW'(fq_out_data[TGT_W +: 12])),
    .in_neg_i(fq_out_data[TGT_W + 24]),
    .prog_valid_o(hq_prog_valid), .prog_ready_i(hq_prog_ready), .prog_op_o(hq_prog_op),
    .prog_row_o(hq_prog_row), .prog_col_o(hq_prog_col), .prog_neg_o(hq_prog_neg),
    .verify_valid_i(hq_verify_valid), .verify_code_i(sel_verify_code),
    .out_valid_o(hq_out_valid), .out_ready_i(1'b1), .out_bits_o(hq_out_bits),
    .out_acc_o(hq_out_acc), .out_err_o(hq_out_err),
    .cnt_timeout_o(hq_cnt_timeout), .cnt_proto_o(hq_cnt_proto),
    .err_cfg_o(hq_err_cfg), .busy_o(hq_busy)
  );

  // PROG_ADDR (advances after raw operations with [4] and after every HAQ_TGT) and raw ops
  always_comb begin
    pa_row_d   = pa_row_q;
    pa_col_d   = pa_col_q;
    pa_neg_d   = pa_neg_q;
    pa_mac_d   = pa_mac_q;
    raw_busy_d = raw_busy_q;
    raw_wait_d = raw_wait_q;
    raw_op_d   = raw_op_q;
    raw_row_d  = raw_row_q;
    raw_col_d  = raw_col_q;
    raw_neg_d  = raw_neg_q;
    raw_mac_d  = raw_mac_q;
    raw_tmo_d  = raw_tmo_q;
    pv_code_d  = pv_code_q;
    pv_valid_d = pv_valid_q;
    if (pa_we) begin
      pa_row_d = wd_row;
      pa_col_d = wd_col;
      pa_neg_d = wd_neg;
      pa_mac_d = wd_mac;
    end
    if (haq_push) pa_col_d = pa_col_q + 12'(N_CELLS);
    if (raw_cmd) begin
      raw_busy_d = 1'b1;
      raw_wait_d = 1'b0;
      raw_op_d   = wd_op;
      raw_row_d  = pa_row_q;
      raw_col_d  = pa_col_q;
      raw_neg_d  = pa_neg_q;
      raw_mac_d  = pa_mac_q;
      pv_valid_d = 1'b0;
      if (wd_adv) pa_col_d = pa_col_q + 12'd1;
    end else if (raw_busy_q && !raw_wait_q) begin
      if (sel_prog_ready) begin
        if (raw_op_q == 2'd3) begin
          raw_wait_d = 1'b1;
          raw_tmo_d  = 16'(VERIFY_TIMEOUT_CYC);
        end else begin
          raw_busy_d = 1'b0;
        end
      end
    end else if (raw_busy_q && raw_wait_q) begin
      if (sel_verify_valid) begin
        pv_code_d  = 16'(sel_verify_code);
        pv_valid_d = 1'b1;
        raw_busy_d = 1'b0;
        raw_wait_d = 1'b0;
      end else if (raw_tmo_q <= 16'd1) begin
        raw_busy_d = 1'b0;   // timeout: PROG_VERIFY stays invalid, counted
        raw_wait_d = 1'b0;
      end else begin
        raw_tmo_d = raw_tmo_q - 16'd1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      pa_row_q   <= '0;
      pa_col_q   <= '0;
      pa_neg_q   <= 1'b0;
      pa_mac_q   <= '0;
      raw_busy_q <= 1'b0;
      raw_wait_q <= 1'b0;
      raw_op_q   <= '0;
      raw_row_q  <= '0;
      raw_col_q  <= '0;
      raw_neg_q  <= 1'b0;
      raw_mac_q  <= '0;
      raw_tmo_q  <= '0;
      pv_code_q  <= '0;
      pv_valid_q <= 1'b0;
      hq_mac_q   <= '0;
    end else begin
      pa_row_q   <= pa_row_d;
      pa_col_q   <= pa_col_d;
      pa_neg_q   <= pa_neg_d;
      pa_mac_q   <= pa_mac_d;
      raw_busy_q <= raw_busy_d;
      raw_wait_q <= raw_wait_d;
      raw_op_q   <= raw_op_d;
      raw_row_q  <= raw_row_d;
      raw_col_q  <= raw_col_d;
      raw_neg_q  <= raw_neg_d;
      raw_mac_q  <= raw_mac_d;
      raw_tmo_q  <= raw_tmo_d;
      pv_code_q  <= pv_code_d;
      pv_valid_q <= pv_valid_d;
      hq_mac_q   <= hq_mac_d;
    end
  end

  // --------------------------------------------------------------------------------------
  // Counters and sticky flags
  // --------------------------------------------------------------------------------------
  function automatic logic [31:0] sat_add_f(input logic [31:0] c, input logic [31:0] n);
    logic [32:0] s;
    s = {1'b0, c} + {1'b0, n};
    sat_add_f = (s > 33'h0_FFFF_FFFF) ? 32'hFFFF_FFFF : 32'(s);
  endfunction

  logic [31:0] cnt_coords_q, cnt_pre_q, cnt_sin_q, cnt_act_q, cnt_out_q, cnt_haq_q;
  logic [31:0] cnt_raw_q, cnt_raw_tmo_q;
  logic [31:0] cnt_coords_d, cnt_pre_d, cnt_sin_d, cnt_act_d, cnt_out_d, cnt_haq_d;
  logic [31:0] cnt_raw_d, cnt_raw_tmo_d;
  logic        haq_tmo_q, haq_tmo_d, adc_tmo_q, adc_tmo_d, haq_cfg_q, haq_cfg_d;
  logic [15:0] last_bits_q, last_bits_d;
  logic        last_err_q, last_err_d, last_valid_q, last_valid_d;
  logic [31:0] last_acc_q, last_acc_d;
  logic        clear;
  assign clear   = wr_pulse[RegCmd] && wd_clear;
  assign err_clr = clear;

  always_comb begin
    logic [31:0] n_sin, n_act;
    n_sin = '0;
    n_act = '0;
    if (fe_write_enc) begin
      n_sin = 32'(sin_sat) + 32'(cos_sat);
      n_act = 32'(sin_clamp) + 32'(cos_clamp);
    end else if (fe_write_act) begin
      n_sin = 32'(sin_sat);
      n_act = 32'(sin_clamp);
    end
    cnt_sin_d    = sat_add_f(cnt_sin_q, n_sin);
    cnt_act_d    = sat_add_f(cnt_act_q, n_act);
    cnt_pre_d    = (state_q == S_L_ACC && m_out_valid) ? sat_add_f(cnt_pre_q, 32'(m_pre_count))
                                                       : cnt_pre_q;
    cnt_out_d    = (out_fire && out_clamp) ? sat_add_f(cnt_out_q, 32'd1) : cnt_out_q;
    cnt_coords_d = (out_fire && out_last_o) ? sat_add_f(cnt_coords_q, 32'd1) : cnt_coords_q;
    cnt_haq_d    = hq_out_valid ? sat_add_f(cnt_haq_q, 32'd1) : cnt_haq_q;
    cnt_raw_d    = raw_cmd ? sat_add_f(cnt_raw_q, 32'd1) : cnt_raw_q;
    cnt_raw_tmo_d = (raw_busy_q && raw_wait_q && !sel_verify_valid && raw_tmo_q <= 16'd1)
                    ? sat_add_f(cnt_raw_tmo_q, 32'd1) : cnt_raw_tmo_q;
    haq_tmo_d = (hq_out_valid && hq_out_err) || (cnt_raw_tmo_d != cnt_raw_tmo_q) ||
                (haq_tmo_q && !clear);
    adc_tmo_d = e_err_timeout || m_err_timeout || (adc_tmo_q && !clear);
    haq_cfg_d = hq_err_cfg || (haq_cfg_q && !clear);
    last_bits_d  = hq_out_valid ? 16'(hq_out_bits) : last_bits_q;
    last_err_d   = hq_out_valid ? hq_out_err : last_err_q;
    last_acc_d   = hq_out_valid ? 32'(hq_out_acc) : last_acc_q;
    last_valid_d = hq_out_valid || last_valid_q;
  end

  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      cnt_coords_q  <= '0;
      cnt_pre_q     <= '0;
      cnt_sin_q     <= '0;
      cnt_act_q     <= '0;
      cnt_out_q     <= '0;
      cnt_haq_q     <= '0;
      cnt_raw_q     <= '0;
      cnt_raw_tmo_q <= '0;
      haq_tmo_q     <= 1'b0;
      adc_tmo_q     <= 1'b0;
      haq_cfg_q     <= 1'b0;
      last_bits_q   <= '0;
      last_err_q    <= 1'b0;
      last_acc_q    <= '0;
      last_valid_q  <= 1'b0;
    end else begin
      cnt_coords_q  <= cnt_coords_d;
      cnt_pre_q     <= cnt_pre_d;
      cnt_sin_q     <= cnt_sin_d;
      cnt_act_q     <= cnt_act_d;
      cnt_out_q     <= cnt_out_d;
      cnt_haq_q     <= cnt_haq_d;
      cnt_raw_q     <= cnt_raw_d;
      cnt_raw_tmo_q <= cnt_raw_tmo_d;
      haq_tmo_q     <= haq_tmo_d;
      adc_tmo_q     <= adc_tmo_d;
      haq_cfg_q     <= haq_cfg_d;
      last_bits_q   <= last_bits_d;
      last_err_q    <= last_err_d;
      last_acc_q    <= last_acc_d;
      last_valid_q  <= last_valid_d;
    end
  end

  // --------------------------------------------------------------------------------------
  // Register read values
  // --------------------------------------------------------------------------------------
  logic [3:0] stage;
  always_comb begin
    case (state_q)
      S_IDLE:           stage = 4'd0;
      S_ENC_IN, S_ENC:  stage = 4'd1;
      default:          stage = 4'd2 + 4'(layer_q);
    endcase
  end

  always_comb begin
    reg_rd = '0;
    reg_rd[0*32 +: 32]  = 32'h4E46_4401;
    reg_rd[2*32 +: 32]  = {16'(fq_count), 4'd0, stage, haq_cfg_q, adc_tmo_q, haq_tmo_q,
                           pv_valid_q, csr_err, cfg_err, haq_active, eval_busy};
    reg_rd[7*32 +: 32]  = {4'd0, pa_mac_q, pa_neg_q, pa_col_q, pa_row_q};
    reg_rd[9*32 +: 32]  = {pv_valid_q, 15'd0, pv_code_q};
    reg_rd[11*32 +: 32] = {last_valid_q, 14'd0, last_err_q, last_bits_q};
    reg_rd[12*32 +: 32] = last_acc_q;
    reg_rd[24*32 +: 32] = cnt_coords_q;
    reg_rd[25*32 +: 32] = e_conv_count;
    reg_rd[26*32 +: 32] = m_conv_count;
    reg_rd[27*32 +: 32] = sat_add_f(e_sat_count, m_sat_count);
    reg_rd[28*32 +: 32] = cnt_pre_q;
    reg_rd[29*32 +: 32] = cb_sat_count;
    reg_rd[30*32 +: 32] = cnt_sin_q;
    reg_rd[31*32 +: 32] = cnt_act_q;
    reg_rd[32*32 +: 32] = cnt_out_q;
    reg_rd[33*32 +: 32] = cnt_haq_q;
    reg_rd[34*32 +: 32] = sat_add_f(32'(hq_cnt_timeout), cnt_raw_tmo_q);
    reg_rd[35*32 +: 32] = cnt_raw_q;
    reg_rd[36*32 +: 32] = csr_err_count;
    reg_rd[37*32 +: 32] = 32'(csr_err_addr);
  end

  assign busy_o  = eval_busy || haq_active;
  assign stage_o = stage;

  // unused status of the blocks (kept for waveforms)
  logic unused;
  assign unused = ^{e_err_cfg, e_busy, e_vec_count, e_read_count, e_rsp_sat, e_rsp_timeout,
                    e_err_group, e_adc_busy, m_err_cfg, m_busy, m_vec_count, m_read_count,
                    m_rsp_sat, m_rsp_timeout, m_err_group, m_adc_busy, cb_out_sat, cb_busy,
                    fe_sat_count, fe_busy, fq_full, fq_max, hq_cnt_proto, rd_pulse,
                    reg_q[0 +: 3*32], reg_q[3*32+1 +: 31], reg_q[7*32 +: 9*32],
                    reg_q[24*32 +: 16*32], ser_base_q[0], cnt_raw_tmo_q, wr_data[31:28],
                    code_unit, code_reset, cur_groups, e_out_last, m_in_bits, off_full,
                    hq_out_acc};
endmodule
