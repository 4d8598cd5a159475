package dev.forkprop.bench;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench kernels}: GFLOPS of each GEMM implementation on each shape, OpenBLAS beside them.
 *
 * <p>Runs {@link GemmBench} through the JMH Runner API, one (shape, implementation) pair per JMH
 * run so that every pair gets its own forked JVM, its own progress line, and a failure that stays
 * in its own row. Implementations that cannot load here (not built yet, OpenBLAS not installed) are
 * reported as unavailable without forking. JMH's own log goes to a file ({@code --jmh-log}).
 *
 * <p>GFLOPS = 2*M*N*K / t, t the median over the measured iterations of JMH's mean time per
 * call (each iteration's raw score, not JMH's aggregate, which is a mean).
 */
@Command(name = "kernels", sortOptions = false,
        description = {
            "GEMM GFLOPS per shape and implementation (JMH, 1 fork, 1 thread), OpenBLAS beside them.",
            "Each result is checked against the reference kernel before it is timed.",
            "Default shapes (OP:MxKxN, M,K,N of op(A)*op(B)):",
            "  NN:256x784x1024 NN:256x1024x1024 NN:1024x1024x1024 NN:256x1024x10",
            "  NN:32x784x100 NN:128x784x256",
            "  TN:784x256x1024 (dW = X^T*dY)  NT:256x1024x784 (dX = dY*W^T)"})
final class KernelsCommand implements Callable<Integer> {

    /** The kernels are single-threaded, so the benchmark is. */
    static final int THREADS = 1;
    static final List<String> DEFAULT_IMPLS = List.of("vector", "scalar", GemmCall.OPENBLAS);

    /**
     * Iteration plan. Default: about 4 s per (shape, impl) pair for the fast kernels plus a ~1 s
     * fork, so 24 pairs take 2-3 minutes on 2 cores. Quick: about 1 s per pair, for smoke tests.
     */
    record Plan(int warmups, int warmupMs, int iterations, int iterationMs) {
        static final Plan DEFAULT = new Plan(3, 500, 5, 500);
        static final Plan QUICK = new Plan(2, 200, 3, 200);
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as a JSON array to FILE.")
    Path json;

    @Option(names = "--impl", split = ",", paramLabel = "NAME",
            description = "Implementations, comma-separated (default: vector,scalar,openblas; also: reference).")
    List<String> impls;

    @Option(names = "--shapes", split = ",", paramLabel = "OP:MxKxN", converter = ShapeConverter.class,
            description = "Shapes, comma-separated, e.g. NN:256x784x1024,TN:784x256x1024 (default: the MLP shapes).")
    List<GemmShape> shapes;

    @Option(names = "--quick", description = "Fewer, shorter iterations (2 warmup + 3 measured, 200 ms each): a smoke test, noisy numbers.")
    boolean quick;

