package dev.forkprop.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How the PyTorch side of {@code bench compare} spends its T threads. Debian's torch 1.13 has two
 * thread pools: ATen's OpenMP intra-op pool ({@code torch.set_num_threads}, {@code OMP_NUM_THREADS}),
 * which runs element-wise ops, reductions and the optimizer, and the BLAS pool (OpenBLAS's pthreads,
 * {@code OPENBLAS_NUM_THREADS}, read once when the library loads), which runs every matrix product.
 * <ul>
 *   <li>{@code blas}: intra-op 1, BLAS T. The fastest of the three with Debian's torch on the
 *       default cases.
 *   <li>{@code both}: intra-op T, BLAS T: what {@code torch.set_num_threads(T)} alone gives.
 *       Both pools spin on the same T cores.
 *   <li>{@code intra}: intra-op T, BLAS 1.
 * </ul>
 * At one thread all three are intra-op 1, BLAS 1, and {@link #settings} keeps one of them.
 *
 * @param name    one of {@link #NAMES}
 * @param intraOp {@code torch.set_num_threads} and {@code OMP_NUM_THREADS}
 * @param blas    {@code OPENBLAS_NUM_THREADS} (and {@code MKL_NUM_THREADS}, for a torch linked to MKL)
 */
record TorchThreads(String name, int intraOp, int blas) {

    static final List<String> NAMES = List.of("blas", "both", "intra");
    static final List<String> DEFAULTS = List.of("blas", "both");

    /** The setting {@code name} at {@code threads} threads. */
    static TorchThreads of(String name, int threads) {
        return switch (name) {
            case "blas" -> new TorchThreads(name, 1, threads);
            case "both" -> new TorchThreads(name, threads, threads);
            case "intra" -> new TorchThreads(name, threads, 1);
            default -> throw new IllegalArgumentException("unknown PyTorch threading '" + name + "' (expected one of "
                    + String.join(", ", NAMES) + ")");
        };
    }

    /** The named settings at {@code threads} threads, without repeats of the same (intra-op, BLAS) pair. */
    static List<TorchThreads> settings(List<String> names, int threads) {
        List<TorchThreads> out = new ArrayList<>();
        for (String n : names) {
            TorchThreads s = of(n, threads);
            if (out.stream().noneMatch(o -> o.intraOp == s.intraOp && o.blas == s.blas)) out.add(s);
        }
        return out;
    }

    /** The child process's thread variables. */
    Map<String, String> environment() {
        return Map.of("OMP_NUM_THREADS", Integer.toString(intraOp),
                "OPENBLAS_NUM_THREADS", Integer.toString(blas),
                "MKL_NUM_THREADS", Integer.toString(blas));
    }

    /** "blas (intra-op 1, BLAS 2)". */
    String label() {
        return name + " (intra-op " + intraOp + ", BLAS " + blas + ")";
    }
}
