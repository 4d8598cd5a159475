package dev.forkprop.engine;

import dev.forkprop.kernels.Gemm;
import dev.forkprop.model.Dense;
import dev.forkprop.model.Layer;
import dev.forkprop.model.Network;
import dev.forkprop.kernels.GemmWorkspace;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The matrix products of one shard, offered one at a time to other workers: a worker that has
 * finished its own shards computes chunks of the products of a shard that is still running, so a
 * worker slowed down (on a virtual machine, a vCPU the host takes away for milliseconds) holds the
 * step back by about half of its delay instead of all of it.
 *
 * <p>The shard's owner runs each product through {@link #gemmPacked} (or {@link #gemmTN}), which
 * publishes it as a <em>job</em> cut into chunks of rows of C, claims chunks itself, and returns
 * once every chunk is computed, by itself or by a helper. A helper calls {@link #help} in a loop
 * until {@link #finished} says the owner is done with the shard. The result does not depend on who
 * computed which chunk: a block of rows of C is bitwise that block of the whole product (the
 * {@link Gemm} contract, tested in {@code GemmContractTest}), and {@code gemmPacked} is bitwise
 * {@code gemm}. So sharing changes no bit, for any thread count.
 *
 * <p>Claims: the word {@code claim} holds the job number, the job's chunk count and the next chunk
 * to claim (see {@link #word}). The owner publishes a job by writing it; everyone claims chunk
 * {@code c} with one CAS from {@code (job, count, c)} to {@code (job, count, c + 1)}, so each
 * chunk is claimed exactly once. Job numbers only grow (one owner writes them), so a stale claim
 * attempt fails instead of taking a chunk of a later job. A product of one chunk is not published.
 *
 * <p>Memory consistency effects:
 * <ul>
 *   <li>The owner's writes of the job's inputs (A, the packed B, the fields below) happen-before a
 *       helper's computation of a chunk: the owner writes them and then {@code claim} (volatile);
 *       the helper's successful CAS reads that value or a later one in the synchronization order
 *       of {@code claim}, and reads the fields only after its CAS.</li>
 *   <li>A chunk claimed by a helper keeps the job open (the owner waits for its count), so the
 *       owner cannot overwrite the fields or the inputs of the job while the helper reads them:
 *       the helper's reads happen-before its {@code done} increment, which happens-before the
 *       owner's read of the final count, which precedes the owner's next writes.</li>
 *   <li>A helper's writes of its rows of C happen-before the owner returns from the product:
 *       the helper increments {@code done} (volatile read-modify-write) after writing, the owner
 *       returns only after reading {@code done} equal to the chunk count.</li>
 * </ul>
 *
 * <p>Failure: a helper whose chunk throws records it in {@code helperFailure} (volatile) before it
 * rethrows, and the waiting owner then throws instead of waiting for a count that never comes. An
 * owner whose product fails closes the job (no chunk of it can be claimed after); an owner that
 * fails must also call {@link #finish} (the engine does), so that no helper waits for it.
 * Allocates nothing after construction.
 */
public final class SharedProducts {
    /** Fewest floating-point operations per chunk (about 0.1 ms here): below, sharing costs more than it saves. */
    static final long MIN_CHUNK_FLOPS = 8_000_000;
    /** Chunk heights are multiples of this (the kernel's micro-tile height), except the last. */
    static final int ROW_ALIGN = 12;
    private static final int BITS = 12;
    private static final long MASK = (1L << BITS) - 1;

    /** Current job: (job number << 24) | (chunk count << 12) | next chunk. Written by the owner, CAS by all. */
    private final AtomicLong claim = new AtomicLong();
    /** Chunks of the current job computed, by anyone. Reset by the owner before it publishes a job. */
    private final AtomicInteger done = new AtomicInteger();
    /** The round (see {@link #finish}) in which the owner finished the shard. */
    private volatile long finishedRound = -1;
    /** Set by a helper whose chunk threw; the owner then stops waiting. */
    private volatile Throwable helperFailure;
    /** Owner only: the number of the last published job. */
    private long job;

    // The job, written by the owner before it publishes the job number (see the class comment).
    private boolean transA;
    private int n, k, m, rowsPerChunk, lda, ldc, aOff, pOff, cOff;
    private float[] a, packed, c;

    /** The owner's packing of dY for {@link #gemmTN}: sized for the largest such product of the network. */
    private final float[] packScratch;

    /** Chunking of this board: see {@link #chunkRows}. */
    private final long minChunkFlops;
    private final int rowAlign;

    /** A board for the shards of {@code net} with at most {@code maxRows} rows, packing for {@code gemm}. */
    public SharedProducts(Network net, int maxRows, Gemm gemm) {
        this(Math.toIntExact(scratchFloats(net, maxRows, gemm)), MIN_CHUNK_FLOPS, ROW_ALIGN);
    }

    /**
     * A board with {@code packFloats} floats of packing scratch for {@link #gemmTN}, which cuts
     * products into chunks of at least {@code minChunkFlops} operations and rows a multiple of
     * {@code rowAlign} (tests cut small products into many chunks this way).
     */
    public SharedProducts(int packFloats, long minChunkFlops, int rowAlign) {
        if (minChunkFlops < 1 || rowAlign < 1) throw new IllegalArgumentException("chunks need positive sizes");
        this.packScratch = new float[packFloats];
        this.minChunkFlops = minChunkFlops;
        this.rowAlign = rowAlign;
    }

    private static long scratchFloats(Network net, int maxRows, Gemm gemm) {
        long most = 0;
        for (Layer l : net.layers()) {
            if (l instanceof Dense d) most = Math.max(most, gemm.packedBSize(maxRows, d.out()));
        }
        return most;
    }

    /** Heap bytes of one board for these arguments (its packing scratch), computed without allocating. */
    public static long bytes(Network net, int maxRows, Gemm gemm) {
        return 4 * scratchFloats(net, maxRows, gemm) + 128;
    }

    static long word(long job, int chunks, int next) {
        return job << (2 * BITS) | (long) chunks << BITS | next;
    }

    /**
     * Rows of C per chunk of an m x n x k product: chunks of at least the minimum work (default
     * {@value #MIN_CHUNK_FLOPS} operations), rows a multiple of the alignment (default
     * {@value #ROW_ALIGN}); at least m (one chunk, not shared) for a small product.
     */
    public int chunkRows(int m, int n, int k) {
        long byWork = Math.max(1, 2L * m * n * k / minChunkFlops);
        int rows = (int) ((m + byWork - 1) / byWork);
        rows = (rows + rowAlign - 1) / rowAlign * rowAlign;
        return Math.max(rows, (int) ((m + MASK - 1) / MASK)); // never more chunks than the claim word holds
    }

    /**
     * Owner: {@code C = op(A) * B} ({@code alpha = 1, beta = 0}) with B pre-packed for {@code gemm},
     * computed in chunks of rows of C that helpers may take. Bitwise {@code gemm.gemmPacked}.
     */
    public void gemmPacked(Gemm gemm, GemmWorkspace ws, boolean transA, int m, int n, int k, float[] a, int aOff, int lda,
                           float[] packed, int pOff, float[] c, int cOff, int ldc) {
        final int rows = chunkRows(m, n, k);
        if (rows >= m) { // one chunk: nobody could help
            gemm.gemmPacked(transA, m, n, k, 1f, a, aOff, lda, packed, pOff, 0f, c, cOff, ldc, ws);
            return;
        }
        share(gemm, ws, rows, transA, m, n, k, a, aOff, lda, packed, pOff, c, cOff, ldc);
    }

    /**
     * Owner: {@code C = A^T * B} ({@code alpha = 1, beta = 0}) for an untransposed B (a layer's
     * {@code dW = X^T dY}): packs B once for every chunk, then as {@link #gemmPacked}.
     * Bitwise {@code gemm.gemm(true, false, ...)}.
     */
    public void gemmTN(Gemm gemm, GemmWorkspace ws, int m, int n, int k, float[] a, int aOff, int lda,
                       float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        final int rows = chunkRows(m, n, k);
        if (rows >= m) { // one chunk: nobody could help
            gemm.gemm(true, false, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, 0f, c, cOff, ldc, ws);
            return;
        }
        gemm.packB(false, k, n, 0, n, b, bOff, ldb, packScratch, 0);
        share(gemm, ws, rows, true, m, n, k, a, aOff, lda, packScratch, 0, c, cOff, ldc);
    }

    /** Publishes the product as a job of chunks of {@code rows} rows, computes chunks, waits for the helpers' chunks. */
    private void share(Gemm gemm, GemmWorkspace ws, int rows, boolean transA, int m, int n, int k, float[] a, int aOff,
                       int lda, float[] packed, int pOff, float[] c, int cOff, int ldc) {
        final int chunks = (m + rows - 1) / rows;
        this.transA = transA;
        this.m = m;
        this.n = n;
        this.k = k;
        this.rowsPerChunk = rows;
        this.a = a;
        this.aOff = aOff;
        this.lda = lda;
        this.packed = packed;
        this.pOff = pOff;
        this.c = c;
        this.cOff = cOff;
        this.ldc = ldc;
        done.set(0);
        final long j = ++job;
        claim.set(word(j, chunks, 0)); // publishes the job (see the class comment)
        try {
            int mine = 0;
            for (long w; ((w = claim.get()) & MASK) < chunks; ) {
                if (claim.compareAndSet(w, w + 1)) {
                    chunk(gemm, ws, (int) (w & MASK));
                    mine++;
                }
            }
            if (done.addAndGet(mine) < chunks) {
                // A helper is still computing a chunk: at most one chunk's time, unless its core was taken away.
                while (done.get() < chunks) {
                    Throwable t = helperFailure;
                    if (t != null) throw new IllegalStateException("a helping worker failed: " + t, t);
                    Thread.onSpinWait();
                }
            }
        } catch (Throwable t) {
            // Close the job, so that no helper takes a chunk of it later (in a step after this failed
            // one) into arrays that are in use again. A helper already inside a chunk finishes it before it
            // arrives at the phase barrier, so before any array is reused.
            claim.set(word(j, chunks, chunks));
            throw t;
        }
        this.a = this.packed = this.c = null;
    }

    private void chunk(Gemm gemm, GemmWorkspace ws, int index) {
        final int r0 = index * rowsPerChunk, rows = Math.min(rowsPerChunk, m - r0);
        final int aAt = transA ? aOff + r0 : aOff + r0 * lda;
        gemm.gemmPacked(transA, rows, n, k, 1f, a, aAt, lda, packed, pOff, 0f, c, cOff + r0 * ldc, ldc, ws);
    }

    /**
     * Helper: claims and computes one chunk of the owner's current job, if one is left; true when
     * it computed one. False when there was none to claim (the owner is between products, or every
     * chunk is taken) or another worker claimed it first. A chunk that throws is recorded for the
     * owner and rethrown.
     */
    public boolean help(Gemm gemm, GemmWorkspace ws) {
        final long w = claim.get();
        if ((w & MASK) >= ((w >>> BITS) & MASK)) return false;
        if (!claim.compareAndSet(w, w + 1)) return false;
        try {
            chunk(gemm, ws, (int) (w & MASK));
        } catch (Throwable t) {
            helperFailure = t;
            throw t;
        }
        done.incrementAndGet();
        return true;
    }

    /** Owner: the shard is done (or failed) in {@code round}; helpers stop helping it. */
    public void finish(long round) {
        finishedRound = round;
    }

    /** Owner, before its first product of {@code round}: forgets a failure an earlier round reported. */
    public void begin() {
        helperFailure = null;
    }

    /** True when the owner has finished the shard in {@code round}. */
    public boolean finished(long round) {
        return finishedRound == round;
    }
}
