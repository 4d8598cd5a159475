package dev.forkprop.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forkprop.data.TableEncoding;
import dev.forkprop.data.TrainingData;
import dev.forkprop.io.Checkpoint;
import dev.forkprop.engine.Engine;
import dev.forkprop.io.TorchExport;
import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.loss.Loss;
import dev.forkprop.metrics.StatusLineStream;
import dev.forkprop.metrics.TelemetrySink;
import dev.forkprop.mpi.Mpi;
import dev.forkprop.mpi.MpiExchange;
import dev.forkprop.mpi.PeerWatch;
import dev.forkprop.model.Network;
import dev.forkprop.optim.LrSchedule;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.run.Checkpointing;
import dev.forkprop.run.HeapCheck;
import dev.forkprop.run.Position;
import dev.forkprop.run.RunLength;
import dev.forkprop.run.RunResult;
import dev.forkprop.run.Trainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code forkprop train}: parses the flags, builds the run from them (data, network, engine,
 * {@link Trainer}, {@link Checkpointing}) and prints what it reports. Command thread only.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a network. Defaults train an MLP on MNIST.")
public final class TrainCommand implements Callable<Integer> {

    @Mixin
    DataOptions dataOptions = new DataOptions();
    @Mixin
    ModelOptions modelOptions = new ModelOptions();
    @Option(names = "--loss", description = "ce, bce or mse (default: ce for classification, mse for regression)")
    String loss;
    @Option(names = "--positive-class", description = "with --loss bce and one output: train 'label == N' vs the rest")
    int positiveClass = -1;
    @Mixin
    OptimizerOptions optimizerOptions = new OptimizerOptions(2e-3f, "cosine");
    @Option(names = "--batch", description = "minibatch size (default: ${DEFAULT-VALUE})")
    int batch = 256;
    @Option(names = "--epochs", description = "epochs (default: ${DEFAULT-VALUE})")
    int epochs = 5;
    @Option(names = "--max-steps", description = "stop after N steps (0: no limit); the test set is still evaluated")
    long maxSteps = 0;
    @Option(names = "--max-minutes", paramLabel = "M", description = "stop at the first step boundary after M minutes of training, with a checkpoint when there is a --checkpoint-dir (0: no limit); the test set is still evaluated")
    double maxMinutes = 0;
    @Option(names = "--threads", description = "worker threads (default: available processors)")
    int threads = Runtime.getRuntime().availableProcessors();
    @Option(names = "--deterministic", description = "fixed shards: bitwise-identical results for any --threads")
    boolean deterministic;
    @Option(names = "--shards", description = "shards per batch with --deterministic (default: ${DEFAULT-VALUE})")
    int shards = 4;
    @Option(names = "--seed", description = "seed for init, shuffling and dropout (default: ${DEFAULT-VALUE})")
    long seed = 1;
    @Option(names = "--early-stop", paramLabel = "PATIENCE", description = "stop after PATIENCE epochs in a row without a lower validation loss; needs --val (0: off) (default: ${DEFAULT-VALUE})")
    int earlyStop = 0;
    @Option(names = "--max-bad-steps", paramLabel = "N", description = "stop (exit code 3) after N consecutive steps whose loss or gradient is not finite; their updates are skipped (default: ${DEFAULT-VALUE})")
    int maxBadSteps = 3;
    @Option(names = "--on-nonfinite", description = "skip: skip the update and go on, up to --max-bad-steps in a row; stop: stop at the first such step (default: ${DEFAULT-VALUE})")
    String onNonFinite = "skip";
    @Option(names = "--gemm", description = "GEMM kernel: vector, scalar, reference (default: fastest)")
    String gemm;
    @Option(names = "--json", description = "print one JSON summary as the last line of stdout")
    boolean json;
    @Option(names = "--log-every", description = "seconds between progress lines (default: ${DEFAULT-VALUE})")
    double logEvery = 10;
    @Option(names = "--max-loss", description = "a step whose loss is above this is bad, like a non-finite one "
            + "(default: auto, a million times the first step's loss, at least 1e6)")
    Double maxLoss;
    @Option(names = "--fault-at", hidden = true,
            description = "failure drill: the last worker throws at this step (tests the one-line stop)")
    long faultAt;
    @Option(names = "--warmup-steps", paramLabel = "N", description = "steps left out of samples/s and latency (default: 10%% of the run, at least 20, at most half)")
    Long warmupSteps;
    @Option(names = "--hlog", description = "write step and phase latency (ns, after warm-up) as an HdrHistogram interval log, one interval per --log-every, tags step/compute/reduce_update/barrier_wait/data_wait")
    Path hlog;
    @Mixin
    OutputOptions output = new OutputOptions();
    @Mixin
    CheckpointOptions checkpoints = new CheckpointOptions();

