package dev.forkprop.data;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

/**
 * Batch prefetch: one loader thread fills the preallocated {@link BatchSlot}s of an LMAX Disruptor
 * ring with the minibatches of a run, in the seeded shuffled order of each epoch and normalised,
 * while the trainer computes on earlier ones. Single producer (the loader thread, which this class
 * owns), single consumer (the training coordinator, the first thread to call {@link #take()};
 * checked). Not a general data pipeline: no augmentation, no multiple loaders, one pass over a
 * planned number of batches.
 *
 * <p>The order: epoch {@code e} visits the samples in {@link #shuffle shuffle(order, seed + e)}
 * order, batch {@code b} of it is samples {@code order[b * batch, (b + 1) * batch)}, and the last
 * incomplete batch is dropped. A run that starts at batch {@code batchesDone} of epoch
 * {@code epoch} (a resumed one) gets exactly the batches the uninterrupted run would have had
 * from there on.
 *
 * <p>Consumer (one thread):
 * <pre>{@code
 *   try (SpscBatchPrefetch p = SpscBatchPrefetch.start(train, batch, seed, epoch, batchesDone, count)) {
 *       for (...) {
 *           BatchSlot b = p.take();   // waits only when the loader is behind; BatchLoaderFailure if it failed
 *           ... read b's rows ...
 *           b.release();              // the loader may now refill it
 *       }
 *   }                                 // close: stops and joins the loader, never waits on it forever
 * }</pre>
 * {@code take} and {@code release} allocate nothing and take no Java locks ({@code release} may unpark
 * the loader: one futex wake); nor does the loader allocate after
 * the constructor (the shuffle draws from an inline SplitMix64 instead of a new
 * {@code SplittableRandom} per epoch).
 *
 * <p>Failures are published like data: a loader exception is stored, and the consumer's
 * {@code take} of the batch the loader could not fill throws {@link BatchLoaderFailure} with it as
 * the cause; batches published before the failure are still handed out. The loader never blocks
 * without a bound: waiting for a free slot it parks for at most {@link #LOADER_PARK_NANOS} and
 * checks {@link #close()}'s flag each time.
 *
 * <p>Memory consistency effects: the loader's writes to a slot before it is published
 * happen-before the consumer's reads after {@link #take()} returns it (release store of the
 * ring's cursor in {@code publish}, acquire load of it in {@code take}). The consumer's reads of a
 * slot, and those of any thread that happen-before {@link #release}, happen-before the loader's
 * next writes to that slot (store of the gating sequence in {@code release}, acquire load of it in
 * the loader's {@code tryNext}). A loader failure stored before the volatile write of
 * {@code failure} is seen whole by the consumer that reads it. Construction happens-before the
 * loader's first action ({@code Thread.start}); everything the loader did happens-before
 * {@link #close()} returns, unless the join timed out (then the loader is a daemon left behind).
 */
