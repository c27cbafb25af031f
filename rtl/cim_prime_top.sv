// cim_prime_top: PRIME accelerator top (PAPERS.md §1): an event-driven spiking network whose
// synapses are random RRAM conductances, with an input-aware early stop.
//
// Purpose
//   Runs a stack of up to N_LAYERS spiking layers, one crossbar macro per layer, timestep by
//   timestep, on AER events streamed in by a host. Layer geometry is configuration (CSR), not
//   hard-coded: every layer is a convolution (a fully connected layer is the case K = H = W,
//   PAD = 0) read from the frame the previous layer's spikes were routed into. Per timestep t:
//     1. COLLECT: the AER events of frame t (ended by an end-of-frame beat) are routed into
//        frame bank 0 (cim_spike_router, input frame of layer 0, counts saturate at 2^bits-1).
//     2. for each layer l: the router emits the layer's row vectors (one per output position,
//        row-major) from bank l%2; cim_xbar_ctrl reads them on macro l bit-serially through
//        cim_adc_if; every output o of position p becomes the membrane current
//          I = sat_IN_W((acc * MUL_l + 2^(SH_l - 1)) >>> SH_l)
//        and one update of neuron BASE_l + o * P_l + p in cim_lif_array (P_l = OH_l * OW_l).
//        Spikes of a spiking layer are routed as events (c = o, y = oy, x = ox) into bank
//        (l+1)%2, pooled by the next layer's shift (2^s x 2^s sum pooling). The last layer is
//        an output integrator: its N_CLASSES membranes leave on the out stream and form one
//        beat of cim_early_stop (rule 0, softmax confidence).
//     3. the early-stop decision ends the sample (stop, or t = T) or starts step t + 1.
//   Bit-exact reference: rramcim.apps.prime.hardware.PrimeHardware (the hardware model) with
//   the register values of rramcim.apps.prime.rtl.PrimeTopConfig.
//
// Interfaces (AXI-Stream rules on every stream: transfer on valid && ready; valid never waits
//   for ready; data stable while stalled)
//   - APB3 slave (cim_csr): the register map below. Zero wait states; pslverr_o on illegal
//     accesses (unmapped or unaligned address, write to a read-only register, out-of-range
//     field, configuration write while busy).
//   - aer: one event per beat (aer_c_i = channel/polarity, aer_y_i, aer_x_i) or, with
//     aer_eof_i = 1, the end of the current frame (no event). Events enter a FIFO of
//     AER_FIFO_DEPTH at any time and are taken from it only in the COLLECT phase; a full
//     FIFO back-pressures the source (aer_ready_o = 0), and every cycle with aer_valid_i &&
//     !aer_ready_o is counted (AER_STALLS, "overflow attempts"); nothing is dropped except by
//     the explicit FLUSH command, which is counted (AER_DROPPED).
//   - out: per timestep of a sample, N_CLASSES membrane beats (out_kind_o = 0, out_step_o = t
//     (1-based), out_idx_o = class j, out_data_o = U_j, U_W-bit signed, F fractional bits),
//     then after the stopping step one decision beat (out_kind_o = 1, out_step_o = stop step,
//     out_idx_o = predicted class, out_data_o = 0). Back-pressure stalls the network.
//   - Crossbar macros (models/hdl/cim_xbar_macro, one per layer, instantiated beside the top):
//     xb_wl_o is shared (only the active macro has xb_rd_en_o[l] set), xb_mux_sel_o is shared,
//     xb_adc_start_o[l] / xb_adc_done_i[l] / xb_adc_code_i[l] are per macro. Layer l always
//     uses macro l; its weight rows are the window elements in (c, ky, kx) order, row tile t
//     in column groups t*G .. t*G+G-1 (docs/read_path.md).
//   - step_o: the timestep being processed (0-based), layer_o: the active layer. The
//     co-simulation keys the read noise of a read on macro l as epoch = step_o and read
//     number = sample * P_l * R_l + (reads of macro l since the step began), R_l = reads per
//     vector, which is exactly the hardware model's (macro, epoch = t, vector = sample * P_l +
//     p) numbering.
//
// Register map (32-bit registers at byte address 4*index; RW = stored, RO = status)
//   0  ID       RO  32'h5052_4D01 ("PRM", version 1)
//   1  CMD      W   command (not stored, reads 0; each write acts): [0] START a sample (idle and
//                   configuration legal; otherwise refused, STATUS.err_start), [1] FLUSH the
//                   AER FIFO (idle only; the events are counted in AER_DROPPED), [2] CLEAR the
//                   sticky error flags and the captured CSR error
//   2  STATUS   RO  [0] busy, [1] done (a result is valid), [2] err_cfg (the configuration is
//                   inconsistent now; START is refused), [3] err_start (a START was refused),
//                   [4] err_csr (an illegal CSR access), [5] aer_full (the AER FIFO was full
//                   while the source had an event), [6] err_route (an event address outside
//                   its frame), [7] err_lif (bad neuron index), [8] err_es (early-stop
//                   protocol), [9] err_adc (ADC timeout or group), [23:16] step (0-based),
//                   [26:24] layer, [31:28] phase
//   3  RESULT   RO  [7:0] class, [15:8] stop step (1-based), [16] valid
//   4  ES_CFG   RW  [7:0] T steps (1..T_MAX), [8] early stop enabled, [31:16] alpha code
//                   round(alpha * ln2 * 2^12) (1..65535)
//   5  ES_THETA RW  round(2^16 / theta), 2^16 .. 2^(17+clog2(N_CLASSES)) - 1
//   6  NEURON   RW  [7:0] leak (Q0.8), [15:8] LeakyReLU slope (Q0.8), [18:16] layers
//                   (1..N_LAYERS)
//   8+8l        layer l (l = 0 .. 3; slots beyond N_LAYERS exist but are unused):
//     +0 L_IN   RW  input frame: [7:0] C, [15:8] H, [23:16] W (1..MAX_W), [26:24] bits
//                   (1..IN_BITS), [29:28] pooling shift s of the events routed into it
//     +1 L_CONV RW  [3:0] K (1..MAX_K), [7:4] PAD (< K), [15:8] C_out (>= 1),
//                   [16] neuron mode (0 LIF, 1 output integrator)
//     +2 L_XBAR RW  [12:0] tile rows TR (1..N_ROWS), [19:16] tiles (1..N_TILES),
//                   [27:20] column groups (tiles * groups <= N_GROUPS)
//     +3 L_MUL  RW  [MUL_W-1:0] current scale MUL (unsigned)
//     +4 L_SH   RW  [5:0] SH (1..48)
//     +5 L_VTH  RW  [U_W-1:0] threshold (signed, membrane LSBs)
//     +6 L_BASE RW  first neuron index (< N_NEURONS)
//   40 READS  41 CONVERSIONS  42 ADC_SAT  43 LIF_UPDATES  44 SPIKES  45 LIF_SAT
//   46 AER_EVENTS (accepted)  47 AER_STALLS  48 AER_DROPPED  49 ROUTED (events applied)
//   50 ROUTE_SAT  51 ROUTE_BAD  52 VECTORS  53 STEPS  54 SAMPLES  55 CSR_ERRORS
//   56 CSR_ERR_ADDR  57 BUSY_CYCLES                                            (all RO, 32 bit)
//   Counters count since reset and stick at 2^32 - 1 (READS, CONVERSIONS, VECTORS wrap, as
//   their blocks' counters do). Configuration writes while busy are illegal (pslverr_o,
//   counted), so the configuration is stable during a sample.
//   Consistency checked before START (err_cfg), for every layer l < layers: OH, OW >= 1
//   (OH = H + 2 PAD - K + 1); C_out <= groups * N_ADC; C * K * K <= tiles * TR;
//   BASE + C_out * OH * OW <= N_NEURONS; a layer below the last is LIF and feeds the next one
//   exactly (C_next = C_out, H_next = OH >> s_next, W_next = OW >> s_next); the last layer is
//   an integrator with C_out = N_CLASSES.
//
// Latency and throughput (clock cycles, PRIME geometry, T_CONV_CYC = 4): a vector of B bit
//   planes, G groups and Tt tiles costs the controller Tt * (1 + B*G*(1 + L)) + G cycles
//   (L = 6 with T_SETTLE_CYC = 1); its outputs are serialised to the LIF array at one neuron
//   per cycle while the next vector is read. About 23 k cycles per timestep in all.
//
// Reset
//   rst_ni asynchronous assert, released through a two-flop synchroniser; every block
//   restarts (counters cleared, frame banks and neurons invalid, registers to their reset
//   values). The macros' programmed state is not touched (it lives in the analogue array).
//
// Parameters (unit, legal range; an illegal value stops elaboration; the defaults are a
//   small instance for synthesis, the PRIME instance is in tb/cim_prime_top)
//   N_LAYERS        layer slots = macros, 1..4
//   N_ROWS, N_COLS, N_ADC, ADC_BITS, N_TILES   crossbar geometry as cim_xbar_ctrl
//   T_SETTLE_CYC, T_TIMEOUT_CYC               cim_adc_if timing (cycles)
//   IN_BITS         element bits of the frames = input bits of the reads, 1..8
//   MAX_W, MAX_CH_ROWS, MAX_K, RT_FIFO_DEPTH   cim_spike_router sizes
//   AER_FIFO_DEPTH  AER input FIFO depth, power of two, 2..4096
//   ADDR_W          width of the event address fields, 2..8
//   N_NEURONS       neurons of cim_lif_array (all layers), 2..65536
//   U_W, F, IN_W    membrane width / fraction / current width as cim_lif_array
//   MUL_W           width of the current scale MUL, 1..24
//   T_MAX           maximum timesteps, 1..255
//   N_CLASSES       outputs of the last layer, 2..64
module cim_prime_top #(
  parameter int  N_LAYERS       = 3,
  parameter int  N_ROWS         = 64,
  parameter int  N_COLS         = 32,
  parameter int  N_ADC          = 8,
  parameter int  ADC_BITS       = 8,
  parameter int  N_TILES        = 2,
  parameter int  T_SETTLE_CYC   = 1,
  parameter int  T_TIMEOUT_CYC  = 1024,
  parameter int  IN_BITS        = 3,
  parameter int  MAX_W          = 8,
  parameter int  MAX_CH_ROWS    = 32,
  parameter int  MAX_K          = 3,
  parameter int  RT_FIFO_DEPTH  = 4,
  parameter int  AER_FIFO_DEPTH = 4,
  parameter int  ADDR_W         = 8,
  parameter int  N_NEURONS      = 256,
  parameter int  U_W            = 16,
  parameter int  F              = 10,
  parameter int  IN_W           = 24,
  parameter int  MUL_W          = 24,
  parameter int  T_MAX          = 16,
  parameter int  N_CLASSES      = 10,
  localparam int NGroups        = N_COLS / N_ADC,
  localparam int MuxW           = NGroups > 1 ? $clog2(NGroups) : 1,
  localparam int CodeW          = N_ADC * ADC_BITS,
  localparam int TW             = $clog2(T_MAX + 1),
  localparam int ClsW           = $clog2(N_CLASSES)
) (
  input  logic                         clk_i,
  input  logic                         rst_ni,
  // APB3 register interface
  input  logic                         psel_i,
  input  logic                         penable_i,
  input  logic                         pwrite_i,
  input  logic [7:0]                   paddr_i,
  input  logic [31:0]                  pwdata_i,
  output logic [31:0]                  prdata_o,
  output logic                         pready_o,
  output logic                         pslverr_o,
  // AER event input
  input  logic                         aer_valid_i,
  output logic                         aer_ready_o,
  input  logic                         aer_eof_i,
  input  logic [ADDR_W-1:0]            aer_c_i,
  input  logic [ADDR_W-1:0]            aer_y_i,
  input  logic [ADDR_W-1:0]            aer_x_i,
  // result stream
  output logic                         out_valid_o,
  input  logic                         out_ready_i,
  output logic                         out_kind_o,
  output logic [TW-1:0]                out_step_o,
  output logic [ClsW-1:0]              out_idx_o,
  output logic [U_W-1:0]               out_data_o,
  // crossbar macros
  output logic [N_ROWS-1:0]            xb_wl_o,
  output logic [N_LAYERS-1:0]          xb_rd_en_o,
  output logic [MuxW-1:0]              xb_mux_sel_o,
  output logic [N_LAYERS-1:0]          xb_adc_start_o,
  input  logic [N_LAYERS-1:0]          xb_adc_done_i,
  input  logic [N_LAYERS*CodeW-1:0]    xb_adc_code_i,
  // status
  output logic                         busy_o,
  output logic                         done_o,
  output logic                         irq_o,
  output logic [7:0]                   step_o,
  output logic [2:0]                   layer_o
);
  // --------------------------------------------------------------------------------------
  // Parameter checks (both ways, as in the blocks: Yosys has no $fatal in initial blocks)
  // --------------------------------------------------------------------------------------
  localparam bit BadLayers = (N_LAYERS < 1) || (N_LAYERS > 4);
  localparam bit BadAddrW  = (ADDR_W < 2) || (ADDR_W > 8);
  localparam bit BadMulW   = (MUL_W < 1) || (MUL_W > 24);
  localparam bit BadAerD   = (AER_FIFO_DEPTH < 2) || (AER_FIFO_DEPTH > 4096) ||
                             ((AER_FIFO_DEPTH & (AER_FIFO_DEPTH - 1)) != 0);
  localparam bit BadNeur   = (N_NEURONS < 2) || (N_NEURONS > 65536);
  localparam bit BadTMax   = (T_MAX < 1) || (T_MAX > 255);
  localparam bit BadCls    = (N_CLASSES < 2) || (N_CLASSES > 64);
  localparam bit BadBits   = (IN_BITS < 1) || (IN_BITS > 8);
