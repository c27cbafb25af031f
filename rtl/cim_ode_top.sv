// cim_ode_top: digital periphery of the closed-loop analogue ODE / SDE solver (neural-ODE
// digital twins and score-based diffusion), with an APB3 register interface.
//
// Purpose
//   Connects the tick sequencer (cim_ode_seq) to the DAC SPI driver (cim_dac_spi), which
//   drives the solver board's DAC chips, and to the state ADC through cim_adc_if; the
//   sequencer's switch pins go straight to the board's integrator switches. Samples of the
//   state are serialised into 32-bit words and queued in a FIFO that software reads through
//   the register SMP_DATA. The analogue board itself (DACs, crossbar MLP, integrators, ADC)
//   is outside: models/hdl/cim_ode_macro.sv, attached to rramcim.cosim.ode in benches.
//   Reference model: rramcim.golden.ode_top (the sequencer's golden trace, the DAC frames,
//   the DAC register model and the solver model, tick by tick).
//
// Register map (32-bit words at byte address 4*i; RW stored, RO read-only, EXT write pulse)
//    0 ID        RO   32'h4F44_4501
//    1 CMD       EXT  write 1s: bit 0 START (ignored while busy), bit 1 ABORT, bit 2 CLEAR
//                     (clears DONE, SMP_UNDERFLOW and the CSR error flag/address), bit 3
//                     FLUSH (empties the sample FIFO and drops a sample being serialised).
//                     Reads 0.
//    2 STATUS    RO   [0] busy, [1] DONE (a run completed; sticky until CLEAR; = irq_o),
//                     [2] CFG_ERR (a run was refused, sticky until reset), [3] sample FIFO not
//                     empty, [4] sample FIFO full, [5] CSR error (sticky until CLEAR),
//                     [6] DAC driver busy, [7] ADC timeout (sticky until reset),
//                     [8] SMP_UNDERFLOW (SMP_DATA read while the FIFO was empty; sticky until
//                     CLEAR), [11:9] phase (0 IDLE, 1 RESET, 2 LOAD, 3 INTEGRATE, 4 HOLD),
//                     [15:12] switches {S4,S3,S2,S1}, [18:16] refusal rule (err_code of
//                     cim_ode_seq), [25:19] its channel, [31:26] 0
//    3 PHASES    RW   [15:0] RESET ticks, [31:16] LOAD ticks (reset value 1, 1)
//    4 INTEG     RW   [15:0] INTEGRATE ticks (>= 1 at START, else the run is refused),
//                     [31:16] sample every k-th INTEGRATE tick (0: final sample only)
//                     (reset value 8, 0)
//    5 T_TICK    RW   clock cycles per tick (reset value 1000)
//    6 SEED      RW   noise generator seed (non-zero at START, else refused; reset value 1)
//    7 CFG_PTR   EXT  word address of the next CFG_DATA write (channel ch, field f at 4*ch+f);
//                     a value >= 4*N_CH is vetoed (pslverr). Reads the pointer.
//    8 CFG_DATA  EXT  writes channel-table word CFG_PTR of cim_ode_seq, then CFG_PTR + 1.
//                     Vetoed while busy or when CFG_PTR >= 4*N_CH. Reads 0.
//    9 TAB_PTR   EXT  address of the next TAB_DATA write; >= TAB_DEPTH vetoed. Reads it.
//   10 TAB_DATA  EXT  [15:0] drive-table entry (Q1.15) at TAB_PTR, then TAB_PTR + 1. Vetoed
//                     while busy or when TAB_PTR >= TAB_DEPTH. Reads 0.
//   11 SMP_DATA  RO   the sample FIFO's head word; the read pops it (an empty FIFO reads 0 and
//                     sets SMP_UNDERFLOW). Each sample is N_STATE+1 words: first
//                     {flags[N_STATE+1:0], tick[17:0]} with flags = {final, timeout,
//                     sat[N_STATE-1:0]}, upper bits 0, then state 0 .. N_STATE-1, each the
//                     signed ADC code sign-extended to 32 bits.
//   12 SMP_LEVEL RO   [15:0] words in the FIFO, [31:16] high-water mark since reset
//   13 TICK      RO   tick index of the run (tick_o of cim_ode_seq)
//   14 RUNS      RO   runs completed      15 OVERRUNS RO  ticks that slipped
//   16 DAC_SAT   RO   clamped DAC codes   17 FRAMES   RO  SPI frames sent
//   18 LDACS     RO   LDAC pulses         19 CONVS    RO  ADC conversions
//   20 ADC_SAT   RO   saturated ADC channel samples
//   21 WR_ERRS   RO   configuration writes refused by cim_ode_seq (0 unless a veto was missed)
//   22 CSR_ERRS  RO   APB error transfers 23 CSR_ERR_ADDR RO byte address of the first one
//   24 SPI_ERRS  RO   bad DAC beats (cim_dac_spi err_count; 0 when N_ADDR fits the chips)
//   25..31       RO   read 0 (reserved); a write to any RO slot is an APB error
//   Counters are 32-bit, saturating, cleared only by reset.
//
// Latency and throughput
//   START -> first tick: N_CH + 2 cycles (the sequencer's configuration check). A tick takes
//   max(T_TICK, its work): the channel values (see cim_ode_seq) plus N_ADDR frames of
//   cim_dac_spi (T_LEAD + (2*FRAME_W-1)*CLK_DIV + T_LAG + T_IDLE cycles each) plus the LDAC
//   pulse, plus on sample ticks the ADC conversion and the serialisation (N_STATE+1 cycles,
//   unless the FIFO is full: then the tick stalls and slips). Software should read SMP_DATA
//   often enough; a slipped tick is counted in OVERRUNS and changes no result (each LDAC
//   pulse is one solver tick).
//
// Reset (rst_ni, asynchronous assert, synchronous release through a two-flop synchroniser):
//   every block to IDLE, registers to their reset values, FIFO empty, counters and sticky
//   flags cleared, pointers 0. The drive table (a RAM) keeps its contents.
//
// Parameters (unit, legal range; an illegal value stops elaboration)
//   N_CHIPS, N_ADDR     DAC chips 1..8 and channels per chip 1..16 (N_CH = N_CHIPS*N_ADDR)
//   DATA_W              DAC code bits, 8..16; FRAME_W frame bits, DATA_W+8..32
//   CLK_DIV             SCLK half period in cycles, 1..255; CPOL, CPHA SPI mode, 0..1
//   N_STATE             state channels (integrators read by the ADC), 1..12
//   ADC_BITS            ADC code bits, 4..16
//   TAB_DEPTH           drive-table entries, power of two, 16..1024
//   CORDIC_ITERS        sine iterations, 8..16
//   T_SETTLE_CYC        ADC settling cycles, 0..255; T_TIMEOUT_CYC ADC timeout, 1..65535
//   SMP_FIFO_DEPTH      sample FIFO words, power of two, 4..4096 (>= N_STATE+1)
module cim_ode_top #(
  parameter int  N_CHIPS        = 5,
  parameter int  N_ADDR         = 4,
  parameter int  DATA_W         = 12,
  parameter int  FRAME_W        = 24,
  parameter int  CLK_DIV        = 2,
  parameter int  CPOL           = 0,
  parameter int  CPHA           = 1,
  parameter int  N_STATE        = 2,
  parameter int  ADC_BITS       = 12,
  parameter int  TAB_DEPTH      = 256,
  parameter int  CORDIC_ITERS   = 16,
  parameter int  T_SETTLE_CYC   = 1,
  parameter int  T_TIMEOUT_CYC  = 1024,
  parameter int  SMP_FIFO_DEPTH = 64,
  localparam int CodeW          = N_STATE * ADC_BITS
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  // APB3 register interface
  input  logic               psel_i,
  input  logic               penable_i,
  input  logic               pwrite_i,
  input  logic [7:0]         paddr_i,
  input  logic [31:0]        pwdata_i,
  output logic [31:0]        prdata_o,
  output logic               pready_o,
  output logic               pslverr_o,
  // DAC chips (SPI)
  output logic               sclk_o,
  output logic               cs_n_o,
  output logic [N_CHIPS-1:0] mosi_o,
  output logic               ldac_n_o,
  // integrator switches {S4, S3, S2, S1}
  output logic [3:0]         sw_o,
  // state ADC
  output logic               adc_mux_sel_o,
  output logic               adc_start_o,
  input  logic               adc_done_i,
  input  logic [CodeW-1:0]   adc_code_i,
  // status
  output logic               busy_o,
  output logic               done_o,
  output logic               irq_o
);
  // --------------------------------------------------------------------------------------
  // Parameter checks (the blocks check their own; these are the top's)
  // --------------------------------------------------------------------------------------
  localparam bit BadState = (N_STATE < 1) || (N_STATE > 12);
  localparam bit BadFifo  = (SMP_FIFO_DEPTH < 4) || (SMP_FIFO_DEPTH > 4096) ||
                            ((SMP_FIFO_DEPTH & (SMP_FIFO_DEPTH - 1)) != 0) ||
                            (SMP_FIFO_DEPTH < N_STATE + 1);
