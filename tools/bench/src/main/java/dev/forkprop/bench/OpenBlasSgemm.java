package dev.forkprop.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cblas_sgemm} from the system's OpenBLAS through the Foreign Function &amp; Memory API
 * (no JNI): the side-by-side reference of {@code bench kernels}. Never used by the trainer, which
 * has no native code on its path.
 *
 * <p>Loading calls {@code openblas_set_num_threads(1)}: our kernels are single-threaded and are
 * compared with single-threaded OpenBLAS. The library is found by name or path (first that opens):
 * {@link #CANDIDATES}, or only the one named by the system property {@code forkprop.openblas}. Assumes the LP64 interface (32-bit {@code blasint}), which is what Debian's
 * {@code libopenblas0-*} packages ship; the ILP64 build is named {@code libopenblas64*} and is not
 * tried.
 *
 * <p>Thread-safety: {@link #sgemm} may be called from any thread; with one OpenBLAS thread each
 * call runs on the caller. Memory consistency effects: the downcall returns after OpenBLAS has
 * written C, so reads of C that follow the call in the same thread see the product.
 */
// Restricted FFM methods are the point of this class (the JVM runs with --enable-native-access).
@SuppressWarnings("restricted")
public final class OpenBlasSgemm {

    /** Tried in order: Debian/Ubuntu multiarch path, then whatever the dynamic linker finds. */
    static final List<String> CANDIDATES = List.of(
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
            "/usr/lib64/libopenblas.so.0",
            "libopenblas.so.0",
            "libopenblas.so");

    /** The one-line hint printed in a benchmark row when no candidate opens. */
    public static final String NOT_INSTALLED = "not installed (apt-get install libopenblas0-pthread)";

    // cblas.h enums
    static final int CBLAS_ROW_MAJOR = 101;
    static final int CBLAS_NO_TRANS = 111;
    static final int CBLAS_TRANS = 112;

    private static OpenBlasSgemm loaded;
    private static String failure;

    private final String library;
    private final MethodHandle cblasSgemm;
    private final MethodHandle getConfig; // may be null: not every build exports it
    private final MethodHandle getCorename;

    private OpenBlasSgemm(String library, SymbolLookup lookup) {
        Linker linker = Linker.nativeLinker();
        this.library = library;
        // void cblas_sgemm(order, transA, transB, M, N, K, alpha, *A, lda, *B, ldb, beta, *C, ldc)
        this.cblasSgemm = linker.downcallHandle(find(lookup, "cblas_sgemm"), FunctionDescriptor.ofVoid(
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT));
        MethodHandle setThreads = linker.downcallHandle(find(lookup, "openblas_set_num_threads"),
                FunctionDescriptor.ofVoid(JAVA_INT));
        this.getConfig = lookup.find("openblas_get_config")
                .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ADDRESS))).orElse(null);
        this.getCorename = lookup.find("openblas_get_corename")
                .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ADDRESS))).orElse(null);
        try {
            setThreads.invokeExact(1);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed in " + library + ": " + t, t);
        }
    }

    private static MemorySegment find(SymbolLookup lookup, String symbol) {
        return lookup.find(symbol).orElseThrow(() -> new IllegalStateException(
                "symbol " + symbol + " missing from the OpenBLAS library (is it a CBLAS build?)"));
    }

    /**
     * The process-wide binding, loaded on first use with one OpenBLAS thread.
     *
     * @throws IllegalStateException with {@link #NOT_INSTALLED} (or the missing symbol) if absent
     */
    public static synchronized OpenBlasSgemm load() {
        if (loaded != null) return loaded;
        if (failure != null) throw new IllegalStateException(failure);
        List<String> tried = new ArrayList<>();
        String forced = System.getProperty("forkprop.openblas");
        for (String candidate : forced == null || forced.isBlank() ? CANDIDATES : List.of(forced)) {
            SymbolLookup lookup;
            try {
                lookup = candidate.startsWith("/")
                        ? openPath(Path.of(candidate))
                        : SymbolLookup.libraryLookup(candidate, Arena.global());
            } catch (IllegalArgumentException e) { // libraryLookup: "cannot open library"
                tried.add(candidate);
                continue;
            }
            if (lookup == null) {
                tried.add(candidate);
                continue;
            }
            try {
                loaded = new OpenBlasSgemm(candidate, lookup);
                return loaded;
            } catch (IllegalStateException e) {
                failure = e.getMessage();
                throw e;
            }
        }
        failure = NOT_INSTALLED;
        throw new IllegalStateException(failure + "; tried " + String.join(", ", tried));
    }

    private static SymbolLookup openPath(Path path) {
        return Files.exists(path) ? SymbolLookup.libraryLookup(path, Arena.global()) : null;
    }

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C}, all row-major, sizes and leading dimensions as in
     * {@link dev.forkprop.kernels.Gemm}. The segments must be native (off-heap) and large enough;
     * nothing is checked here, a wrong size is a native crash.
     */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, MemorySegment a, int lda, MemorySegment b, int ldb,
                      float beta, MemorySegment c, int ldc) {
        try {
            cblasSgemm.invokeExact(CBLAS_ROW_MAJOR, transA ? CBLAS_TRANS : CBLAS_NO_TRANS,
                    transB ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    /** Library that was opened, e.g. {@code /usr/lib/x86_64-linux-gnu/libopenblas.so.0}. */
    public String library() {
        return library;
    }

    /** {@code openblas_get_config()} and the core OpenBLAS picked, e.g. "OpenBLAS 0.3.21 ... (core Haswell)". */
    public String describe() {
        String config = callString(getConfig);
        String core = callString(getCorename);
        return (config == null ? "unknown config" : config.trim()) + (core == null ? "" : " (core " + core.trim() + ")");
    }

    private static String callString(MethodHandle h) {
        if (h == null) return null;
        try {
            MemorySegment p = (MemorySegment) h.invokeExact();
            return p.equals(MemorySegment.NULL) ? null : p.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }
}
