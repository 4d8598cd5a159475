package dev.forkprop.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Each optimizer against a few steps worked out by hand (checked in double with the documented
 * PyTorch formulas). Floats near 1 resolve 6e-8, so 1e-6 is a tight tolerance here.
 */
class HandComputedStepsTest {
    private static final double TOL = 1e-6;

    /** One beginStep + full-range update. */
    private static void step(Optimizer o, long t, float lr, float gs, float[] p, float... g) {
        o.beginStep(t, lr, gs);
        o.update(p, g, 0, p.length);
    }

    @Test
    void sgdAppliesGradScale() {
        // grad is summed over a batch of 4, gradScale = 1/4: g = [1, -0.5, 0]; p -= 0.1 * g
        Optimizer o = new Sgd(3, 0);
        float[] p = {1f, -2f, 0.5f};
        step(o, 1, 0.1f, 0.25f, p, 4f, -2f, 0f);
        assertArrays(new double[] {0.9, -1.95, 0.5}, p);
        step(o, 2, 0.1f, 0.25f, p, 4f, -2f, 0f);
        assertArrays(new double[] {0.8, -1.9, 0.5}, p);
    }

    @Test
    void sgdCoupledL2() {
        // g = 0.25 * grad + 0.01 * p. Step 1: p0 = 1: g = 1.01, p = 0.899.
        // Step 2: g = 1 + 0.00899 = 1.00899, p = 0.899 - 0.100899 = 0.798101.
        Optimizer o = new Sgd(3, 0.01);
        float[] p = {1f, -2f, 0.5f};
        step(o, 1, 0.1f, 0.25f, p, 4f, -2f, 0f);
        assertArrays(new double[] {0.899, -1.948, 0.4995}, p);
        step(o, 2, 0.1f, 0.25f, p, 4f, -2f, 0f);
        assertArrays(new double[] {0.798101, -1.896052, 0.4990005}, p);
    }

    @Test
    void momentumHeavyBall() {
        // mu = 0.9, lr = 0.1, g = 1, 2, -1:
        // v = 1,   p = 1 - 0.1          = 0.9
        // v = 2.9, p = 0.9 - 0.29       = 0.61
        // v = 1.61, p = 0.61 - 0.161    = 0.449
        Optimizer o = new Momentum(1, 0.9, 0, false);
        float[] p = {1f};
        float[] v = o.state(0);
        step(o, 1, 0.1f, 1f, p, 1f);
        assertEquals(0.9, p[0], TOL); assertEquals(1.0, v[0], TOL);
        step(o, 2, 0.1f, 1f, p, 2f);
        assertEquals(0.61, p[0], TOL); assertEquals(2.9, v[0], TOL);
        step(o, 3, 0.1f, 1f, p, -1f);
        assertEquals(0.449, p[0], TOL); assertEquals(1.61, v[0], TOL);
    }

    @Test
    void momentumWithCoupledL2() {
        // wd = 0.1: g = grad + 0.1 p.
        // g = 1.1,   v = 1.1,   p = 0.89
        // g = 2.089, v = 3.079, p = 0.5821
        // g = -0.94179, v = 1.82931, p = 0.399169
        Optimizer o = new Momentum(1, 0.9, 0.1, false);
        float[] p = {1f};
        step(o, 1, 0.1f, 1f, p, 1f);
        assertEquals(0.89, p[0], TOL);
        step(o, 2, 0.1f, 1f, p, 2f);
        assertEquals(0.5821, p[0], TOL); assertEquals(3.079, o.state(0)[0], TOL);
        step(o, 3, 0.1f, 1f, p, -1f);
        assertEquals(0.399169, p[0], TOL); assertEquals(1.82931, o.state(0)[0], TOL);
    }

    @Test
    void nesterov() {
        // p -= lr * (g + mu * v_new), same v as heavy ball:
        // v = 1,    p = 1 - 0.1 * (1 + 0.9)        = 0.81
        // v = 2.9,  p = 0.81 - 0.1 * (2 + 2.61)    = 0.349
        // v = 1.61, p = 0.349 - 0.1 * (-1 + 1.449) = 0.3041
        Optimizer o = new Momentum(1, 0.9, 0, true);
        float[] p = {1f};
        step(o, 1, 0.1f, 1f, p, 1f);
        assertEquals(0.81, p[0], TOL);
        step(o, 2, 0.1f, 1f, p, 2f);
        assertEquals(0.349, p[0], TOL);
        step(o, 3, 0.1f, 1f, p, -1f);
        assertEquals(0.3041, p[0], TOL); assertEquals(1.61, o.state(0)[0], TOL);
    }

    @Test
    void adamThreeStepsWithBiasCorrection() {
        // lr 1e-3, betas (0.9, 0.999), eps 1e-8, g = 0.5, -0.25, 1.0.
        // t=1: m = 0.05, v = 2.5e-4, mhat = 0.5, vhat = 0.25: p = 1 - 1e-3 * 0.5/(0.5+1e-8)
        // t=2: m = 0.02, v = 3.1225e-4, mhat = 0.02/0.19, vhat = 3.1225e-4/1.999e-3
        // t=3: m = 0.118, v = 1.31193775e-3
        Optimizer o = new Adam(1, 0.9, 0.999, 1e-8, 0);
        float[] p = {1f};
        step(o, 1, 1e-3f, 1f, p, 0.5f);
        assertEquals(0.99900000002, p[0], TOL);
        assertRel(0.05, o.state(0)[0]); assertRel(2.5e-4, o.state(1)[0]);
        step(o, 2, 1e-3f, 1f, p, -0.25f);
        assertEquals(0.9987336629870784, p[0], TOL);
        assertRel(0.02, o.state(0)[0]); assertRel(3.1225e-4, o.state(1)[0]);
        step(o, 3, 1e-3f, 1f, p, 1.0f);
        assertEquals(0.9980755513967708, p[0], TOL);
        assertRel(0.118, o.state(0)[0]); assertRel(1.31193775e-3, o.state(1)[0]);
    }

