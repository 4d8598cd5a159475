package dev.forkprop.engine;

import dev.forkprop.run.RunResult;
import dev.forkprop.run.Trainer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.data.Dataset;
import dev.forkprop.data.SyntheticRegression;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.loss.Loss;
import dev.forkprop.loss.Mse;
import dev.forkprop.loss.SigmoidBce;
import dev.forkprop.loss.SoftmaxCrossEntropy;
import dev.forkprop.model.Dense;
import dev.forkprop.model.Init;
import dev.forkprop.model.Network;
import dev.forkprop.optim.GradClip;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.LrSchedule;
import dev.forkprop.optim.Optimizers;
import org.junit.jupiter.api.Test;

/** Single-threaded training converges on the tutorial problems. */
class ConvergenceTest {

    static RunResult train(Network net, Loss loss, String optimizer, float lr, int batch, int epochs,
                                Dataset train, Dataset test, int targetWidth, float[][] paramsOut) {
        var opt = Optimizers.create(optimizer, net.layout().size(), Hyper.DEFAULTS);
        try (Engine e = new Engine(net, loss, opt, new GradClip(0), Gemms.best(), batch, 1, 1, 11, targetWidth)) {
            net.init(e.params, e.buffers, Init.XAVIER_NORMAL, 11);
            Trainer t = new Trainer(e, LrSchedule.parse("constant", lr, 0), 11, null, 1e9);
            RunResult r = t.fit(train, null, test, epochs, 0);
            if (paramsOut != null) paramsOut[0] = e.params.clone();
            return r;
        }
    }

    /** y = W x + b + noise: a linear layer under MSE recovers W and b. */
    @Test
    void linearRegressionRecoversWeights() {
        SyntheticRegression g = SyntheticRegression.generate(6000, 5, 2, 0.01, 3);
        Network net = Network.builder(5).dense(2).build();
        float[][] p = new float[1][];
        RunResult r = train(net, new Mse(), "sgd", 0.05f, 32, 10, g.dataset().slice(0, 5000), g.dataset().slice(5000, 6000), 2, p);
        Dense d = (Dense) net.layers()[0];
        float[] w = g.weights(), b = g.bias(); // w: [out, in]; ours: [in, out]
        for (int o = 0; o < 2; o++) {
            for (int i = 0; i < 5; i++) {
                assertEquals(w[o * 5 + i], p[0][d.weightOffset() + i * 2 + o], 0.02, "W[" + o + "," + i + "]");
            }
            assertEquals(b[o], p[0][d.biasOffset() + o], 0.02, "b[" + o + "]");
        }
        assertTrue(r.testLoss < 0.001, "test MSE " + r.testLoss + " near the noise floor 1e-4");
    }

    /** Logistic regression, "9 vs not 9": well above the 90% of always answering "not 9". */
    @Test
    void logisticRegressionNineVsRest() {
        Network net = Network.builder(784).dense(1).build();
        RunResult r = train(net, new SigmoidBce(9), "sgd", 0.1f, 64, 1, TestData.mnistTrain(), TestData.mnistTest(), 10, null);
        assertTrue(r.testAccuracy >= 0.96, "9-vs-rest test accuracy " + r.testAccuracy);
    }

    /** A small MLP on MNIST after one epoch. */
    @Test
    void mlpOnMnist() {
        Network net = Network.builder(784).dense(64).relu().dense(10).build();
        RunResult r = train(net, new SoftmaxCrossEntropy(), "adam", 1e-3f, 64, 1, TestData.mnistTrain(), TestData.mnistTest(), 10, null);
        assertTrue(r.testAccuracy >= 0.95, "test accuracy " + r.testAccuracy);
    }
}
