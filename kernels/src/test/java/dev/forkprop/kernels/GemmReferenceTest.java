package dev.forkprop.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/** The oracle itself, checked against products computed by hand. */
class GemmReferenceTest {

    @Test
    void handComputedNN() {
        // A = [[1,2,3],[4,5,6]] (2x3), B = [[7,8],[9,10],[11,12]] (3x2)
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {7, 8, 9, 10, 11, 12};
        float[] c = {1, 1, 1, 1};
        // C = 2*A*B + 0.5*C; A*B = [[58,64],[139,154]]
        GemmReference.INSTANCE.gemm(false, false, 2, 2, 3, 2f, a, 0, 3, b, 0, 2, 0.5f, c, 0, 2, null);
        assertArrayEquals(new float[] {116.5f, 128.5f, 278.5f, 308.5f}, c);
    }

    @Test
    void handComputedTransposes() {
        // At stores A^T = [[1,4],[2,5],[3,6]]; Bt stores B^T = [[7,9,11],[8,10,12]]
        float[] at = {1, 4, 2, 5, 3, 6};
        float[] bt = {7, 9, 11, 8, 10, 12};
        float[] c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        GemmReference.INSTANCE.gemm(true, true, 2, 2, 3, 1f, at, 0, 2, bt, 0, 3, 0f, c, 0, 2, null);
        assertArrayEquals(new float[] {58, 64, 139, 154}, c);
    }
}