public final class SpscBatchPrefetch implements AutoCloseable {
    /*
     * Design notes.
     *
     * SLOTS = 8 (power of two, as the Disruptor requires), and the loader is woken only when half
     * of them are free (wakeFree): it then refills four slots in one go and parks again. With T
     * workers on T cores every wake-up of the loader takes a worker's core for the length of a
     * context switch and a fill, and the whole step waits for that worker; waking it once per
     * four steps instead of once per step cuts those interruptions by four, while four to eight
     * batches stay ahead. Filling a slot of 128 MNIST rows takes 0.14 ms (784 table lookups per
     * row; measured as take/release with nothing between, loader-bound, on the 2-core VM under
     * load), so four fills take well under a step of any model but the smallest. Eight slots cost
     * 1.6 MB at batch 256 x 784 (raw pixels).
     *
     * The ring is only storage and sequencing: nothing waits on its WaitStrategy. The consumer
     * polls the cursor itself (a bounded spin of SPINS onSpinWaits, then CONSUMER_PARK_NANOS
     * parks) because it must also notice a loader failure or close; the producer claims with
     * tryNext (never next(), whose wrap-around wait loops on parkNanos(1) with no exit, and would
     * spin a core forever against a consumer that stopped). BusySpinWaitStrategy's signal is a
     * no-op, so publish is one release store of the cursor.
     *
     * Waking the loader: when the ring is full the loader announces loaderParked (volatile), checks
     * for wakeFree free slots again, and parks for at most LOADER_PARK_NANOS; release stores the
     * gating sequence with setVolatile (a full fence after the store) and then reads loaderParked,
     * and unparks the loader if it is set and wakeFree slots are free. Store-fence-load on both sides (the volatile store of
     * loaderParked, the full fence in tryNext's capacity check): one side sees the other's store,
     * so the wake-up is not lost; if it were, the bounded park would cost at most 20 ms of
     * prefetch (four batches are ahead), never a hang. One unpark (a futex wake, ~2 us) per four
     * steps at most, on the coordinator between compute and reduce; the alternative, a loader polling every
     * 50 us, costs 20k wake-ups a second on cores the workers need. Why the bound is 20 ms and not
     * 1 ms: with a 1 ms bound a full ring wakes the loader every millisecond, and together with a
     * 1 ms reporter park (SpscTelemetryRing) the two take a worker's core about 1,000 times a second
     * (measured in an 18 s run: 14-18k involuntary context switches per worker thread with both at
     * 1 ms, 2.2-2.4k with both at 20 ms; 784-256-256-10 at 2 threads: 154-161k samples/s at 1 ms,
     * 178-182k at 20 ms).
     *
     * Pixels: for an image dataset the loader gathers raw bytes (BatchSlot.pixels) and the workers
     * normalise their own rows, which costs the loader about 40% less CPU per step than
     * normalising in the loader (a batch's rows are random rows of a 47 MB array, so its time is
     * mostly cache misses, not the conversion).
     */
    /** Ring capacity in batches; see the design notes for why 4. */
    public static final int SLOTS = 8;
    /** Consumer: onSpinWaits (PAUSE) before it parks between checks: a few microseconds, not tuned. */
    static final int SPINS = 200;
    /** Consumer: one park between checks of the cursor while the loader is behind. */
    static final long CONSUMER_PARK_NANOS = 20_000;
    /** Loader: longest park while the ring is full (normally {@link #release} wakes it first). */
    static final long LOADER_PARK_NANOS = 20_000_000;
    /** How long {@link #close()} waits for the loader thread to end. */
    static final long JOIN_MILLIS = 5_000;

    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private final RingBuffer<BatchSlot> ring;
    /** The consumer's gating sequence: slots up to it are released (-1: none). */
    private final Sequence released = new Sequence();
    // The plan, fixed in the constructor (HB: Thread.start).
    private final Dataset data;
    /** {@link #data} when it is an image dataset: then the slots carry raw pixels (BatchSlot); else null. */
    private final ImageDataset images;
    private final boolean classification;
    private final int batch, perEpoch, startEpoch, startBatch;
    private final long seed, count;
    /** Loader only: the current epoch's sample order, [data.size()]. */
    private final int[] order;
    // Loader-only position (plain fields: one loader thread; HB from the constructor: Thread.start).
    private int loadEpoch, loadBatch;
    private long produced;
    private boolean shuffled;

    private Thread thread;                    // set by start(), read by close(): consumer thread only
    private volatile Thread loaderThread;     // the thread running runLoader, for unpark
    private volatile boolean loaderParked;
    /** Free slots at which a parked loader is woken: half the ring (see the design notes). */
    private final int wakeFree;
    private volatile boolean closed;
    private volatile Throwable failure;
    private int failedEpoch, failedIndex;     // written before failure, read after it (HB: volatile)

    // Consumer-only state (plain fields: one consumer thread, checked).
    private Thread consumer;
    private long next;
    private BatchSlot taken;

    /**
     * A prefetch that is not started: {@link #runLoader()} must be called on some thread (the
     * stress tests call it on their own actor thread); {@link #start} does it on a new daemon one.
     *
     * @param batch       rows per batch
     * @param epoch       0-based epoch of the first batch
     * @param batchesDone batches of {@code epoch} already trained; the first batch is the next one
     *                    ({@code == batches per epoch}: the first batch is batch 0 of the next epoch)
     * @param count       batches to produce; the loader stops after them
     * @param slots       ring capacity, a power of two
     */
    public SpscBatchPrefetch(Dataset data, int batch, long seed, int epoch, int batchesDone, long count, int slots) {
        this.data = Objects.requireNonNull(data, "data");
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (slots < 1 || Integer.bitCount(slots) != 1) throw new IllegalArgumentException("slots must be a power of two, got " + slots);
        this.perEpoch = data.size() / batch;
        if (count > 0 && perEpoch == 0) {
            throw new IllegalArgumentException("batch " + batch + " is larger than " + data.name() + " (" + data.size() + " samples)");
        }
        if (epoch < 0 || batchesDone < 0 || batchesDone > perEpoch) {
            throw new IllegalArgumentException("cannot start at batch " + batchesDone + " of epoch " + epoch + ": an epoch has " + perEpoch + " batches");
        }
        this.batch = batch;
        this.seed = seed;
        this.startEpoch = epoch;
        this.startBatch = batchesDone;
        this.loadEpoch = epoch;
        this.loadBatch = batchesDone;
        this.count = Math.max(0, count);
        this.classification = data.isClassification();
        this.order = new int[data.size()];
        final int in = data.featureDim(), targetDim = data.targetDim();
        this.images = data instanceof ImageDataset img ? img : null;
        this.ring = RingBuffer.createSingleProducer(() -> new BatchSlot(this, batch, in, classification, targetDim, images), slots,
                new BusySpinWaitStrategy());
        ring.addGatingSequences(released);
        this.wakeFree = Math.max(1, slots / 2);
    }

