package dev.forkprop.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forkprop.cli.DataOptions;
import dev.forkprop.cli.ModelOptions;
import dev.forkprop.cli.OptimizerOptions;
import dev.forkprop.cli.TrainCommand;
import dev.forkprop.metrics.StepEvent;
import dev.forkprop.metrics.TelemetrySink;
import dev.forkprop.run.RunResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code bench soak}: trains without pause for {@code --minutes} and reports, per interval, what a
 * long unattended run cares about: resident memory, heap in use (and after the last collection),
 * garbage collections and their pause time, and step-latency percentiles. In steady state the step
 * loop allocates nothing, so there should be no collection and no growth after the first interval.
 *
 * <p>What runs is the train command itself, in this JVM ({@code train --max-minutes}: loader and
 * telemetry threads, divergence guard), so the memory and latency are those of the command users
 * run. Threads: train's reporter thread feeds every step's time to a sink of this command, the
 * only writer of a {@link SingleWriterRecorder} (wait-free, no allocation per record); a daemon
 * sampler thread takes an interval histogram from it every {@code --interval-seconds} and reads
 * the JVM's MXBeans and {@code /proc/self/status}. The sampler allocates (a little per
 * interval); that is visible in the report as heap use, and is far too little to cause a
 * collection in an hour. The first interval includes loading the data.
 */
