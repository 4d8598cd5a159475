package dev.forkprop.engine;

import dev.forkprop.data.BatchSlot;
import dev.forkprop.data.Dataset;
import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.Vec;
import dev.forkprop.loss.Loss;
import dev.forkprop.model.Network;
import dev.forkprop.model.ShardContext;
import dev.forkprop.model.Workspace;
import dev.forkprop.optim.GradClip;
import dev.forkprop.optim.Optimizer;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The data-parallel step: T workers of a {@link ForkJoinPool} compute forward and backward over
 * their shards into private gradient buffers, reduce-scatter the buffers, and apply the optimizer
 * to the slice each owns. See {@code package-info.java} for the thread topology.
 *
 * <p>One step is three phases; in each the coordinator opens the {@link PhaseGate} that workers
 * 1..T-1 (long-running pool tasks) wait on, runs worker 0 itself, and waits on the
 * {@link PhaseCountdown} until the last of them has finished (see {@link #run}):
 * <ol>
 *   <li><b>compute</b>: worker w, for each of its shards s, loads the shard's rows from the
 *       prefetched batch (or the dataset), runs forward, the loss and backward, overwriting gradient buffer s;
 *       its matrix products go through shard s's {@link SharedProducts}, and a worker done with
 *       its own shards computes chunks of the products of shards still running (see
 *       {@link Worker#helpOthers}), so that a worker whose core the machine slows down is helped
 *       instead of waited for. Which worker computes a chunk changes no bit;</li>
 *   <li><b>reduce</b>: worker w sums buffers 0..S-1, in that order, over its slice into buffer 0
 *       and writes the sum of squares of each of its blocks;</li>
 *   <li><b>update</b>: the workers claim the update units of the trainable region one at a time
 *       (an atomic counter, see {@link #updateClaimedUnits}), apply the optimizer to each and pack
 *       its weights for the kernel ({@link WeightPacks#packUnit}) right after, while they are in
 *       cache: the packed panels every worker's products read next step.</li>
 * </ol>
 * A fourth, <b>pack</b> (worker w packs its share of the panels from {@link #params}), runs
 * only when the packs are not those of the parameters: before the first step, after
 * {@link #paramsWritten()}, after a failed update, and before every evaluation; packing inside the
 * update instead of in a phase of its own saves a barrier and a second reading of the weights.
 * Between phases the calling thread (the coordinator) combines the per-shard losses and per-block
 * norm partials in fixed order, decides whether the step is finite, and fixes the optimizer's
 * scalars. No locks and no CAS on data (the one CAS, in {@link SharedProducts}, claims a block of
 * a product for one thread): every array index has one writer per phase.
 *
 * <p>Thread contract: {@link #step} and {@link #evaluate} are called by one coordinator thread at
 * a time. Allocation: everything is sized in the constructor and on each worker's first task;
 * steps allocate nothing after that.
 *
 * <p>Memory consistency effects: actions of the coordinator before {@code gate.open()} happen-before
 * a worker's phase (volatile phase counter), and actions of a worker in a phase happen-before the
 * coordinator returns from it (atomic countdown, then a volatile flag). Those two edges
 * are the phase barriers: weight panels packed in update (or pack) are visible in the next compute (and eval), gradient
 * buffers written in compute are visible in reduce, buffer 0 and
 * the block partials written in reduce are visible to the coordinator and to update, and the
 * optimizer scalars set by the coordinator are visible in update.
 */
public final class Engine implements AutoCloseable {
    /** Barrier spin time before parking when there is a core per worker. */
    static final long SPIN_NANOS = 2_000_000;
    /** Padding, in doubles, between per-shard / per-worker slots (128 bytes: two cache lines). */
    private static final int PAD = 16;

    private final Network net;
    private final Loss loss;
    private final Optimizer opt;
    private final GradClip clip;
    private final ShardPlan plan;
    private final ForkJoinPool pool;
    private final Gemm gemm;
    private final long seed;
    private final int targetWidth;

    /**
     * The parameters. Write them before the first step or evaluation; to write them later, call
     * {@link #paramsWritten()} afterwards, since the packed weights are rebuilt from them only then
     * (and by each update).
     */
    public final float[] params;
    public final float[] buffers;
    /**
     * The weights packed for the kernel: packed unit by unit right after the update phase changed
     * them (see {@link #updateUnits}), and in a phase of their own before the first step, after
     * {@link #paramsWritten()} and before an evaluation.
     */
    private final WeightPacks packs;
    /** True when {@link #packs} hold the weights in {@link #params}. Coordinator only. */
    private boolean packsCurrent;
    /** Boundaries of the update units ({@link WeightPacks#units}). */
    private final int[] updateUnits;
    /**
     * The next update unit to claim in the update phase: reset by the coordinator before it opens
     * the phase (HB: gate.open), taken by each worker with one atomic increment per unit.
     */
    private final AtomicInteger nextUnit = new AtomicInteger();

    /**
     * boards[s]: shard s's products, which workers done with their own shards help compute (see
     * {@link SharedProducts}); null when the workers outnumber the cores or there is one worker.
     */
    private final SharedProducts[] boards;
    /** How long a helper waits for a product to help with before it leaves for the barrier. */
    static final long HELP_WAIT_NANOS = 10_000_000;
    /**
     * Compute phases so far: the coordinator counts it up before each (HB: gate.open), and owners
     * mark their shards finished with it, so that a board needs no reset between steps.
     */
    private long round;

    /**
     * grads[s]: shard s's private gradient buffer, same layout as params. The sum goes into
     * {@link #reduced}: grads[0], or with ranks that allreduce, this rank's first shard's buffer.
     */
    private final float[][] grads;
    /** The buffers the reduce phase sums, in shard order, and the buffer it sums them into (set before the first reduce). */
    private float[][] reduceSources;
    private float[] reduced;
    /** {reduced}: the one source of the norm phase, which squares the allreduced sum without storing it. */
    private float[][] reducedOnly;
    /** The other ranks, or null in a single process. */
    private final ShardExchange exchange;
    /**
     * Off-heap copy of every shard's gradient, [shards][size], that exact ranks allgather; unused
     * otherwise (the allreduce reads the Java array), null in a single process. Freed by {@link #close}.
     */
    private final MemorySegment wire;
    private final Arena wireArena;
    /** Per shard: its loss and correct count, as this rank sees them after the scalar allreduce (0 for shards of other ranks before). */
    private final double[] shardScalars;
    private final double[] shardLoss;
    private final int[] shardCorrect;
    private final double[] blockSq;

    private static final int COMPUTE = 0, REDUCE = 1, UPDATE = 2, EVAL = 3, PACK = 4, GATHERED = 5, NORM = 6;
    private static final String[] PHASES = {"compute", "reduce", "update", "eval", "pack", "gathered", "norm"};

    private final Worker[] workers;
    /** The phase barrier: workers arrive, the coordinator parks until the last one has. */
    private final PhaseCountdown barrier;
    /** The phase start signal the pool workers wait on. */
    private final PhaseGate gate;
    private boolean started;
    private int phaseKind;
    /** Coordinator time spent at the barriers in the current step (see {@link StepResult#waitNanos}). */
    private long waitNanos;

    // Step inputs, written by the coordinator before invoking a phase (HB: pool submission).
    private Dataset data;
    private int[] order;
    private int batchStart;
    /** The prefetched batch of the current step, or null when the step reads {@link #data} itself. */
    private BatchSlot slot;
    private long stepNo;
    private int evalChunks, evalRows, evalSize;
    /** Test hook: throw in worker {@link #faultWorker} at step {@link #faultStep} (0: never). */
    private long faultStep;
    private int faultWorker;
    /** Test hook: the fault ends worker {@link #faultWorker}'s pool task without arriving (a lost worker). */
    private boolean faultKillsTask;
    /** Set when a phase was abandoned (a worker was lost): the engine can only be closed. */
    private boolean broken;
    /** The coordinator's check while parked at a barrier (see {@link #checkWorkersAlive}); one instance, no allocation. */
    private final Runnable aliveCheck = this::checkWorkersAlive;

    /** A step whose mean loss is above this is bad, like a non-finite one (see {@link #maxLoss(double)}). */
    private double maxLoss = Double.POSITIVE_INFINITY;

    /** Result of the last step or evaluation, overwritten each time (no allocation). */
    public final StepResult last = new StepResult();

    public Engine(Network net, Loss loss, Optimizer opt, GradClip clip, Gemm gemm,
                  int batch, int shards, int threads, long seed, int targetWidth) {
        this(net, loss, opt, clip, gemm, batch, shards, threads, seed, targetWidth, null);
    }

    /**
     * An engine that is one rank of a multi-process run: it computes shards
     * {@link ShardPlan#ownStart} to {@link ShardPlan#ownEnd} of each global batch of
     * {@code batch} rows, and combines gradients with the other ranks through {@code exchange}
     * (null: a single process). With an exact exchange the shards must divide evenly among the ranks.
     */
    public Engine(Network net, Loss loss, Optimizer opt, GradClip clip, Gemm gemm,
                  int batch, int shards, int threads, long seed, int targetWidth, ShardExchange exchange) {
        this.net = net;
        this.loss = loss;
        this.opt = opt;
        this.clip = clip;
        this.gemm = gemm;
        this.seed = seed;
        this.targetWidth = targetWidth;
        int size = net.layout().size();
        if (opt.paramCount() != size) {
            throw new IllegalArgumentException("optimizer sized for " + opt.paramCount() + " parameters, layout has " + size);
        }
        this.exchange = exchange;
        int rank = exchange == null ? 0 : exchange.rank(), ranks = exchange == null ? 1 : exchange.ranks();
        if (exchange != null && exchange.exact() && shards % ranks != 0) {
            throw new IllegalArgumentException("--shards " + shards + " must be a multiple of the " + ranks + " ranks in deterministic mode");
        }
        this.plan = new ShardPlan(batch, shards, threads, size, rank, ranks);
        this.params = net.newParams();
        this.buffers = net.newBuffers();
        this.packs = new WeightPacks(net, gemm);
        this.grads = new float[shards][];
        if (exchange != null && exchange.exact()) {
            // Other ranks' shards arrive here before the reduce (the workers allocate their own).
            for (int s = 0; s < shards; s++) if (!plan.owns(s)) grads[s] = net.newParams();
        }
        this.shardScalars = new double[2 * shards + 1];
        if (exchange != null && exchange.exact()) {
            // Every shard's buffer side by side, for the allgather. Ranks that allreduce work on the
            // summed Java array itself: copying 7.4 MB out and back cost more than the allreduce of
            // 784-1024-1024-10.
            this.wireArena = Arena.ofShared();
            this.wire = wireArena.allocate(4L * size * shards, 64);
        } else {
            this.wireArena = null;
            this.wire = null;
        }
        this.shardLoss = new double[shards * PAD];
        this.shardCorrect = new int[shards * PAD * 2];
        this.blockSq = new double[plan.blocks()];
        this.updateUnits = packs.units(net.layout().trainable());
        // Spin for up to 2 ms at the barriers when every worker has a core of its own (waking a
        // parked thread costs 50-100 us and more on a VM, per phase); never spin when the workers
        // outnumber the cores, since a spinning thread would take a core from one that works.
        long spin = threads <= Runtime.getRuntime().availableProcessors() ? SPIN_NANOS : 0;
        this.barrier = new PhaseCountdown(spin);
        this.gate = new PhaseGate(threads, spin);
        if (threads > 1 && spin > 0) {
            this.boards = new SharedProducts[shards];
            for (int s = 0; s < shards; s++) boards[s] = new SharedProducts(net, plan.maxShardRows(), gemm);
        } else {
            this.boards = null;
        }
        this.workers = new Worker[threads];
        for (int w = 0; w < threads; w++) workers[w] = new Worker(w);
        this.pool = new ForkJoinPool(Math.max(1, threads - 1), p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("forkprop-worker-" + t.getPoolIndex());
            return t;
        }, null, false);
    }

    /**
     * Heap bytes an engine for this configuration allocates, plus the optimizer's
     * {@code optimizerStates} arrays, computed without allocating: parameters, buffers, one
     * gradient buffer per shard, the weight packs, per worker an activation workspace and a GEMM
     * workspace, and with more than one worker each shard's {@link SharedProducts} (counted even
     * when helping is off for want of cores: an upper bound). The CLI compares it with the free heap before it builds anything, so that a
     * model too large for the heap is a one-line error instead of an OutOfMemoryError. Throws
     * IllegalArgumentException when a single buffer would not fit in an array.
     */
    public static long requiredBytes(Network net, Gemm gemm, int optimizerStates, int batch, int shards, int threads,
                                     int targetWidth) {
        ShardPlan plan = new ShardPlan(batch, shards, threads, net.layout().size());
        long size = net.layout().size();
        long perWorker = Workspace.bytes(net, plan.maxShardRows(), targetWidth) + gemm.newWorkspace().bytes();
        return 4 * (size * (1L + shards + optimizerStates) + net.bufferSize()) + WeightPacks.bytes(net, gemm)
                + threads * perWorker + (threads > 1 ? shards * SharedProducts.bytes(net, plan.maxShardRows(), gemm) : 0);
    }

    /**
     * One worker's part of the update phase: claims update units from {@code next} until none is
     * left, and for each applies the optimizer to its parameters and packs its weights right
     * after, while they are in this core's cache. Every unit is claimed exactly once, by one
     * atomic increment ({@code getAndIncrement}, no retry loop); which worker claims which unit
     * changes nothing in the result, since the update is elementwise and units never share a
     * packed float. So a worker slowed by the machine simply claims fewer units. Allocates nothing.
     *
     * <p>Memory consistency effects: the caller resets {@code next} and publishes the phase's
     * inputs before the workers start (the engine's gate); the parameters and packs written here
     * are published by the worker's arrival at the phase barrier.
     */
    public static void updateClaimedUnits(Optimizer opt, WeightPacks packs, float[] params, float[] grad, int[] units,
                                          AtomicInteger next) {
        final int count = units.length - 1;
        for (int u; (u = next.getAndIncrement()) < count; ) {
            final int lo = units[u], hi = units[u + 1];
            opt.update(params, grad, lo, hi);
            packs.packUnit(params, lo, hi);
        }
    }

    /**
     * Marks the packed weights stale after a caller wrote {@link #params} between steps (a restore
     * from a snapshot, a test); the next step or evaluation repacks them. Coordinator thread.
     */
    public void paramsWritten() {
        packsCurrent = false;
    }

    /**
     * Chunks of products that workers computed for other workers' shards so far (see
     * {@link SharedProducts}): 0 when the workers outnumber the cores or there is one. Coordinator
     * thread, between steps (each worker's count is published by its arrival at the barrier).
     */
    public long helpedChunks() {
        long n = 0;
        for (Worker w : workers) n += w.helped;
        return n;
    }

    public ShardPlan plan() { return plan; }
    public Network network() { return net; }

    /**
     * Failure drill: makes worker {@code worker}'s compute phase throw at step {@code step}
     * (tests, and the hidden {@code train --fault-at}). Coordinator thread, before the step.
     */
    public void injectFault(long step, int worker) {
        if (worker < 0 || worker >= plan.threads) throw new IllegalArgumentException("no worker " + worker);
        this.faultStep = step;
        this.faultWorker = worker;
        this.faultKillsTask = false;
    }

    /**
     * Failure drill for a lost worker (tests): at step {@code step}, pool worker {@code worker}'s
     * task ends with an exception outside any phase, so it never arrives at the barrier; the
     * coordinator must notice and fail the step instead of waiting forever. Workers 1..T-1 only
     * (worker 0 is the coordinator itself).
     */
    public void injectLostWorker(long step, int worker) {
        if (worker < 1 || worker >= plan.threads) throw new IllegalArgumentException("no pool worker " + worker);
        this.faultStep = step;
        this.faultWorker = worker;
        this.faultKillsTask = true;
    }

    /**
     * One training step on samples {@code order[batchStart, batchStart + batch)} of {@code data}.
     * Returns false when the loss or gradient was not finite, or the loss was above
     * {@link #maxLoss(double)}: then the update is skipped and the
     * parameters are untouched. A worker's exception is rethrown here (wrapped in
     * {@link WorkerFailure}) after all tasks of the phase have ended; parameters are then those
     * of the last completed step when the failure happened before the update phase.
     */
    public boolean step(Dataset data, int[] order, int batchStart, long step, float lr) {
        this.data = data;
        this.order = order;
        this.batchStart = batchStart;
        this.stepNo = step;
        StepResult r = last;
        long t0 = System.nanoTime();
        waitNanos = 0;
        if (!packsCurrent) {
            run(PACK);
            packsCurrent = true;
        }
        round++;
        run(COMPUTE);
        if (slot != null) slot.release(); // every worker has copied its rows out (HB: arrive -> await in run)
        if (reduced == null) sourcesOfTheSum(); // the workers have allocated their shards' buffers
        long t1 = System.nanoTime();
        long exchanged = 0;
        for (int s = 0; s < plan.shards; s++) {
            shardScalars[2 * s] = plan.owns(s) ? shardLoss[s * PAD] : 0;
            shardScalars[2 * s + 1] = plan.owns(s) ? shardCorrect[s * PAD] : 0;
        }
        shardScalars[2 * plan.shards] = 0;
        if (exchange != null && exchange.exact()) {
            long e0 = System.nanoTime();
            exchange.allreduceSum(shardScalars); // x + 0 + ... + 0 = x: each shard's own values, exactly
            exchange.allgather(wire, (long) plan.size * (plan.ownEnd - plan.ownStart));
            exchanged += System.nanoTime() - e0;
            run(GATHERED);
        }
        run(REDUCE);
        double sumSq = 0;
        for (double b : blockSq) sumSq += b;
        if (exchange != null && !exchange.exact()) {
            long e0 = System.nanoTime();
            shardScalars[2 * plan.shards] = sumSq; // this rank's sum's squared norm
            exchange.allreduceSum(reduced, plan.size);
            exchange.allreduceSum(shardScalars);
            exchanged += System.nanoTime() - e0;
            if (clip.enabled()) {
                run(NORM); // the clip needs the norm of the global sum
                sumSq = 0;
                for (double b : blockSq) sumSq += b;
            } else {
                // Without a clip the norm only decides whether the step is finite, and a sum of the
                // ranks' squared norms is finite exactly when the global sum is (NaN and infinity
                // propagate through the allreduce): no pass over the gradient for it.
                sumSq = shardScalars[2 * plan.shards];
            }
        }
        double lossSum = 0;
        int correct = 0;
        for (int s = 0; s < plan.shards; s++) {
            lossSum += shardScalars[2 * s];
            correct += (int) shardScalars[2 * s + 1];
        }
        long t2 = System.nanoTime();
        // A bad step changes nothing: its loss or gradient is not finite, or the loss has exploded
        // past maxLoss (Adam at a huge lr keeps everything finite while the loss reaches 1e20).
        boolean finite = Double.isFinite(lossSum) && Double.isFinite(sumSq) && lossSum / plan.batch <= maxLoss;
        if (finite) {
            opt.beginStep(step, lr, clip.gradScale(sumSq, 1f / plan.batch));
            packsCurrent = false; // until every unit is updated and packed
            nextUnit.set(0);
            run(UPDATE);
            packsCurrent = true;
            net.commitStatistics(reduced, plan.shards, buffers);
        }
        long t3 = System.nanoTime();
        r.loss = lossSum / plan.batch;
        r.correct = correct;
        r.samples = plan.batch;
        r.gradNorm = Math.sqrt(sumSq) / plan.batch;
        r.computeNanos = t1 - t0;
        r.reduceNanos = t2 - t1 - exchanged;
        r.exchangeNanos = exchanged;
        r.updateNanos = t3 - t2;
        r.waitNanos = waitNanos;
        r.finite = finite;
        return finite;
    }

    /**
     * Fixes what the reduce phase sums: every shard into grads[0], or, when ranks allreduce their
     * sums, this rank's shards into its first one. Once, after the first compute phase has
     * allocated the buffers. Coordinator thread.
     */
    private void sourcesOfTheSum() {
        if (exchange != null && !exchange.exact()) {
            reduceSources = java.util.Arrays.copyOfRange(grads, plan.ownStart, plan.ownEnd);
        } else {
            reduceSources = grads;
        }
        reduced = reduceSources[0];
        reducedOnly = new float[][] {reduced};
    }

    /**
     * One training step on a prefetched batch: as {@link #step(Dataset, int[], int, long, float)},
     * with row r of the batch read from row r of {@code batch} (filled by the loader thread, see
     * {@link dev.forkprop.data.SpscBatchPrefetch}), and {@code batch} released back to its ring as
     * soon as the compute phase has copied it out, before reduce. Coordinator thread, which must
     * be the one that took {@code batch}.
     */
    public boolean step(BatchSlot batch, long step, float lr) {
        if (batch.rows != plan.batch || batch.featureDim != net.in()
                || (batch.labels.length == 0 && batch.targetDim != targetWidth)) {
            throw new IllegalArgumentException("batch of " + batch.rows + " rows x " + batch.featureDim + " features (target width "
                    + batch.targetDim + "), the engine takes " + plan.batch + " x " + net.in() + " (" + targetWidth + ")");
        }
        slot = batch;
        try {
            return step(null, null, 0, step, lr);
        } finally {
            slot = null;
        }
    }

    /**
     * Steps whose mean loss exceeds {@code limit} are bad: their update is skipped, as for a
     * non-finite loss or gradient. Default: no limit. Coordinator thread, between steps.
     */
    public void maxLoss(double limit) {
        if (!(limit > 0)) throw new IllegalArgumentException("max loss must be positive, got " + limit);
        this.maxLoss = limit;
    }

    public double maxLoss() {
        return maxLoss;
    }

    /** Loss (mean) and correct count over all of {@code data}, in eval mode; result in {@link #last}. */
    public StepResult evaluate(Dataset data) {
        this.data = data;
        this.evalSize = data.size();
        this.evalRows = plan.maxShardRows();
        this.evalChunks = (evalSize + evalRows - 1) / evalRows;
        run(PACK); // always: a caller may have written params before evaluating
        packsCurrent = true;
        run(EVAL);
        double lossSum = 0;
        long correct = 0;
        for (int w = 0; w < plan.threads; w++) {
            lossSum += workers[w].evalLoss;
            correct += workers[w].evalCorrect;
        }
        last.loss = lossSum / Math.max(1, evalSize);
        last.correct = (int) correct;
        last.samples = evalSize;
        return last;
    }

    /**
     * Runs one phase on every worker and waits for all of them: the phase barrier.
     *
     * <p>Not {@code pool.invoke} or {@code invokeAll}: a thread that blocks in
     * {@code ForkJoinTask.join} allocates a wait node (measured: ~10 bytes per step on average),
     * so the coordinator submits each worker's task itself and parks; the last worker to finish
     * unparks it. No locks: one atomic countdown per phase.
     */
    private void run(int kind) {
        if (broken) throw new IllegalStateException("the engine lost a worker in an earlier step; close it");
        phaseKind = kind;
        barrier.reset(workers.length);
        for (Worker w : workers) w.failure = null;
        if (!started) {
            // Workers 1..T-1 are long-running pool tasks looping on the gate (see PhaseGate).
            for (int w = 1; w < workers.length; w++) pool.execute(workers[w]);
            started = true;
        }
        // HB: the coordinator's writes (step inputs, optimizer scalars, phaseKind) -> gate.open()
        // -> a worker's gate.await() returning.
        gate.open();
        // The coordinator is worker 0: T threads in all, so on T cores nobody waits for a core.
        workers[0].runPhase();
        long own = System.nanoTime();
        // HB: each worker's writes -> barrier.arrive() -> barrier.await() returns (PhaseCountdown).
        // While parked, every 100 ms: is each pool worker's task still running? (checkWorkersAlive)
        barrier.await(aliveCheck);
        waitNanos += System.nanoTime() - own;
        for (Worker w : workers) {
            if (w.failure != null) {
                throw new WorkerFailure("worker " + w.id + " failed in the " + PHASES[kind] + " phase at step "
                        + stepNo + ": " + w.failure, w.failure);
            }
        }
    }

    /**
     * Throws {@link WorkerFailure} when a pool worker's task has ended while the coordinator waits
     * for it at a barrier: every path through a phase arrives (see {@link Worker#runPhase}), so
     * only an error outside the phases (or a killed thread) gets here, and that worker would never
     * arrive. {@code isDone} is a volatile read of the task's status, written when the task ended.
     */
    private void checkWorkersAlive() {
        for (int w = 1; w < workers.length; w++) {
            Worker k = workers[w];
            if (k.isDone()) {
                broken = true;
                Throwable cause = k.getException();
                throw new WorkerFailure("worker " + w + " was lost in the " + PHASES[phaseKind] + " phase at step " + stepNo
                        + " (its thread ended without finishing the phase)" + (cause == null ? "" : ": " + cause), cause);
            }
        }
    }

    @Override
    public void close() {
        gate.close();
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (wireArena != null) wireArena.close();
    }

    /** Worker w's task and its private state, created on first use by the thread running it. */
    private final class Worker extends RecursiveAction {
        final int id;
        Throwable failure;
        Workspace ws;
        ShardContext context;
        EngineProducts products;
        double evalLoss;
        long evalCorrect;
        /** Chunks of other workers' products this worker computed, over the engine's life. */
        long helped;

        Worker(int id) {
            this.id = id;
        }

        /** Pool task of workers 1..T-1: one phase per opening of the gate, until it closes. */
        @Override
        protected void compute() {
            long seen = 0;
            while (true) {
                seen = gate.await(id, seen);
                if (gate.isClosed()) return;
                if (faultKillsTask && stepNo == faultStep && id == faultWorker && phaseKind == COMPUTE) {
                    throw new IllegalStateException("injected loss of worker " + id + " at step " + stepNo);
                }
                runPhase();
            }
        }

        /** Runs this worker's part of the current phase and arrives, on whichever thread calls it. */
        void runPhase() {
            try {
                switch (phaseKind) {
                    case COMPUTE -> computeShards();
                    case REDUCE -> reduceSlice();
                    case UPDATE -> updateSlice();
                    case PACK -> packs.pack(params, id, plan.threads);
                    case GATHERED -> copyGatheredShards();
                    case NORM -> normSlice();
                    default -> evaluateChunks();
                }
            } catch (Throwable t) {
                failure = t; // published by the decrement below
            } finally {
                barrier.arrive();
            }
        }

        private void ensureState() {
            if (ws == null) {
                // Allocated by the first thread to run this worker, for locality.
                ws = net.newWorkspace(plan.maxShardRows(), targetWidth);
                products = new EngineProducts(gemm, packs);
                context = new ShardContext(products);
                context.params = params;
                context.buffers = buffers;
                context.seed = seed;
                for (int s = plan.shardStart(id); s < plan.shardEnd(id); s++) {
                    grads[s] = net.newParams();
                }
            }
        }

        private void computeShards() {
            final long r = round;
            final boolean share = boards != null;
            try {
                ensureState();
                if (stepNo == faultStep && id == faultWorker && !faultKillsTask) {
                    throw new IllegalStateException("injected fault in worker " + id + " at step " + stepNo);
                }
                final ShardContext p = context;
                final Workspace w = ws;
                final int in = net.in(), out = net.out();
                p.train = true;
                p.step = stepNo;
                for (int s = plan.shardStart(id); s < plan.shardEnd(id); s++) {
                    final int rows = plan.rows(s), r0 = plan.rowStart(s);
                    if (share) {
                        products.shard = boards[s];
                        boards[s].begin();
                    }
                    load(w, r0, rows, in, out);
                    p.rowBase = r0;
                    net.forward(p, w, rows);
                    shardLoss[s * PAD] = loss.compute(w, rows, out, true);
                    shardCorrect[s * PAD] = Math.max(0, loss.correct(w, rows, out));
                    net.backward(p, w, rows, grads[s]);
                    if (share) boards[s].finish(r); // hands nothing over: helpers only stop looking at shard s
                    if (wire != null) {
                        // Out to the other ranks: the coordinator's allgather reads it after the barrier.
                        MemorySegment.copy(grads[s], 0, wire, ValueLayout.JAVA_FLOAT, 4L * plan.size * s, plan.size);
                    }
                }
            } catch (Throwable t) {
                // A failed owner finishes its shards too, so that no helper waits for them.
                if (share) for (int s = plan.shardStart(id); s < plan.shardEnd(id); s++) boards[s].finish(r);
                throw t;
            } finally {
                if (products != null) products.shard = null;
            }
            if (share) helpOthers(r);
        }

        /**
         * Computes chunks of other workers' products (see {@link SharedProducts}) until every
         * other shard of this round is finished, or none had a chunk to offer for
         * {@link #HELP_WAIT_NANOS} (its owner may be lost: the barrier's check finds that).
         */
        private void helpOthers(long r) {
            // This rank's shards only: the others are computed, and finished, in other processes.
            final int lo = plan.ownStart, hi = plan.ownEnd, first = plan.shardEnd(id) == hi ? lo : plan.shardEnd(id);
            long idleSince = 0;
            for (int spins = 0; ; ) {
                boolean open = false, worked = false;
                for (int i = lo, s = first; i < hi; i++, s = s + 1 == hi ? lo : s + 1) {
                    final SharedProducts b = boards[s];
                    if (b.finished(r)) continue; // own shards included
                    open = true;
                    if (b.help(gemm, products.ws)) {
                        worked = true;
                        helped++;
                    }
                }
                if (!open) return;
                if (worked) {
                    idleSince = 0;
                } else if (idleSince == 0) {
                    idleSince = System.nanoTime();
                } else if ((++spins & 63) == 0 && System.nanoTime() - idleSince > HELP_WAIT_NANOS) {
                    return;
                }
                Thread.onSpinWait();
            }
        }

        private void load(Workspace w, int r0, int rows, int in, int out) {
            final BatchSlot b = slot;
            if (b != null) {
                // The shard's rows are contiguous in the slot: rows [r0, r0 + rows) of [batch, in].
                // HB: the loader's writes -> publish -> the coordinator's take() -> gate.open() -> here.
                b.copyFeatures(r0, rows, w.input(), 0); // image rows: normalised here, in parallel
                if (b.labels.length > 0) System.arraycopy(b.labels, r0, w.labels, 0, rows);
                else System.arraycopy(b.targets, r0 * targetWidth, w.targets, 0, rows * targetWidth);
                return;
            }
            final Dataset d = data;
            final boolean cls = d.isClassification();
            for (int r = 0; r < rows; r++) {
                int sample = order[batchStart + r0 + r];
                d.features(sample, w.input(), r * in);
                if (cls) {
                    w.labels[r] = d.label(sample);
                } else {
                    d.target(sample, w.targets, r * targetWidth);
                }
            }
        }

        private void reduceSlice() {
            // One pass per block: sum the shards into buffer 0 and square the sums (the block's
            // norm partial covers its trainable part only; statistics are summed, not normed).
            final int lo = plan.sliceStart(id), hi = plan.sliceEnd(id), trainable = net.layout().trainable();
            final float[][] srcs = reduceSources;
            final int shards = srcs.length;
            final float[] dst = reduced;
            for (int b = lo / ShardPlan.BLOCK, from = lo; from < hi; b++, from += ShardPlan.BLOCK) {
                final int to = Math.min(hi, from + ShardPlan.BLOCK), normed = Math.max(from, Math.min(to, trainable));
                blockSq[b] = Vec.sumIntoSquares(srcs, shards, from, normed, dst);
                if (normed < to) Vec.sumInto(srcs, shards, normed, to, dst);
            }
        }

        /** Copies this worker's slice of every other rank's shards from the gathered wire into their buffers. */
        private void copyGatheredShards() {
            final int lo = plan.sliceStart(id), hi = plan.sliceEnd(id);
            for (int s = 0; s < plan.shards; s++) {
                if (plan.owns(s)) continue;
                MemorySegment.copy(wire, ValueLayout.JAVA_FLOAT, 4L * ((long) plan.size * s + lo), grads[s], lo, hi - lo);
            }
        }

        /** Recomputes this worker's blocks' sums of squares of the allreduced sum. */
        private void normSlice() {
            final int lo = plan.sliceStart(id), hi = plan.sliceEnd(id), trainable = net.layout().trainable();
            final float[] dst = reduced;
            for (int b = lo / ShardPlan.BLOCK, from = lo; from < hi; b++, from += ShardPlan.BLOCK) {
                final int to = Math.min(hi, from + ShardPlan.BLOCK), normed = Math.max(from, Math.min(to, trainable));
                blockSq[b] = Vec.sumIntoSquares(reducedOnly, 1, from, normed, dst);
            }
        }

        /**
         * Updates the units this worker claims and packs each right after its update, while its
         * weights are in this core's cache: the next step needs no pack phase of its own.
         */
        private void updateSlice() {
            updateClaimedUnits(opt, packs, params, reduced, updateUnits, nextUnit);
        }

        private void evaluateChunks() {
            ensureState();
            final ShardContext p = context;
            final Workspace w = ws;
            final int in = net.in(), out = net.out();
            p.train = false;
            double lossSum = 0;
            long ok = 0;
            for (int c = id; c < evalChunks; c += plan.threads) {
                final int r0 = c * evalRows, rows = Math.min(evalRows, evalSize - r0);
                final Dataset d = data;
                for (int r = 0; r < rows; r++) {
                    d.features(r0 + r, w.input(), r * in);
                    if (d.isClassification()) w.labels[r] = d.label(r0 + r);
                    else d.target(r0 + r, w.targets, r * targetWidth);
                }
                p.rowBase = r0;
                net.forward(p, w, rows);
                lossSum += loss.compute(w, rows, out, false);
                ok += Math.max(0, loss.correct(w, rows, out));
            }
            evalLoss = lossSum;
            evalCorrect = ok;
        }
    }
}
