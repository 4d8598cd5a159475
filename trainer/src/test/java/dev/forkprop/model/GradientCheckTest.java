package dev.forkprop.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.kernels.GemmReference;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.loss.Loss;
import dev.forkprop.loss.Mse;
import dev.forkprop.loss.SigmoidBce;
import dev.forkprop.loss.SoftmaxCrossEntropy;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every layer's and loss's backward against central finite differences.
 *
 * <p>Parameters and activations are float, so differences are taken with {@code h = 3e-3} and the
 * loss is accumulated in double: float rounding in the logits (~1e-7 relative, losses O(10))
 * contributes ~2e-4 to a difference quotient, and the O(h^2) truncation error stays below ~1e-4
 * even through batch norm over 6 rows, which is strongly curved (at h = 1e-2 its truncation error
 * alone reached 0.5%, and 8% through batch norm, GELU and layer norm in one network, shrinking as
 * h^2: measured), so whole networks use h = 1e-3. A tolerance of {@code 2e-3 * (1 + |g|)} therefore separates a
 * correct gradient from a real bug (a wrong sign or a missing term is off by O(|g|)). Piecewise-linear
 * activations (relu, leaky relu) are checked with inputs kept away from the kink.
 */
class GradientCheckTest {
    private static final double H = 3e-3;
    /** Whole networks through two normalisations are more curved still: a smaller step. */
    private static final double H_NET = 1e-3;