@Command(name = "soak", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Train continuously; per interval: RSS, heap, GC count and pause time, step latency percentiles.")
public final class SoakCommand implements Callable<Integer> {

    @Option(names = "--minutes", description = "how long to train (default: ${DEFAULT-VALUE})")
    double minutes = 30;
    @Option(names = "--interval-seconds", description = "reporting interval (default: ${DEFAULT-VALUE})")
    double intervalSeconds = 60;
    @Mixin
    ModelOptions model = new ModelOptions("784-1024-1024-10");
    @Option(names = "--batch", description = "global batch (default: ${DEFAULT-VALUE})")
    int batch = 256;
    @Mixin
    OptimizerOptions optimizer = new OptimizerOptions();
    @Option(names = "--threads", description = "worker threads (default: the cores)")
    Integer threads;
    @Mixin
    DataOptions dataOptions = new DataOptions();
    @Option(names = "--json", description = "write the interval rows as a JSON array")
    Path json;
    @Option(names = "--plot", description = "write a PNG: RSS and step latency p50/p99 against time")
    Path plot;

    @Spec
    CommandSpec spec;

    /** One reporting interval. */
    record Row(double endSeconds, long steps, double samplesPerSec, double p50, double p99, double p999, double max,
               double rssMb, double heapUsedMb, double heapAfterGcMb, long gcCount, double gcMillis) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (!(minutes > 0) || !(intervalSeconds > 0) || batch <= 0 || t <= 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--minutes, --interval-seconds, --batch and --threads must be positive");
        }
        model.validate();
        optimizer.validate();
        dataOptions.validate();
        for (String line : BenchEnvironment.describe()) out.println("# " + line);
        out.printf("# soak: %s | batch %d | %s | %d threads | %.1f min, interval %.0f s%n",
                model.model, batch, optimizer.optimizer + " lr " + optimizer.lr, t, minutes, intervalSeconds);
        out.printf("%8s %7s %9s %8s %8s %8s %8s %8s %9s %9s %6s %8s%n", "t (s)", "steps", "samples/s", "p50 ms",
                "p99 ms", "p99.9 ms", "max ms", "RSS MB", "heap MB", "afterGC", "GCs", "GC ms");
        out.flush();

        SingleWriterRecorder recorder = new SingleWriterRecorder(3_600_000_000_000L, 3);
        List<Row> rows = new ArrayList<>();
        long intervalNanos = (long) (intervalSeconds * 1e9);
        // Steps so far: the reporter thread publishes with a release store; the sampler's volatile read sees a recent value.
        java.util.concurrent.atomic.AtomicLong steps = new java.util.concurrent.atomic.AtomicLong();
        Sampler sampler = new Sampler(recorder, intervalNanos, rows, out, batch, steps);
        TelemetrySink stepTimes = (e, endOfBatch) -> {
            if (e.kind != StepEvent.STEP) return;
            recorder.recordValue(e.stepNanos);
            steps.setRelease(e.step);
        };
        List<String> args = new ArrayList<>();
        args.addAll(dataOptions.args());
        args.addAll(model.args());
        args.addAll(optimizer.args());
        // Epochs without end: --max-minutes stops the run (a cosine schedule over them is nearly constant).
        args.addAll(List.of("--batch", Integer.toString(batch), "--threads", Integer.toString(t), "--epochs", "1000000",
                "--max-minutes", Double.toString(minutes), "--log-every", "1e9", "--progress", "lines", "--seed", "1"));
        sampler.start(System.nanoTime());
        RunResult r;
        try {
            r = TrainCommand.runInProcess(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), args, stepTimes);
        } finally {
            sampler.finish();
        }
        if (r.diverged || r.skippedSteps > 0) throw new IllegalStateException("the soak had " + r.skippedSteps + " bad steps");
        if (json != null) writeJson(rows, json);
        if (plot != null) plot(rows, plot);
        summarize(rows, out);
        return 0;
    }

    /** Steady-state verdict lines: RSS drift after the first interval, GCs after it, last p99 vs the second's. */
    static void summarize(List<Row> rows, PrintWriter out) {
        if (rows.size() < 3) {
            out.println("# fewer than 3 intervals: no steady-state summary");
            out.flush();
            return;
        }
        Row first = rows.get(0), second = rows.get(1), last = rows.get(rows.size() - 1);
        double minRss = Double.MAX_VALUE, maxRss = 0;
        long gcs = 0;
        double gcMs = 0;
        for (Row r : rows.subList(1, rows.size())) {
            minRss = Math.min(minRss, r.rssMb());
            maxRss = Math.max(maxRss, r.rssMb());
            gcs += r.gcCount();
            gcMs += r.gcMillis();
        }
        out.printf("# steady state (after the first %.0f s): RSS %.1f-%.1f MB (drift %.2f%% of %.1f MB); "
                        + "%d GCs, %.1f ms of GC; p99 last interval %.3f ms vs second %.3f ms (%+.1f%%)%n",
                first.endSeconds(), minRss, maxRss, 100 * (maxRss - minRss) / second.rssMb(), second.rssMb(), gcs, gcMs,
                last.p99(), second.p99(), 100 * (last.p99() / second.p99() - 1));
        out.flush();
    }

    static void writeJson(List<Row> rows, Path file) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ArrayNode a = om.createArrayNode();
        for (Row r : rows) {
            ObjectNode o = a.addObject();
            o.put("t_s", r.endSeconds());
            o.put("steps", r.steps());
            o.put("samples_per_sec", r.samplesPerSec());
            o.put("step_ms_p50", r.p50());
            o.put("step_ms_p99", r.p99());
            o.put("step_ms_p999", r.p999());
            o.put("step_ms_max", r.max());
            o.put("rss_mb", r.rssMb());
            o.put("heap_used_mb", r.heapUsedMb());
            o.put("heap_after_gc_mb", r.heapAfterGcMb());
            o.put("gc_count", r.gcCount());
            o.put("gc_ms", r.gcMillis());
        }
        om.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), a);
    }

    static void plot(List<Row> rows, Path file) throws IOException {
        double[] x = new double[rows.size()], rss = new double[rows.size()], p50 = new double[rows.size()],
                p99 = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            x[i] = r.endSeconds() / 60;
            rss[i] = r.rssMb();
            p50[i] = r.p50();
            p99[i] = r.p99();
        }
        var a = new org.knowm.xchart.XYChartBuilder().width(800).height(300).title("Resident memory")
                .xAxisTitle("minutes").yAxisTitle("RSS (MB)").build();
        a.addSeries("RSS", x, rss);
        a.getStyler().setYAxisMin(0.0);
        var b = new org.knowm.xchart.XYChartBuilder().width(800).height(300).title("Step latency per interval")
                .xAxisTitle("minutes").yAxisTitle("ms").build();
        b.addSeries("p50", x, p50);
        b.addSeries("p99", x, p99);
        b.getStyler().setYAxisMin(0.0);
        // Interval ends are a few microseconds past whole minutes: label the axis in minutes.
        for (var c : List.of(a, b)) c.getStyler().setXAxisDecimalPattern("#0.#");
        org.knowm.xchart.BitmapEncoder.saveBitmap(List.of(a, b), 2, 1, file.toString(),
                org.knowm.xchart.BitmapEncoder.BitmapFormat.PNG);
    }


    /** Resident set size from /proc/self/status (Linux), in MB; NaN elsewhere. */
    static double rssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: reported as NaN
        }
        return Double.NaN;
    }

    /** The daemon thread that closes an interval every {@code intervalNanos}. */
    private static final class Sampler extends Thread {
        private final SingleWriterRecorder recorder;
        private final long intervalNanos;
        private final List<Row> rows;
        private final PrintWriter out;
        private final int batch;
        private final java.util.concurrent.atomic.AtomicLong steps;
        private volatile boolean done;
        private long start, lastAt, lastSteps, lastGcCount, lastGcMillis;
        private Histogram reuse;

        Sampler(SingleWriterRecorder recorder, long intervalNanos, List<Row> rows, PrintWriter out, int batch, java.util.concurrent.atomic.AtomicLong steps) {
            super("forkprop-soak-sampler");
            setDaemon(true);
            this.recorder = recorder;
            this.intervalNanos = intervalNanos;
            this.rows = rows;
            this.out = out;
            this.batch = batch;
            this.steps = steps;
        }

        void start(long startNanos) {
            this.start = startNanos;
            this.lastAt = startNanos;
            long[] gc = gc();
            lastGcCount = gc[0];
            lastGcMillis = gc[1];
            reuse = recorder.getIntervalHistogram();   // discard anything before the start
            start();
        }

        @Override
        public void run() {
            long next = start + intervalNanos;
            while (!done) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(this, wait);
                    continue;
                }
                sample(System.nanoTime());
                next += intervalNanos;
            }
        }

        /** Coordinator: stops the sampler and closes the last (partial) interval if it has steps. */
        void finish() throws InterruptedException {
            done = true;
            java.util.concurrent.locks.LockSupport.unpark(this);
            join();
            long now = System.nanoTime();
            if (now - lastAt > intervalNanos / 10) sample(now);
        }

        /**
         * Closes an interval. Called by the sampler thread, and once more by the coordinator after
         * {@link #join} (which orders it after the sampler's last call): never concurrently.
         */
        private void sample(long now) {
            Histogram h = recorder.getIntervalHistogram(reuse);
            reuse = h;
            long s = steps.get();
            long[] gc = gc();
            double secs = (now - lastAt) / 1e9;
            Row r = new Row((now - start) / 1e9, s - lastSteps, (s - lastSteps) * batch / secs,
                    h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
                    h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6,
                    rssMb(), heapUsedMb(), heapAfterGcMb(), gc[0] - lastGcCount, gc[1] - lastGcMillis);
            rows.add(r);
            out.printf("%8.0f %7d %9.0f %8.3f %8.3f %8.3f %8.3f %8.1f %9.1f %9.1f %6d %8.1f%n", r.endSeconds(), r.steps(),
                    r.samplesPerSec(), r.p50(), r.p99(), r.p999(), r.max(), r.rssMb(), r.heapUsedMb(), r.heapAfterGcMb(),
                    r.gcCount(), r.gcMillis());
            out.flush();
            lastAt = now;
            lastSteps = s;
            lastGcCount = gc[0];
            lastGcMillis = gc[1];
        }

        private static long[] gc() {
            long n = 0, ms = 0;
            for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
                n += Math.max(0, b.getCollectionCount());
                ms += Math.max(0, b.getCollectionTime());
            }
            return new long[] {n, ms};
        }

        private static double heapUsedMb() {
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0;
        }

        private static double heapAfterGcMb() {
            long used = 0;
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
                if (p.getType() == MemoryType.HEAP && p.getCollectionUsage() != null) used += p.getCollectionUsage().getUsed();
            }
            return used / 1048576.0;
        }
    }
}
