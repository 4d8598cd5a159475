package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.GemmReference;
import dev.forkprop.kernels.GemmWorkspace;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The pre-timing result check passes the reference and catches a deliberately broken twin. */
class GemmCheckTest {

    /** Broken twin: correct except that it never writes the last column (a classic tail bug). */
    static final class DropsLastColumn implements Gemm {
        @Override
        public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff,
                         int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc,
                         GemmWorkspace ws) {
            GemmReference.INSTANCE.gemm(transA, transB, m, n - 1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c,
                    cOff, ldc, ws);
        }

        @Override
        public String name() {
            return "drops-last-column";
        }

        @Override
        public GemmWorkspace newWorkspace() {
            return new GemmWorkspace(0, 0);
        }
    }

    @Test
    void referencePassesOnEveryOp() {
        for (String text : new String[] {"NN:9x4x7", "TN:9x4x7", "NT:9x4x7", "TT:9x4x7"}) {
            GemmOperands ops = GemmOperands.random(GemmShape.parse(text), 1);
            try (GemmCall call = GemmCall.prepare("reference", ops)) {
                call.run();
                assertDoesNotThrow(() -> GemmCheck.verify(ops, call.result(), "reference"), text);
            }
        }
    }

    @Test
    void brokenTwinIsCaught() {
        GemmOperands ops = GemmOperands.random(GemmShape.parse("NN:9x4x7"), 1);
        try (JavaGemmCall call = new JavaGemmCall(new DropsLastColumn(), ops)) {
            call.run();
            // The unwritten column still holds the NaN fill, which must fail the check.
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> GemmCheck.verify(ops, call.result(), "drops-last-column"));
            assertTrue(e.getMessage().contains("C[0,6]"), e.getMessage());
        }
    }

    @Test
    void largeShapesAreCheckedOnEdgeAndSampledRows() {
        TreeSet<Integer> rows = GemmCheck.rowsToCheck(GemmShape.parse("NN:1024x1024x1024"));
        assertTrue(rows.containsAll(java.util.List.of(0, 1, 512, 1022, 1023)), rows.toString());
        assertTrue(rows.size() > 5 && rows.size() <= 5 + GemmCheck.RANDOM_ROWS, rows.toString());
        assertTrue(GemmCheck.rowsToCheck(GemmShape.parse("NN:32x784x100")).size() == 32);
    }
}
