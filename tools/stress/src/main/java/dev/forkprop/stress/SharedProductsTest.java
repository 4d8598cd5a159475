package dev.forkprop.stress;

import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.GemmWorkspace;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.engine.SharedProducts;
import java.util.Arrays;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 10, shared products: a shard's owner runs two products in a row through the production
 * {@link SharedProducts} (each cut into four one-row chunks), while a helper that has finished its
 * own shard claims and computes chunks of whichever job is published. When the owner's
 * {@code gemmPacked} returns, every row of that product must be in C with the exact bits of the
 * plain product: the owner waited for each chunk the helper claimed, the helper read the job's
 * own operands (not the next job's, which reuse the board), and no chunk was lost or computed
 * into the wrong product.
 *
 * <p>Result: (elements of the two products the owner found wrong or missing right after each
 * returned, chunks the helper computed). The helper does not wait: it tries a fixed number of
 * times, so it may find nothing to claim.
 *
 * <p>Checked against a mutant: with the owner's wait for the helper's chunks removed, this test
 * reports FORBIDDEN outcomes (rows missing) within the quick mode.
 */
public class SharedProductsTest {
    static final int M = 4, N = 16, K = 8;
    static final Gemm GEMM = Gemms.best();
    static final float[] A1 = new float[M * K], A2 = new float[M * K], B = new float[K * N];
    static final float[] PACKED = new float[(int) GEMM.packedBSize(K, N)];
    static final float[] WANT1 = new float[M * N], WANT2 = new float[M * N];

    static {
        for (int i = 0; i < M * K; i++) {
            A1[i] = (i % 7) * 0.5f - 1f;
            A2[i] = (i % 5) * 0.25f + 2f;
        }
        for (int i = 0; i < K * N; i++) B[i] = (i % 11) * 0.125f - 0.5f;
        GEMM.packB(false, K, N, 0, N, B, 0, N, PACKED, 0);
        GemmWorkspace ws = GEMM.newWorkspace();
        GEMM.gemm(false, false, M, N, K, 1f, A1, 0, K, B, 0, N, 0f, WANT1, 0, N, ws);
        GEMM.gemm(false, false, M, N, K, 1f, A2, 0, K, B, 0, N, 0f, WANT2, 0, N, ws);
    }

    /** A board cutting every product into one-row chunks, two products' outputs, and each side's kernel workspace. */
    abstract static class Products {
        final SharedProducts board = new SharedProducts(0, 1, 1);
        final float[] c1 = new float[M * N], c2 = new float[M * N];
        final GemmWorkspace ownerWs = GEMM.newWorkspace(), helperWs = GEMM.newWorkspace();

        Products() {
            Arrays.fill(c1, Float.NaN);
            Arrays.fill(c2, Float.NaN);
        }

        static int wrong(float[] c, float[] want) {
            int bad = 0;
            for (int i = 0; i < c.length; i++) if (Float.floatToRawIntBits(c[i]) != Float.floatToRawIntBits(want[i])) bad++;
            return bad;
        }

        /** Up to 200 tries, a spin-wait hint between empty ones: long enough to overlap both of the owner's jobs. */
        int helpAFewTimes() {
            int helped = 0;
            for (int i = 0; i < 200; i++) {
                if (board.help(GEMM, helperWs)) helped++;
                else Thread.onSpinWait();
            }
            return helped;
        }
    }

    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The helper found no chunk to claim; the owner computed both products.")
    @Outcome(id = "0, [1-8]", expect = ACCEPTABLE, desc = "The helper computed some chunks; the owner saw every row of both products.")
    @Outcome(expect = FORBIDDEN, desc = "The owner returned with a row missing or wrong: a helper's chunk not awaited or not visible, or computed from the other job's operands.")
    @State
    public static class Production extends Products {
        @Actor
        public void owner(II_Result r) {
            board.gemmPacked(GEMM, ownerWs, false, M, N, K, A1, 0, K, PACKED, 0, c1, 0, N);
            int bad = wrong(c1, WANT1);
            board.gemmPacked(GEMM, ownerWs, false, M, N, K, A2, 0, K, PACKED, 0, c2, 0, N);
            r.r1 = bad + wrong(c2, WANT2);
        }

        @Actor
        public void helper(II_Result r) {
            r.r2 = helpAFewTimes();
        }
    }

    /**
     * Broken twin: the result is read by the helper right after its last claim, not by the owner
     * after the product returned, so rows the owner has not written yet show as missing. It shows
     * that the check above can see a row that is not there.
     */
    @JCStressTest
    @Outcome(id = "0, .*", expect = ACCEPTABLE, desc = "The owner happened to be done before the helper looked.")
    @Outcome(id = "[1-9][0-9]*, .*", expect = ACCEPTABLE_INTERESTING, desc = "Rows missing when read outside the protocol (the check can tell).")
    @State
    public static class BrokenReadByHelper extends Products {
        @Actor
        public void owner() {
            board.gemmPacked(GEMM, ownerWs, false, M, N, K, A1, 0, K, PACKED, 0, c1, 0, N);
            board.gemmPacked(GEMM, ownerWs, false, M, N, K, A2, 0, K, PACKED, 0, c2, 0, N);
        }

        @Actor
        public void helper(II_Result r) {
            r.r2 = helpAFewTimes();
            r.r1 = wrong(c1, WANT1) + wrong(c2, WANT2);
        }
    }
}