    @Option(names = "--jmh-log", paramLabel = "FILE",
            description = "Where JMH's own output goes (default: forkprop-kernels-jmh.log in java.io.tmpdir).")
    Path jmhLog;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    static final class ShapeConverter implements ITypeConverter<GemmShape> {
        @Override
        public GemmShape convert(String value) {
            return GemmShape.parse(value);
        }
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> implList = impls == null ? DEFAULT_IMPLS : impls.stream().map(String::trim).distinct().toList();
        List<GemmShape> shapeList = shapes == null ? GemmShape.MLP : shapes.stream().distinct().toList();
        Plan plan = quick ? Plan.QUICK : Plan.DEFAULT;
        Path log = jmhLog != null ? jmhLog : Path.of(System.getProperty("java.io.tmpdir"), "forkprop-kernels-jmh.log");

        out.println("# forkprop bench kernels");
        for (String line : BenchEnvironment.describe()) out.println("# " + line);
        out.printf(Locale.ROOT, "# jmh: %d fork, %d thread, %d warmup x %d ms, %d measured x %d ms, mode avgt; log %s%n",
                1, THREADS, plan.warmups(), plan.warmupMs(), plan.iterations(), plan.iterationMs(), log);
        out.println("# GFLOPS = 2*M*N*K / median(iteration mean time per call); spread = (max-min)/median");
        String caveat = BenchEnvironment.openBlasCaveat();
        if (caveat != null) out.println("# note: " + caveat);
        int cores = Runtime.getRuntime().availableProcessors();
        if (cores < THREADS) {
            String w = "warning: " + THREADS + " benchmark thread(s) but only " + cores + " core(s): results are not meaningful";
            out.println("# " + w);
            err.println(w);
        }
        out.flush();

        // Unavailable implementations are decided once, here, instead of failing one fork per shape.
        Map<String, String> unavailable = new LinkedHashMap<>();
        for (String impl : implList) {
            String why = GemmCall.unavailableReason(impl);
            if (why != null) unavailable.put(impl, why);
        }
        long pairs = (long) shapeList.size() * (implList.size() - unavailable.size());
        long started = System.nanoTime();
        List<KernelRow> rows = new ArrayList<>();
        int done = 0;
        try (PrintStream jmhOut = new PrintStream(new FileOutputStream(log.toFile()), true, StandardCharsets.UTF_8)) {
            for (GemmShape shape : shapeList) {
                for (String impl : implList) {
                    if (unavailable.containsKey(impl)) {
                        rows.add(KernelRow.unavailable(shape, impl, unavailable.get(impl)));
                        continue;
                    }
                    done++;
                    long t0 = System.nanoTime();
                    KernelRow row = runOne(shape, impl, plan, jmhOut, log);
                    rows.add(row);
                    // One line per finished run: JVM warnings printed meanwhile stay on their own lines.
                    err.printf(Locale.ROOT, "[%d/%d] %s %s: %s (%.1f s)%n", done, pairs, shape.label(), impl,
                            row.ok() ? String.format(Locale.ROOT, "%.2f GFLOPS", row.gflops()) : row.status() + ": " + row.note(),
                            (System.nanoTime() - t0) / 1e9);
                    err.flush();
                }
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;

        KernelReport report = new KernelReport(rows);
        out.println();
        out.print(report.table());
        out.println();
        out.printf(Locale.ROOT, "# %d runs in %.0f s; load average now %s%n", done, seconds, BenchEnvironment.loadAverage());
        double load = BenchEnvironment.loadAverage1();
        if (load > cores) {
            out.printf(Locale.ROOT, "# warning: load average %.1f on %d cores: other processes competed with the benchmark;"
                    + " treat rows with a large spread as noise and rerun on a quiet machine%n", load, cores);
        }
        if (json != null) {
            report.writeJson(json);
            out.println("# wrote " + json);
        }
        out.flush();
        return report.anyFailed() ? 1 : 0;
    }

    private KernelRow runOne(GemmShape shape, String impl, Plan plan, PrintStream jmhOut, Path log) {
        Options opt = new OptionsBuilder()
                .include("^" + Pattern.quote(GemmBench.class.getName() + ".gemm") + "$")
                .param("shape", shape.label())
                .param("impl", impl)
                .forks(1)
                .threads(THREADS)
                .mode(Mode.AverageTime)
                .timeUnit(TimeUnit.MICROSECONDS)
                .warmupIterations(plan.warmups())
                .warmupTime(TimeValue.milliseconds(plan.warmupMs()))
                .measurementIterations(plan.iterations())
                .measurementTime(TimeValue.milliseconds(plan.iterationMs()))
                .jvmArgs(forkJvmArgs().toArray(String[]::new))
                .shouldFailOnError(true)
                .build();
        long logStart = log.toFile().length();
        try {
            Collection<RunResult> results = new Runner(opt, OutputFormatFactory.createFormatInstance(jmhOut, VerboseMode.NORMAL)).run();
            List<Double> us = new ArrayList<>();
            for (RunResult rr : results) {
                for (BenchmarkResult br : rr.getBenchmarkResults()) {
                    for (IterationResult ir : br.getIterationResults()) {
                        us.add(ir.getPrimaryResult().getScore());
                    }
                }
            }
            if (us.isEmpty()) {
                return KernelRow.failed(shape, impl, "JMH returned no iterations; see " + log);
            }
            return KernelRow.measured(shape, impl, us.stream().mapToDouble(Double::doubleValue).toArray());
        } catch (RunnerException | RuntimeException e) {
            jmhOut.flush();
            return KernelRow.failed(shape, impl, firstErrorLine(log, logStart, e) + " (see " + log + ")");
        }
    }

    /** The forked VM's first exception line since {@code from} in the JMH log, else the exception's message. */
    static String firstErrorLine(Path log, long from, Throwable fallback) {
        try {
            byte[] all = Files.readAllBytes(log);
            String tail = new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from),
                    StandardCharsets.UTF_8);
            for (String line : tail.split("\n")) {
                String t = line.trim();
                if (t.matches("^([\\w$]+\\.)*[\\w$]*(Exception|Error)\\b.*") && !t.startsWith("at ")) {
                    return t;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return String.valueOf(fallback.getMessage());
    }

    /**
     * This JVM's flags for the forks (so -Xmx, GC and module flags carry over), plus the two the
     * benchmark cannot run without if this JVM was started by hand: the Vector API module and
     * native access for the OpenBLAS downcalls.
     */
    static List<String> forkJvmArgs() {
        List<String> args = new ArrayList<>(ManagementFactory.getRuntimeMXBean().getInputArguments());
        if (args.stream().noneMatch(a -> a.contains("jdk.incubator.vector"))) {
            args.add("--add-modules=jdk.incubator.vector");
        }
        if (args.stream().noneMatch(a -> a.startsWith("--enable-native-access"))) {
            args.add("--enable-native-access=ALL-UNNAMED");
        }
        return args;
    }
}
