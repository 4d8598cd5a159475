package dev.forkprop.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forkprop.bench.TrainingRun.Result;
import dev.forkprop.data.Dataset;
import dev.forkprop.cli.DataOptions;
import dev.forkprop.cli.ModelOptions;
import dev.forkprop.cli.OptimizerOptions;
import dev.forkprop.data.TrainingData;
import dev.forkprop.kernels.Gemms;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code bench scaling}: training throughput by thread count, on real MNIST batches, in one JVM.
 *
 * <p>After one untimed run per thread count (so the JIT has compiled everything), for each repeat
 * the thread counts run in turn (alternating, so drift on a noisy machine hits every count
 * alike); each run is the train command in this JVM ({@link TrainingRun#train}: data, network,
 * engine, loader and telemetry threads as {@code ./run.sh train} builds them), {@code
 * --warmup-steps} untimed steps, then {@code --steps} timed ones, reported with train's own
 * samples/s and latency histograms. {@code --loop engine} times the engine's step loop alone
 * instead, a diagnostic of the engine's ceiling.
 * Reported per thread count: median samples/s with min and max over repeats, speedup and
 * efficiency against the first thread count's median, step latency p50/p99/p99.9 over all timed
 * steps, and the per-phase split (compute, reduce+update, and the coordinator's wait at the barriers). The benchmark checks that training
 * did something (the loss after the timed steps is finite and below the initial loss) before it
 * reports a number.
 */
@Command(name = "scaling", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Training samples/s by thread count (speedup, efficiency, step latency, phase split).")
public final class ScalingCommand implements Callable<Integer> {

    @Option(names = "--threads", split = ",", description = "thread counts (default: 1, powers of two up to the cores, and the cores)")
    int[] threads;
    @Option(names = "--ranks", split = ",", description = "process counts: R > 1 runs train under mpirun -np R (Open MPI), R ranks of each"
            + " thread count (default: ${DEFAULT-VALUE})")
    int[] ranks = {1};
    @Mixin
    ModelOptions model = new ModelOptions("784-1024-1024-10");
    @Option(names = "--batch", description = "global batch (default: ${DEFAULT-VALUE})")
    int batch = 256;
    @Mixin
    OptimizerOptions optimizer = new OptimizerOptions();
    @Option(names = "--weak", description = "batch per thread fixed (batch x threads) instead of global batch fixed")
    boolean weak;
    @Option(names = "--shards", description = "fixed shards per batch, as train --deterministic --shards (default: one per thread)")
    Integer shards;
    @Option(names = "--loop", description = "train: time the train command in this JVM (what users run); engine: the engine's step loop alone, a diagnostic (default: ${DEFAULT-VALUE})")
    String loop = "train";
    @Option(names = "--warmup-steps", description = "untimed steps per run (--loop engine: at least; warm-up goes on until the JIT "
            + "has compiled nothing for 20 steps, up to 10x this) (default: ${DEFAULT-VALUE})")
    int warmup = 30;
    @Option(names = "--steps", description = "timed steps per run (default: ${DEFAULT-VALUE})")
    int steps = 100;
    @Option(names = "--repeats", description = "runs per thread count (default: ${DEFAULT-VALUE})")
    int repeats = 3;
    @Mixin
    DataOptions dataOptions = new DataOptions();
    @Option(names = "--json", description = "write the rows as a JSON array")
    Path json;
    @Option(names = "--csv", description = "write the rows as CSV")
    Path csv;
    @Option(names = "--plot", description = "write a PNG: samples/s and parallel efficiency against threads")
    Path plot;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int cores = Runtime.getRuntime().availableProcessors();
        int[] counts = threads != null ? threads : defaultCounts(cores);
        for (int t : counts) {
            if (t <= 0) throw new IllegalArgumentException("--threads values must be positive, got " + t);
        }
        if (!loop.equals("train") && !loop.equals("engine")) throw new IllegalArgumentException("--loop must be train or engine, got '" + loop + "'");
        if (batch <= 0 || steps <= 0 || repeats <= 0 || warmup < 0) {
            throw new IllegalArgumentException("--batch, --steps and --repeats must be positive, --warmup-steps >= 0");
        }
        for (int rk : ranks) {
            if (rk <= 0) throw new IllegalArgumentException("--ranks values must be positive, got " + rk);
            if (rk > 1 && !loop.equals("train")) throw new IllegalArgumentException("--ranks above 1 needs --loop train");
        }
        // Every (ranks, threads) pair, ranks outer: the rows of the table.
        final int n = ranks.length * counts.length;
        final int[] rk = new int[n], th = new int[n];
        for (int i = 0; i < n; i++) {
            rk[i] = ranks[i / counts.length];
            th[i] = counts[i % counts.length];
        }
        for (int i = 0; i < n; i++) {
            if (shards != null && shards < th[i] * rk[i]) {
                throw new IllegalArgumentException("--shards " + shards + " is below ranks x threads " + rk[i] * th[i]);
            }
        }
        model.validate();
        optimizer.validate();
        dataOptions.validate();
        Dataset data = TrainingData.load(dataOptions.request(1, null)).train();
        BenchEnvironment.printHeader(out, counts);
        out.printf("# loop: %s | gemm: %s | model %s | batch %d%s | %s | %s | warm-up %s %d, timed %d steps x %d repeats%n",
                loop.equals("train") ? "train (the command, in this JVM)" : "engine only (diagnostic: no loader, no telemetry)",
                Gemms.best().name(), model.model, batch, weak ? " per thread (weak scaling)" : " (strong scaling)",
                optimizer.optimizer + " lr " + optimizer.lr, shards == null ? "one shard per thread" : shards + " fixed shards (deterministic)",
                loop.equals("train") ? "" : ">= (until the JIT is quiet)", warmup, steps, repeats);
        out.printf("# data: %s, %d training samples%n", dataOptions.data, data.size());
        if (n > counts.length) out.printf("# ranks > 1: mpirun -np R --bind-to none, fresh JVMs, warm-up %d steps%n", 10 * warmup);
        // One untimed run per thread count first: JIT compilation must not land in a timed run.
        for (int i = 0; i < n; i++) if (rk[i] == 1) runOnce(data, th[i], 1);
        List<List<Result>> runs = new ArrayList<>();
        for (int i = 0; i < n; i++) runs.add(new ArrayList<>());
        for (int r = 0; r < repeats; r++) {
            for (int i = 0; i < n; i++) {
                Result run = runOnce(data, th[i], rk[i]);
                runs.get(i).add(run);
                out.printf("# repeat %d, %s: %.0f samples/s%n", r + 1, label(rk[i], th[i]), run.samplesPerSec());
                out.flush();
            }
        }
        ObjectMapper om = new ObjectMapper();
        ArrayNode rows = om.createArrayNode();
        StringBuilder csvText = new StringBuilder("ranks,threads,samples_per_sec,min,max,speedup,efficiency,step_ms_p50,step_ms_p99,step_ms_p999,compute_ms_p50,reduce_update_ms_p50,barrier_wait_ms_p50\n");
        out.printf("%n%9s %12s %10s %10s %8s %6s %9s %9s %9s %9s %14s %9s%n", "threads", "samples/s", "min", "max",
                "speedup", "eff", "p50 ms", "p99 ms", "p99.9 ms", "compute", "reduce+update", "wait");
        for (int i = 0; i < n; i++) {
            List<Result> rs = runs.get(i);
            Spread sps = samplesPerSec(rs);
            double median = sps.median();
            Histogram step = merged(rs, 0), compute = merged(rs, 1), reduceUpdate = merged(rs, 2), wait = merged(rs, 3);
            double speedup = median / samplesPerSec(runs.get(0)).median();
            double eff = speedup / ((double) rk[i] * th[i] / (rk[0] * th[0]));
            double p50 = ms(step, 50), p99 = ms(step, 99), p999 = ms(step, 99.9);
            out.printf("%9s %12.0f %10.0f %10.0f %8.2f %6.2f %9.3f %9.3f %9.3f %9.3f %14.3f %9.3f%n", label(rk[i], th[i]), median, sps.min(),
                    sps.max(), speedup, eff, p50, p99, p999, ms(compute, 50), ms(reduceUpdate, 50), ms(wait, 50));
            ObjectNode o = rows.addObject();
            o.put("ranks", rk[i]);
            o.put("threads", th[i]);
            o.put("samples_per_sec", median);
            o.put("samples_per_sec_min", sps.min());
            o.put("samples_per_sec_max", sps.max());
            o.put("speedup", speedup);
            o.put("efficiency", eff);
            o.put("step_ms_p50", p50);
            o.put("step_ms_p99", p99);
            o.put("step_ms_p999", p999);
            o.put("compute_ms_p50", ms(compute, 50));
            o.put("reduce_update_ms_p50", ms(reduceUpdate, 50));
            o.put("barrier_wait_ms_p50", ms(wait, 50));
            o.put("step_ms_max", step.getMaxValue() / 1e6);
            o.put("shards", shards == null ? rk[i] * th[i] : shards);
            o.put("batch", weak ? batch * th[i] * rk[i] : batch);
            o.put("model", model.model);
            csvText.append(String.format("%d,%d,%.1f,%.1f,%.1f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f%n", rk[i], th[i], median, sps.min(),
                    sps.max(), speedup, eff, p50, p99, p999, ms(compute, 50), ms(reduceUpdate, 50), ms(wait, 50)));
        }
        BenchEnvironment.printLoadAtEnd(out);
        if (json != null) Files.writeString(json, om.writerWithDefaultPrettyPrinter().writeValueAsString(rows));
        if (csv != null) Files.writeString(csv, csvText);
        if (plot != null) plot(rows, plot);
        return 0;
    }

    /** Two stacked charts: median samples/s (min-max as error bars) and efficiency, against threads. */
    private void plot(ArrayNode rows, Path file) throws java.io.IOException {
        System.setProperty("java.awt.headless", "true");
        int n = rows.size();
        double[] t = new double[n], sps = new double[n], err = new double[n], eff = new double[n], ideal = new double[n];
        for (int i = 0; i < n; i++) {
            var r = rows.get(i);
            t[i] = r.get("threads").asDouble() * r.get("ranks").asDouble();
            sps[i] = r.get("samples_per_sec").asDouble();
            err[i] = (r.get("samples_per_sec_max").asDouble() - r.get("samples_per_sec_min").asDouble()) / 2;
            eff[i] = r.get("efficiency").asDouble();
            ideal[i] = 1;
        }
        String what = model.model + ", batch " + batch + (weak ? " per thread" : "") + ", " + optimizer.optimizer;
        org.knowm.xchart.XYChart a = new org.knowm.xchart.XYChartBuilder().width(800).height(380)
                .title("Training throughput: " + what).xAxisTitle("workers (ranks x threads)").yAxisTitle("samples/s (median; bar: half the min-max range)").build();
        a.addSeries("samples/s", t, sps, err);
        org.knowm.xchart.XYChart b = new org.knowm.xchart.XYChartBuilder().width(800).height(380)
                .title("Parallel efficiency (speedup / threads)").xAxisTitle("threads").yAxisTitle("efficiency").build();
        b.addSeries("efficiency", t, eff);
        b.addSeries("ideal", t, ideal);
        b.getStyler().setYAxisMin(0.0).setYAxisMax(1.2);
        org.knowm.xchart.BitmapEncoder.saveBitmap(java.util.List.of(a, b), 2, 1, file.toString(),
                org.knowm.xchart.BitmapEncoder.BitmapFormat.PNG);
    }

    private static Spread samplesPerSec(List<Result> runs) {
        return Spread.of(runs.stream().mapToDouble(Result::samplesPerSec).toArray());
    }

    /** "2 x 1" for ranks, "2" in one process. */
    private String label(int r, int t) {
        return ranks.length == 1 && ranks[0] == 1 ? Integer.toString(t) : r + " x " + t;
    }

    private Result runOnce(Dataset data, int t, int r) throws Exception {
        int b = weak ? batch * t * r : batch;
        if (loop.equals("engine")) return TrainingRun.run(data, model, optimizer, b, t, shards == null ? t : shards, warmup, steps);
        List<String> args = new ArrayList<>();
        args.addAll(dataOptions.args());
        args.addAll(model.args());
        args.addAll(optimizer.args());
        args.addAll(List.of("--batch", Integer.toString(b), "--threads", Integer.toString(t)));
        if (shards != null) args.addAll(List.of("--deterministic", "--shards", Integer.toString(shards)));
        // Ranks run in fresh JVMs, without this JVM's untimed first run: ten times the warm-up, so
        // that their timed steps, too, come after the JIT has compiled the step.
        return r == 1 ? TrainingRun.train(args, warmup, steps) : TrainingRun.trainUnderMpirun(r, args, 10 * warmup, steps);
    }

    /** which: 0 step, 1 compute, 2 reduce+update, 3 barrier wait. */
    private static Histogram merged(List<Result> rs, int which) {
        Histogram h = TrainingRun.histogram();
        for (Result r : rs) {
            h.add(switch (which) {
                case 0 -> r.step();
                case 1 -> r.compute();
                case 2 -> r.reduceUpdate();
                default -> r.barrierWait();
            });
        }
        return h;
    }

    private static double ms(Histogram h, double p) {
        return h.getValueAtPercentile(p) / 1e6;
    }

    static int[] defaultCounts(int cores) {
        List<Integer> c = new ArrayList<>();
        for (int t = 1; t <= cores; t *= 2) c.add(t);
        if (!c.contains(cores)) c.add(cores);
        return c.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String toString() {
        return "scaling " + Arrays.toString(threads);
    }
}
