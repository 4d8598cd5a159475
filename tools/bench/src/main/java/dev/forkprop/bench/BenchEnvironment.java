package dev.forkprop.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a benchmark number depends on, printed above every report: CPU model, cores, JVM, the
 * Vector API's preferred float species, OpenBLAS and its core override, and the load average
 * (other processes on a shared machine are the usual cause of a noisy run).
 *
 * <p>Reads /proc; on other systems the fields say "unknown". Never throws.
 */
public final class BenchEnvironment {
    private BenchEnvironment() {}

    /** Header lines, each "key: value". */
    public static List<String> describe() {
        List<String> lines = new ArrayList<>();
        lines.add("cpu: " + cpuModel());
        lines.add("cores: " + Runtime.getRuntime().availableProcessors() + " available to the JVM");
        lines.add("jvm: " + System.getProperty("java.vm.name") + " " + Runtime.version()
                + " (" + System.getProperty("java.vm.vendor") + ")");
        lines.add("vector species: " + vectorSpecies());
        String coretype = System.getenv("OPENBLAS_CORETYPE");
        lines.add("OPENBLAS_CORETYPE: " + (coretype == null ? "(unset)" : coretype));
        lines.add("openblas: " + openBlas());
        lines.add("load average: " + loadAverage());
        return lines;
    }

    /**
     * {@link #describe()} as "# " comment lines, then a warning for each thread count above the
     * cores available (such a run measures oversubscription, not the code).
     */
    public static void printHeader(PrintWriter out, int... threadCounts) {
        for (String line : describe()) out.println("# " + line);
        int cores = Runtime.getRuntime().availableProcessors();
        for (int t : threadCounts) {
            if (t > cores) out.printf("# warning: %d threads > %d cores: oversubscribed%n", t, cores);
        }
    }

    /**
     * The load average after a benchmark, and a warning when it is above the cores: then other
     * processes competed with the benchmark for them.
     */
    public static void printLoadAtEnd(PrintWriter out) {
        out.println("# load average at the end: " + loadAverage());
        int cores = Runtime.getRuntime().availableProcessors();
        double load = loadAverage1();
        if (load > cores) {
            out.printf(Locale.ROOT, "# warning: load average %.1f on %d cores: other processes competed with the benchmark;"
                    + " trust the medians, not single runs, or rerun on a quiet machine%n", load, cores);
        }
    }

    /**
     * A caveat for the OpenBLAS ratio, or null: an OPENBLAS_CORETYPE override pins OpenBLAS to
     * that core's kernels (Haswell: AVX2, 256-bit) even where the JVM's preferred species is wider,
     * so the ratio then compares different instruction sets, not just code.
     */
    public static String openBlasCaveat() {
        String coretype = System.getenv("OPENBLAS_CORETYPE");
        if (coretype == null || coretype.isBlank()) return null;
        String jvm;
        try {
            jvm = VectorSpecies.bits() + "-bit";
        } catch (LinkageError e) {
            jvm = "no";
        }
        return "OPENBLAS_CORETYPE=" + coretype + " pins OpenBLAS to its " + coretype + " kernels while the JVM uses "
                + jvm + " vectors: /openblas compares with that core type, not with the best OpenBLAS for this CPU";
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return "unknown (" + System.getProperty("os.arch") + ")";
    }

    /** "8 floats (256 bits)", or why the Vector API is not there. */
    static String vectorSpecies() {
        try {
            return VectorSpecies.describe();
        } catch (LinkageError e) {
            return "unavailable (" + e + "): run with --add-modules jdk.incubator.vector";
        }
    }

    static String openBlas() {
        try {
            OpenBlasSgemm blas = OpenBlasSgemm.load();
            return blas.describe() + ", " + blas.library() + ", 1 thread";
        } catch (IllegalStateException | LinkageError e) {
            return e.getMessage();
        }
    }

    /** The 1, 5 and 15 minute load averages from /proc/loadavg. */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return String.format(Locale.ROOT, "%s %s %s", f[0], f[1], f[2]);
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** The 1-minute load average, or NaN where /proc/loadavg is missing. */
    public static double loadAverage1() {
        try {
            return Double.parseDouble(loadAverage().split(" ")[0]);
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Isolates the jdk.incubator.vector reference so a missing module is a LinkageError here. */
    private static final class VectorSpecies {
        static String describe() {
            var s = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
            return s.length() + " floats (" + s.vectorBitSize() + " bits, FloatVector.SPECIES_PREFERRED)";
        }

        static int bits() {
            return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
        }
    }
}