`ifdef YOSYS
  if (BadLayers || BadAddrW || BadMulW || BadAerD || BadNeur || BadTMax || BadCls ||
      BadBits) begin : g_bad_param
    $error("cim_prime_top: illegal parameter (see the header)");
  end
`else
  initial begin
    if (BadLayers) $fatal(1, "cim_prime_top: N_LAYERS (%0d) out of 1..4", N_LAYERS);
    if (BadAddrW) $fatal(1, "cim_prime_top: ADDR_W (%0d) out of 2..8", ADDR_W);
    if (BadMulW) $fatal(1, "cim_prime_top: MUL_W (%0d) out of 1..24", MUL_W);
    if (BadAerD) $fatal(1, "cim_prime_top: AER_FIFO_DEPTH (%0d) not a power of two in 2..4096",
                        AER_FIFO_DEPTH);
    if (BadNeur) $fatal(1, "cim_prime_top: N_NEURONS (%0d) out of 2..65536", N_NEURONS);
    if (BadTMax) $fatal(1, "cim_prime_top: T_MAX (%0d) out of 1..255", T_MAX);
    if (BadCls) $fatal(1, "cim_prime_top: N_CLASSES (%0d) out of 2..64", N_CLASSES);
    if (BadBits) $fatal(1, "cim_prime_top: IN_BITS (%0d) out of 1..8", IN_BITS);
  end
