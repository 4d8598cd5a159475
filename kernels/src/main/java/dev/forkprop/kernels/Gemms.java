package dev.forkprop.kernels;

/**
 * Picks the GEMM implementation: the fastest available unless the system property
 * {@code forkprop.gemm} (values: {@code vector}, {@code scalar}, {@code reference}) forces one.
 */
public final class Gemms {
    private Gemms() {}

    /** The implementation named by {@code forkprop.gemm}, else the fastest available. */
    public static Gemm best() {
        String forced = System.getProperty("forkprop.gemm");
        return forced == null || forced.isBlank() ? fastest() : byName(forced);
    }

    /** The implementation with this name; IllegalArgumentException naming the choices if unknown. */
    public static Gemm byName(String name) {
        return switch (name) {
            case "vector" -> {
                if (!vectorApiPresent()) {
                    throw new IllegalArgumentException("GEMM 'vector' needs the jdk.incubator.vector module:"
                            + " run java with --add-modules jdk.incubator.vector");
                }
                yield VectorHolder.VECTOR;
            }
            case "scalar" -> ScalarGemm.INSTANCE;
            case "reference" -> GemmReference.INSTANCE;
            default -> throw new IllegalArgumentException(
                    "unknown GEMM implementation '" + name + "' (expected vector, scalar or reference)");
        };
    }

    /**
     * {@link VectorGemm} when the Vector API module is present and its preferred float species is
     * at least 256 bits wide (narrower vectors do not beat the auto-vectorized scalar kernel),
     * else {@link ScalarGemm}.
     */
    private static Gemm fastest() {
        if (vectorApiPresent() && VectorHolder.preferredBits() >= 256) return VectorHolder.VECTOR;
        return ScalarGemm.INSTANCE;
    }

    /** Whether {@code jdk.incubator.vector} is in the boot layer (needs {@code --add-modules}). */
    static boolean vectorApiPresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** Touches VectorGemm (and so the Vector API classes) only once the module is known present. */
    private static final class VectorHolder {
        static final Gemm VECTOR = VectorGemm.INSTANCE;

        static int preferredBits() {
            return VectorGemm.S.vectorBitSize();
        }
    }
}
