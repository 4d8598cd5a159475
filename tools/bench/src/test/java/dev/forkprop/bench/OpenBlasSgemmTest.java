package dev.forkprop.bench;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.forkprop.kernels.GemmReference;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The FFM binding of cblas_sgemm against the reference kernel: all four transposes, alpha and
 * beta, padded leading dimensions. Skipped where OpenBLAS is not installed on a developer's
 * machine; under CI ({@code CI} set; {@code .ci/run} installs libopenblas0-pthread) it must run.
 */
class OpenBlasSgemmTest {

    @BeforeAll
    static void needsOpenBlas() {
        String why = GemmCall.unavailableReason(GemmCall.OPENBLAS);
        if (why != null && System.getenv("CI") != null) {
            throw new AssertionError("OpenBLAS must be installed under CI (.ci/run installs libopenblas0-pthread): " + why);
        }
        assumeTrue(why == null, "OpenBLAS: " + why);
    }

    @Test
    void matchesReferenceOnSmallShapesWithPaddedLeadingDims() {
        SplittableRandom rnd = new SplittableRandom(7);
        int m = 7, n = 5, k = 3, pad = 2;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int aRows = ta ? k : m, aCols = ta ? m : k, lda = aCols + pad;
                int bRows = tb ? n : k, bCols = tb ? k : n, ldb = bCols + pad;
                int ldc = n + pad;
                float[] a = random(rnd, aRows * lda);
                float[] b = random(rnd, bRows * ldb);
                float[] c0 = random(rnd, m * ldc);

                float[] want = c0.clone();
                GemmReference.INSTANCE.gemm(ta, tb, m, n, k, 1.5f, a, 0, lda, b, 0, ldb, 0.5f, want, 0, ldc, null);

                float[] got;
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment as = arena.allocateFrom(JAVA_FLOAT, a);
                    MemorySegment bs = arena.allocateFrom(JAVA_FLOAT, b);
                    MemorySegment cs = arena.allocateFrom(JAVA_FLOAT, c0);
                    OpenBlasSgemm.load().sgemm(ta, tb, m, n, k, 1.5f, as, lda, bs, ldb, 0.5f, cs, ldc);
                    got = cs.toArray(JAVA_FLOAT);
                }
                for (int i = 0; i < want.length; i++) {
                    // Padding columns of C must be untouched, so compare every element.
                    assertEquals(want[i], got[i], 1e-5f, "op " + (ta ? "T" : "N") + (tb ? "T" : "N") + " at " + i);
                }
            }
        }
    }

    @Test
    void benchmarkCallPassesItsOwnResultCheck() {
        for (GemmShape s : new GemmShape[] {GemmShape.parse("NN:13x17x19"), GemmShape.parse("TN:20x9x33"),
                GemmShape.parse("NT:16x31x8")}) {
            GemmOperands ops = GemmOperands.random(s, GemmOperands.SEED);
            try (GemmCall call = GemmCall.prepare(GemmCall.OPENBLAS, ops)) {
                call.run();
                GemmCheck.verify(ops, call.result(), GemmCall.OPENBLAS);
            }
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        return x;
    }
}
