package dev.forkprop.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GradClipTest {

    @Test
    void sumOfSquaresOverSlicesAddsUp() {
        float[] x = {3, 4, 0, -12, 1e30f};
        assertEquals(25.0, GradClip.sumOfSquares(x, 0, 2));
        assertEquals(169.0, GradClip.sumOfSquares(x, 0, 4));
        assertEquals(GradClip.sumOfSquares(x, 0, 4),
                GradClip.sumOfSquares(x, 0, 1) + GradClip.sumOfSquares(x, 1, 3) + GradClip.sumOfSquares(x, 3, 4));
        assertEquals(0.0, GradClip.sumOfSquares(x, 2, 2));
        assertTrue(Double.isFinite(GradClip.sumOfSquares(x, 0, 5)));   // 1e60: no float overflow
        assertThrows(IndexOutOfBoundsException.class, () -> GradClip.sumOfSquares(x, 3, 6));
    }

    @Test
    void clipCoefficientIsTorchFormula() {
        assertEquals(1.0 / (5 + 1e-6), GradClip.clipCoefficient(5, 1), 0);
        assertEquals(1.0, GradClip.clipCoefficient(0.5, 1), 0);
        assertEquals(1.0, GradClip.clipCoefficient(0, 1), 0);
        // Exactly at the threshold PyTorch still scales, by 1/(1 + 1e-6).
        assertEquals(1.0 / (1 + 1e-6), GradClip.clipCoefficient(1, 1), 0);
    }

    @Test
    void gradScaleClipsTheMeanGradient() {
        // Summed over a batch of 2: [6, 8]; mean [3, 4], norm 5; maxNorm 1:
        // scale = 1/2 * 1/(5 + 1e-6) = 0.099999980000004
        float[] g = {6, 8};
        GradClip clip = new GradClip(1f);
        float s = clip.gradScale(GradClip.sumOfSquares(g, 0, 2), 0.5f);
        assertEquals(0.099999980000004, s, 1e-9);
        assertEquals(1.0, Math.hypot(s * g[0], s * g[1]), 1e-6);   // clipped norm ≈ maxNorm
    }

    @Test
    void belowThresholdOrDisabledReturnsThePreScaleExactly() {
        assertEquals(0.25f, new GradClip(10f).gradScale(25, 0.25f));   // norm 1.25 < 10
        assertEquals(0.25f, new GradClip(0f).gradScale(1e20, 0.25f));
        assertEquals(0.25f, new GradClip(-1f).gradScale(1e20, 0.25f));
        assertEquals(0.25f, new GradClip(Float.POSITIVE_INFINITY).gradScale(1e20, 0.25f));
        assertFalse(new GradClip(0f).enabled());
        assertThrows(IllegalArgumentException.class, () -> new GradClip(Float.NaN));
    }

    @Test
    void nonFiniteNormPropagatesAsInTorch() {
        assertTrue(Float.isNaN(new GradClip(1f).gradScale(Double.NaN, 1f)));
        assertEquals(0f, new GradClip(1f).gradScale(Double.POSITIVE_INFINITY, 1f));
    }
}
