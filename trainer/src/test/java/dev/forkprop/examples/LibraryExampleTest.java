package dev.forkprop.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.data.Datasets;
import dev.forkprop.engine.Engine;
import dev.forkprop.engine.TestDataAccess;
import dev.forkprop.engine.Trainer;
import dev.forkprop.io.Checkpoint;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.loss.SoftmaxCrossEntropy;
import dev.forkprop.model.Init;
import dev.forkprop.model.Network;
import dev.forkprop.optim.GradClip;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.LrSchedule;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.optim.Optimizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "As a library" example, verbatim between the markers, run as a test. */
class LibraryExampleTest {

    @Test
    void readmeExampleRuns(@TempDir Path out) {
        Path dataDir = TestDataAccess.mnistParent();
        // --- README example start
        Datasets.Split mnist = Datasets.fromEnvironment(dataDir).load("mnist");
        Network net = Network.builder(784).dense(256).relu().dropout(0.2f).dense(10).build();
        Optimizer adam = Optimizers.create("adam", net.layout().size(), Hyper.DEFAULTS);
        int batch = 128, shards = 2, threads = 2;
        long seed = 1;
        try (Engine engine = new Engine(net, new SoftmaxCrossEntropy(), adam, new GradClip(0),
                Gemms.best(), batch, shards, threads, seed, 10)) {
            net.init(engine.params, engine.buffers, Init.HE_NORMAL, seed);
            Trainer trainer = new Trainer(engine, LrSchedule.parse("constant", 1e-3f, 0), seed, System.err, 10);
            Trainer.Result r = trainer.fit(mnist.train(), null, mnist.test(), 1, 0);
            System.err.printf("test accuracy %.4f%n", r.testAccuracy);
            Checkpoint.capture(net, engine.params, engine.buffers, adam, Map.of("model", net.spec()))
                    .saveInto(out, r.steps, 1);
        }
        // --- README example end
        assertTrue(Files.exists(out.resolve("ckpt-468.safetensors")), "checkpoint written");
    }
}