`ifdef YOSYS
  generate
    if (BadState || BadFifo) begin : g_bad_param
      $error("cim_ode_top: illegal parameter (see the header)");
    end
  endgenerate
`else
  initial begin
    if (BadState) $fatal(1, "cim_ode_top: N_STATE (%0d) out of 1..12", N_STATE);
    if (BadFifo)
      $fatal(1, "cim_ode_top: SMP_FIFO_DEPTH (%0d) not a power of two in 4..4096 or < N_STATE+1",
             SMP_FIFO_DEPTH);
  end
`endif

  // --------------------------------------------------------------------------------------
  // Constants
  // --------------------------------------------------------------------------------------
  localparam int NCh      = N_CHIPS * N_ADDR;
  localparam int NRegs    = 32;
  localparam int CntW     = $clog2(SMP_FIFO_DEPTH) + 1;
  localparam int WordsW   = $clog2(N_STATE + 2);
  localparam int TickW    = 18;
  localparam logic [NRegs-1:0] RwMask  = NRegs'(32'h0000_0078);  // 3..6
  localparam logic [NRegs-1:0] ExtMask = NRegs'(32'h0000_0782);  // 1, 7..10
  localparam int RegCmd = 1, RegCfgPtr = 7, RegCfgData = 8, RegTabPtr = 9, RegTabData = 10;
  localparam int RegSmp = 11;

  function automatic logic [NRegs*32-1:0] reset_val_f();
    logic [NRegs*32-1:0] v;
    v = '0;
    v[3*32 +: 32] = {16'd1, 16'd1};  // LOAD 1, RESET 1
    v[4*32 +: 32] = {16'd0, 16'd8};  // final sample only, INTEGRATE 8
    v[5*32 +: 32] = 32'd1000;        // T_TICK
    v[6*32 +: 32] = 32'd1;           // SEED
    reset_val_f = v;  // (no "return": Yosys 0.23 does not parse it)
  endfunction
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
  logic                wr_req, wr_err, csr_err, err_clr;
  logic [4:0]          wr_idx;
  logic [31:0]         wr_data, csr_err_count;
  logic [7:0]          csr_err_addr;
  logic [NRegs-1:0]    wr_pulse, rd_pulse;

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

  // command and pointer registers (top-owned)
  logic       start, abort, clear, flush;
  logic [8:0] cfg_ptr_q, cfg_ptr_d;
  logic [9:0] tab_ptr_q, tab_ptr_d;
  logic       cfg_we, tab_we;
  logic       seq_busy;

  assign start   = wr_pulse[RegCmd] && wr_data[0];
  assign abort   = wr_pulse[RegCmd] && wr_data[1];
  assign clear   = wr_pulse[RegCmd] && wr_data[2];
  assign flush   = wr_pulse[RegCmd] && wr_data[3];
  assign err_clr = clear;
  assign cfg_we  = wr_pulse[RegCfgData];
  assign tab_we  = wr_pulse[RegTabData];

  // Write veto: pointers out of range, table writes while a run is active or at a pointer
  // past the end (the sequencer would refuse and count them; the veto reports them at once).
  assign wr_err = wr_req && (
      (wr_idx == 5'(RegCfgPtr) && 32'(wr_data) >= 32'(4 * NCh)) ||
      (wr_idx == 5'(RegTabPtr) && 32'(wr_data) >= 32'(TAB_DEPTH)) ||
      (wr_idx == 5'(RegCfgData) && (seq_busy || 32'(cfg_ptr_q) >= 32'(4 * NCh))) ||
      (wr_idx == 5'(RegTabData) && (seq_busy || 32'(tab_ptr_q) >= 32'(TAB_DEPTH))));

  assign cfg_ptr_d = wr_pulse[RegCfgPtr] ? wr_data[8:0] : (cfg_we ? cfg_ptr_q + 9'd1 : cfg_ptr_q);
  assign tab_ptr_d = wr_pulse[RegTabPtr] ? wr_data[9:0] : (tab_we ? tab_ptr_q + 10'd1 : tab_ptr_q);

  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      cfg_ptr_q <= '0;
      tab_ptr_q <= '0;
    end else begin
      cfg_ptr_q <= cfg_ptr_d;
      tab_ptr_q <= tab_ptr_d;
    end
  end

  // --------------------------------------------------------------------------------------
  // Sequencer
  // --------------------------------------------------------------------------------------
  logic                       dac_valid, dac_ready, dac_last, dac_busy, dac_err_addr;
  logic [3:0]                 dac_addr;
  logic [N_CHIPS*DATA_W-1:0]  dac_data;
  logic [N_CHIPS-1:0]         dac_mask;
  logic                       adc_req_valid, adc_req_ready, adc_rsp_valid, adc_rsp_ready;
  logic [CodeW-1:0]           adc_rsp_code;
  logic [N_STATE-1:0]         adc_rsp_sat;
  logic                       adc_rsp_timeout;
  logic                       smp_valid, smp_ready;
  logic [CodeW-1:0]           smp_code;
  logic [TickW-1:0]           smp_tick, seq_tick;
  logic [N_STATE+1:0]         smp_flags;
  logic [2:0]                 seq_phase, seq_err_code;
  logic [6:0]                 seq_err_ch;
  logic                       seq_done, seq_cfg_err;
  logic [31:0]                run_count, overrun_count, dac_sat_count, seq_wr_err_count;

  cim_ode_seq #(
    .N_CHIPS(N_CHIPS), .N_ADDR(N_ADDR), .DATA_W(DATA_W), .N_STATE(N_STATE),
    .ADC_BITS(ADC_BITS), .TAB_DEPTH(TAB_DEPTH), .CORDIC_ITERS(CORDIC_ITERS)
  ) u_seq (
    .clk_i(clk_i), .rst_ni(rst_n),
    .cfg_we_i(cfg_we), .cfg_addr_i(cfg_ptr_q), .cfg_wdata_i(wr_data),
    .tab_we_i(tab_we), .tab_addr_i(tab_ptr_q), .tab_wdata_i(wr_data[15:0]),
    .n_reset_i(reg_q[3*32 +: 16]), .n_load_i(reg_q[3*32 + 16 +: 16]),
    .n_int_i(reg_q[4*32 +: 16]), .t_tick_cyc_i(reg_q[5*32 +: 32]),
    .sample_every_i(reg_q[4*32 + 16 +: 16]), .seed_i(reg_q[6*32 +: 32]),
    .start_i(start), .abort_i(abort),
    .dac_valid_o(dac_valid), .dac_ready_i(dac_ready), .dac_idle_i(!dac_busy),
    .dac_addr_o(dac_addr),
    .dac_data_o(dac_data), .dac_mask_o(dac_mask), .dac_last_o(dac_last),
    .adc_req_valid_o(adc_req_valid), .adc_req_ready_i(adc_req_ready),
    .adc_rsp_valid_i(adc_rsp_valid), .adc_rsp_ready_o(adc_rsp_ready),
    .adc_rsp_code_i(adc_rsp_code), .adc_rsp_sat_i(adc_rsp_sat),
    .adc_rsp_timeout_i(adc_rsp_timeout),
    .smp_valid_o(smp_valid), .smp_ready_i(smp_ready), .smp_code_o(smp_code),
    .smp_tick_o(smp_tick), .smp_flags_o(smp_flags),
    .sw_o(sw_o), .phase_o(seq_phase), .tick_o(seq_tick), .busy_o(seq_busy), .done_o(seq_done),
    .run_count_o(run_count), .overrun_count_o(overrun_count),
    .dac_sat_count_o(dac_sat_count), .wr_err_count_o(seq_wr_err_count),
    .cfg_err_o(seq_cfg_err), .err_code_o(seq_err_code), .err_ch_o(seq_err_ch)
  );

  // --------------------------------------------------------------------------------------
  // DAC SPI driver
  // --------------------------------------------------------------------------------------
  logic [31:0] frame_count, ldac_count, spi_err_count;

  cim_dac_spi #(
    .N_CHIPS(N_CHIPS), .N_CH(N_ADDR), .DATA_W(DATA_W), .FRAME_W(FRAME_W), .CLK_DIV(CLK_DIV),
    .CPOL(CPOL), .CPHA(CPHA)
  ) u_dac (
    .clk_i(clk_i), .rst_ni(rst_n),
    .in_valid_i(dac_valid), .in_ready_o(dac_ready), .in_addr_i(dac_addr),
    .in_data_i(dac_data), .in_mask_i(dac_mask), .in_last_i(dac_last),
    .sclk_o(sclk_o), .cs_n_o(cs_n_o), .mosi_o(mosi_o), .ldac_n_o(ldac_n_o),
    .busy_o(dac_busy), .frame_count_o(frame_count), .ldac_count_o(ldac_count),
    .err_count_o(spi_err_count), .err_addr_o(dac_err_addr)
  );

  // --------------------------------------------------------------------------------------
  // ADC interface (one group: every state channel converts at once)
  // --------------------------------------------------------------------------------------
  logic [31:0] adc_sat_count, adc_conv_count;
  logic        adc_err_timeout, adc_err_group, adc_busy;

  cim_adc_if #(
    .N_ADC(N_STATE), .ADC_BITS(ADC_BITS), .N_GROUPS(1), .T_SETTLE_CYC(T_SETTLE_CYC),
    .T_TIMEOUT_CYC(T_TIMEOUT_CYC)
  ) u_adc (
    .clk_i(clk_i), .rst_ni(rst_n),
    .req_valid_i(adc_req_valid), .req_ready_o(adc_req_ready), .req_group_i(1'b0),
    .rsp_valid_o(adc_rsp_valid), .rsp_ready_i(adc_rsp_ready), .rsp_code_o(adc_rsp_code),
    .rsp_sat_o(adc_rsp_sat), .rsp_timeout_o(adc_rsp_timeout),
    .mux_sel_o(adc_mux_sel_o), .adc_start_o(adc_start_o), .adc_done_i(adc_done_i),
    .adc_code_i(adc_code_i),
    .sat_count_o(adc_sat_count), .conv_count_o(adc_conv_count),
    .err_timeout_o(adc_err_timeout), .err_group_o(adc_err_group), .busy_o(adc_busy)
  );

  // --------------------------------------------------------------------------------------
  // Sample serialiser: one sample beat -> N_STATE+1 words into the FIFO
  // --------------------------------------------------------------------------------------
  logic                 ser_busy_q, ser_busy_d;
  logic [WordsW-1:0]    ser_idx_q, ser_idx_d;
  logic [CodeW-1:0]     ser_code_q, ser_code_d;
  logic [31:0]          ser_head_q, ser_head_d;
  logic [31:0]          ser_word;
  logic                 fifo_in_valid, fifo_in_ready, fifo_out_valid, fifo_out_ready;
  logic                 fifo_full, fifo_empty;
  logic [31:0]          fifo_out_data;
  logic [CntW-1:0]      fifo_count, fifo_max;
  logic                 fifo_rst_n;

  assign smp_ready     = !ser_busy_q;
  assign fifo_in_valid = ser_busy_q && !flush;
  // word ser_idx: 0 = {flags, tick}, a >= 1 = state a-1 sign-extended
  always_comb begin
    ser_word = ser_head_q;
    for (int a = 0; a < N_STATE; a++) begin
      if (32'(ser_idx_q) == 32'(a + 1)) begin
        ser_word = 32'($signed(ser_code_q[a*ADC_BITS +: ADC_BITS]));
      end
    end
  end
  always_comb begin
    ser_busy_d = ser_busy_q;
    ser_idx_d  = ser_idx_q;
    ser_code_d = ser_code_q;
    ser_head_d = ser_head_q;
    if (flush) begin
      ser_busy_d = 1'b0;
      ser_idx_d  = '0;
    end else if (!ser_busy_q) begin
      if (smp_valid) begin
        ser_busy_d = 1'b1;
        ser_idx_d  = '0;
        ser_code_d = smp_code;
        ser_head_d = 32'({smp_flags, smp_tick});
      end
    end else if (fifo_in_ready) begin
      if (32'(ser_idx_q) == 32'(N_STATE)) begin
        ser_busy_d = 1'b0;
        ser_idx_d  = '0;
      end else begin
        ser_idx_d = ser_idx_q + WordsW'(1);
      end
    end
  end
  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      ser_busy_q <= 1'b0;
      ser_idx_q  <= '0;
      ser_code_q <= '0;
      ser_head_q <= '0;
    end else begin
      ser_busy_q <= ser_busy_d;
      ser_idx_q  <= ser_idx_d;
      ser_code_q <= ser_code_d;
      ser_head_q <= ser_head_d;
    end
  end

  // FLUSH empties the FIFO through its reset (a one-cycle synchronous pulse would need a
  // clear port); the pulse is registered so the FIFO's reset is glitch-free.
  logic flush_q;
  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) flush_q <= 1'b0;
    else        flush_q <= flush;
  end
  assign fifo_rst_n = rst_n && !flush_q;

  cim_fifo #(.DATA_W(32), .DEPTH(SMP_FIFO_DEPTH)) u_smp_fifo (
    .clk_i(clk_i), .rst_ni(fifo_rst_n),
    .in_valid_i(fifo_in_valid), .in_ready_o(fifo_in_ready), .in_data_i(ser_word),
    .out_valid_o(fifo_out_valid), .out_ready_i(fifo_out_ready), .out_data_o(fifo_out_data),
    .count_o(fifo_count), .full_o(fifo_full), .empty_o(fifo_empty), .max_count_o(fifo_max)
  );
  assign fifo_out_ready = rd_pulse[RegSmp];

  // --------------------------------------------------------------------------------------
  // Status
  // --------------------------------------------------------------------------------------
  logic done_flag_q, underflow_q;
  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      done_flag_q <= 1'b0;
      underflow_q <= 1'b0;
    end else begin
      done_flag_q <= seq_done || (done_flag_q && !clear);
      underflow_q <= (rd_pulse[RegSmp] && !fifo_out_valid) || (underflow_q && !clear);
    end
  end

  logic [31:0] status;
  assign status = {6'd0, seq_err_ch, seq_err_code, sw_o, seq_phase, underflow_q, adc_err_timeout,
                   dac_busy, csr_err, fifo_full, !fifo_empty, seq_cfg_err, done_flag_q,
                   seq_busy};

  always_comb begin
    reg_rd = '0;
    reg_rd[0*32 +: 32]  = 32'h4F44_4501;
    reg_rd[2*32 +: 32]  = status;
    reg_rd[7*32 +: 32]  = 32'(cfg_ptr_q);
    reg_rd[9*32 +: 32]  = 32'(tab_ptr_q);
    reg_rd[11*32 +: 32] = fifo_out_valid ? fifo_out_data : 32'd0;
    reg_rd[12*32 +: 32] = {16'(fifo_max), 16'(fifo_count)};
    reg_rd[13*32 +: 32] = 32'(seq_tick);
    reg_rd[14*32 +: 32] = run_count;
    reg_rd[15*32 +: 32] = overrun_count;
    reg_rd[16*32 +: 32] = dac_sat_count;
    reg_rd[17*32 +: 32] = frame_count;
    reg_rd[18*32 +: 32] = ldac_count;
    reg_rd[19*32 +: 32] = adc_conv_count;
    reg_rd[20*32 +: 32] = adc_sat_count;
    reg_rd[21*32 +: 32] = seq_wr_err_count;
    reg_rd[22*32 +: 32] = csr_err_count;
    reg_rd[23*32 +: 32] = 32'(csr_err_addr);
    reg_rd[24*32 +: 32] = spi_err_count;
  end

  assign busy_o = seq_busy;
  assign done_o = seq_done;
  assign irq_o  = done_flag_q;

  // unused status of the blocks (kept for waveforms)
  logic unused;
  assign unused = ^{dac_err_addr, adc_err_group, adc_busy, reg_q[0 +: 3*32], reg_q[7*32 +: 25*32]};
endmodule
