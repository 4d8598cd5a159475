package dev.forkprop.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every optimizer against an independent double-precision transcription of the algorithm boxes
 * in PyTorch's documentation (torch.optim.SGD, Adam, AdamW; maximize=False, amsgrad=False,
 * dampening=0), over 30 steps of random gradients on 64 parameters.
 *
 * <p>The reference is arranged as the docs write it ({@code mhat = m/(1-b1^t)},
 * {@code vhat = v/(1-b2^t)}, {@code p -= lr*mhat/(sqrt(vhat)+eps)}), not as the float kernels
 * arrange it, so this checks the algebra of the rearrangement as well as the formulas.
 */
class TorchAlgorithmReferenceTest {

    @ParameterizedTest(name = "{0} wd={1}")
    @CsvSource({"sgd,0", "sgd,0.01", "momentum,0", "momentum,0.01", "nesterov,0", "nesterov,0.01",
                "adam,0", "adam,0.01", "adamw,0", "adamw,0.1"})
    void matchesDocumentedAlgorithm(String name, double wd) {
        final int n = 64, steps = 30;
        final double mu = 0.9, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        Optimizer o = Optimizers.create(name, n, Hyper.DEFAULTS.withWeightDecay(wd));
        SplittableRandom r = new SplittableRandom(11);
        float[] p = new float[n];
        double[] rp = new double[n], rm = new double[n], rv = new double[n];
        for (int i = 0; i < n; i++) rp[i] = p[i] = (float) (r.nextDouble() * 2 - 1);
        float batch = 8;
        for (int t = 1; t <= steps; t++) {
            float lr = (float) (0.01 * (1 + Math.sin(t)) + 1e-3);   // any changing schedule
            float[] g = new float[n];
            for (int i = 0; i < n; i++) g[i] = (float) (r.nextGaussian() * batch * (1 + i % 3));
            o.beginStep(t, lr, 1f / batch);
            o.update(p, g, 0, n);
            for (int i = 0; i < n; i++) {
                double gi = g[i] / (double) batch;                 // the mean gradient
                switch (name) {
                    case "sgd" -> rp[i] -= lr * (gi + wd * rp[i]);
                    case "momentum", "nesterov" -> {
                        gi += wd * rp[i];
                        rm[i] = t == 1 ? gi : mu * rm[i] + gi;     // b_1 = g_1 in the docs
                        rp[i] -= lr * (name.equals("nesterov") ? gi + mu * rm[i] : rm[i]);
                    }
                    default -> {
                        if (name.equals("adamw")) rp[i] *= 1 - lr * wd;
                        else gi += wd * rp[i];
                        rm[i] = b1 * rm[i] + (1 - b1) * gi;
                        rv[i] = b2 * rv[i] + (1 - b2) * gi * gi;
                        double mhat = rm[i] / (1 - Math.pow(b1, t));
                        double vhat = rv[i] / (1 - Math.pow(b2, t));
                        rp[i] -= lr * mhat / (Math.sqrt(vhat) + eps);
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(rp[i], p[i], 2e-6 * Math.max(1, Math.abs(rp[i])), name + " param " + i);
        }
    }
}