    @Test
    void adamFirstStepMovesByLrWhateverTheGradientScale() {
        // Step 1: mhat = g, vhat = g^2, so the update is lr * g/(|g| + eps) = lr * sign(g);
        // eps shifts it by lr * eps/|g| <= 1e-7 here.
        for (float g : new float[] {1e-3f, 1f, 1e3f, -7f}) {
            Optimizer o = new Adam(1, 0.9, 0.999, 1e-8, 0);
            float[] p = {0f};
            step(o, 1, 0.01f, 1f, p, g);
            assertEquals(-0.01 * Math.signum(g), p[0], 1e-6, "g = " + g);
            // Step 2 with the same gradient: mhat = g, vhat = g^2 again: another lr.
            step(o, 2, 0.01f, 1f, p, g);
            assertEquals(-0.02 * Math.signum(g), p[0], 1e-6, "g = " + g);
            // Step 3, constant gradient: still lr per step (bias correction exact for constant g).
            step(o, 3, 0.01f, 1f, p, g);
            assertEquals(-0.03 * Math.signum(g), p[0], 1e-6, "g = " + g);
        }
    }

    @Test
    void adamWithoutBiasCorrectionWouldBeTenTimesSmallerAtStep1() {
        // Guard against a missing correction: uncorrected, step 1 would move by
        // lr * 0.1 g / sqrt(0.001 g^2) = lr * 3.16; corrected it moves by lr.
        Optimizer o = new Adam(1, 0.9, 0.999, 1e-8, 0);
        float[] p = {0f};
        step(o, 1, 1f, 1f, p, 3f);
        assertEquals(-1.0, p[0], 1e-6);
    }

    @Test
    void adamCoupledL2() {
        // wd = 0.1 enters g, hence m and v: g1 = 0.5 + 0.1 * 1 = 0.6, ...
        Optimizer o = new Adam(1, 0.9, 0.999, 1e-8, 0.1);
        float[] p = {1f};
        step(o, 1, 1e-3f, 1f, p, 0.5f);
        assertEquals(0.9990000000166667, p[0], TOL); assertRel(0.06, o.state(0)[0]);
        step(o, 2, 1e-3f, 1f, p, -0.25f);
        assertEquals(0.9985306706608355, p[0], TOL);
        step(o, 3, 1e-3f, 1f, p, 1.0f);
        assertEquals(0.9977960347643808, p[0], TOL);
        assertRel(0.1450763067067583, o.state(0)[0]);
    }

    @Test
    void adamwDecoupledDecay() {
        // lr 0.01, wd 0.1: p *= 1 - 0.001 before each Adam step; m, v as in the plain Adam case.
        Optimizer o = new AdamW(1, 0.9, 0.999, 1e-8, 0.1);
        float[] p = {1f};
        step(o, 1, 0.01f, 1f, p, 0.5f);
        assertEquals(0.9890000002, p[0], TOL);
        step(o, 2, 0.01f, 1f, p, -0.25f);
        assertEquals(0.9853476298705847, p[0], TOL);
        step(o, 3, 0.01f, 1f, p, 1.0f);
        assertEquals(0.9777811663376385, p[0], TOL);
        assertRel(0.118, o.state(0)[0]);   // decay never reaches the moments
    }

    @Test
    void adamwAndAdamL2DifferAsExpectedOnAZeroGradient() {
        // Zero loss gradient, p = 1, lr = 0.01, wd = 0.1.
        // AdamW: only the decay acts: p = 0.999, 0.998001, 0.997002999 (multiplicative, tiny);
        //        m, v stay 0.
        // Adam+L2: g = wd * p goes through the normalisation, so each step moves by ≈ lr:
        //        p ≈ 0.99, 0.9800027, 0.9700101, i.e. ten times faster here.
        Optimizer w = new AdamW(1, 0.9, 0.999, 1e-8, 0.1);
        Optimizer a = new Adam(1, 0.9, 0.999, 1e-8, 0.1);
        float[] pw = {1f}, pa = {1f};
        double[] expectW = {0.999, 0.998001, 0.997002999};
        double[] expectA = {0.9900000009999999, 0.980002747900375, 0.9700101022407508};
        for (int t = 1; t <= 3; t++) {
            step(w, t, 0.01f, 1f, pw, 0f);
            step(a, t, 0.01f, 1f, pa, 0f);
            assertEquals(expectW[t - 1], pw[0], TOL);
            assertEquals(expectA[t - 1], pa[0], TOL);
        }
        assertEquals(0f, w.state(0)[0]); assertEquals(0f, w.state(1)[0]);
        assertTrue(a.state(0)[0] > 0);
    }

    @Test
    void adamwWithoutDecayIsBitwiseAdam() {
        Optimizer w = new AdamW(5, 0.9, 0.999, 1e-8, 0);
        Optimizer a = new Adam(5, 0.9, 0.999, 1e-8, 0);
        float[] pw = {1, -2, 3, 0, 0.5f}, pa = pw.clone();
        float[] g = {0.3f, -1, 2, 1e-4f, 0};
        for (int t = 1; t <= 4; t++) {
            step(w, t, 0.01f, 0.5f, pw, g);
            step(a, t, 0.01f, 0.5f, pa, g);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(pa, pw);
    }

    /** Within 1e-6 relative: a few float roundings of a value computed in double. */
    private static void assertRel(double expected, float actual) {
        assertEquals(expected, actual, 1e-6 * Math.abs(expected));
    }

    private static void assertArrays(double[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], TOL, "index " + i);
    }
}