    /**
     * Rows per shard below which train warns. A shard's products are GEMMs with that many rows,
     * and a thin one cannot fill the register tile's rows or amortise its packing: one thread
     * through 784-256-256-10 at batch 128 ran at 0.5-0.8 of its unsplit rate with 4 shards of 32
     * rows and 0.4-0.7 with 16 of 8 (bench scaling --threads 1 --shards S, Zen 3, two rounds).
     */
    static final int FEW_ROWS = 32;

    /** Progress, messages and the summary line: stderr, or the stream of an in-process caller. */
    private PrintStream log = System.err;
    /** Sinks an in-process caller adds to the run's reporter thread (a benchmark's own recorder). */
    private TelemetrySink[] extraSinks = {};
    /** The exit code of the last {@link #execute}. */
    private int exitCode;

    @Override
    public Integer call() throws Exception {
        execute();
        return exitCode;
    }

    /**
     * Runs {@code train ARGS} in this JVM, exactly as {@code ./run.sh train ARGS} does, with its
     * lines going to {@code log}; returns what the run reports. The benchmarks time training
     * through this, so that their figures are those of the command users run.
     *
     * @throws IllegalArgumentException on bad flags or data, with the one-line message train prints
     */
    public static RunResult runInProcess(PrintStream log, List<String> args, TelemetrySink... sinks) throws Exception {
        List<String> all = new ArrayList<>();
        all.add("train");
        all.addAll(args);
        CommandLine.ParseResult parsed;
        try {
            parsed = Main.commandLine().parseArgs(all.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        TrainCommand t = (TrainCommand) parsed.subcommand().commandSpec().userObject();
        t.log = log;
        t.extraSinks = sinks.clone();
        return t.execute();
    }

    /**
     * The run: checks, builds, trains, prints; sets {@link #exitCode}. Started by mpirun, this
     * process is one rank of the job: rank 0 prints and writes, every rank trains its share.
     */
    private RunResult execute() throws Exception {
        validateFlags();
        if (!Mpi.launched()) return execute(null);
        Mpi mpi = Mpi.init();
        // A rank that fails leaves without MPI_Finalize, which would wait for the others; they
        // stop through mpirun or their PeerWatch. Finalize only when every rank gets there.
        RunResult r = execute(mpi);
        mpi.close();
        return r;
    }

    private RunResult execute(Mpi mpi) throws Exception {
        final int rank = mpi == null ? 0 : mpi.rank(), ranks = mpi == null ? 1 : mpi.size();
        PeerWatch watch = mpi == null ? null : PeerWatch.start(mpi, log);
        if (rank != 0) {
            // Only rank 0 prints and writes outputs; the others train in silence.
            log = new PrintStream(java.io.OutputStream.nullOutputStream());
            json = false;
        }
        try {
            return execute(mpi, rank, ranks);
        } finally {
            if (watch != null) watch.stop(); // before MPI_Finalize, after which the others may exit
        }
    }

    private RunResult execute(Mpi mpi, int rank, int ranks) throws Exception {
        if (rank == 0) output.prepare();
        // With a progress bar every line goes through the bar's stream, which moves the bar below it.
        if (output.showsBar() && !(log instanceof StatusLineStream)) log = new StatusLineStream(log);
        checkpoints.validate(output.out);

        TrainingData data = TrainingData.load(csvRequest());
        for (String note : data.notes()) log.println("forkprop: " + note);
        boolean classification = data.train().isClassification();
        String lossName = loss != null ? loss : Loss.defaultName(classification);
        Loss lossFn = Loss.parse(lossName, positiveClass);
        int targetWidth = data.train().targetDim();
        Network net = modelOptions.network(data.train().featureDim());
        int expectedOut = lossName.equals("bce") && positiveClass >= 0 ? 1 : targetWidth;
        check(net.out() == expectedOut, "model spec '" + modelOptions.model + "': the output width is " + net.out()
                + " but the data needs " + expectedOut);
        check(!lossName.equals("bce") || positiveClass >= 0 || !classification,
                "--loss bce on a classification dataset needs --positive-class N");

        Gemm kernel = gemm != null ? Gemms.byName(gemm) : Gemms.best();
        int shardCount = deterministic ? shards : threads * ranks;
        check(shardCount >= threads * ranks, "--shards (" + shardCount + ") must be >= --threads (" + threads + ")"
                + (ranks > 1 ? " x ranks (" + ranks + ")" : ""));
        check(!deterministic || shardCount % ranks == 0, "--shards " + shardCount + " must be a multiple of the " + ranks + " ranks");
        check(batch >= shardCount, "--batch " + batch + " is smaller than the shard count " + shardCount);
        HeapCheck.require(Engine.requiredBytes(net, kernel, optimizerOptions.create(0).stateCount(), batch, shardCount, threads,
                targetWidth), modelOptions.model, batch, threads, shardCount);
        Optimizer opt = optimizerOptions.create(net.layout().size());
        RunLength length = RunLength.of(data.train().size(), batch, epochs, maxSteps);
        LrSchedule sched = optimizerOptions.lrSchedule(length.totalSteps());
        Map<String, String> config = checkpointConfig(net, opt, sched, lossName, shardCount, length, targetWidth, data.encoding());
        if (mpi != null && !RankAgreement.check(mpi, config, data, log)) {
            exitCode = Main.EXIT_BAD_INPUT; // every rank stops here, before any step: finalize is safe
            return null;
        }

        RunResult r;
        try (Engine engine = new Engine(net, lossFn, opt, optimizerOptions.gradClip(), kernel, batch, shardCount, threads, seed, targetWidth,
                mpi == null ? null : new MpiExchange(mpi, deterministic));
             StopSignals signals = StopSignals.install(log)) {
            net.init(engine.params, engine.buffers, modelOptions.initKind(), seed);
            if (faultAt > 0) engine.injectFault(faultAt, threads - 1);
            if (maxLoss != null) engine.maxLoss(maxLoss);
            Checkpointing ck = checkpoints.policy(net, engine, opt, config, log).writes(rank == 0);
            // Before the banner: a bad checkpoint or import is then the only line.
            Position start = new Position();
            if (checkpoints.initFrom != null) {
                TorchExport.importInto(checkpoints.initFrom, net, engine.params, engine.buffers);
                log.printf("forkprop: initialised weights from %s%n", checkpoints.initFrom);
            }
            if (checkpoints.resume) start = ck.resume(length);
            log.printf("forkprop: %s | train %d, val %d, test %d | %s (%,d parameters) | %s lr %g %s | batch %d | %s%d threads, %d shards%s | gemm %s%n",
                    dataOptions.data, data.train().size(), data.validation() == null ? 0 : data.validation().size(), data.test().size(),
                    net.spec(), net.layout().parameterCount(), optimizerOptions.optimizer, optimizerOptions.lr, sched.spec(), batch,
                    ranks > 1 ? ranks + " ranks x " : "", threads, shardCount, deterministic ? " (deterministic)" : "", kernel.name());
            int rowsPerShard = batch / shardCount;
            if (rowsPerShard < FEW_ROWS) {
                log.printf("forkprop: warning: batch %d over %d shards gives %d rows per shard; the GEMM kernels lose much of their"
                        + " speed below %d: use a larger --batch, or fewer %s%n", batch, shardCount, rowsPerShard, FEW_ROWS,
                        deterministic ? "--shards" : ranks > 1 ? "--threads or ranks" : "--threads");
            }
            Trainer trainer = new Trainer(engine, sched, seed, log, logEvery, rank == 0 ? output.hlog(hlog) : null)
                    .lossUnits(data.encoding() == null ? 1 : data.encoding().lossUnits())
                    .maxBadSteps(onNonFinite.equals("stop") ? 1 : maxBadSteps)
                    .earlyStop(earlyStop)
                    .autoMaxLoss(maxLoss == null);
            if (warmupSteps != null) trainer.warmupSteps(warmupSteps);
            if (rank == 0) output.attach(trainer, log, length, classification, logEvery, start, data.validation() != null);
            for (TelemetrySink sink : extraSinks) trainer.addSink(sink);
            // The time limit counts from here, after loading and building: it bounds training, not start-up.
            final boolean limited = maxMinutes > 0;
            final long deadline = System.nanoTime() + (long) (maxMinutes * 60e9);
            BooleanSupplier stopHere = () -> signals.received() != null || (limited && System.nanoTime() - deadline > 0);
            if (mpi == null) {
                ck.stopWhen(stopHere);
            } else {
                // The ranks stop at the same step: any rank's request (a signal, its clock) stops all.
                double[] votes = new double[1];
                ck.stopWhen(() -> {
                    votes[0] = stopHere.getAsBoolean() ? 1 : 0;
                    mpi.allreduceSum(votes);
                    return votes[0] > 0;
                });
            }
            r = trainer.fit(data.train(), data.validation(), data.test(), length, start, ck);
            if (mpi != null) {
                // Per step each rank sends its shards' gradients (deterministic: gathered) or its sum,
                // the per-shard loss and correct count, and its stop vote.
                long size = net.layout().size();
                r.allreduceBytesPerStep = 4 * size * (deterministic ? shardCount / ranks : 1) + 16L * shardCount + 8;
            }
            String sig = signals.received();
            if (sig != null) {
                log.printf("forkprop: stopped by SIG%s after step %d; %s%n", sig, r.steps, ck.lastSaved() == null
                        ? "nothing saved (no --checkpoint-dir)"
                        : "checkpoint " + ck.lastSaved() + "; resume with: ./run.sh train " + checkpoints.resumeArgs());
            }
            exitCode = signals.exitCode();
            if (sig == null && r.interrupted && maxMinutes > 0) {
                log.printf("forkprop: stopped after --max-minutes %s at step %d%s%n", compact(maxMinutes), r.steps,
                        ck.lastSaved() == null ? "" : "; checkpoint " + ck.lastSaved());
            }
            log.println(r.summaryLine());
            if (r.earlyStopped) {
                log.printf("forkprop: early stop after epoch %d: no lower validation loss for %d epochs (best %.4f at epoch %d%s)%n",
                        r.epochs, earlyStop, r.bestValLoss, r.bestEpoch, ck.best() == null ? "" : ", saved in " + ck.best());
            }
            ObjectNode summary = new ObjectMapper().valueToTree(r.fields());
            if (rank == 0) output.finish(r, summary);
            if (json) System.out.println(new ObjectMapper().writeValueAsString(summary));
            if (r.diverged) {
                log.println(divergence(r, ck));
                exitCode = Main.EXIT_DIVERGED;
            }
        }
        return r;
    }

    /**
     * What to load. A resumed run on a CSV file applies the encoding its checkpoint holds instead
     * of fitting one; a version-1 checkpoint's run used the raw columns, which scaling "none" with
     * no categorical column reproduces.
     */
    private TrainingData.Request csvRequest() {
        TrainingData.Request q = dataOptions.request(seed, null);
        if (!checkpoints.resume || !q.isCsv() || checkpoints.dir == null) return q;
        Path newest = Checkpoint.newest(checkpoints.dir);
        if (newest == null) return q; // resume reports the missing checkpoint
        Checkpoint c = Checkpoint.read(newest);
        if (c.version().equals("1")) {
            check(dataOptions.categorical.isEmpty(), "--resume: " + newest + " was trained on raw CSV columns (format version 1), without --categorical");
            return new TrainingData.Request(q.data(), q.label(), q.task(), q.testFile(), "none", q.dataDir(), q.seed(), q.validation(),
                    q.categorical(), q.missing(), null);
        }
        try {
            return dataOptions.request(seed, TableEncoding.fromJson(c.get("features")));
        } catch (IllegalArgumentException e) {
            throw c.bad("has a bad 'features' entry: " + e.getMessage());
        }
    }

    /** The run's configuration as checkpoint metadata: the flags and what was derived from them. */
    private Map<String, String> checkpointConfig(Network net, Optimizer opt, LrSchedule sched, String lossName, int shardCount,
                                                 RunLength length, int targetWidth, TableEncoding encoding) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("data", dataOptions.data);
        m.put("normalize", dataOptions.normalize);
        if (encoding != null) {
            m.put("task", dataOptions.task);
            m.put("label", encoding.label());
            m.put("test_data", dataOptions.testData == null ? "" : dataOptions.testData.toString());
            m.put("categorical", String.join(",", dataOptions.categorical));
            m.put("missing", dataOptions.missing);
            m.put("features", encoding.toJson());
        }
        m.put("val", Integer.toString(dataOptions.val));
        m.put("model", net.spec());
        m.put("input_width", Integer.toString(net.in()));
        m.put("target_width", Integer.toString(targetWidth));
        m.put("loss", lossName);
        m.put("positive_class", Integer.toString(positiveClass));
        m.put("optimizer", opt.name());
        opt.hyper().forEach((k, v) -> m.put("optimizer." + k, v));
        m.put("lr", Float.toString(optimizerOptions.lr));
        m.put("schedule", sched.spec());
        m.put("clip", Float.toString(optimizerOptions.clip));
        m.put("batch", Integer.toString(batch));
        m.put("shards", Integer.toString(shardCount));
        m.put("seed", Long.toString(seed));
        m.put("epochs", Integer.toString(epochs));
        m.put("max_steps", Long.toString(maxSteps));
        m.put("total_steps", Long.toString(length.totalSteps()));
        m.put("threads", Integer.toString(threads));
        return m;
    }

    /**
     * The one-line message of a diverged run: where, the likely cause and what to try, and which
     * checkpoint holds the last good state.
     */
    private String divergence(RunResult r, Checkpointing ck) {
        long n = r.lastBadStep - r.firstBadStep + 1;
        String where = n == 1 ? "the loss or gradient was not finite, or the loss exploded, at step " + r.lastBadStep
                : "the loss or gradient was not finite, or the loss exploded, for " + n + " consecutive steps (" + r.firstBadStep + "-" + r.lastBadStep + ")";
        String saved = ck.lastSaved() != null ? "last good checkpoint: " + ck.lastSaved()
                : ck.dir() == null ? "no checkpoint kept (no --checkpoint-dir)" : "no good checkpoint was written";
        return "forkprop: diverged at step " + r.lastBadStep + ": " + where + ", updates skipped; the learning rate is probably too high (--lr "
                + compact(optimizerOptions.lr) + "): try a smaller --lr, e.g. " + compact(optimizerOptions.lr / 10) + "; " + saved;
    }

    /** A number as a person writes it: 3 significant digits, no trailing zeros, e.g. 1e6, 0.001, 2.5e-5. */
    static String compact(double v) {
        String s = String.format(java.util.Locale.ROOT, "%.3g", v);
        if (!s.contains("e")) return s.contains(".") ? s.replaceFirst("\\.?0+$", "") : s;
        String[] me = s.split("e");
        String mantissa = me[0].contains(".") ? me[0].replaceFirst("\\.?0+$", "") : me[0];
        return mantissa + "e" + Integer.parseInt(me[1]);
    }

    /**
     * Checks the flags that need no data (ranges of the numeric ones; TrainFlagsFuzzTest fuzzes
     * them); a one-line IllegalArgumentException names the first bad one. Creates nothing.
     */
    void validateFlags() {
        dataOptions.validate();
        modelOptions.validate();
        optimizerOptions.validate();
        check(batch > 0, "--batch must be positive, got " + batch);
        check(epochs > 0, "--epochs must be positive, got " + epochs);
        check(threads > 0 && threads <= 4096, "--threads must be in 1..4096, got " + threads);
        check(maxLoss == null || (maxLoss > 0 && !maxLoss.isNaN()), "--max-loss must be a positive number, got " + maxLoss);
        check(maxSteps >= 0, "--max-steps must be >= 0, got " + maxSteps);
        check(shards >= 1, "--shards must be >= 1, got " + shards);
        check(positiveClass >= -1, "--positive-class must be a class index >= 0, got " + positiveClass);
        check(logEvery > 0 && Double.isFinite(logEvery), "--log-every must be a positive number of seconds, got " + logEvery);
        check(earlyStop >= 0, "--early-stop must be >= 0, got " + earlyStop);
        check(maxMinutes >= 0 && Double.isFinite(maxMinutes), "--max-minutes must be >= 0, got " + maxMinutes);
        check(warmupSteps == null || warmupSteps >= 0, "--warmup-steps must be >= 0, got " + warmupSteps);
        check(earlyStop == 0 || dataOptions.val > 0, "--early-stop needs a validation split: add --val N");
        check(maxBadSteps >= 1, "--max-bad-steps must be >= 1, got " + maxBadSteps);
        check(onNonFinite.equals("skip") || onNonFinite.equals("stop"), "--on-nonfinite must be skip or stop, got '" + onNonFinite + "'");
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