`endif

  // --------------------------------------------------------------------------------------
  // Derived widths
  // --------------------------------------------------------------------------------------
  localparam int AccW     = ADC_BITS + IN_BITS + $clog2(N_TILES) + 1;
  localparam int IdxW     = $clog2(N_NEURONS);
  localparam int TilesW   = $clog2(N_TILES + 1);
  localparam int GroupsW  = $clog2(NGroups + 1);
  localparam int BitsW    = $clog2(IN_BITS + 1);
  localparam int KW       = $clog2(MAX_K + 1);
  localparam int TrW      = $clog2(N_ROWS + 1);
  localparam int ConfW    = 17 + $clog2(N_CLASSES);
  localparam int NRegs    = 64;
  localparam int CfgLo    = 4;   // first configuration register
  localparam int CfgHi    = 39;  // last configuration register
  localparam int LayerReg = 8;   // layer 0 block
  localparam int CntReg   = 40;  // first counter

  // RW registers: ES_CFG, ES_THETA, NEURON and the 7 used words of every layer slot
  function automatic logic [NRegs-1:0] rw_mask_f();
    logic [NRegs-1:0] m;
    m = '0;
    m[4] = 1'b1;
    m[5] = 1'b1;
    m[6] = 1'b1;
    for (int l = 0; l < 4; l++) begin
      for (int w = 0; w < 7; w++) m[LayerReg + 8 * l + w] = 1'b1;
    end
    rw_mask_f = m;  // (no "return": Yosys 0.23 does not parse it)
  endfunction
  function automatic logic [NRegs*32-1:0] reset_val_f();
    logic [NRegs*32-1:0] v;
    v = '0;
    v[4*32 +: 32] = {16'd5678, 7'd0, 1'b1, 8'd1};  // alpha = 2, early stop on, T = 1
    v[5*32 +: 32] = 32'd81920;                     // theta = 0.8
    v[6*32 +: 32] = {13'd0, 3'd1, 8'd26, 8'd51};   // 1 layer, slope 0.1, leak 0.2
    reset_val_f = v;
  endfunction
  localparam logic [NRegs-1:0]    RwMask   = rw_mask_f();
  localparam logic [NRegs-1:0]    ExtMask  = NRegs'(1) << 1;  // CMD
  localparam logic [NRegs*32-1:0] ResetVal = reset_val_f();

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
  logic [NRegs*32-1:0] reg_q, reg_rd;
  logic                wr_req, wr_err, csr_err;
  logic [5:0]          wr_idx;
  logic [31:0]         wr_data, csr_err_count;
  logic [7:0]          csr_err_addr;
  logic [NRegs-1:0]    wr_pulse, rd_pulse;
  logic                err_clr;

  cim_csr #(
    .N_REGS(NRegs), .ADDR_W(8), .RW_MASK(RwMask), .EXT_WR_MASK(ExtMask), .RESET_VAL(ResetVal)
  ) u_csr (
    .clk_i(clk_i), .rst_ni(rst_n),
    .psel_i(psel_i), .penable_i(penable_i), .pwrite_i(pwrite_i), .paddr_i(paddr_i),
    .pwdata_i(pwdata_i), .prdata_o(prdata_o), .pready_o(pready_o), .pslverr_o(pslverr_o),
    .reg_q_o(reg_q), .reg_rd_i(reg_rd),
    .wr_req_o(wr_req), .wr_idx_o(wr_idx), .wr_data_o(wr_data), .wr_err_i(wr_err),
    .wr_pulse_o(wr_pulse), .rd_pulse_o(rd_pulse), .err_clr_i(err_clr),
    .err_o(csr_err), .err_count_o(csr_err_count), .err_addr_o(csr_err_addr)
  );

  // field views
  logic [7:0]       es_steps;
  logic             es_enable;
  logic [15:0]      es_alpha;
  logic [ConfW-1:0] es_inv_theta;
  logic [7:0]       leak_q8, neg_q8;
  logic [2:0]       n_layers;
  assign es_steps     = reg_q[4*32 +: 8];
  assign es_enable    = reg_q[4*32 + 8];
  assign es_alpha     = reg_q[4*32 + 16 +: 16];
  assign es_inv_theta = reg_q[5*32 +: ConfW];
  assign leak_q8      = reg_q[6*32 +: 8];
  assign neg_q8       = reg_q[6*32 + 8 +: 8];
  assign n_layers     = reg_q[6*32 + 16 +: 3];


  // --------------------------------------------------------------------------------------
  // Write legality (a single register's fields) and configuration consistency
  // --------------------------------------------------------------------------------------
  logic busy;
  // (a function, not an always_comb: Icarus 11 -Wall warns on constant part-selects in always_*)
  function automatic logic write_illegal(input logic req, input logic [5:0] idx,
                                         input logic [31:0] d, input logic is_busy);
    logic e;
    e = 1'b0;
    if (req) begin
      if (is_busy && idx >= 6'(CfgLo) && idx <= 6'(CfgHi)) begin
        e = 1'b1;  // configuration is frozen during a sample
      end else begin
        case (idx)
          6'd4: e = (d[7:0] == 8'd0) || (32'(d[7:0]) > 32'(T_MAX)) ||
                         (d[31:16] == 16'd0) || (d[15:9] != 7'd0);
          6'd5: e = (d < 32'd65536) || (ConfW < 32 && (d >> ConfW) != 0);
          6'd6: e = (d[18:16] == 3'd0) || (32'(d[18:16]) > 32'(N_LAYERS)) ||
                         (d[31:19] != 13'd0);
          default: begin
            if (idx >= 6'(LayerReg) && idx < 6'(CntReg)) begin
              case (idx[2:0])
                3'd0: e = (d[7:0] == 8'd0) || (d[15:8] == 8'd0) ||
                   (32'(d[15:8]) > 32'(MAX_W)) || (d[23:16] == 8'd0) ||
                   (32'(d[23:16]) > 32'(MAX_W)) || (d[26:24] == 3'd0) ||
                   (32'(d[26:24]) > 32'(IN_BITS)) ||
                   (32'(d[7:0]) * 32'(d[15:8]) > 32'(MAX_CH_ROWS)) ||
                   (d[27] != 1'b0) || (d[31:30] != 2'd0);
                3'd1: e = (d[3:0] == 4'd0) || (32'(d[3:0]) > 32'(MAX_K)) ||
                   (d[7:4] >= d[3:0]) || (d[15:8] == 8'd0) ||
                   (d[31:17] != 15'd0);
                3'd2: e = (d[12:0] == 13'd0) || (32'(d[12:0]) > 32'(N_ROWS)) ||
                   (d[19:16] == 4'd0) ||
                   (32'(d[19:16]) > 32'(N_TILES)) ||
                   (d[27:20] == 8'd0) ||
                   (32'(d[19:16]) * 32'(d[27:20]) > 32'(NGroups)) ||
                   (d[15:13] != 3'd0) || (d[31:28] != 4'd0);
                3'd3: e = (MUL_W < 32) && ((d >> MUL_W) != 0);
                3'd4: e = (d[5:0] == 6'd0) || (d[5:0] > 6'd48) ||
                   (d[31:6] != 26'd0);
                3'd5: e = (U_W < 32) && ((d >> U_W) != 0);
                3'd6: e = d >= 32'(N_NEURONS);
                default: e = 1'b0;
              endcase
            end
          end
        endcase
      end
    end
    write_illegal = e;
  endfunction
  assign wr_err = write_illegal(wr_req, wr_idx, wr_data, busy);

  // geometry of every slot and the consistency check
  logic [7:0]  g_c [4];
  logic [7:0]  g_h [4];
  logic [7:0]  g_w [4];
  logic [2:0]  g_bits [4];
  logic [1:0]  g_shift [4];
  logic [3:0]  g_k [4];
  logic [3:0]  g_pad [4];
  logic [7:0]  g_cout [4];
  logic        g_integ [4];
  logic [12:0] g_tr [4];
  logic [3:0]  g_tiles [4];
  logic [7:0]  g_groups [4];
  logic [23:0] g_mul [4];
  logic [5:0]  g_sh [4];
  logic [U_W-1:0] g_vth [4];
  logic [16:0] g_base [4];
  logic [9:0]  g_oh [4];
  logic [9:0]  g_ow [4];
  logic [17:0] g_pos [4];
  logic        cfg_ok, cfg_ok_c;
  // cfg_ok_c is set and then cleared inside its always_comb; the continuous assign hands only
  // the final value on (a glitch read by other always_comb blocks can make Icarus 11.0 loop)
  assign cfg_ok = cfg_ok_c;

  for (genvar l = 0; l < 4; l++) begin : g_slot
    localparam int B = (LayerReg + 8 * l) * 32;
    assign g_c[l]      = reg_q[B + 0 +: 8];
    assign g_h[l]      = reg_q[B + 8 +: 8];
    assign g_w[l]      = reg_q[B + 16 +: 8];
    assign g_bits[l]   = reg_q[B + 24 +: 3];
    assign g_shift[l]  = reg_q[B + 28 +: 2];
    assign g_k[l]      = reg_q[B + 32 +: 4];
    assign g_pad[l]    = reg_q[B + 36 +: 4];
    assign g_cout[l]   = reg_q[B + 40 +: 8];
    assign g_integ[l]  = reg_q[B + 48];
    assign g_tr[l]     = reg_q[B + 64 +: 13];
    assign g_tiles[l]  = reg_q[B + 80 +: 4];
    assign g_groups[l] = reg_q[B + 84 +: 8];
    assign g_mul[l]    = reg_q[B + 96 +: 24];
    assign g_sh[l]     = reg_q[B + 128 +: 6];
    assign g_vth[l]    = reg_q[B + 160 +: U_W];
    assign g_base[l]   = reg_q[B + 192 +: 17];
    // OH = H + 2 PAD - K + 1 (a kernel larger than the padded frame is flagged below)
    assign g_oh[l]  = 10'(g_h[l]) + 10'(g_pad[l]) + 10'(g_pad[l]) + 10'd1 - 10'(g_k[l]);
    assign g_ow[l]  = 10'(g_w[l]) + 10'(g_pad[l]) + 10'(g_pad[l]) + 10'd1 - 10'(g_k[l]);
    assign g_pos[l] = 18'(g_oh[l]) * 18'(g_ow[l]);
  end

  always_comb begin
    cfg_ok_c = 1'b1;
    for (int l = 0; l < 4; l++) begin
      if (l < N_LAYERS && 3'(l) < n_layers) begin
        // per-register ranges (the CSR refuses illegal writes, but reset values are zero)
        if (g_c[l] == 8'd0 || g_h[l] == 8'd0 || g_w[l] == 8'd0 || g_bits[l] == 3'd0 ||
            g_k[l] == 4'd0 || g_cout[l] == 8'd0 || g_tr[l] == 13'd0 || g_tiles[l] == 4'd0 ||
            g_groups[l] == 8'd0 || g_sh[l] == 6'd0) cfg_ok_c = 1'b0;
        if (32'(g_h[l]) + 32'(2 * g_pad[l]) < 32'(g_k[l])) cfg_ok_c = 1'b0;
        if (32'(g_w[l]) + 32'(2 * g_pad[l]) < 32'(g_k[l])) cfg_ok_c = 1'b0;
        if (32'(g_cout[l]) > 32'(g_groups[l]) * 32'(N_ADC)) cfg_ok_c = 1'b0;
        if (32'(g_c[l]) * 32'(g_k[l]) * 32'(g_k[l]) > 32'(g_tiles[l]) * 32'(g_tr[l]))
          cfg_ok_c = 1'b0;
        if (32'(g_base[l]) + 32'(g_cout[l]) * 32'(g_pos[l]) > 32'(N_NEURONS)) cfg_ok_c = 1'b0;
        if (3'(l) + 3'd1 < n_layers) begin
          if (l + 1 < 4) begin
            if (g_integ[l]) cfg_ok_c = 1'b0;
            if (g_c[l+1] != g_cout[l]) cfg_ok_c = 1'b0;
            if (32'(g_h[l+1]) != 32'(g_oh[l] >> g_shift[l+1])) cfg_ok_c = 1'b0;
            if (32'(g_w[l+1]) != 32'(g_ow[l] >> g_shift[l+1])) cfg_ok_c = 1'b0;
          end
        end else begin
          if (!g_integ[l] || 32'(g_cout[l]) != 32'(N_CLASSES)) cfg_ok_c = 1'b0;
        end
      end
    end
  end

  // --------------------------------------------------------------------------------------
  // Sequencer
  // --------------------------------------------------------------------------------------
  typedef enum logic [3:0] {
    PhIdle    = 4'd0,
    PhFlush   = 4'd1,
    PhInit    = 4'd2,
    PhCollect = 4'd3,
    PhLayer   = 4'd4,
    PhDrain   = 4'd5,
    PhEof     = 4'd6,
    PhEs      = 4'd7,
    PhDec     = 4'd8,
    PhResult  = 4'd9,
    PhNext    = 4'd10
  } phase_e;

  phase_e     phase_q, phase_d;
  logic [7:0] step_q, step_d;
  logic [2:0] layer_q, layer_d;
  logic       done_q, done_d;
  logic [ClsW-1:0] res_class_q, res_class_d;
  logic [TW-1:0]   res_step_q, res_step_d;
  logic       err_start_q, err_start_d;
  logic       end_seen_q, end_seen_d;          // the layer's last tile went to the controller
  logic       eof_sent_q, eof_sent_d;
  logic [ClsW:0] cls_cnt_q, cls_cnt_d;         // output membranes collected this step
  logic [N_CLASSES*U_W-1:0] cls_q, cls_d;

  // active-layer configuration
  logic [2:0]  la, ln;  // active layer, the layer it feeds
  logic [1:0]  li, lni; // their slot indices
  logic        ln_bank;
  assign la      = layer_q;
  assign ln      = layer_q + 3'd1;
  assign li      = layer_q[1:0];
  assign lni     = ln[1:0];
  assign ln_bank = ln[0];
  logic        a_integ;
  assign a_integ = g_integ[li];

  // command decode
  logic cmd_start, cmd_flush, cmd_clear;
  assign cmd_start = wr_pulse[1] && wr_data[0];
  assign cmd_flush = wr_pulse[1] && wr_data[1];
  assign cmd_clear = wr_pulse[1] && wr_data[2];
  assign err_clr   = cmd_clear;

  // --------------------------------------------------------------------------------------
  // AER input FIFO
  // --------------------------------------------------------------------------------------
  localparam int AerW = 1 + 3 * ADDR_W;
  logic            aer_in_ready, aer_out_valid, aer_out_ready;
  logic [AerW-1:0] aer_out_data;
  logic [$clog2(AER_FIFO_DEPTH+1)-1:0] aer_count, aer_max;
  logic            aer_full, aer_empty;

  cim_fifo #(.DATA_W(AerW), .DEPTH(AER_FIFO_DEPTH)) u_aer_fifo (
    .clk_i(clk_i), .rst_ni(rst_n),
    .in_valid_i(aer_valid_i), .in_ready_o(aer_in_ready),
    .in_data_i({aer_eof_i, aer_c_i, aer_y_i, aer_x_i}),
    .out_valid_o(aer_out_valid), .out_ready_i(aer_out_ready), .out_data_o(aer_out_data),
    .count_o(aer_count), .full_o(aer_full), .empty_o(aer_empty), .max_count_o(aer_max)
  );
  assign aer_ready_o = aer_in_ready;
  logic aer_out_eof;
  assign aer_out_eof = aer_out_data[AerW-1];

  // --------------------------------------------------------------------------------------
  // Spike router
  // --------------------------------------------------------------------------------------
  logic              rt_ev_valid, rt_ev_ready, rt_ev_eof;
  logic [ADDR_W-1:0] rt_ev_c, rt_ev_y, rt_ev_x;
  logic              rt_wr_bank, rt_wr_en, rt_clr, rt_clr_bank, rt_emit_start, rt_rd_bank;
  logic [ADDR_W-1:0] rt_wr_c, rt_wr_h, rt_wr_w, rt_rd_c, rt_rd_h, rt_rd_w;
  logic [1:0]        rt_wr_shift;
  logic [BitsW-1:0]  rt_wr_bits;
  logic [KW-1:0]     rt_rd_k, rt_rd_pad;
  logic [TrW-1:0]    rt_rd_tile;
  logic              rt_frame_done, rt_wr_busy, rt_emit_busy;
  logic              rt_vec_valid, rt_vec_ready, rt_vec_last, rt_vec_end;
  logic [N_ROWS*IN_BITS-1:0] rt_vec_data;
  logic [ADDR_W-1:0] rt_vec_oy, rt_vec_ox;
  logic [31:0]       rt_ev_count, rt_sat_count, rt_bad_count, rt_frame_count, rt_vec_count;
  logic              rt_err_addr, rt_err_clr, rt_err_start, rt_err_cfg_rd, rt_err_cfg_wr;

  cim_spike_router #(
    .N_ROWS(N_ROWS), .EL_W(IN_BITS), .MAX_W(MAX_W), .MAX_CH_ROWS(MAX_CH_ROWS), .MAX_K(MAX_K),
    .FIFO_DEPTH(RT_FIFO_DEPTH), .ADDR_W(ADDR_W)
  ) u_router (
    .clk_i(clk_i), .rst_ni(rst_n),
    .ev_valid_i(rt_ev_valid), .ev_ready_o(rt_ev_ready), .ev_eof_i(rt_ev_eof),
    .ev_c_i(rt_ev_c), .ev_y_i(rt_ev_y), .ev_x_i(rt_ev_x),
    .wr_en_i(rt_wr_en), .cfg_wr_bank_i(rt_wr_bank), .cfg_wr_c_i(rt_wr_c),
    .cfg_wr_h_i(rt_wr_h), .cfg_wr_w_i(rt_wr_w), .cfg_wr_shift_i(rt_wr_shift),
    .cfg_wr_bits_i(rt_wr_bits),
    .clr_i(rt_clr), .clr_bank_i(rt_clr_bank),
    .emit_start_i(rt_emit_start), .cfg_rd_bank_i(rt_rd_bank), .cfg_rd_c_i(rt_rd_c),
    .cfg_rd_h_i(rt_rd_h), .cfg_rd_w_i(rt_rd_w), .cfg_rd_k_i(rt_rd_k), .cfg_rd_pad_i(rt_rd_pad),
    .cfg_rd_tile_i(rt_rd_tile),
    .vec_valid_o(rt_vec_valid), .vec_ready_i(rt_vec_ready), .vec_data_o(rt_vec_data),
    .vec_last_o(rt_vec_last), .vec_end_o(rt_vec_end), .vec_oy_o(rt_vec_oy),
    .vec_ox_o(rt_vec_ox),
    .frame_done_o(rt_frame_done), .wr_busy_o(rt_wr_busy), .emit_busy_o(rt_emit_busy),
    .ev_count_o(rt_ev_count), .sat_count_o(rt_sat_count), .bad_count_o(rt_bad_count),
    .frame_count_o(rt_frame_count), .vec_count_o(rt_vec_count),
    .err_addr_o(rt_err_addr), .err_clr_o(rt_err_clr), .err_start_o(rt_err_start),
    .err_cfg_rd_o(rt_err_cfg_rd), .err_cfg_wr_o(rt_err_cfg_wr)
  );

  // read side: the active layer
  assign rt_rd_bank = li[0];
  assign rt_rd_c    = ADDR_W'(g_c[li]);
  assign rt_rd_h    = ADDR_W'(g_h[li]);
  assign rt_rd_w    = ADDR_W'(g_w[li]);
  assign rt_rd_k    = KW'(g_k[li]);
  assign rt_rd_pad  = KW'(g_pad[li]);
  assign rt_rd_tile = TrW'(g_tr[li]);

  // write side: layer 0's input frame while collecting, else the next layer's
  logic [1:0] wl_sel;
  assign wl_sel      = (phase_q == PhCollect) ? 2'd0 : lni;
  assign rt_wr_bank  = (phase_q == PhCollect) ? 1'b0 : ln_bank;
  assign rt_wr_c     = ADDR_W'(g_c[wl_sel]);
  assign rt_wr_h     = ADDR_W'(g_h[wl_sel]);
  assign rt_wr_w     = ADDR_W'(g_w[wl_sel]);
  assign rt_wr_shift = g_shift[wl_sel];
  assign rt_wr_bits  = BitsW'(g_bits[wl_sel]);

  // --------------------------------------------------------------------------------------
  // Crossbar controller and ADC interface (shared by the layers' macros)
  // --------------------------------------------------------------------------------------
  logic              xc_in_ready, xc_err_cfg, xc_rd_en, xc_busy;
  logic              xc_req_valid, xc_req_ready, xc_rsp_valid, xc_rsp_ready;
  logic [MuxW-1:0]   xc_req_group, adc_mux;
  logic [CodeW-1:0]  xc_rsp_code, adc_code;
  logic              xc_out_valid, xc_out_ready, xc_out_last;
  logic [N_ADC*AccW-1:0] xc_out_data;
  logic [31:0]       xc_vec_count, xc_read_count, adc_sat_count, adc_conv_count;
  logic [N_ADC-1:0]  adc_rsp_sat;
  logic              adc_rsp_timeout, adc_start, adc_done, adc_err_timeout, adc_err_group;
  logic              adc_busy;

  cim_xbar_ctrl #(
    .N_ROWS(N_ROWS), .IN_BITS(IN_BITS), .N_ADC(N_ADC), .ADC_BITS(ADC_BITS),
    .N_GROUPS(NGroups), .N_TILES(N_TILES), .ACC_W(AccW)
  ) u_xbar_ctrl (
    .clk_i(clk_i), .rst_ni(rst_n),
    .cfg_tiles_i(TilesW'(g_tiles[li])), .cfg_groups_i(GroupsW'(g_groups[li])),
    .cfg_in_bits_i(BitsW'(g_bits[li])), .cfg_in_signed_i(1'b0), .err_cfg_o(xc_err_cfg),
    .in_valid_i(rt_vec_valid), .in_ready_o(xc_in_ready), .in_data_i(rt_vec_data),
    .wl_o(xb_wl_o), .rd_en_o(xc_rd_en),
    .req_valid_o(xc_req_valid), .req_ready_i(xc_req_ready), .req_group_o(xc_req_group),
    .rsp_valid_i(xc_rsp_valid), .rsp_ready_o(xc_rsp_ready), .rsp_code_i(xc_rsp_code),
    .out_valid_o(xc_out_valid), .out_ready_i(xc_out_ready), .out_data_o(xc_out_data),
    .out_last_o(xc_out_last), .busy_o(xc_busy), .vec_count_o(xc_vec_count),
    .read_count_o(xc_read_count)
  );
  assign rt_vec_ready = xc_in_ready;

  cim_adc_if #(
    .N_ADC(N_ADC), .ADC_BITS(ADC_BITS), .N_GROUPS(NGroups), .T_SETTLE_CYC(T_SETTLE_CYC),
    .T_TIMEOUT_CYC(T_TIMEOUT_CYC)
  ) u_adc_if (
    .clk_i(clk_i), .rst_ni(rst_n),
    .req_valid_i(xc_req_valid), .req_ready_o(xc_req_ready), .req_group_i(xc_req_group),
    .rsp_valid_o(xc_rsp_valid), .rsp_ready_i(xc_rsp_ready), .rsp_code_o(xc_rsp_code),
    .rsp_sat_o(adc_rsp_sat), .rsp_timeout_o(adc_rsp_timeout),
    .mux_sel_o(adc_mux), .adc_start_o(adc_start), .adc_done_i(adc_done),
    .adc_code_i(adc_code),
    .sat_count_o(adc_sat_count), .conv_count_o(adc_conv_count),
    .err_timeout_o(adc_err_timeout), .err_group_o(adc_err_group), .busy_o(adc_busy)
  );

  // macro select: only the active layer's macro sees rd_en / adc_start
  always_comb begin
    xb_rd_en_o     = '0;
    xb_adc_start_o = '0;
    adc_done       = 1'b0;
    adc_code       = '0;
    for (int l = 0; l < N_LAYERS; l++) begin
      if (la == 3'(l)) begin
        xb_rd_en_o[l]     = xc_rd_en;
        xb_adc_start_o[l] = adc_start;
        adc_done          = xb_adc_done_i[l];
        adc_code          = xb_adc_code_i[l*CodeW +: CodeW];
      end
    end
  end
  assign xb_mux_sel_o = adc_mux;

  // position of the vector in the controller: taken when its first tile transfers (the
  // controller accepts the next vector only after this one's last output beat)
  logic              first_tile_q, first_tile_d;
  logic [ADDR_W-1:0] pos_oy_q, pos_oy_d, pos_ox_q, pos_ox_d;

  // --------------------------------------------------------------------------------------
  // Serialiser: controller output beat -> one LIF update per output channel
  // --------------------------------------------------------------------------------------
  logic                  ser_full_q, ser_full_d;
  logic [N_ADC*AccW-1:0] ser_data_q, ser_data_d;
  logic [7:0]            ser_g_q, ser_g_d;       // group of the held beat
  logic [7:0]            grp_q, grp_d;           // group of the next controller beat
  logic [7:0]            ser_a_q, ser_a_d;       // channel being sent
  logic [7:0]            ser_n_q, ser_n_d;       // valid channels of the held beat
  logic [ADDR_W-1:0]     ser_oy_q, ser_oy_d, ser_ox_q, ser_ox_d;
  logic [17:0]           ser_p;                  // position index oy * OW + ox
  logic [7:0]            ser_o;                  // output channel
  logic signed [AccW-1:0] ser_acc;
  logic signed [63:0]     prod, rnd, shifted;
  localparam logic signed [63:0] CurMax = (64'sd1 <<< (IN_W - 1)) - 64'sd1;
  localparam logic signed [63:0] CurMin = -(64'sd1 <<< (IN_W - 1));
  logic [IN_W-1:0]       ser_cur;
  logic [31:0]           ser_idx_full;
  logic                  lif_in_valid, lif_in_ready;
  logic [IdxW-1:0]       lif_in_idx;

  localparam int SideW = 8 + 2 * ADDR_W;
  logic             side_in_ready, side_out_valid;
  logic [SideW-1:0] side_out;
  logic [2:0]       side_count, side_max;
  logic             side_full, side_empty;

  // The current scaling is continuous assignments, outside the block below that saturates
  // it: with shifted computed inside that block and its low part (an assign, since Icarus 11
  // takes no constant part-select inside always_*) read back into it, Verilator saw a
  // combinational loop (UNOPTFLAT) and evaluated the block repeatedly.
  // I = sat((acc * MUL + 2^(SH-1)) >>> SH): |acc * MUL| < 2^(AccW + MUL_W) <= 2^47 and
  // SH <= 48, so 64 bits are exact
  logic [IN_W-1:0] shifted_lo;
  assign ser_acc    = $signed(ser_data_q[32'(ser_a_q) * AccW +: AccW]);
  assign prod       = 64'(ser_acc) * $signed({40'd0, MUL_W'(g_mul[li])});
  assign rnd        = prod + (64'sd1 <<< (g_sh[li] - 6'd1));
  assign shifted    = rnd >>> g_sh[li];
  assign shifted_lo = shifted[IN_W-1:0];
  assign lif_in_idx = ser_idx_full[IdxW-1:0];

  always_comb begin
    ser_o   = 8'(ser_g_q * 8'(N_ADC) + ser_a_q);
    ser_p   = 18'(ser_oy_q) * 18'(g_ow[li]) + 18'(ser_ox_q);
    if (shifted > CurMax) begin
      ser_cur = {1'b0, {(IN_W-1){1'b1}}};
    end else if (shifted < CurMin) begin
      ser_cur = {1'b1, {(IN_W-1){1'b0}}};
    end else begin
      ser_cur = shifted_lo;
    end
    ser_idx_full = 32'(g_base[li]) + 32'(ser_o) * 32'(g_pos[li]) + 32'(ser_p);
    lif_in_valid = ser_full_q && side_in_ready;
  end

  // --------------------------------------------------------------------------------------
  // LIF array and its side FIFO (channel and position of every update in flight)
  // --------------------------------------------------------------------------------------
  logic            lif_out_valid, lif_out_ready, lif_out_spike, lif_out_err, lif_clr;
  logic [IdxW-1:0] lif_out_idx;
  logic [U_W-1:0]  lif_out_mem;
  logic [31:0]     lif_sat_count, lif_upd_count, lif_spike_count;
  logic            lif_err_idx, lif_err_clr, lif_busy;

  cim_lif_array #(.N_NEURONS(N_NEURONS), .U_W(U_W), .F(F), .IN_W(IN_W)) u_lif (
    .clk_i(clk_i), .rst_ni(rst_n),
    .cfg_mode_i(a_integ), .cfg_leak_q8_i(leak_q8), .cfg_neg_q8_i(neg_q8),
    .cfg_vth_i(g_vth[li]), .clr_i(lif_clr),
    .in_valid_i(lif_in_valid), .in_ready_o(lif_in_ready), .in_idx_i(lif_in_idx),
    .in_cur_i(ser_cur),
    .out_valid_o(lif_out_valid), .out_ready_i(lif_out_ready), .out_idx_o(lif_out_idx),
    .out_spike_o(lif_out_spike), .out_mem_o(lif_out_mem), .out_err_o(lif_out_err),
    .sat_count_o(lif_sat_count), .upd_count_o(lif_upd_count),
    .spike_count_o(lif_spike_count), .err_idx_o(lif_err_idx), .err_clr_o(lif_err_clr),
    .busy_o(lif_busy)
  );

  logic lif_in_xfer, lif_out_xfer;
  assign lif_in_xfer  = lif_in_valid && lif_in_ready;
  assign lif_out_xfer = lif_out_valid && lif_out_ready;

  cim_fifo #(.DATA_W(SideW), .DEPTH(4)) u_side_fifo (
    .clk_i(clk_i), .rst_ni(rst_n),
    .in_valid_i(lif_in_xfer), .in_ready_o(side_in_ready),
    .in_data_i({ser_o, ser_oy_q, ser_ox_q}),
    .out_valid_o(side_out_valid), .out_ready_i(lif_out_xfer), .out_data_o(side_out),
    .count_o(side_count), .full_o(side_full), .empty_o(side_empty), .max_count_o(side_max)
  );

  logic [7:0]        sp_o;
  logic [ADDR_W-1:0] sp_oy, sp_ox;
  assign {sp_o, sp_oy, sp_ox} = side_out;

  // --------------------------------------------------------------------------------------
  // Early stop
  // --------------------------------------------------------------------------------------
  logic             es_start, es_cls_valid, es_cls_ready, es_dec_valid, es_dec_ready;
  logic             es_pix_ready;
  logic             es_dec_stop, es_busy, es_err_start, es_err_cfg, es_err_last, es_err_data;
  logic [TW-1:0]    es_dec_step, es_steps_o;
  logic [ClsW-1:0]  es_dec_class;
  logic [ConfW-1:0] es_dec_metric;
  logic [31:0]      es_step_count, es_stop_count;

  cim_early_stop #(
    .N_CLASSES(N_CLASSES), .U_W(U_W), .F(F), .T_MAX(T_MAX), .N_PIX(2), .PIX_W(8)
  ) u_es (
    .clk_i(clk_i), .rst_ni(rst_n),
    .cfg_steps_i(TW'(es_steps)), .cfg_rule_i(1'b0), .cfg_enable_i(es_enable),
    .cfg_alpha_ln2_i(es_alpha), .cfg_inv_theta_i(es_inv_theta), .cfg_conv_thr_i(9'd0),
    .start_i(es_start),
    .cls_valid_i(es_cls_valid), .cls_ready_o(es_cls_ready), .cls_data_i(cls_q),
    .pix_valid_i(1'b0), .pix_ready_o(es_pix_ready), .pix_data_i(8'd0), .pix_last_i(1'b0),
    .dec_valid_o(es_dec_valid), .dec_ready_i(es_dec_ready), .dec_stop_o(es_dec_stop),
    .dec_step_o(es_dec_step), .dec_class_o(es_dec_class), .dec_metric_o(es_dec_metric),
    .busy_o(es_busy), .steps_o(es_steps_o), .step_count_o(es_step_count),
    .stop_count_o(es_stop_count), .err_start_o(es_err_start), .err_cfg_o(es_err_cfg),
    .err_last_o(es_err_last), .err_data_o(es_err_data)
  );

  // --------------------------------------------------------------------------------------
  // Stream muxes
  // --------------------------------------------------------------------------------------
  always_comb begin
    // router event input
    rt_ev_valid   = 1'b0;
    rt_ev_eof     = 1'b0;
    rt_ev_c       = '0;
    rt_ev_y       = '0;
    rt_ev_x       = '0;
    aer_out_ready = 1'b0;
    lif_out_ready = 1'b0;
    out_valid_o   = 1'b0;
    out_kind_o    = 1'b0;
    out_step_o    = '0;
    out_idx_o     = '0;
    out_data_o    = '0;
    case (phase_q)
      PhCollect: begin
        // pass beats up to and including the frame's end marker; the next frame's events
        // wait in the AER FIFO until the next step
        rt_ev_valid   = aer_out_valid && !eof_sent_q;
        {rt_ev_eof, rt_ev_c, rt_ev_y, rt_ev_x} = aer_out_data;
        aer_out_ready = rt_ev_ready && !eof_sent_q;
      end
      PhFlush: aer_out_ready = 1'b1;
      PhLayer, PhDrain: begin
        if (a_integ) begin
          out_valid_o   = lif_out_valid;
          out_kind_o    = 1'b0;
          out_step_o    = TW'(step_q + 8'd1);
          out_idx_o     = ClsW'(sp_o);
          out_data_o    = lif_out_mem;
          lif_out_ready = out_ready_i;
        end else begin
          rt_ev_valid   = lif_out_valid && lif_out_spike;
          rt_ev_c       = ADDR_W'(sp_o);
          rt_ev_y       = sp_oy;
          rt_ev_x       = sp_ox;
          lif_out_ready = lif_out_spike ? rt_ev_ready : 1'b1;
        end
      end
      PhEof: begin
        rt_ev_valid = !eof_sent_q;
        rt_ev_eof   = 1'b1;
      end
      PhResult: begin
        out_valid_o = 1'b1;
        out_kind_o  = 1'b1;
        out_step_o  = res_step_q;
        out_idx_o   = res_class_q;
      end
      default: ;
    endcase
  end
  assign rt_wr_en = (phase_q == PhCollect) || (phase_q == PhLayer) || (phase_q == PhDrain) ||
                    (phase_q == PhEof);

  // --------------------------------------------------------------------------------------
  // Sequencer next state
  // --------------------------------------------------------------------------------------
  logic layer_idle;
  assign layer_idle = end_seen_q && !rt_emit_busy && !xc_busy && !xc_out_valid &&
                      !ser_full_q && !lif_busy && side_empty;

  always_comb begin
    phase_d        = phase_q;
    step_d         = step_q;
    layer_d        = layer_q;
    done_d         = done_q;
    res_class_d    = res_class_q;
    res_step_d     = res_step_q;
    err_start_d    = err_start_q && !cmd_clear;
    end_seen_d     = end_seen_q;
    eof_sent_d     = eof_sent_q;
    cls_cnt_d      = cls_cnt_q;
    cls_d          = cls_q;
    first_tile_d   = first_tile_q;
    pos_oy_d       = pos_oy_q;
    pos_ox_d       = pos_ox_q;
    ser_full_d     = ser_full_q;
    ser_data_d     = ser_data_q;
    ser_g_d        = ser_g_q;
    grp_d          = grp_q;
    ser_a_d        = ser_a_q;
    ser_n_d        = ser_n_q;
    ser_oy_d       = ser_oy_q;
    ser_ox_d       = ser_ox_q;
    rt_clr         = 1'b0;
    rt_clr_bank    = 1'b0;
    rt_emit_start  = 1'b0;
    lif_clr        = 1'b0;
    es_start       = 1'b0;
    es_cls_valid   = 1'b0;
    es_dec_ready   = 1'b0;
    xc_out_ready   = !ser_full_q;

    // vector position bookkeeping
    if (rt_vec_valid && xc_in_ready) begin
      if (first_tile_q) begin
        pos_oy_d = rt_vec_oy;
        pos_ox_d = rt_vec_ox;
      end
      first_tile_d = rt_vec_last;
      if (rt_vec_end) end_seen_d = 1'b1;
    end
    // serialiser
    if (ser_full_q && lif_in_xfer) begin
      if (ser_a_q + 8'd1 >= ser_n_q) ser_full_d = 1'b0;
      else ser_a_d = ser_a_q + 8'd1;
    end
    if (xc_out_valid && xc_out_ready) begin
      ser_full_d = 1'b1;
      ser_data_d = xc_out_data;
      ser_g_d    = grp_q;
      ser_a_d    = 8'd0;
      // channels of this group that are real outputs: min(N_ADC, C_out - g * N_ADC)
      if (32'(g_cout[li]) >= 32'(grp_q) * 32'(N_ADC) + 32'(N_ADC)) ser_n_d = 8'(N_ADC);
      else ser_n_d = 8'(32'(g_cout[li]) - 32'(grp_q) * 32'(N_ADC));
      ser_oy_d   = pos_oy_q;
      ser_ox_d   = pos_ox_q;
      grp_d      = xc_out_last ? 8'd0 : grp_q + 8'd1;
      // a group with no real output (C_out below the group's first channel) holds nothing
      if (32'(g_cout[li]) <= 32'(grp_q) * 32'(N_ADC)) ser_full_d = 1'b0;
    end
    // output membranes of the integrator layer
    if (a_integ && lif_out_xfer && (phase_q == PhLayer || phase_q == PhDrain)) begin
      cls_d[32'(sp_o) * U_W +: U_W] = lif_out_mem;
      cls_cnt_d = cls_cnt_q + 1'b1;
    end

    if (cmd_start && phase_q != PhIdle) err_start_d = 1'b1;
    case (phase_q)
      PhIdle: begin
        if (cmd_start) begin
          if (cfg_ok) begin
            phase_d = PhInit;
            done_d  = 1'b0;
          end else begin
            err_start_d = 1'b1;
          end
        end else if (cmd_flush) begin
          phase_d = PhFlush;
        end
      end
      PhFlush: if (!aer_out_valid) phase_d = PhIdle;
      PhInit: begin
        // clear the neurons, bank 0, start the early stop
        lif_clr     = 1'b1;
        rt_clr      = 1'b1;
        rt_clr_bank = 1'b0;
        es_start    = 1'b1;
        step_d      = 8'd0;
        layer_d     = 3'd0;
        eof_sent_d  = 1'b0;
        phase_d     = PhCollect;
      end
      PhCollect: begin
        if (aer_out_valid && aer_out_ready && aer_out_eof) eof_sent_d = 1'b1;
        if (rt_frame_done) begin
          layer_d = 3'd0;
          phase_d = PhNext;  // start layer 0 (PhNext clears the bank it writes)
        end
      end
      PhNext: begin
        // clear the frame bank the active layer writes into, then start its emission
        if (!a_integ) begin
          rt_clr      = 1'b1;
          rt_clr_bank = ln_bank;
        end
        rt_emit_start  = 1'b1;
        end_seen_d     = 1'b0;
        first_tile_d   = 1'b1;
        grp_d          = 8'd0;
        cls_cnt_d      = '0;
        phase_d        = PhLayer;
      end
      PhLayer: begin
        if (layer_idle) phase_d = PhDrain;
      end
      PhDrain: begin
        // one more cycle so the last LIF beat has left (lif busy covers it) and the router
        // took the last spike
        if (layer_idle) begin
          if (a_integ) begin
            phase_d = PhEs;
          end else begin
            eof_sent_d = 1'b0;
            phase_d    = PhEof;
          end
        end else begin
          phase_d = PhLayer;
        end
      end
      PhEof: begin
        if (!eof_sent_q && rt_ev_ready) eof_sent_d = 1'b1;
        if (rt_frame_done) begin
          layer_d = layer_q + 3'd1;
          phase_d = PhNext;
        end
      end
      PhEs: begin
        es_cls_valid = 1'b1;
        if (es_cls_ready) phase_d = PhDec;
      end
      PhDec: begin
        es_dec_ready = 1'b1;
        if (es_dec_valid) begin
          if (es_dec_stop) begin
            res_class_d = es_dec_class;
            res_step_d  = es_dec_step;
            phase_d     = PhResult;
          end else begin
            step_d  = step_q + 8'd1;
            layer_d = 3'd0;
            rt_clr      = 1'b1;
            rt_clr_bank = 1'b0;
            eof_sent_d  = 1'b0;
            phase_d     = PhCollect;
          end
        end
      end
      PhResult: begin
        if (out_ready_i) begin
          done_d  = 1'b1;
          phase_d = PhIdle;
        end
      end
      default: phase_d = PhIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      phase_q        <= PhIdle;
      step_q         <= '0;
      layer_q        <= '0;
      done_q         <= 1'b0;
      res_class_q    <= '0;
      res_step_q     <= '0;
      err_start_q    <= 1'b0;
      end_seen_q     <= 1'b0;
      eof_sent_q     <= 1'b0;
      cls_cnt_q      <= '0;
      cls_q          <= '0;
      first_tile_q   <= 1'b1;
      pos_oy_q       <= '0;
      pos_ox_q       <= '0;
      ser_full_q     <= 1'b0;
      ser_data_q     <= '0;
      ser_g_q        <= '0;
      grp_q          <= '0;
      ser_a_q        <= '0;
      ser_n_q        <= '0;
      ser_oy_q       <= '0;
      ser_ox_q       <= '0;
    end else begin
      phase_q        <= phase_d;
      step_q         <= step_d;
      layer_q        <= layer_d;
      done_q         <= done_d;
      res_class_q    <= res_class_d;
      res_step_q     <= res_step_d;
      err_start_q    <= err_start_d;
      end_seen_q     <= end_seen_d;
      eof_sent_q     <= eof_sent_d;
      cls_cnt_q      <= cls_cnt_d;
      cls_q          <= cls_d;
      first_tile_q   <= first_tile_d;
      pos_oy_q       <= pos_oy_d;
      pos_ox_q       <= pos_ox_d;
      ser_full_q     <= ser_full_d;
      ser_data_q     <= ser_data_d;
      ser_g_q        <= ser_g_d;
      grp_q          <= grp_d;
      ser_a_q        <= ser_a_d;
      ser_n_q        <= ser_n_d;
      ser_oy_q       <= ser_oy_d;
      ser_ox_q       <= ser_ox_d;
    end
  end

  assign busy = (phase_q != PhIdle);

  // --------------------------------------------------------------------------------------
  // Top-level counters and sticky flags
  // --------------------------------------------------------------------------------------
  logic [31:0] aer_events_q, aer_events_d, aer_stalls_q, aer_stalls_d, aer_drop_q, aer_drop_d;
  logic [31:0] steps_cnt_q, steps_cnt_d, samples_q, samples_d, busy_cyc_q, busy_cyc_d;
  logic        aer_full_seen_q, aer_full_seen_d;

  function automatic logic [31:0] sat_inc(input logic [31:0] v, input logic en);
    sat_inc = (en && v != 32'hFFFF_FFFF) ? v + 32'd1 : v;
  endfunction

  always_comb begin
    aer_events_d    = sat_inc(aer_events_q, aer_valid_i && aer_in_ready && !aer_eof_i);
    aer_stalls_d    = sat_inc(aer_stalls_q, aer_valid_i && !aer_in_ready);
    aer_drop_d      = sat_inc(aer_drop_q, (phase_q == PhFlush) && aer_out_valid &&
                              !aer_out_eof);
    steps_cnt_d     = sat_inc(steps_cnt_q, (phase_q == PhDec) && es_dec_valid);
    samples_d       = sat_inc(samples_q, (phase_q == PhResult) && out_ready_i);
    busy_cyc_d      = sat_inc(busy_cyc_q, busy);
    aer_full_seen_d = (aer_full_seen_q && !cmd_clear) || (aer_valid_i && aer_full);
  end

  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      aer_events_q    <= '0;
      aer_stalls_q    <= '0;
      aer_drop_q      <= '0;
      steps_cnt_q     <= '0;
      samples_q       <= '0;
      busy_cyc_q      <= '0;
      aer_full_seen_q <= 1'b0;
    end else begin
      aer_events_q    <= aer_events_d;
      aer_stalls_q    <= aer_stalls_d;
      aer_drop_q      <= aer_drop_d;
      steps_cnt_q     <= steps_cnt_d;
      samples_q       <= samples_d;
      busy_cyc_q      <= busy_cyc_d;
      aer_full_seen_q <= aer_full_seen_d;
    end
  end

  // status words
  logic [31:0] status;
  logic        err_route, err_lif, err_es, err_adc;
  assign err_route = rt_err_addr || rt_err_clr || rt_err_start;
  assign err_lif   = lif_err_idx || lif_err_clr;
  assign err_es    = es_err_start || es_err_last || es_err_data;
  assign err_adc   = adc_err_timeout || adc_err_group;
  assign status = {phase_q, 1'b0, layer_q, step_q, 6'd0, err_adc, err_es, err_lif, err_route,
                   aer_full_seen_q, csr_err, err_start_q, !cfg_ok, done_q, busy};

  always_comb begin
    reg_rd = '0;
    reg_rd[0*32 +: 32]  = 32'h5052_4D01;
    reg_rd[2*32 +: 32]  = status;
    reg_rd[3*32 +: 32]  = {15'd0, done_q, 8'(res_step_q), 8'(res_class_q)};
    reg_rd[40*32 +: 32] = xc_read_count;
    reg_rd[41*32 +: 32] = adc_conv_count;
    reg_rd[42*32 +: 32] = adc_sat_count;
    reg_rd[43*32 +: 32] = lif_upd_count;
    reg_rd[44*32 +: 32] = lif_spike_count;
    reg_rd[45*32 +: 32] = lif_sat_count;
    reg_rd[46*32 +: 32] = aer_events_q;
    reg_rd[47*32 +: 32] = aer_stalls_q;
    reg_rd[48*32 +: 32] = aer_drop_q;
    reg_rd[49*32 +: 32] = rt_ev_count;
    reg_rd[50*32 +: 32] = rt_sat_count;
    reg_rd[51*32 +: 32] = rt_bad_count;
    reg_rd[52*32 +: 32] = xc_vec_count;
    reg_rd[53*32 +: 32] = steps_cnt_q;
    reg_rd[54*32 +: 32] = samples_q;
    reg_rd[55*32 +: 32] = csr_err_count;
    reg_rd[56*32 +: 32] = 32'(csr_err_addr);
    reg_rd[57*32 +: 32] = busy_cyc_q;
  end

  assign busy_o  = busy;
  assign done_o  = done_q;
  assign irq_o   = done_q || csr_err || err_start_q || err_route || err_lif || err_es ||
                   err_adc;
  assign step_o  = step_q;
  assign layer_o = layer_q;

  // status outputs of the blocks that the top does not use (kept for waveforms)
  logic unused_status;
  assign unused_status = ^{aer_count, aer_max, aer_empty, side_count, side_max, side_full,
                           rd_pulse, rt_wr_busy, rt_frame_count, rt_vec_count, rt_err_cfg_rd,
                           rt_err_cfg_wr, xc_err_cfg, adc_rsp_sat, adc_rsp_timeout, adc_busy,
                           lif_out_idx, lif_out_err, es_busy, es_steps_o, es_step_count,
                           es_stop_count, es_err_cfg, es_dec_metric, cls_cnt_q, ser_g_q[7:0],
                           wr_pulse, es_pix_ready, es_steps[7:5], ln[2],
                           ser_idx_full};

`ifndef SYNTHESIS
  // run-time invariants
  always @(posedge clk_i) begin
    if (rst_n) begin
      if (lif_out_valid && !side_out_valid)
        $error("cim_prime_top: LIF output without its side entry");
      if (xc_err_cfg && rt_vec_valid)
        $error("cim_prime_top: controller configuration illegal while a vector waits");
      if (phase_q == PhEs && cls_cnt_q != (ClsW+1)'(N_CLASSES))
        $error("cim_prime_top: %0d output membranes collected, expected %0d", cls_cnt_q,
               N_CLASSES);
    end
  end
`endif

endmodule
