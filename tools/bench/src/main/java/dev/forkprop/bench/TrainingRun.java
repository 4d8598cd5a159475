package dev.forkprop.bench;

import dev.forkprop.cli.ModelOptions;
import dev.forkprop.cli.OptimizerOptions;
import dev.forkprop.data.Dataset;
import dev.forkprop.engine.Engine;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.loss.Loss;
import dev.forkprop.model.Network;
import dev.forkprop.optim.LrSchedule;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * One timed training run, as {@code bench scaling} and {@code bench compare} measure it: by
 * default {@link #train}, the train command itself in this JVM; as a diagnostic ({@code bench
 * scaling --loop engine}), the engine's step loop alone: a fresh network, optimizer, learning-rate schedule and gradient clip as {@code train}
 * builds them from the same flags ({@link ModelOptions}, {@link OptimizerOptions}; seed 1), and an
 * {@link Engine} with the given sharding and {@link Gemms#best()}; the loss {@code train} defaults
 * to for the data; real samples in one fixed shuffled order (seed 1), wrapping around at the end
 * of the data.
 * At least {@code warmup} untimed steps (more until the JIT is quiet), then {@code steps} timed ones.
 *
 * <p>Before it returns a number it checks that training did something: the loss after the timed
 * steps must be finite and below the first step's loss.
 *
 * <p>The engine loop is not a trainer: no loader thread, no telemetry thread, no evaluation; its
 * figures are the engine's ceiling, not what users get. Allocates the network, the engine and a
 * shuffled index array per run; nothing per step.
 */
final class TrainingRun {

    /** Where in-process {@code train} runs print: nowhere (the benchmark prints its own table). */
    private static final java.io.PrintStream SILENT = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());

    /**
     * Times {@code train ARGS} in this JVM, the command users run (loader thread, telemetry
     * thread, divergence guard, hooks): {@code warmup} steps, then {@code steps} timed ones, with
     * train's own samples/s and step and phase histograms. Checks that training did something: no
     * bad step, a finite test loss and, for classification, a test accuracy above 0.2 (twice the
     * chance of ten classes).
     *
     * @param args the run's data, model, optimizer, batch and thread flags
     * @throws IllegalStateException if the run did not train
     */
    static Result train(java.util.List<String> args, int warmup, int steps) throws Exception {
        java.util.List<String> all = new java.util.ArrayList<>(args);
        all.addAll(java.util.List.of("--max-steps", Integer.toString(warmup + steps), "--warmup-steps", Integer.toString(warmup),
                "--epochs", "1000", "--log-every", "1e9", "--progress", "lines", "--seed", "1"));
        dev.forkprop.run.RunResult r = dev.forkprop.cli.TrainCommand.runInProcess(SILENT, all);
        boolean accuracyOk = r.testAccuracy > 0.2 || Double.isNaN(r.testAccuracy);
        if (r.diverged || r.skippedSteps > 0 || !Double.isFinite(r.testLoss) || !accuracyOk) {
            throw new IllegalStateException("train did not train (" + String.join(" ", args) + "): test loss " + r.testLoss
                    + ", accuracy " + r.testAccuracy + ", bad steps " + r.skippedSteps);
        }
        var l = r.latency;
        return new Result(r.samplesPerSec, l.histogram(dev.forkprop.metrics.Phase.STEP), l.histogram(dev.forkprop.metrics.Phase.COMPUTE),
                l.histogram(dev.forkprop.metrics.Phase.REDUCE_UPDATE), l.histogram(dev.forkprop.metrics.Phase.BARRIER_WAIT));
    }

    /**
     * {@link #train} as {@code ranks} processes: {@code mpirun -np ranks} runs the train command in
     * fresh JVMs (this one's java and classpath), rank 0 writes its summary and an .hlog that gives
     * the histograms. mpirun binds ranks to cores by default; {@code --bind-to none} leaves each
     * rank's threads free. Set as run.sh sets them: Open MPI's ob1 messaging (UCX's signal
     * handlers crash JVMs) and, for root, Open MPI's consent to run.
     *
     * @throws IllegalStateException when mpirun is missing, the job fails or it did not train
     */
    static Result trainUnderMpirun(int ranks, java.util.List<String> args, int warmup, int steps) throws Exception {
        java.nio.file.Path hlog = java.nio.file.Files.createTempFile("forkprop-scaling", ".hlog");
        try {
            java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("mpirun", "--oversubscribe", "-np",
                    Integer.toString(ranks), "--bind-to", "none", ProcessHandle.current().info().command().orElse("java"),
                    "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                    "-XX:CompileThresholdScaling=0.1", "-cp", System.getProperty("java.class.path"), "dev.forkprop.cli.Main", "train"));
            cmd.addAll(args);
            cmd.addAll(java.util.List.of("--max-steps", Integer.toString(warmup + steps), "--warmup-steps", Integer.toString(warmup),
                    "--epochs", "1000", "--log-every", "1e9", "--progress", "lines", "--seed", "1", "--json", "--hlog", hlog.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().putIfAbsent("OMPI_MCA_pml", "ob1");
            pb.environment().putIfAbsent("UCX_ERROR_SIGNALS", "");
            if ("root".equals(System.getProperty("user.name"))) {
                pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
                pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
            }
            Process p;
            try {
                p = pb.start();
            } catch (java.io.IOException e) {
                throw new IllegalStateException("--ranks " + ranks + " needs Open MPI's mpirun (apt-get install openmpi-bin): " + e.getMessage());
            }
            java.util.concurrent.CompletableFuture<String> err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    return e.toString();
                }
            });
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int code = p.waitFor();
            String[] lines = out.strip().split("\n");
            if (code != 0 || lines.length == 0 || !lines[lines.length - 1].startsWith("{")) {
                String e = err.join().strip();
                throw new IllegalStateException("mpirun -np " + ranks + " train failed (exit " + code + "): "
                        + e.substring(Math.max(0, e.length() - 400)));
            }
            var summary = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines[lines.length - 1]);
            if (summary.get("diverged").asBoolean() || summary.get("bad_steps").asLong() > 0) {
                throw new IllegalStateException("train under mpirun did not train (" + String.join(" ", args) + ")");
            }
            Histogram step = histogram(), compute = histogram(), reduce = histogram(), wait = histogram();
            var reader = new org.HdrHistogram.HistogramLogReader(hlog.toFile());
            for (org.HdrHistogram.EncodableHistogram h; (h = reader.nextIntervalHistogram()) != null; ) {
                Histogram x = (Histogram) h;
                switch (String.valueOf(x.getTag())) {
                    case "step" -> step.add(x);
                    case "compute" -> compute.add(x);
                    case "reduce_update" -> reduce.add(x);
                    case "barrier_wait" -> wait.add(x);
                    default -> { }
                }
            }
            return new Result(summary.get("samples_per_sec").asDouble(), step, compute, reduce, wait);
        } finally {
            java.nio.file.Files.deleteIfExists(hlog);
        }
    }

    /**
     * One run's numbers; the histograms hold one value per timed step, in nanoseconds.
     *
     * @param samplesPerSec timed steps x batch / the sum of the timed steps' wall times
     */
    record Result(double samplesPerSec, Histogram step, Histogram compute, Histogram reduceUpdate, Histogram barrierWait) {}

    /** Steps without any JIT compilation that end the warm-up. */
    static final int QUIET = 20;

    private TrainingRun() {}

    /** The learning rate both benchmarks train with: 1e-3 for Adam and AdamW, 0.01 otherwise. */
    static float defaultLr(String optimizer) {
        return optimizer.startsWith("adam") ? 1e-3f : 0.01f;
    }

    /** {@link #run(Dataset, ModelOptions, OptimizerOptions, int, int, int, int, int)} of a compact spec with ReLU and the optimizer's defaults at {@code lr}, one shard per thread. */
    static Result run(Dataset data, String model, String optimizer, float lr, int batch, int threads,
                      int warmup, int steps) {
        OptimizerOptions o = new OptimizerOptions();
        o.optimizer = optimizer;
        o.lr = lr;
        return run(data, new ModelOptions(model), o, batch, threads, threads, warmup, steps);
    }

    /**
     * Builds, warms up and times one engine on {@code data}, with {@code shards} fixed shards
     * (deterministic for any thread count up to it).
     *
     * @throws IllegalStateException if the loss did not go down
     */
    static Result run(Dataset data, ModelOptions model, OptimizerOptions optimizer, int batch, int threads, int shards,
                      int warmup, int steps) {
        Network net = model.network(data.featureDim());
        var opt = optimizer.create(net.layout().size());
        // The schedule spans the longest this run can be: warm-up can go on to 10x its steps.
        LrSchedule schedule = optimizer.lrSchedule(10L * Math.max(1, warmup) + steps);
        int[] order = shuffled(data.size(), 1);
        Histogram step = histogram(), compute = histogram(), reduceUpdate = histogram(), wait = histogram();
        Loss loss = Loss.parse(Loss.defaultName(data.isClassification()), -1);
        try (Engine e = new Engine(net, loss, opt, optimizer.gradClip(), Gemms.best(), batch,
                shards, threads, 1, data.targetDim())) {
            net.init(e.params, e.buffers, model.initKind(), 1);
            int per = data.size() / batch;
            double firstLoss = Double.NaN;
            long timedNanos = 0;
            // Warm-up: at least `warmup` steps, then on until the JIT has been quiet for QUIET steps
            // (compiler threads compete with the workers for cores: a compilation during a timed
            // step is not the steady state), at most 10x `warmup`.
            var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
            long lastJit = jit.getTotalCompilationTime();
            int quiet = 0, warm = -1;
            for (int s = 1; warm < 0 || s <= warm + steps; s++) {
                long t0 = System.nanoTime();
                e.step(data, order, ((s - 1) % per) * batch, s, schedule.lr(s));
                long dt = System.nanoTime() - t0;
                if (s == 1) firstLoss = e.last.loss;
                if (warm < 0) {
                    long j = jit.getTotalCompilationTime();
                    quiet = j == lastJit ? quiet + 1 : 0;
                    lastJit = j;
                    if (s >= warmup && (quiet >= QUIET || s >= 10 * Math.max(1, warmup))) warm = s;
                    continue;
                }
                timedNanos += dt;
                step.recordValue(dt);
                compute.recordValue(e.last.computeNanos);
                reduceUpdate.recordValue(e.last.reduceNanos + e.last.updateNanos);
                wait.recordValue(e.last.waitNanos);
            }
            double lastLoss = e.last.loss;
            if (!(Double.isFinite(lastLoss) && lastLoss < firstLoss)) {
                throw new IllegalStateException("training did not progress at " + threads + " threads (loss "
                        + firstLoss + " -> " + lastLoss + ")");
            }
            return new Result((double) steps * batch / (timedNanos / 1e9), step, compute, reduceUpdate, wait);
        }
    }

    /** An HdrHistogram of nanoseconds up to an hour, 3 significant digits. */
    static Histogram histogram() {
        return new Histogram(3_600_000_000_000L, 3);
    }

    /** 0..n-1 in a Fisher-Yates order drawn from {@code seed}. */
    static int[] shuffled(int n, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        shuffle(order, new SplittableRandom(seed));
        return order;
    }

    /** Fisher-Yates in place, drawing from {@code rnd}: no allocation. */
    static void shuffle(int[] order, SplittableRandom rnd) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
    }
}
