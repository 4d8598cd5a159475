package dev.forkprop.bench;

import dev.forkprop.kernels.Gemms;

/**
 * One GEMM implementation bound to the operands of one shape: {@code C = 1*op(A)*op(B) + 0*C},
 * prepared so that {@link #run()} does nothing but the multiply. This is what {@link GemmBench}
 * times; the operands are copied once, at {@link #prepare}, into whatever memory the
 * implementation reads (Java arrays, or off-heap segments for OpenBLAS).
 *
 * <p>Not thread-safe: one caller at a time, like a {@link dev.forkprop.kernels.GemmWorkspace}.
 */
public interface GemmCall extends AutoCloseable {

    /** Name of the OpenBLAS reference implementation (benchmark only, never used by the trainer). */
    String OPENBLAS = "openblas";

    /** Runs the multiply once and returns C (a float[] or a MemorySegment) for the Blackhole. */
    Object run();

    /** A copy of C, [m,n] row-major with ld = n, for {@link GemmCheck}. */
    float[] result();

    /** Frees off-heap memory, if any. */
    @Override
    void close();

    /**
     * Prepares {@code impl} ("openblas" or any name {@link Gemms#byName} knows) on these operands.
     * C starts filled with NaN (the beta == 0 contract says it must not be read).
     *
     * @throws IllegalArgumentException if the implementation is unknown or cannot be loaded
     */
    static GemmCall prepare(String impl, GemmOperands ops) {
        if (OPENBLAS.equals(impl)) {
            return new OpenBlasGemmCall(OpenBlasSgemm.load(), ops);
        }
        return new JavaGemmCall(Gemms.byName(impl), ops);
    }

    /**
     * Why {@code impl} cannot run in this JVM, or null if it can. Cheap enough to call from the
     * command before launching forks; never throws.
     */
    static String unavailableReason(String impl) {
        try {
            if (OPENBLAS.equals(impl)) {
                OpenBlasSgemm.load();
            } else {
                Gemms.byName(impl);
            }
            return null;
        } catch (IllegalArgumentException | IllegalStateException | LinkageError e) {
            return String.valueOf(e.getMessage());
        }
    }
}