    /** Starts the loader thread ({@code forkprop-loader}, a daemon) over a {@link #SLOTS}-slot ring. */
    public static SpscBatchPrefetch start(Dataset data, int batch, long seed, int epoch, int batchesDone, long count) {
        SpscBatchPrefetch p = new SpscBatchPrefetch(data, batch, seed, epoch, batchesDone, count, SLOTS);
        Thread t = new Thread(p::runLoader, "forkprop-loader");
        t.setDaemon(true); // a loader that somehow outlives close() must not keep the JVM alive
        p.thread = t;
        t.start(); // HB: the constructor's writes -> Thread.start -> the loader's first action
        return p;
    }

    /** Batches this prefetch produces in all. */
    public long count() {
        return count;
    }

    /**
     * The loader's body: fills and publishes the planned batches in order, then returns; returns
     * early after {@link #close()}. Call once, on one thread ({@link #start} does). Waiting for a
     * free slot is a bounded park that {@link #release} cuts short.
     */
    public void runLoader() {
        loaderThread = Thread.currentThread();
        try {
            while (true) {
                final int r = tryLoadNext();
                if (r < 0) return;
                if (r == 0) {
                    // Every slot is published and not yet released.
                    if (closed) return;
                    loaderParked = true;
                    // Check again after announcing: a release between tryNext and the store above did not see the flag.
                    if (!ring.hasAvailableCapacity(wakeFree) && !closed) LockSupport.parkNanos(this, LOADER_PARK_NANOS);
                    loaderParked = false;
                }
            }
        } catch (Throwable t) {
            failedEpoch = loadEpoch;
            failedIndex = loadBatch;
            failure = t; // volatile write: publishes the position above with it
        }
    }

    /**
     * Loader thread only, never waits: fills and publishes the next planned batch if a slot is
     * free. Returns 1 when it published one, 0 when every slot is still held by the consumer, -1
     * when all planned batches are produced or the prefetch is closed. {@link #runLoader} is this
     * in a loop; the stress tests call it directly, since actors must not wait for each other.
     */
    public int tryLoadNext() {
        if (produced >= count || closed) return -1;
        if (!shuffled) {
            shuffle(order, seed + loadEpoch);
            shuffled = true;
        }
        if (loadBatch == perEpoch) {
            loadEpoch++;
            loadBatch = 0;
            shuffle(order, seed + loadEpoch);
        }
        final long seq;
        try {
            // HB: the consumer's release (setVolatile of the gating sequence) -> the acquire load of it in here.
            seq = ring.tryNext();
        } catch (InsufficientCapacityException full) { // a preallocated singleton: no allocation
            return 0;
        }
        fill(ring.get(seq), loadEpoch, loadBatch);
        // HB: fill's plain writes to the slot -> release store of the cursor here -> acquire load in take().
        ring.publish(seq);
        loadBatch++;
        produced++;
        return 1;
    }

    private void fill(BatchSlot s, int epoch, int index) {
        final Dataset d = data;
        final int[] ord = order;
        final int rows = s.rows, in = s.featureDim, targetDim = s.targetDim, first = index * batch;
        final boolean cls = classification;
        s.epoch = epoch;
        s.index = index;
        final ImageDataset images = this.images;
        for (int r = 0; r < rows; r++) {
            final int sample = ord[first + r];
            if (images != null) images.pixels(sample, s.pixels, r * in); // the workers normalise (BatchSlot)
            else d.features(sample, s.features, r * in);
            if (cls) s.labels[r] = d.label(sample);
            else d.target(sample, s.targets, r * targetDim);
        }
    }

    /**
     * The next batch, in order; waits while the loader has not published it yet. Consumer thread
     * only; release the previous batch first. Allocation-free unless it throws.
     *
     * @throws BatchLoaderFailure    when the loader failed before publishing this batch
     * @throws IllegalStateException when all {@link #count()} batches were taken, or after close
     */
    public BatchSlot take() {
        return takeIf(true);
    }

    /**
     * As {@link #take()}, but never waits: null when the loader has not published the next batch
     * yet (the stress tests' consumer; actors must not wait for each other).
     */
    public BatchSlot tryTake() {
        return takeIf(false);
    }

