package dev.forkprop.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forkprop.data.Dataset;
import dev.forkprop.data.CsvReader;
import dev.forkprop.data.Datasets;
import dev.forkprop.data.TableDataset;
import dev.forkprop.data.Normalization;
import dev.forkprop.data.SyntheticRegression;
import dev.forkprop.engine.Engine;
import dev.forkprop.io.ParamsHash;
import dev.forkprop.engine.Trainer;
import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.loss.Loss;
import dev.forkprop.model.Init;
import dev.forkprop.model.ModelSpec;
import dev.forkprop.model.Network;
import dev.forkprop.optim.GradClip;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.LrSchedule;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.optim.Optimizers;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code forkprop train}: builds the network, runs the {@link Trainer}, reports on the test set. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a network. Defaults train an MLP on MNIST.")
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--data", description = "dataset: mnist, fashion-mnist, synthetic (regression), or a CSV file (header row, numeric cells) (default: ${DEFAULT-VALUE})")
    String data = "mnist";
    @Option(names = "--label", description = "CSV: the label/target column, by name or index (default: the last column)")
    String label;
    @Option(names = "--task", description = "CSV: classification (integer labels) or regression (real target) (default: ${DEFAULT-VALUE})")
    String task = "classification";
    @Option(names = "--test-data", description = "CSV: a separate test file (default: the last 10%% of the rows of --data)")
    Path testData;
    @Option(names = "--normalize", description = "image pixels: standard ((x/255 - mean)/std of the dataset) or unit (x/255) (default: ${DEFAULT-VALUE})")
    String normalize = "standard";
    @Option(names = "--data-dir", description = "where datasets live (default: $FORKPROP_DATA, then ./data)")
    Path dataDir;
    @Option(names = "--model", description = "compact (784-256-10) or full (dense:256,relu,dense:10) spec (default: ${DEFAULT-VALUE})")
    String model = "dense:512,relu,dropout:0.2,dense:512,relu,dropout:0.2,dense:10";
    @Option(names = "--activation", description = "activation for compact specs: relu, leakyrelu, sigmoid, tanh, gelu (default: ${DEFAULT-VALUE})")
    String activation = "relu";
    @Option(names = "--dropout", description = "dropout after each hidden activation, compact specs (default: ${DEFAULT-VALUE})")
    float dropout = 0f;
    @Option(names = "--loss", description = "ce, bce or mse (default: ce for classification, mse for regression)")
    String loss;
    @Option(names = "--positive-class", description = "with --loss bce and one output: train 'label == N' vs the rest")
    int positiveClass = -1;
    @Option(names = "--init", description = "he, he-uniform, xavier, xavier-uniform, small (default: he for relu-like, xavier otherwise)")
    String init;
    @Option(names = "--optimizer", description = "sgd, momentum, nesterov, adam, adamw (default: ${DEFAULT-VALUE})")
    String optimizer = "adam";
    @Option(names = "--lr", description = "learning rate (default: ${DEFAULT-VALUE})")
    float lr = 1e-3f;
    @Option(names = "--momentum", description = "momentum for momentum/nesterov (default: ${DEFAULT-VALUE})")
    double momentum = 0.9;
    @Option(names = "--weight-decay", description = "coupled L2 for sgd/momentum/adam, decoupled for adamw (default: ${DEFAULT-VALUE})")
    double weightDecay = 0;
    @Option(names = "--schedule", description = "constant, step:N:GAMMA, cosine[:FLOOR], warmup:W[,INNER] (default: ${DEFAULT-VALUE})")
    String schedule = "constant";
    @Option(names = "--clip", description = "clip the global gradient norm to this (0: off) (default: ${DEFAULT-VALUE})")
    float clip = 0;
    @Option(names = "--batch", description = "minibatch size (default: ${DEFAULT-VALUE})")
    int batch = 128;
    @Option(names = "--epochs", description = "epochs (default: ${DEFAULT-VALUE})")
    int epochs = 10;
    @Option(names = "--max-steps", description = "stop after N steps (0: no limit); the test set is still evaluated")
    long maxSteps = 0;
    @Option(names = "--threads", description = "worker threads (default: available processors)")
    int threads = Runtime.getRuntime().availableProcessors();
    @Option(names = "--deterministic", description = "fixed shards: bitwise-identical results for any --threads")
    boolean deterministic;
    @Option(names = "--shards", description = "shards per batch with --deterministic (default: ${DEFAULT-VALUE})")
    int shards = 4;
    @Option(names = "--seed", description = "seed for init, shuffling and dropout (default: ${DEFAULT-VALUE})")
    long seed = 1;
    @Option(names = "--val", description = "hold out the last N training samples for validation (default: ${DEFAULT-VALUE})")
    int val = 0;
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
    @Option(names = "--hlog", description = "write step and phase latency (ns, after warm-up) as an HdrHistogram interval log, one interval per --log-every, tags step/compute/reduce_update/barrier_wait/data_wait")
    Path hlog;
    @Mixin
    OutputOptions output = new OutputOptions();
    @Mixin
    CheckpointOptions checkpoints = new CheckpointOptions();

    @Override
    public Integer call() throws Exception {
        validateFlags();
        output.prepare();
        checkpoints.validate(output.out);

        Dataset train, test;
        if (data.toLowerCase(java.util.Locale.ROOT).endsWith(".csv")) {
            check(task.equals("classification") || task.equals("regression"),
                    "--task must be classification or regression, got '" + task + "'");
            CsvReader reader = task.equals("regression") ? CsvReader.regression() : CsvReader.classification();
            if (label != null) reader = reader.labelColumnSpec(label);
            TableDataset all = reader.read(Path.of(data));
            if (testData != null) {
                train = all;
                test = reader.read(testData);
                check(test.featureDim() == train.featureDim(), "--test-data has " + test.featureDim()
                        + " features, --data has " + train.featureDim());
            } else {
                int cut = all.size() - Math.max(1, all.size() / 10);
                check(cut > 0, data + ": too few rows (" + all.size() + ") to hold out a test set");
                train = all.slice(0, cut);
                test = all.slice(cut, all.size());
            }
        } else if (data.equals("synthetic")) {
            SyntheticRegression all = SyntheticRegression.generate(70_000, 20, 1, 0.1, seed);
            train = all.dataset().slice(0, 60_000);
            test = all.dataset().slice(60_000, 70_000);
        } else {
            Datasets.Split split = Datasets.fromEnvironment(dataDir).load(data);
            check(normalize.equals("standard") || normalize.equals("unit"),
                    "--normalize must be standard or unit, got '" + normalize + "'");
            boolean unit = normalize.equals("unit");
            train = unit ? split.train().withNormalization(Normalization.UNIT) : split.train();
            test = unit ? split.test().withNormalization(Normalization.UNIT) : split.test();
        }
        Dataset validation = null;
        if (val > 0) {
            check(val < train.size(), "--val " + val + " leaves no training samples (the training set has " + train.size() + ")");
            validation = train.slice(train.size() - val, train.size());
            train = train.slice(0, train.size() - val);
        }
        boolean classification = train.isClassification();
        String lossName = loss != null ? loss : classification ? "ce" : "mse";
        Loss lossFn = Loss.parse(lossName, positiveClass);
        int targetWidth = train.targetDim();
        Network net = ModelSpec.parse(model, train.featureDim(), activation, dropout);
        int expectedOut = lossName.equals("bce") && positiveClass >= 0 ? 1 : targetWidth;
        check(net.out() == expectedOut, "model spec '" + model + "': the output width is " + net.out()
                + " but the data needs " + expectedOut);
        check(!lossName.equals("bce") || positiveClass >= 0 || !classification,
                "--loss bce on a classification dataset needs --positive-class N");

        Init initKind = init != null ? Init.parse(init)
                : activation.equals("sigmoid") || activation.equals("tanh") ? Init.XAVIER_NORMAL : Init.HE_NORMAL;
        Hyper hyper = Hyper.DEFAULTS.withMomentum(momentum).withWeightDecay(weightDecay);
        Gemm kernel = gemm != null ? Gemms.byName(gemm) : Gemms.best();
        int shardCount = deterministic ? shards : threads;
        check(shardCount >= threads, "--shards (" + shardCount + ") must be >= --threads (" + threads + ")");
        check(batch >= shardCount, "--batch " + batch + " is smaller than the shard count " + shardCount);
        checkHeap(Engine.requiredBytes(net, kernel, Optimizers.create(optimizer, 0, hyper).stateCount(), batch, shardCount,
                threads, targetWidth), shardCount);
        Optimizer opt = Optimizers.create(optimizer, net.layout().size(), hyper);
        int perEpoch = train.size() / batch;
        long total = maxSteps > 0 ? Math.min(maxSteps, (long) perEpoch * epochs) : (long) perEpoch * epochs;
        LrSchedule sched = LrSchedule.parse(schedule, lr, total);

        int exit;
        try (Engine engine = new Engine(net, lossFn, opt, new GradClip(clip), kernel, batch, shardCount, threads, seed, targetWidth);
             CheckpointOptions.Session ck = checkpoints.begin(net, engine, opt,
                     CheckpointOptions.config(this, net, opt, sched, lossName, shardCount, total, targetWidth))) {
            net.init(engine.params, engine.buffers, initKind, seed);
            if (faultAt > 0) engine.injectFault(faultAt, threads - 1);
            if (maxLoss != null) engine.maxLoss(maxLoss);
            ck.restore(perEpoch); // before the banner: a bad checkpoint is then the only line
            System.err.printf("forkprop: %s | train %d, val %d, test %d | %s (%,d parameters) | %s lr %g %s | batch %d | %d threads, %d shards%s | gemm %s%n",
                    data, train.size(), validation == null ? 0 : validation.size(), test.size(), net.spec(), net.layout().parameterCount(),
                    optimizer, lr, sched.spec(), batch, threads, shardCount, deterministic ? " (deterministic)" : "", kernel.name());
            Trainer trainer = new Trainer(engine, sched, seed, System.err, logEvery, output.hlog(hlog))
                    .maxBadSteps(onNonFinite.equals("stop") ? 1 : maxBadSteps)
                    .earlyStop(earlyStop)
                    .autoMaxLoss(maxLoss == null);
            output.attach(trainer, System.err, epochs, perEpoch, total, classification, logEvery, ck.start(), validation != null);
            Trainer.Result r = trainer.fit(train, validation, test, epochs, maxSteps, ck.start(), ck);
            exit = ck.exitCode();
            System.err.printf("test loss %.4f accuracy %s | %d epochs, %d steps in %.1f s | %s samples/s | step p50 %s ms p99 %s ms p99.9 %s ms"
                            + " | compute p50 %s p99 %s | reduce+update p50 %s p99 %s | barrier wait p50 %s p99 %s | data wait p50 %s p99 %s ms%s%n",
                    r.testLoss, Double.isNaN(r.testAccuracy) ? "n/a" : String.format("%.4f", r.testAccuracy), r.epochs, r.steps, r.wallSeconds,
                    orNa("%.0f", r.samplesPerSec), orNa(r.stepMsP50), orNa(r.stepMsP99), orNa(r.stepMsP999),
                    orNa(r.computeMsP50), orNa(r.computeMsP99), orNa(r.reduceUpdateMsP50), orNa(r.reduceUpdateMsP99),
                    orNa(r.barrierWaitMsP50), orNa(r.barrierWaitMsP99), orNa(r.dataWaitMsP50), orNa(r.dataWaitMsP99),
                    r.skippedSteps > 0 ? " | " + r.skippedSteps + " bad steps skipped" : "");
            if (r.earlyStopped) {
                System.err.printf("forkprop: early stop after epoch %d: no lower validation loss for %d epochs (best %.4f at epoch %d%s)%n",
                        r.epochs, earlyStop, r.bestValLoss, r.bestEpoch, ck.best() == null ? "" : ", saved in " + ck.best());
            }
            ObjectNode summary = summary(r, engine);
            output.finish(r, summary);
            if (json) System.out.println(new ObjectMapper().writeValueAsString(summary));
            if (r.diverged) {
                System.err.println(divergence(r, ck));
                exit = Main.EXIT_DIVERGED;
            }
        }
        return exit;
    }

    /**
     * The one-line message of a diverged run: where, the likely cause and what to try, and which
     * checkpoint holds the last good state.
     */
    private String divergence(Trainer.Result r, CheckpointOptions.Session ck) {
        long n = r.lastBadStep - r.firstBadStep + 1;
        String where = n == 1 ? "the loss or gradient was not finite, or the loss exploded, at step " + r.lastBadStep
                : "the loss or gradient was not finite, or the loss exploded, for " + n + " consecutive steps (" + r.firstBadStep + "-" + r.lastBadStep + ")";
        String saved = ck.lastSaved() != null ? "last good checkpoint: " + ck.lastSaved()
                : checkpoints.dir == null ? "no checkpoint kept (no --checkpoint-dir)" : "no good checkpoint was written";
        return "forkprop: diverged at step " + r.lastBadStep + ": " + where + ", updates skipped; the learning rate is probably too high (--lr "
                + compact(lr) + "): try a smaller --lr, e.g. " + compact(lr / 10) + "; " + saved;
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
     * Checks the flags that need no data (ranges of the numeric ones); a one-line
     * IllegalArgumentException names the first bad one. Creates nothing.
     */
    void validateFlags() {
        check(batch > 0, "--batch must be positive, got " + batch);
        check(epochs > 0, "--epochs must be positive, got " + epochs);
        check(threads > 0 && threads <= 4096, "--threads must be in 1..4096, got " + threads);
        check(lr > 0 && Float.isFinite(lr), "--lr must be a positive number, got " + lr);
        check(maxLoss == null || (maxLoss > 0 && !maxLoss.isNaN()), "--max-loss must be a positive number, got " + maxLoss);
        check(val >= 0, "--val must be >= 0, got " + val);
        check(maxSteps >= 0, "--max-steps must be >= 0, got " + maxSteps);
        check(dropout >= 0 && dropout < 1, "--dropout must be in [0, 1), got " + dropout);
        check(Double.isFinite(weightDecay) && weightDecay >= 0, "--weight-decay must be >= 0, got " + weightDecay);
        // Found by TrainFlagsFuzzTest: these were accepted unchecked (NaN momentum or clip, --shards 0, ...).
        check(Double.isFinite(momentum) && momentum >= 0, "--momentum must be >= 0, got " + momentum);
        check(Float.isFinite(clip) && clip >= 0, "--clip must be >= 0 (0: off), got " + clip);
        check(shards >= 1, "--shards must be >= 1, got " + shards);
        check(positiveClass >= -1, "--positive-class must be a class index >= 0, got " + positiveClass);
        check(logEvery > 0 && Double.isFinite(logEvery), "--log-every must be a positive number of seconds, got " + logEvery);
        check(earlyStop >= 0, "--early-stop must be >= 0, got " + earlyStop);
        check(earlyStop == 0 || val > 0, "--early-stop needs a validation split: add --val N");
        check(maxBadSteps >= 1, "--max-bad-steps must be >= 1, got " + maxBadSteps);
        check(onNonFinite.equals("skip") || onNonFinite.equals("stop"), "--on-nonfinite must be skip or stop, got '" + onNonFinite + "'");
    }

    /** {@code ms} to 3 decimals, or "n/a" when nothing was timed (a run that ended in warm-up). */
    private static String orNa(double ms) {
        return orNa("%.3f", ms);
    }

    private static String orNa(String format, double v) {
        return Double.isFinite(v) ? String.format(java.util.Locale.ROOT, format, v) : "n/a";
    }

    /** {@code name: v}, or {@code name: null} when v is NaN or infinite (JSON has no NaN). */
    private static void putNumber(ObjectNode o, String name, double v) {
        if (Double.isFinite(v)) o.put(name, v); else o.putNull(name);
    }

    /** The one-object run summary --json prints (and run.json extends). */
    private ObjectNode summary(Trainer.Result r, Engine engine) throws Exception {
        ObjectMapper om = new ObjectMapper();
        ObjectNode o = om.createObjectNode();
        if (Double.isNaN(r.testAccuracy)) o.putNull("test_accuracy"); else o.put("test_accuracy", r.testAccuracy);
        putNumber(o, "test_loss", r.testLoss);
        o.put("epochs", r.epochs);
        o.put("steps", r.steps);
        o.put("threads", threads);
        putNumber(o, "samples_per_sec", r.samplesPerSec);
        putNumber(o, "step_ms_p50", r.stepMsP50);
        putNumber(o, "step_ms_p99", r.stepMsP99);
        putNumber(o, "step_ms_p999", r.stepMsP999);
        putNumber(o, "compute_ms_p50", r.computeMsP50);
        putNumber(o, "compute_ms_p99", r.computeMsP99);
        putNumber(o, "reduce_update_ms_p50", r.reduceUpdateMsP50);
        putNumber(o, "reduce_update_ms_p99", r.reduceUpdateMsP99);
        putNumber(o, "barrier_wait_ms_p50", r.barrierWaitMsP50);
        putNumber(o, "barrier_wait_ms_p99", r.barrierWaitMsP99);
        putNumber(o, "data_wait_ms_p50", r.dataWaitMsP50);
        putNumber(o, "data_wait_ms_p99", r.dataWaitMsP99);
        putNumber(o, "data_wait_ms_max", r.dataWaitMsMax);
        o.put("data_wait_s", r.dataWaitSeconds);
        o.put("bad_steps", r.skippedSteps);
        o.put("diverged", r.diverged);
        if (r.diverged) o.put("last_good_step", r.lastGoodStep);
        o.put("early_stopped", r.earlyStopped);
        if (Double.isNaN(r.bestValLoss)) o.putNull("best_val_loss"); else o.put("best_val_loss", r.bestValLoss);
        if (r.bestEpoch > 0) o.put("best_epoch", r.bestEpoch);
        o.put("telemetry_dropped", r.droppedTelemetry);
        o.put("helped_chunks", engine.helpedChunks());
        o.put("wall_s", r.wallSeconds);
        o.put("params_sha256", ParamsHash.sha256(engine.params));
        return o;
    }

    /**
     * Fails in one line when the engine and optimizer would not fit in the heap that is left
     * (the data is loaded by now): an OutOfMemoryError halfway through allocating is no error message.
     * The margin covers checkpoints (a checkpoint is encoded in memory: parameters and optimizer
     * state once more) and the reporter's charts.
     */
    private void checkHeap(long engineBytes, int shardCount) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long need = engineBytes + engineBytes / 4 + (64L << 20);
        check(need <= free, String.format(java.util.Locale.ROOT,
                "model %s at batch %d with %d threads and %d gradient buffers needs about %,d MB of heap, %,d MB are free"
                        + " (-Xmx %,d MB): use a smaller model, --batch, --threads or --shards, or raise the heap, e.g."
                        + " FORKPROP_JVM_OPTS=-Xmx%dg", model, batch, threads, shardCount, need >> 20, free >> 20, rt.maxMemory() >> 20,
                Math.max(2, (rt.maxMemory() + need - free + (1L << 30) - 1) >> 30)));
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