    /** A layer alone, under the loss {@code sum(y * r)} for a fixed random r. */
    private static void checkLayer(String name, Layer layer, int rows, double inputScale, boolean avoidKink) {
        ParamLayout.Builder b = new ParamLayout.Builder();
        layer.declare(b, 0);
        ParamLayout layout = b.build();
        layer.bind(layout, 0);
        layer.bindBuffers(0);
        float[] params = new float[layout.size()], buffers = new float[layer.bufferSize()];
        SplittableRandom rnd = new SplittableRandom(11);
        layer.init(params, buffers, Init.XAVIER_NORMAL, rnd);
        // perturb norm params away from 1/0 so their gradients are exercised
        for (int i = 0; i < layout.trainable(); i++) params[i] += (float) (rnd.nextDouble() - 0.5) * 0.2f;
        ShardContext p = new ShardContext(new DirectProducts(GemmReference.INSTANCE));
        p.params = params;
        p.buffers = buffers;
        p.train = true;
        p.seed = 5;
        p.step = 3;
        int in = layer.in(), out = layer.out();
        float[] x = new float[rows * in];
        for (int i = 0; i < x.length; i++) {
            double v = (rnd.nextDouble() * 2 - 1) * inputScale;
            if (avoidKink && Math.abs(v) < 0.1) v = v < 0 ? v - 0.1 : v + 0.1;
            x[i] = (float) v;
        }
        float[] r = new float[rows * out];
        for (int i = 0; i < r.length; i++) r[i] = (float) (rnd.nextDouble() * 2 - 1);
        float[] y = new float[rows * out], state = new float[(int) layer.stateSize(rows)];
        float[] grad = new float[layout.size()], dx = new float[rows * in];
        layer.forward(p, x, 0, y, 0, rows, state);
        layer.backward(p, x, 0, y, 0, r, 0, dx, 0, rows, state, grad);

        Supplier<Double> loss = () -> {
            float[] yy = new float[rows * out], st = new float[(int) layer.stateSize(rows)];
            layer.forward(p, x, 0, yy, 0, rows, st);
            double s = 0;
            for (int i = 0; i < yy.length; i++) s += (double) yy[i] * r[i];
            return s;
        };
        for (int i = 0; i < x.length; i++) {
            compare(name + " dX[" + i + "]", dx[i], numeric(x, i, loss));
        }
        for (ParamLayout.Tensor t : layout.tensors()) {
            if (!t.trainable()) continue;
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                compare(name + " d" + t.name() + "[" + (i - t.offset()) + "]", grad[i], numeric(params, i, loss));
            }
        }
    }

    private static double numeric(float[] v, int i, Supplier<Double> loss) {
        return numeric(v, i, loss, H);
    }

    private static double numeric(float[] v, int i, Supplier<Double> loss, double h) {
        float orig = v[i];
        v[i] = (float) (orig + h);
        double up = loss.get();
        float hi = v[i];
        v[i] = (float) (orig - h);
        double down = loss.get();
        float lo = v[i];
        v[i] = orig;
        return (up - down) / ((double) hi - lo);
    }

    private static void compare(String what, double analytic, double numeric) {
        double tol = 2e-3 * (1 + Math.abs(numeric));
        assertTrue(Math.abs(analytic - numeric) <= tol,
                what + ": analytic " + analytic + " vs numeric " + numeric);
    }

    @Test
    void dense() {
        checkLayer("dense", new Dense(7, 5), 3, 1, false);
        checkLayer("dense1x1", new Dense(1, 1), 1, 1, false);
    }

    @Test
    void activations() {
        for (Activation.Kind k : Activation.Kind.values()) {
            boolean kink = k == Activation.Kind.RELU || k == Activation.Kind.LEAKY_RELU;
            checkLayer(k.name(), new Activation(k, 6), 3, 2, kink);
        }
    }

    @Test
    void dropoutWithItsFixedMask() {
        // The mask is a function of (seed, step, row, element), so the re-run forwards of the
        // finite differences see the same mask as the analytic pass.
        checkLayer("dropout", new Dropout(0.3f, 9), 4, 1, false);
    }

    @Test
    void normalisations() {
        checkLayer("batchnorm", new BatchNorm(5), 6, 1, false);
        checkLayer("layernorm", new LayerNorm(7), 3, 1, false);
    }

    /** Whole networks with a real loss: parameter gradients of the summed loss. */
    private static void checkNetwork(String name, Network net, Loss loss, int rows, int targetWidth) {
        float[] params = net.newParams(), buffers = net.newBuffers();
        net.init(params, buffers, Init.XAVIER_NORMAL, 3);
        ShardContext p = net.newContext(Gemms.best());
        p.params = params;
        p.buffers = buffers;
        p.train = true;
        p.seed = 9;
        p.step = 1;
        Workspace w = net.newWorkspace(rows, targetWidth);
        SplittableRandom rnd = new SplittableRandom(4);
        for (int i = 0; i < rows * net.in(); i++) w.input()[i] = (float) (rnd.nextDouble() * 2 - 1);
        for (int r = 0; r < rows; r++) w.labels[r] = rnd.nextInt(net.out());
        for (int i = 0; i < rows * targetWidth; i++) w.targets[i] = (float) rnd.nextDouble();
        float[] grad = net.newParams();
        net.forward(p, w, rows);
        loss.compute(w, rows, net.out(), true);
        net.backward(p, w, rows, grad);
        Supplier<Double> f = () -> {
            net.forward(p, w, rows);
            return loss.compute(w, rows, net.out(), false);
        };
        ParamLayout layout = net.layout();
        for (ParamLayout.Tensor t : layout.tensors()) {
            if (!t.trainable()) continue;
            // every element of small tensors, a spread sample of large ones
            int stride = Math.max(1, t.size() / 40);
            for (int i = t.offset(); i < t.offset() + t.size(); i += stride) {
                compare(name + " d" + t.name() + "[" + (i - t.offset()) + "]", grad[i], numeric(params, i, f, H_NET));
            }
        }
    }

    @Test
    void networksWithEachLoss() {
        checkNetwork("mlp+ce", Network.builder(6).dense(8).tanh().dropout(0.25f).dense(5).sigmoid().dense(4).build(),
                new SoftmaxCrossEntropy(), 5, 0);
        checkNetwork("norms+ce", Network.builder(6).dense(8).batchNorm().gelu().dense(7).layerNorm().tanh().dense(3).build(),
                new SoftmaxCrossEntropy(), 6, 0);
        checkNetwork("bce one-vs-rest", Network.builder(5).dense(6).sigmoid().dense(1).build(), new SigmoidBce(2), 7, 0);
        checkNetwork("bce multi-label", Network.builder(5).dense(6).tanh().dense(3).build(), new SigmoidBce(-1), 4, 3);
        checkNetwork("mse", Network.builder(5).dense(6).gelu().dense(2).build(), new Mse(), 4, 2);
    }
}
