package dev.forkprop.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GEMM on the Vector API: {@code C = alpha * op(A) * op(B) + beta * C} (contract in {@link Gemm}),
 * blocked GotoBLAS/BLIS style around a register-blocked {@code MR x NR} FMA micro-kernel.
 *
 * <p>Any thread may call it with its own {@link GemmWorkspace} (from {@link #newWorkspace()} or
 * any workspace at least as large); a call runs on the calling thread and allocates nothing: the
 * packed panels and the accumulator tile live in the workspace, and every {@code FloatVector} is
 * a local of a single method, so C2 scalar-replaces it. Memory consistency effects: none beyond
 * those of plain array writes; the caller publishes {@code C}.
 *
 * <p>This file is the single-threaded kernel only. It is not a BLAS: no threading, no
 * complex/double variants, no small-matrix fast path (tiny shapes are still correct, just not
 * fast: everything goes through packing).
 */
public final class VectorGemm implements Gemm {

    /*
     * Design notes.
     *
     * Loop order (BLIS):                               lives in
     *   for jc in n step NC          B panel  [kc x NC]  L3 / L2   (packB)
     *     for pc in k step kc        (kc = kcStep(k) <= KC_MAX; beta applied only on the first
     *                                 pc; later blocks add)
     *       pack op(B)[pc:pc+kc, jc:jc+nc] -> packB as NR-wide micro-panels [kc][NR]
     *       for ic in m step MC      A block  [MC x kc]  L2        (packA)
     *         pack op(A)[ic:ic+mc, pc:pc+kc] -> packA as MR-tall micro-panels [kc][MR]
     *         for jr in nc step NR   B micro-panel [kc x NR] stays in L1 across the ir loop
     *           for ir in mc step MR micro-kernel: C[MR x NR] += Ap * Bp
     *         (one reduction block whose B panel fits in L2: ir outside, jr inside; see blocked)
     *
     * Packing absorbs the transposes: the micro-kernel only ever sees op(A) and op(B), so the four
     * combinations NN/NT/TN/TT differ only in the two pack loops. Packing zero-pads the last
     * micro-panel of each block up to MR rows / NR columns; the tile goes through a scratch
     * [MR][NR] in L1, and only its valid part is stored. Ragged edges run a narrower micro-kernel
     * (microTile: 4 or 8 rows, or one vector of columns) instead of a full MR x NR tile of padding:
     * a 2-thread shard of 64 rows is 5 tiles and 4 rows, and a 10-class output is a third of a
     * panel. In one JVM, alternating, packed NN products measured 64 x 784 x 256 +11%,
     * 128 x 1024 x 1024 +4%, 128 x 1024 x 10 +21%, 16 x 784 x 100 +44% (GFLOPS, medians of 9 rounds).
     * The variants are written out rather than one kernel with a row count: the accumulators must
     * be plain locals for C2 to keep them in registers, and a row count would put branches in the
     * inner loop (the kernel is too large to be inlined and specialised at its call site).
     *
     * Register budget with 512-bit vectors (32 zmm): MR x 2 accumulators + 2 B vectors + 1
     * broadcast. See the constants for the measurements that chose them. With 256-bit vectors
     * (AVX2, 16 ymm) the 12x2 kernel spills, so there the tile is 6x2 ({@link #kernel6}, 15
     * registers). On a 2-core AMD EPYC Zen 3 (AVX2), JDK 25.0.3, one thread, JMH medians: NN
     * 256x1024x1024 23.0 GFLOPS with the 12-row tile, 46.4 with 6 rows, 58-60 with the 6-row
     * loop's indices computed from its counter; OpenBLAS 0.3.21's Zen kernel 69-85 on the same
     * runs.
     *
     * Nothing here allocates once C2 has compiled the kernel: FloatVector values never leave
     * kernel() and storeTile(), so escape analysis removes them. Before that (interpreter, C1)
     * every vector op allocates; GemmContractTest.noAllocationAfterWarmup checks the compiled
     * state.
     */

    /** The vector shape: preferred species (512-bit, 16 floats, on AVX-512). */
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector. */
    static final int L = S.length();
    /*
     * Block sizes. Measured on the 2-core AMD EPYC Zen 5 dev box (AVX-512, L1d 48 KiB, L2 1 MiB per
     * core), JDK 25.0.3, one thread pinned with taskset, GFLOPS = 2*m*n*k / time, medians of 11-31
     * interleaved rounds. The box is shared, so runs differ by +-10% and some windows run at half
     * speed; differences below that are called "within noise".
     *
     * MR = 12, NR = 32: 24 zmm accumulators + 2 B vectors + 1 broadcast = 27 of 32 registers.
     *   MR 6 / 8 / 12 / 14 (KC 384, MC 192) were within noise of each other: NN 1024^3 181 / 180 /
     *   180 / 178, TN (784,256,1024) 183 / 193 / 190 / 197. 12 leaves register headroom and loads
     *   14 values per 24 FMAs.
     * KC = 256: the B micro-panel, KC x NR floats = 32 KiB, stays in L1d across the ir loop.
     *   KC 256 / 384 / 512, two runs each, medians: NN (256,1024,1024) 198,198 / 146,167 /
     *   71,173; NN 1024^3 195,199 / 192,178 / 185,193; NT (256,1024,784) 182,181 / 173,177 /
     *   171,170. 384 and 512 overflow L1 with the B micro-panel and lose on NT.
     * MC = 192: the packed A block, MC x KC floats = 192 KiB, stays in L2. MC 96 / 192 / 384 were
     *   within noise (NN 1024^3 at KC 384: 176 / 176 / 176).
     * NC = 1024: the packed B panel, KC x NC floats = 1 MiB (L2/L3). NC 1024 vs 4096 within noise
     *   (TN 190 vs 191, NN 1024^3 180 vs 179); 1024 keeps the workspace at 1.35 MiB per thread (KC_MAX deep).
     */

    /**
     * Micro-kernel rows: broadcasts of A per k step (see the block-size notes above). 12 with
     * 512-bit vectors (32 registers); 6 with 256-bit vectors, where AVX2 has 16 registers: 12
     * accumulators + 2 B vectors + 1 broadcast = 15, the tile OpenBLAS's Haswell kernel uses too
     * (a 12-row tile there needs 27 and spills). The tile changes no bit: every element of C is
     * the same FMA chain over k whatever tile computes it (GemmContractTest, EngineTest).
     */
    static final int MR = blocking("forkprop.gemm.mr", L >= 16 ? 12 : 6, 6);
    /** Micro-kernel columns: two vectors of B per k step. */
    static final int NR = 2 * L;
    /** Reduction depth of a packed block. */
    static final int KC = 256;
    /** Deepest reduction block (see {@link #kcStep}). */
    static final int KC_MAX = KC + KC / 8;
    /** Rows of op(A) per packed block (a multiple of MR). */
    static final int MC = blocking("forkprop.gemm.mc", 192, MR);
    /** Columns of op(B) per packed block (a multiple of NR). */
    static final int NC = blocking("forkprop.gemm.nc", 1024, NR);

    /**
     * A blocking parameter: {@code fallback}, or the system property {@code name} when set (a
     * positive multiple of {@code multiple}; MR only 6 or 12, the tiles there are kernels for).
     * The properties exist to show that the blocking changes no bit (a test runs training under
     * other values and compares hashes) and to tune on a new CPU without a rebuild. The reduction
     * depth {@link #KC} has none: blocks of k are summed separately and then added, so KC is part
     * of a result's bits and the same on every CPU.
     */
    private static int blocking(String name, int fallback, int multiple) {
        String v = System.getProperty(name);
        if (v == null) return fallback;
        int x;
        try {
            x = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
        }
        boolean ok = name.endsWith(".mr") ? x == 6 || x == 12 : x > 0 && x % multiple == 0;
        if (!ok) throw new IllegalArgumentException(name + " = " + x + ": " + (name.endsWith(".mr") ? "6 or 12" : "a positive multiple of " + multiple));
        return x;
    }

    /** Floats of packA: one MC x KC_MAX block plus the MR x NR accumulator tile at its end. */
    static final int PACK_A_SIZE = MC * KC_MAX + MR * NR;
    /**
     * Whether to transpose B with vector scatters: AVX-512 has a scatter instruction; on AVX2 a
     * scatter is not intrinsified and would allocate a vector per call, so scalar stores do it.
     */
    private static final boolean SCATTER = S.vectorBitSize() >= 512;
    /** Scatter offsets down one column of a micro-panel: lane i goes i rows (i * NR floats) further. */
    private static final int[] COLUMN = new int[L];
    static {
        for (int i = 0; i < L; i++) COLUMN[i] = i * NR;
    }

    /** Floats of packB: one KC_MAX x NC panel. */
    static final int PACK_B_SIZE = KC_MAX * NC;

    public static final VectorGemm INSTANCE = new VectorGemm();

    private VectorGemm() {}

    @Override
    public String name() {
        return "vector";
    }

    @Override
    public GemmWorkspace newWorkspace() {
        return new GemmWorkspace(PACK_A_SIZE, PACK_B_SIZE);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc,
                     GemmWorkspace ws) {
        Gemm.checkArgs(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        final float[] pa = ws.packA;   // [MC/MR][kc][MR] micro-panels, then the [MR][NR] accumulator tile
        final float[] pb = ws.packB;   // [NC/NR][kc][NR] micro-panels
        final int kcMax = kcStep(k);
        // Needed sizes for this call: MR/NR padding of the largest block actually used.
        long needA = (long) roundUp(Math.min(m, MC), MR) * kcMax + MR * NR;
        long needB = (long) roundUp(Math.min(n, NC), NR) * kcMax;
        if (pa.length < needA || pb.length < needB) {
            throw new IllegalArgumentException("workspace too small for vector GEMM: packA "
                    + pa.length + " < " + needA + " or packB " + pb.length + " < " + needB
                    + "; use VectorGemm.newWorkspace()");
        }
        blocked(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, null, 0, beta, c, cOff, ldc, pa, pb);
    }

    /**
     * Pre-packed layout: for each column block {@code jc} (NC wide) and reduction block {@code pc}
     * ({@link #kcStep} deep), the block exactly as {@link #gemm} packs it into its workspace, at
     * {@code jc * k + roundUp(nc, NR) * pc}. So {@link #gemmPacked} runs the same micro-kernel
     * calls on the same packed values as {@link #gemm}: the results are bitwise equal.
     */
    @Override
    public long packedBSize(int k, int n) {
        return (long) roundUp(n, NR) * k;
    }

    @Override
    public int packBAlign() {
        return NR;
    }

    @Override
    public void packB(boolean transB, int k, int n, int n0, int n1, float[] b, int bOff, int ldb,
                      float[] packed, int pOff) {
        if (n0 < 0 || n1 > n || n0 > n1 || n0 % NR != 0 || (n1 % NR != 0 && n1 != n)) {
            throw new IllegalArgumentException("packB columns [" + n0 + ", " + n1 + ") of " + n
                    + " must be whole " + NR + "-column micro-panels");
        }
        if (k == 0 || n0 == n1) return;
        Gemm.checkMatrix("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        if (pOff + packedBSize(k, n) > packed.length) {
            throw new IllegalArgumentException("packed B needs " + packedBSize(k, n) + " floats at " + pOff
                    + ", array has " + packed.length);
        }
        if (!transB) {
            packRows(k, n, 0, k, n0, n1, b, bOff, ldb, packed, pOff);
            return;
        }
        final int step = kcStep(k);
        for (int j0 = n0; j0 < n1; j0 += NR) {
            final int jc = j0 / NC * NC, ncPad = roundUp(Math.min(NC, n - jc), NR), cols = Math.min(NR, n - j0);
            for (int pc = 0; pc < k; pc += step) {
                final int kc = Math.min(step, k - pc);
                packMicroPanel(transB, b, bOff, ldb, pc, kc, j0, cols, packed,
                        pOff + jc * k + ncPad * pc + (j0 - jc) * kc);
            }
        }
    }

    @Override
    public void packBRows(int k, int n, int k0, int k1, float[] b, int bOff, int ldb, float[] packed, int pOff) {
        Gemm.checkPackRows(k, n, k0, k1, b, bOff, ldb, packed, pOff, packedBSize(k, n));
        if (n > 0) packRows(k, n, k0, k1, 0, n, b, bOff, ldb, packed, pOff);
    }

    /**
     * Rows {@code [p0, p1)}, columns {@code [n0, n1)} of
     * {@link #packB} of an untransposed B, row by row: each row of B is read once, front to back,
     * and its NR-column pieces go to their micro-panels with two vector copies each. (Packing
     * panel by panel instead reads 128 bytes per row with a row's stride between reads and copies
     * them with a System.arraycopy call each: 0.85 ms for a cold 1024 x 1024 B.)
     */
    private static void packRows(int k, int n, int p0, int p1, int n0, int n1, float[] b, int bOff, int ldb,
                                 float[] packed, int pOff) {
        final int step = kcStep(k);
        for (int p = p0; p < p1; p++) {
            final int pc = p / step * step, kc = Math.min(step, k - pc), row = bOff + p * ldb;
            for (int j0 = n0; j0 < n1; j0 += NR) {
                final int jc = j0 / NC * NC, ncPad = roundUp(Math.min(NC, n - jc), NR);
                final int dst = pOff + jc * k + ncPad * pc + (j0 - jc) * kc + (p - pc) * NR;
                if (j0 + NR <= n) { // a whole micro-panel
                    FloatVector.fromArray(S, b, row + j0).intoArray(packed, dst);
                    FloatVector.fromArray(S, b, row + j0 + L).intoArray(packed, dst + L);
                } else { // the last, partial micro-panel: zero past column n
                    final int cols = n - j0;
                    for (int j = 0; j < cols; j++) packed[dst + j] = b[row + j0 + j];
                    for (int j = cols; j < NR; j++) packed[dst + j] = 0f;
                }
            }
        }
    }

    @Override
    public void gemmPacked(boolean transA, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                           float[] packed, int pOff, float beta, float[] c, int cOff, int ldc,
                           GemmWorkspace ws) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative size m=" + m + " n=" + n + " k=" + k);
        }
        if (m == 0 || n == 0) return;
        Gemm.checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        Gemm.checkMatrix("C", c, cOff, ldc, m, n);
        if (k == 0) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        if (pOff < 0 || pOff + packedBSize(k, n) > packed.length) {
            throw new IllegalArgumentException("packed B needs " + packedBSize(k, n) + " floats at " + pOff
                    + ", array has " + packed.length);
        }
        final float[] pa = ws.packA;
        long needA = (long) roundUp(Math.min(m, MC), MR) * kcStep(k) + MR * NR;
        if (pa.length < needA) {
            throw new IllegalArgumentException("workspace too small for vector GEMM: packA " + pa.length
                    + " < " + needA + "; use VectorGemm.newWorkspace()");
        }
        blocked(transA, false, m, n, k, alpha, a, aOff, lda, null, 0, 0, packed, pOff, beta, c, cOff, ldc, pa, null);
    }

    /**
     * The blocked loops. With {@code packed == null} each (jc, pc) block of op(B) is packed into
     * {@code pb}; otherwise it is read where {@link #packB} put it.
     */
    private static void blocked(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                float[] packed, int pOff, float beta, float[] c, int cOff, int ldc,
                                float[] pa, float[] pb) {
        final int tileOff = pa.length - MR * NR, step = kcStep(k);
        for (int jc = 0; jc < n; jc += NC) {
            final int nc = Math.min(NC, n - jc), ncPad = roundUp(nc, NR);
            for (int pc = 0; pc < k; pc += step) {
                final int kc = Math.min(step, k - pc);
                // Only the first block of the reduction sees the caller's beta; the rest accumulate.
                final float betaBlock = pc == 0 ? beta : 1f;
                final float[] bp;
                final int bBase;
                if (packed == null && !transB) {
                    // The block as packB(k, n) lays it out, shifted to the start of pb: the same
                    // row-by-row vector copies that pack weights (one System.arraycopy per row
                    // and micro-panel took 14% of NN 256 x 1024 x 1024 under perf on Zen 3).
                    packRows(k, n, pc, pc + kc, jc, jc + nc, b, bOff, ldb, pb, -(jc * k + ncPad * pc));
                    bp = pb;
                    bBase = 0;
                } else if (packed == null) {
                    packB(transB, b, bOff, ldb, pc, kc, jc, nc, pb);
                    bp = pb;
                    bBase = 0;
                } else {
                    bp = packed;
                    bBase = pOff + jc * k + ncPad * pc;
                }
                for (int ic = 0; ic < m; ic += MC) {
                    final int mc = Math.min(MC, m - ic);
                    packA(transA, a, aOff, lda, ic, mc, pc, kc, pa);
                    if (kc == k && kc * ncPad <= KC * NC) {
                        // One reduction block: C is written once, so sweep it a strip of MR rows at a
                        // time, left to right, which the hardware prefetcher can follow; column by
                        // column, each micro-tile's 12 rows land in 12 pages. The A micro-panel stays
                        // in L1 and the B panel, at most KC x NC floats (1 MiB), is re-read from L2
                        // for every strip. dW = X^T * dY into the cold gradient buffer of a
                        // 784-1024-1024-10 step, both orders alternating in one JVM (column by
                        // column -> strips): 1024 x 1024 at k = 128, 157-158 -> 173-174 GFLOPS; at
                        // k = 256, 158-168 -> 164-177; 784 x 1024 at k = 128, 151-152 -> 164. With
                        // C hot, within 2%. A larger panel (NN 256 x 288 x 1024: 1.1 MiB) measured
                        // 10% slower this way.
                        for (int ir = 0; ir < mc; ir += MR) {
                            final int rows = Math.min(MR, mc - ir);
                            for (int jr = 0; jr < nc; jr += NR) {
                                microTile(kc, pa, ir * kc, bp, bBase + jr * kc,
                                        c, cOff + (ic + ir) * ldc + jc + jr, ldc, alpha, betaBlock,
                                        rows, Math.min(NR, nc - jr), pa, tileOff);
                            }
                        }
                        continue;
                    }
                    for (int jr = 0; jr < nc; jr += NR) {
                        final int cols = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {
                            final int rows = Math.min(MR, mc - ir);
                            // Micro-panel ir/MR of packA starts at (ir/MR)*MR*kc = ir*kc; same for B.
                            microTile(kc, pa, ir * kc, bp, bBase + jr * kc,
                                    c, cOff + (ic + ir) * ldc + jc + jr, ldc, alpha, betaBlock,
                                    rows, cols, pa, tileOff);
                        }
                    }
                }
            }
        }
    }

    /**
     * Packs {@code op(B)[pc:pc+kc, jc:jc+nc]} into {@code pb} as NR-wide micro-panels: element
     * {@code (p, j)} goes to {@code (j/NR)*NR*kc + p*NR + j%NR}; columns past {@code nc} are zero.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                      float[] pb) {
        for (int jr = 0; jr < nc; jr += NR) {
            packMicroPanel(transB, b, bOff, ldb, pc, kc, jc + jr, Math.min(NR, nc - jr), pb, jr * kc);
        }
    }

    /**
     * Packs {@code op(B)[pc:pc+kc, j0:j0+cols]} ({@code cols <= NR}) as one micro-panel
     * {@code [kc][NR]} at {@code base}; columns past {@code cols} are zero.
     */
    private static void packMicroPanel(boolean transB, float[] b, int bOff, int ldb, int pc, int kc,
                                       int j0, int cols, float[] pb, int base) {
        if (!transB) {
            // B stored [k, n]: row p of the panel is contiguous in B.
            int src = bOff + pc * ldb + j0;
            int dst = base;
            for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                System.arraycopy(b, src, pb, dst, cols);
                for (int j = cols; j < NR; j++) pb[dst + j] = 0f;
            }
        } else {
            // B stored [n, k]: op(B)[p, j] = B[j, p], so column j of the panel is row j of B: read
            // it a vector at a time and scatter each vector down the panel's column (stride NR).
            int j = 0;
            final int kv = kc - kc % L;
            for (; j < cols; j++) {
                final int src = bOff + (j0 + j) * ldb + pc;
                int p = 0;
                if (SCATTER) for (; p < kv; p += L) FloatVector.fromArray(S, b, src + p).intoArray(pb, base + p * NR + j, COLUMN, 0);
                for (; p < kc; p++) pb[base + p * NR + j] = b[src + p];
            }
            // Padding columns [cols, NR) are zero.
            for (; j < NR; j++) {
                for (int p = 0; p < kc; p++) pb[base + p * NR + j] = 0f;
            }
        }
    }

    /**
     * Packs {@code op(A)[ic:ic+mc, pc:pc+kc]} into {@code pa} as MR-tall micro-panels: element
     * {@code (i, p)} goes to {@code (i/MR)*MR*kc + p*MR + i%MR}; rows past {@code mc} are zero.
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc,
                      float[] pa) {
        for (int ir = 0; ir < mc; ir += MR) {
            final int rows = Math.min(MR, mc - ir);
            final int base = ir * kc;
            if (transA) {
                // A stored [k, m]: op(A)[i, p] = A[p, i], so step p of the panel is contiguous in A.
                int src = aOff + pc * lda + ic + ir;
                int dst = base;
                for (int p = 0; p < kc; p++, src += lda, dst += MR) {
                    System.arraycopy(a, src, pa, dst, rows);
                    for (int i = rows; i < MR; i++) pa[dst + i] = 0f;
                }
            } else {
                // A stored [m, k]: row i of op(A) is contiguous; it lands with stride MR. (The
                // vector read + scatter of packMicroPanel measured no faster here: A blocks are small.)
                for (int i = 0; i < rows; i++) {
                    final int src = aOff + (ic + ir + i) * lda + pc;
                    for (int p = 0; p < kc; p++) pa[base + p * MR + i] = a[src + p];
                }
                for (int i = rows; i < MR; i++) {
                    for (int p = 0; p < kc; p++) pa[base + p * MR + i] = 0f;
                }
            }
        }
    }

    /**
     * The 12x(2*L) micro-kernel: {@code C[0:rows, 0:cols] = alpha * Ap * Bp + beta * C} for one
     * packed A micro-panel {@code Ap: [kc][MR]} at {@code ao} and one packed B micro-panel
     * {@code Bp: [kc][NR]} at {@code bo}. The 24 accumulators live in locals so that C2 keeps
     * them in zmm registers (24 + 2 for B + 1 broadcast <= 32). The accumulators go to
     * {@code tile} ({@code [MR][NR]} at {@code to}, L1-resident) and {@link #storeTile} applies
     * alpha and beta: keeping this method small is what lets C1 compile it (tier 3 profiling, then
     * C2); with the stores inlined here C1 runs out of virtual registers and the method stays at
     * interpreted speed at tier 2, boxing every vector. The extra 2*MR stores and loads per tile
     * are under 1% of the {@code 2*MR*kc} FMAs.
     */
    static void kernel(int kc, float[] pa, int ao, float[] pb, int bo,
                       float[] c, int co, int ldc, float alpha, float beta,
                       int rows, int cols, float[] tile, int to) {
        final VectorSpecies<Float> s = S;
        FloatVector c0_0 = FloatVector.zero(s), c0_1 = FloatVector.zero(s);
        FloatVector c1_0 = FloatVector.zero(s), c1_1 = FloatVector.zero(s);
        FloatVector c2_0 = FloatVector.zero(s), c2_1 = FloatVector.zero(s);
        FloatVector c3_0 = FloatVector.zero(s), c3_1 = FloatVector.zero(s);
        FloatVector c4_0 = FloatVector.zero(s), c4_1 = FloatVector.zero(s);
        FloatVector c5_0 = FloatVector.zero(s), c5_1 = FloatVector.zero(s);
        FloatVector c6_0 = FloatVector.zero(s), c6_1 = FloatVector.zero(s);
        FloatVector c7_0 = FloatVector.zero(s), c7_1 = FloatVector.zero(s);
        FloatVector c8_0 = FloatVector.zero(s), c8_1 = FloatVector.zero(s);
        FloatVector c9_0 = FloatVector.zero(s), c9_1 = FloatVector.zero(s);
        FloatVector c10_0 = FloatVector.zero(s), c10_1 = FloatVector.zero(s);
        FloatVector c11_0 = FloatVector.zero(s), c11_1 = FloatVector.zero(s);
        int ia = ao, ib = bo;
        for (int p = 0; p < kc; p++, ia += MR, ib += NR) {
            FloatVector b0 = FloatVector.fromArray(s, pb, ib);
            FloatVector b1 = FloatVector.fromArray(s, pb, ib + L);
            FloatVector av;
            av = FloatVector.broadcast(s, pa[ia + 0]); c0_0 = av.fma(b0, c0_0); c0_1 = av.fma(b1, c0_1);
            av = FloatVector.broadcast(s, pa[ia + 1]); c1_0 = av.fma(b0, c1_0); c1_1 = av.fma(b1, c1_1);
            av = FloatVector.broadcast(s, pa[ia + 2]); c2_0 = av.fma(b0, c2_0); c2_1 = av.fma(b1, c2_1);
            av = FloatVector.broadcast(s, pa[ia + 3]); c3_0 = av.fma(b0, c3_0); c3_1 = av.fma(b1, c3_1);
            av = FloatVector.broadcast(s, pa[ia + 4]); c4_0 = av.fma(b0, c4_0); c4_1 = av.fma(b1, c4_1);
            av = FloatVector.broadcast(s, pa[ia + 5]); c5_0 = av.fma(b0, c5_0); c5_1 = av.fma(b1, c5_1);
            av = FloatVector.broadcast(s, pa[ia + 6]); c6_0 = av.fma(b0, c6_0); c6_1 = av.fma(b1, c6_1);
            av = FloatVector.broadcast(s, pa[ia + 7]); c7_0 = av.fma(b0, c7_0); c7_1 = av.fma(b1, c7_1);
            av = FloatVector.broadcast(s, pa[ia + 8]); c8_0 = av.fma(b0, c8_0); c8_1 = av.fma(b1, c8_1);
            av = FloatVector.broadcast(s, pa[ia + 9]); c9_0 = av.fma(b0, c9_0); c9_1 = av.fma(b1, c9_1);
            av = FloatVector.broadcast(s, pa[ia + 10]); c10_0 = av.fma(b0, c10_0); c10_1 = av.fma(b1, c10_1);
            av = FloatVector.broadcast(s, pa[ia + 11]); c11_0 = av.fma(b0, c11_0); c11_1 = av.fma(b1, c11_1);
        }
        c0_0.intoArray(tile, to + 0 * NR); c0_1.intoArray(tile, to + 0 * NR + L);
        c1_0.intoArray(tile, to + 1 * NR); c1_1.intoArray(tile, to + 1 * NR + L);
        c2_0.intoArray(tile, to + 2 * NR); c2_1.intoArray(tile, to + 2 * NR + L);
        c3_0.intoArray(tile, to + 3 * NR); c3_1.intoArray(tile, to + 3 * NR + L);
        c4_0.intoArray(tile, to + 4 * NR); c4_1.intoArray(tile, to + 4 * NR + L);
        c5_0.intoArray(tile, to + 5 * NR); c5_1.intoArray(tile, to + 5 * NR + L);
        c6_0.intoArray(tile, to + 6 * NR); c6_1.intoArray(tile, to + 6 * NR + L);
        c7_0.intoArray(tile, to + 7 * NR); c7_1.intoArray(tile, to + 7 * NR + L);
        c8_0.intoArray(tile, to + 8 * NR); c8_1.intoArray(tile, to + 8 * NR + L);
        c9_0.intoArray(tile, to + 9 * NR); c9_1.intoArray(tile, to + 9 * NR + L);
        c10_0.intoArray(tile, to + 10 * NR); c10_1.intoArray(tile, to + 10 * NR + L);
        c11_0.intoArray(tile, to + 11 * NR); c11_1.intoArray(tile, to + 11 * NR + L);
        storeTile(tile, to, rows, cols, alpha, beta, c, co, ldc);
    }

    /**
     * {@link #kernel} for a tile of at most 8 rows (the last strip of a block whose height is not a
     * multiple of {@link #MR}): 16 accumulators, reading the first 8 rows of the 12-row A
     * micro-panel. Each element of C is the same FMA chain over {@code p} as in {@link #kernel},
     * so the result is bitwise that of the 12-row kernel; only the padding rows are not computed.
     */
    static void kernel8(int kc, float[] pa, int ao, float[] pb, int bo,
                       float[] c, int co, int ldc, float alpha, float beta,
                       int rows, int cols, float[] tile, int to) {
        final VectorSpecies<Float> s = S;
        FloatVector c0_0 = FloatVector.zero(s), c0_1 = FloatVector.zero(s);
        FloatVector c1_0 = FloatVector.zero(s), c1_1 = FloatVector.zero(s);
        FloatVector c2_0 = FloatVector.zero(s), c2_1 = FloatVector.zero(s);
        FloatVector c3_0 = FloatVector.zero(s), c3_1 = FloatVector.zero(s);
        FloatVector c4_0 = FloatVector.zero(s), c4_1 = FloatVector.zero(s);
        FloatVector c5_0 = FloatVector.zero(s), c5_1 = FloatVector.zero(s);
        FloatVector c6_0 = FloatVector.zero(s), c6_1 = FloatVector.zero(s);
        FloatVector c7_0 = FloatVector.zero(s), c7_1 = FloatVector.zero(s);
        int ia = ao, ib = bo;
        for (int p = 0; p < kc; p++, ia += MR, ib += NR) {
            FloatVector b0 = FloatVector.fromArray(s, pb, ib);
            FloatVector b1 = FloatVector.fromArray(s, pb, ib + L);
            FloatVector av;
            av = FloatVector.broadcast(s, pa[ia + 0]); c0_0 = av.fma(b0, c0_0); c0_1 = av.fma(b1, c0_1);
            av = FloatVector.broadcast(s, pa[ia + 1]); c1_0 = av.fma(b0, c1_0); c1_1 = av.fma(b1, c1_1);
            av = FloatVector.broadcast(s, pa[ia + 2]); c2_0 = av.fma(b0, c2_0); c2_1 = av.fma(b1, c2_1);
            av = FloatVector.broadcast(s, pa[ia + 3]); c3_0 = av.fma(b0, c3_0); c3_1 = av.fma(b1, c3_1);
            av = FloatVector.broadcast(s, pa[ia + 4]); c4_0 = av.fma(b0, c4_0); c4_1 = av.fma(b1, c4_1);
            av = FloatVector.broadcast(s, pa[ia + 5]); c5_0 = av.fma(b0, c5_0); c5_1 = av.fma(b1, c5_1);
            av = FloatVector.broadcast(s, pa[ia + 6]); c6_0 = av.fma(b0, c6_0); c6_1 = av.fma(b1, c6_1);
            av = FloatVector.broadcast(s, pa[ia + 7]); c7_0 = av.fma(b0, c7_0); c7_1 = av.fma(b1, c7_1);
        }
        c0_0.intoArray(tile, to + 0 * NR); c0_1.intoArray(tile, to + 0 * NR + L);
        c1_0.intoArray(tile, to + 1 * NR); c1_1.intoArray(tile, to + 1 * NR + L);
        c2_0.intoArray(tile, to + 2 * NR); c2_1.intoArray(tile, to + 2 * NR + L);
        c3_0.intoArray(tile, to + 3 * NR); c3_1.intoArray(tile, to + 3 * NR + L);
        c4_0.intoArray(tile, to + 4 * NR); c4_1.intoArray(tile, to + 4 * NR + L);
        c5_0.intoArray(tile, to + 5 * NR); c5_1.intoArray(tile, to + 5 * NR + L);
        c6_0.intoArray(tile, to + 6 * NR); c6_1.intoArray(tile, to + 6 * NR + L);
        c7_0.intoArray(tile, to + 7 * NR); c7_1.intoArray(tile, to + 7 * NR + L);
        storeTile(tile, to, rows, cols, alpha, beta, c, co, ldc);
    }

    /** The 6x(2*L) micro-kernel of 256-bit vectors ({@link #MR} = 6): 12 accumulators, 15 of AVX2's 16 registers. */
    static void kernel6(int kc, float[] pa, int ao, float[] pb, int bo,
                        float[] c, int co, int ldc, float alpha, float beta,
                        int rows, int cols, float[] tile, int to) {
        final VectorSpecies<Float> s = S;
        FloatVector c0_0 = FloatVector.zero(s), c0_1 = FloatVector.zero(s);
        FloatVector c1_0 = FloatVector.zero(s), c1_1 = FloatVector.zero(s);
        FloatVector c2_0 = FloatVector.zero(s), c2_1 = FloatVector.zero(s);
        FloatVector c3_0 = FloatVector.zero(s), c3_1 = FloatVector.zero(s);
        FloatVector c4_0 = FloatVector.zero(s), c4_1 = FloatVector.zero(s);
        FloatVector c5_0 = FloatVector.zero(s), c5_1 = FloatVector.zero(s);
        for (int p = 0; p < kc; p++) {
            final int ia = ao + p * MR, ib = bo + p * NR; // from the loop counter: C2 hoists the range checks
            FloatVector b0 = FloatVector.fromArray(s, pb, ib);
            FloatVector b1 = FloatVector.fromArray(s, pb, ib + L);
            FloatVector av;
            av = FloatVector.broadcast(s, pa[ia + 0]); c0_0 = av.fma(b0, c0_0); c0_1 = av.fma(b1, c0_1);
            av = FloatVector.broadcast(s, pa[ia + 1]); c1_0 = av.fma(b0, c1_0); c1_1 = av.fma(b1, c1_1);
            av = FloatVector.broadcast(s, pa[ia + 2]); c2_0 = av.fma(b0, c2_0); c2_1 = av.fma(b1, c2_1);
            av = FloatVector.broadcast(s, pa[ia + 3]); c3_0 = av.fma(b0, c3_0); c3_1 = av.fma(b1, c3_1);
            av = FloatVector.broadcast(s, pa[ia + 4]); c4_0 = av.fma(b0, c4_0); c4_1 = av.fma(b1, c4_1);
            av = FloatVector.broadcast(s, pa[ia + 5]); c5_0 = av.fma(b0, c5_0); c5_1 = av.fma(b1, c5_1);
        }
        c0_0.intoArray(tile, to + 0 * NR); c0_1.intoArray(tile, to + 0 * NR + L);
        c1_0.intoArray(tile, to + 1 * NR); c1_1.intoArray(tile, to + 1 * NR + L);
        c2_0.intoArray(tile, to + 2 * NR); c2_1.intoArray(tile, to + 2 * NR + L);
        c3_0.intoArray(tile, to + 3 * NR); c3_1.intoArray(tile, to + 3 * NR + L);
        c4_0.intoArray(tile, to + 4 * NR); c4_1.intoArray(tile, to + 4 * NR + L);
        c5_0.intoArray(tile, to + 5 * NR); c5_1.intoArray(tile, to + 5 * NR + L);
        storeTile(tile, to, rows, cols, alpha, beta, c, co, ldc);
    }

    /** {@link #kernel8} for at most 4 rows: 8 accumulators, the fewest that keep both FMA pipes busy. */
    static void kernel4(int kc, float[] pa, int ao, float[] pb, int bo,
                       float[] c, int co, int ldc, float alpha, float beta,
                       int rows, int cols, float[] tile, int to) {
        final VectorSpecies<Float> s = S;
        FloatVector c0_0 = FloatVector.zero(s), c0_1 = FloatVector.zero(s);
        FloatVector c1_0 = FloatVector.zero(s), c1_1 = FloatVector.zero(s);
        FloatVector c2_0 = FloatVector.zero(s), c2_1 = FloatVector.zero(s);
        FloatVector c3_0 = FloatVector.zero(s), c3_1 = FloatVector.zero(s);
        for (int p = 0; p < kc; p++) {
            final int ia = ao + p * MR, ib = bo + p * NR; // from the loop counter: C2 hoists the range checks
            FloatVector b0 = FloatVector.fromArray(s, pb, ib);
            FloatVector b1 = FloatVector.fromArray(s, pb, ib + L);
            FloatVector av;
            av = FloatVector.broadcast(s, pa[ia + 0]); c0_0 = av.fma(b0, c0_0); c0_1 = av.fma(b1, c0_1);
            av = FloatVector.broadcast(s, pa[ia + 1]); c1_0 = av.fma(b0, c1_0); c1_1 = av.fma(b1, c1_1);
            av = FloatVector.broadcast(s, pa[ia + 2]); c2_0 = av.fma(b0, c2_0); c2_1 = av.fma(b1, c2_1);
            av = FloatVector.broadcast(s, pa[ia + 3]); c3_0 = av.fma(b0, c3_0); c3_1 = av.fma(b1, c3_1);
        }
        c0_0.intoArray(tile, to + 0 * NR); c0_1.intoArray(tile, to + 0 * NR + L);
        c1_0.intoArray(tile, to + 1 * NR); c1_1.intoArray(tile, to + 1 * NR + L);
        c2_0.intoArray(tile, to + 2 * NR); c2_1.intoArray(tile, to + 2 * NR + L);
        c3_0.intoArray(tile, to + 3 * NR); c3_1.intoArray(tile, to + 3 * NR + L);
        storeTile(tile, to, rows, cols, alpha, beta, c, co, ldc);
    }

    /**
     * {@link #kernel} for a tile at most {@link #L} columns wide (the last micro-panel of a narrow
     * product: 10 classes, 100 units): one vector of B per step instead of two, so the padding
     * half of the micro-panel is neither loaded nor multiplied. Bitwise as {@link #kernel}.
     */
    static void kernelHalf(int kc, float[] pa, int ao, float[] pb, int bo,
                       float[] c, int co, int ldc, float alpha, float beta,
                       int rows, int cols, float[] tile, int to) {
        final VectorSpecies<Float> s = S;
        FloatVector c0_0 = FloatVector.zero(s);
        FloatVector c1_0 = FloatVector.zero(s);
        FloatVector c2_0 = FloatVector.zero(s);
        FloatVector c3_0 = FloatVector.zero(s);
        FloatVector c4_0 = FloatVector.zero(s);
        FloatVector c5_0 = FloatVector.zero(s);
        FloatVector c6_0 = FloatVector.zero(s);
        FloatVector c7_0 = FloatVector.zero(s);
        FloatVector c8_0 = FloatVector.zero(s);
        FloatVector c9_0 = FloatVector.zero(s);
        FloatVector c10_0 = FloatVector.zero(s);
        FloatVector c11_0 = FloatVector.zero(s);
        int ia = ao, ib = bo;
        for (int p = 0; p < kc; p++, ia += MR, ib += NR) {
            FloatVector b0 = FloatVector.fromArray(s, pb, ib);
            FloatVector av;
            av = FloatVector.broadcast(s, pa[ia + 0]); c0_0 = av.fma(b0, c0_0);
            av = FloatVector.broadcast(s, pa[ia + 1]); c1_0 = av.fma(b0, c1_0);
            av = FloatVector.broadcast(s, pa[ia + 2]); c2_0 = av.fma(b0, c2_0);
            av = FloatVector.broadcast(s, pa[ia + 3]); c3_0 = av.fma(b0, c3_0);
            av = FloatVector.broadcast(s, pa[ia + 4]); c4_0 = av.fma(b0, c4_0);
            av = FloatVector.broadcast(s, pa[ia + 5]); c5_0 = av.fma(b0, c5_0);
            av = FloatVector.broadcast(s, pa[ia + 6]); c6_0 = av.fma(b0, c6_0);
            av = FloatVector.broadcast(s, pa[ia + 7]); c7_0 = av.fma(b0, c7_0);
            av = FloatVector.broadcast(s, pa[ia + 8]); c8_0 = av.fma(b0, c8_0);
            av = FloatVector.broadcast(s, pa[ia + 9]); c9_0 = av.fma(b0, c9_0);
            av = FloatVector.broadcast(s, pa[ia + 10]); c10_0 = av.fma(b0, c10_0);
            av = FloatVector.broadcast(s, pa[ia + 11]); c11_0 = av.fma(b0, c11_0);
        }
        c0_0.intoArray(tile, to + 0 * NR);
        c1_0.intoArray(tile, to + 1 * NR);
        c2_0.intoArray(tile, to + 2 * NR);
        c3_0.intoArray(tile, to + 3 * NR);
        c4_0.intoArray(tile, to + 4 * NR);
        c5_0.intoArray(tile, to + 5 * NR);
        c6_0.intoArray(tile, to + 6 * NR);
        c7_0.intoArray(tile, to + 7 * NR);
        c8_0.intoArray(tile, to + 8 * NR);
        c9_0.intoArray(tile, to + 9 * NR);
        c10_0.intoArray(tile, to + 10 * NR);
        c11_0.intoArray(tile, to + 11 * NR);
        storeTile(tile, to, rows, cols, alpha, beta, c, co, ldc);
    }

    /**
     * Runs the micro-kernel that fits a tile of {@code rows x cols}: {@link #kernel} for full
     * tiles, and for the ragged edges of a block one that skips the padding, since a block of
     * 64 rows (a 2-thread shard of 128) is 5 full tiles and 4 rows that {@link #kernel} would
     * compute as 12. Every variant computes each element of C with the same FMA chain, so the
     * choice changes no bit.
     */
    static void microTile(int kc, float[] pa, int ao, float[] pb, int bo,
                          float[] c, int co, int ldc, float alpha, float beta,
                          int rows, int cols, float[] tile, int to) {
        if (MR == 6) {
            // Also the tile of 512-bit vectors when forced (forkprop.gemm.mr=6): 12 zmm accumulators.
            if (rows <= 4) kernel4(kc, pa, ao, pb, bo, c, co, ldc, alpha, beta, rows, cols, tile, to);
            else kernel6(kc, pa, ao, pb, bo, c, co, ldc, alpha, beta, rows, cols, tile, to);
            return;
        }
        if (rows <= 4) kernel4(kc, pa, ao, pb, bo, c, co, ldc, alpha, beta, rows, cols, tile, to);
        else if (rows <= 8) kernel8(kc, pa, ao, pb, bo, c, co, ldc, alpha, beta, rows, cols, tile, to);
        else if (cols <= L) kernelHalf(kc, pa, ao, pb, bo, c, co, ldc, alpha, beta, rows, cols, tile, to);
        else kernel(kc, pa, ao, pb, bo, c, co, ldc, alpha, beta, rows, cols, tile, to);
    }

    /**
     * {@code C[0:rows, 0:cols] = alpha * T + beta * C} for the accumulator tile {@code T: [MR][NR]}
     * at {@code to}; with {@code beta == 0} C is written without being read. Whole vectors where a
     * row has them, scalars for the ragged right edge.
     */
    static void storeTile(float[] tile, int to, int rows, int cols, float alpha, float beta,
                          float[] c, int co, int ldc) {
        final VectorSpecies<Float> s = S;
        for (int r = 0; r < rows; r++) {
            final int t = to + r * NR, ci = co + r * ldc;
            int j = 0;
            if (beta == 0f) {
                for (; j + L <= cols; j += L) {
                    FloatVector.fromArray(s, tile, t + j).mul(alpha).intoArray(c, ci + j);
                }
                for (; j < cols; j++) c[ci + j] = alpha * tile[t + j];
            } else {
                for (; j + L <= cols; j += L) {
                    FloatVector.fromArray(s, c, ci + j).mul(beta)
                            .add(FloatVector.fromArray(s, tile, t + j).mul(alpha)).intoArray(c, ci + j);
                }
                for (; j < cols; j++) c[ci + j] = alpha * tile[t + j] + beta * c[ci + j];
            }
        }
    }

    /** {@code C = beta * C}, with {@code beta == 0} writing zeros without reading C. */
    static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            final int ci = cOff + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, ci, ci + n, 0f);
            } else if (beta != 1f) {
                for (int j = 0; j < n; j++) c[ci + j] *= beta;
            }
        }
    }

    /**
     * The depth of the reduction blocks for a product of depth {@code k > 0}: k cut into the fewest
     * blocks of at most {@link #KC_MAX}, each ceil(k / blocks) deep but the last, which takes the
     * rest (784: 262 + 262 + 260; for k in the thousands the last can be much shallower). Cutting
     * 784 (an MNIST layer) at KC leaves a last block 16 deep, a full pass over C (read, add, write)
     * for 16 FMAs per element; cut 262 + 262 + 260, the first layer's forward product
     * (128 x 784 x 1024) runs at 154 GFLOPS against 148-149 (both alternating in one JVM). Blocks up
     * to KC_MAX deep keep the B micro-panel (36 KiB) in L1.
     */
    static int kcStep(int k) {
        if (k <= KC_MAX) return k;
        final int blocks = (k + KC_MAX - 1) / KC_MAX;
        return (k + blocks - 1) / blocks;
    }

    static int roundUp(int x, int to) {
        return (x + to - 1) / to * to;
    }
}
