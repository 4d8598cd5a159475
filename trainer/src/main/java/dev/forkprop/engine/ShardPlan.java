package dev.forkprop.engine;

/**
 * How one step is cut up: the minibatch's rows into shards, shards onto workers, and the flat
 * parameter vector into the slices each worker reduces (the update phase claims its own units, see
 * {@code Engine.updateClaimedUnits}).
 *
 * <pre>
 *   rows   [0 ........................ batch)   shard s: [rowStart(s), rowStart(s+1))
 *   shards [0 ........ shards)                  rank r: [ownStart, ownEnd); its worker w:
 *                                               [shardStart(w), shardStart(w+1)) within them
 *   params [0 ........ size)  in blocks of BLOCK floats; worker w: [sliceStart(w), sliceStart(w+1))
 * </pre>
 *
 * <p>Shards depend only on (batch, shards), never on the thread count: with a fixed shard count
 * every shard's gradient, and so the fixed-order sum of shards, is the same for any number of
 * threads (deterministic mode), and for any number of processes (ranks, see {@link ShardExchange}):
 * rank r of R computes a contiguous share of the shards. Slices are whole blocks, and per-block partial sums are combined
 * in block order, so global reductions are thread-count independent too. Immutable.
 */
public final class ShardPlan {
    /**
     * Reduction block, in floats (16 KiB). Slices are whole blocks, so they start on cache-line
     * boundaries and the per-block norm partials do not depend on the thread count. Small enough
     * that a 784-100-10 model (80k parameters, 5 blocks) still spreads over a few workers.
     */
    public static final int BLOCK = 4096;

    public final int batch, shards, threads, size;
    /** This process's rank and the number of ranks (0 and 1 without MPI). */
    public final int rank, ranks;
    /** The shards this rank computes: [ownStart, ownEnd). */
    public final int ownStart, ownEnd;
    private final int[] rowStart, shardStart, sliceStart;

    public ShardPlan(int batch, int shards, int threads, int size) {
        this(batch, shards, threads, size, 0, 1);
    }

    /** The plan of rank {@code rank} of {@code ranks}, each with {@code threads} workers. */
    public ShardPlan(int batch, int shards, int threads, int size, int rank, int ranks) {
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, got " + batch);
        if (threads <= 0) throw new IllegalArgumentException("threads must be positive, got " + threads);
        if (ranks < 1 || rank < 0 || rank >= ranks) throw new IllegalArgumentException("rank " + rank + " of " + ranks);
        if (shards < threads * ranks) {
            throw new IllegalArgumentException("shards (" + shards + ") must be >= threads (" + threads + ")"
                    + (ranks > 1 ? " x ranks (" + ranks + ")" : ""));
        }
        if (shards > batch) throw new IllegalArgumentException("batch " + batch + " is smaller than the shard count " + shards);
        this.batch = batch;
        this.shards = shards;
        this.threads = threads;
        this.size = size;
        this.rank = rank;
        this.ranks = ranks;
        int[] own = split(shards, ranks);
        this.ownStart = own[rank];
        this.ownEnd = own[rank + 1];
        rowStart = split(batch, shards);
        shardStart = split(ownEnd - ownStart, threads);
        for (int w = 0; w <= threads; w++) shardStart[w] += ownStart;
        int blocks = blocks();
        int[] blockStart = split(blocks, threads);
        sliceStart = new int[threads + 1];
        for (int w = 0; w <= threads; w++) sliceStart[w] = Math.min(size, blockStart[w] * BLOCK);
    }

    /** {@code parts + 1} boundaries cutting {@code n} into near-equal contiguous parts (larger first). */
    static int[] split(int n, int parts) {
        int[] start = new int[parts + 1];
        int base = n / parts, extra = n % parts;
        for (int i = 0; i < parts; i++) start[i + 1] = start[i] + base + (i < extra ? 1 : 0);
        return start;
    }

    public int blocks() { return (size + BLOCK - 1) / BLOCK; }
    public int rowStart(int shard) { return rowStart[shard]; }
    public int rows(int shard) { return rowStart[shard + 1] - rowStart[shard]; }
    public int maxShardRows() { return rows(0); }
    /** Whether this rank computes shard {@code s}. */
    public boolean owns(int s) { return s >= ownStart && s < ownEnd; }
    public int shardStart(int worker) { return shardStart[worker]; }
    public int shardEnd(int worker) { return shardStart[worker + 1]; }
    public int sliceStart(int worker) { return sliceStart[worker]; }
    public int sliceEnd(int worker) { return sliceStart[worker + 1]; }
}
