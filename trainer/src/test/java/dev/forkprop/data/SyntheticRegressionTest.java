package dev.forkprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SyntheticRegressionTest {

    private static float[] all(Dataset d, boolean features) {
        int dim = features ? d.featureDim() : d.targetDim();
        float[] out = new float[d.size() * dim];
        for (int i = 0; i < d.size(); i++) {
            if (features) {
                d.features(i, out, i * dim);
            } else {
                d.target(i, out, i * dim);
            }
        }
        return out;
    }

    @Test
    void sameSeedSameDataOtherSeedOtherData() {
        SyntheticRegression a = SyntheticRegression.generate(50, 4, 2, 0.1, 42);
        SyntheticRegression b = SyntheticRegression.generate(50, 4, 2, 0.1, 42);
        SyntheticRegression c = SyntheticRegression.generate(50, 4, 2, 0.1, 43);
        assertArrayEquals(a.weights(), b.weights());
        assertArrayEquals(all(a.dataset(), true), all(b.dataset(), true));
        assertArrayEquals(all(a.dataset(), false), all(b.dataset(), false));
        assertFalse(Arrays.equals(a.weights(), c.weights()));
    }

    @Test
    void noiselessTargetsAreExactlyWxPlusB() {
        SyntheticRegression s = SyntheticRegression.generate(200, 5, 3, 0, 7);
        TableDataset d = s.dataset();
        assertEquals(5, d.featureDim());
        assertEquals(3, d.targetDim());
        assertEquals(0, d.numClasses());
        float[] w = s.weights(), b = s.bias(), x = new float[5], y = new float[3];
        for (int i = 0; i < d.size(); i++) {
            d.features(i, x, 0);
            d.target(i, y, 0);
            for (int o = 0; o < 3; o++) {
                double expect = b[o];
                for (int k = 0; k < 5; k++) {
                    expect += (double) w[o * 5 + k] * x[k];
                }
                assertEquals(expect, y[o], 1e-5);
            }
        }
    }

    @Test
    void residualStdIsTheNoise() {
        SyntheticRegression s = SyntheticRegression.generate(20000, 3, 1, 0.5, 1);
        TableDataset d = s.dataset();
        float[] w = s.weights(), x = new float[3], y = new float[1];
        double sumSq = 0;
        for (int i = 0; i < d.size(); i++) {
            d.features(i, x, 0);
            d.target(i, y, 0);
            double r = y[0] - (s.bias()[0] + w[0] * x[0] + w[1] * x[1] + w[2] * x[2]);
            sumSq += r * r;
        }
        assertEquals(0.5, Math.sqrt(sumSq / d.size()), 0.02);
    }

    @Test
    void weightsAreCopies() {
        SyntheticRegression s = SyntheticRegression.generate(10, 2, 1, 0, 3);
        s.weights()[0] = 99;
        assertFalse(s.weights()[0] == 99);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> SyntheticRegression.generate(0, 2, 1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> SyntheticRegression.generate(10, 2, 1, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> SyntheticRegression.generate(10, 2, 1, Double.NaN, 1));
    }
}