    private BatchSlot takeIf(boolean wait) {
        checkConsumer();
        if (taken != null) throw new IllegalStateException("release the taken batch before taking another");
        final long seq = next;
        if (seq >= count) throw new IllegalStateException("all " + count + " planned batches were taken");
        if (closed) throw new IllegalStateException("the batch prefetch is closed");
        // HB: the loader's writes to slot seq -> publish (release store of the cursor) -> this acquire load.
        if (ring.getCursor() < seq) {
            if (!wait) {
                checkFailure();
                if (ring.getCursor() < seq) return null;
            } else {
                awaitPublished(seq);
            }
        }
        final BatchSlot s = ring.get(seq);
        s.sequence = seq;
        next = seq + 1;
        taken = s;
        return s;
    }

    private void checkFailure() {
        final Throwable f = failure;
        if (f != null) {
            throw new BatchLoaderFailure("the batch loader failed filling batch " + (failedIndex + 1) + " of epoch " + (failedEpoch + 1)
                    + " of " + data.name() + ": " + f, f);
        }
    }

    private void awaitPublished(long seq) {
        int spins = 0;
        while (ring.getCursor() < seq) {
            checkFailure();
            if (closed) throw new IllegalStateException("the batch prefetch is closed");
            if (spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, CONSUMER_PARK_NANOS);
            }
        }
    }

    /**
     * Hands {@code s}, the batch {@link #take()} returned last, back to the loader. Consumer thread
     * only; after this nobody may read {@code s} until {@code take} returns it again.
     */
    public void release(BatchSlot s) {
        checkConsumer();
        if (s != taken || s == null) throw new IllegalStateException("release takes the batch take() returned, once");
        taken = null;
        // HB: reads of s (the consumer's, and the workers' through the engine's phase barrier) -> this store
        // (release, then a full fence) -> the acquire load of the gating sequence in the loader's tryNext -> its writes to s.
        released.setVolatile(s.sequence);
        // After the fence: a loader that announced its park before the store is seen here (see the design notes).
        // It is woken once wakeFree slots are free: the published batches not yet released are
        // cursor - s.sequence, of the ring's size.
        if (loaderParked && ring.getBufferSize() - (ring.getCursor() - s.sequence) >= wakeFree) LockSupport.unpark(loaderThread);
    }

    private void checkConsumer() {
        final Thread t = Thread.currentThread();
        if (consumer != t) {
            if (consumer != null) throw new IllegalStateException("single consumer: called from " + t.getName() + ", owner is " + consumer.getName());
            consumer = t;
        }
    }

    /**
     * Stops the loader (at its next batch or park, within {@link #LOADER_PARK_NANOS}) and joins it
     * for at most {@link #JOIN_MILLIS}. Idempotent; never waits longer. A loader failure nobody
     * took is dropped: the consumer did not need those batches.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true; // volatile: the loader checks it between batches and around each park
        final Thread t = thread;
        if (t == null) return;
        LockSupport.unpark(t);
        try {
            t.join(JOIN_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the loader ends on its own; not worth waiting for
        }
    }

    /**
     * Seeded Fisher-Yates over the identity permutation: {@code order[i]} swaps with
     * {@code order[j]}, {@code j} drawn uniformly from {@code [0, i]}, for {@code i} from the end
     * down. The draws are exactly those of {@code new java.util.SplittableRandom(seed).nextInt(i + 1)}
     * (a test checks it): SplitMix64 with the golden gamma, {@code mix32}, and the JDK's rejection
     * of over-represented values; inline so that nothing is allocated per epoch.
     */
    public static void shuffle(int[] order, long seed) {
        for (int i = 0; i < order.length; i++) order[i] = i;
        long state = seed;
        for (int i = order.length - 1; i > 0; i--) {
            final int bound = i + 1, m = i;
            state += GOLDEN_GAMMA;
            int r = mix32(state);
            if ((bound & m) == 0) {
                r &= m; // a power of two: the low bits are uniform
            } else {
                // u in [0, 2^31); u - u % bound + m overflows exactly when u is in the incomplete last
                // block of 'bound' values, which would over-represent small results: draw again.
                for (int u = r >>> 1; u + m - (r = u % bound) < 0; ) {
                    state += GOLDEN_GAMMA;
                    u = mix32(state) >>> 1;
                }
            }
            final int t = order[i];
            order[i] = order[r];
            order[r] = t;
        }
    }

    /** SplittableRandom's mix32: the high 32 bits of Stafford's variant 4 of mix64. */
    private static int mix32(long z) {
        z = (z ^ (z >>> 33)) * 0x62a9d9ed799705f5L;
        return (int) (((z ^ (z >>> 28)) * 0xcb24d0a5c88c35b3L) >>> 32);
    }
}
