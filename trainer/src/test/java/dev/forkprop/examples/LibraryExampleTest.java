package dev.forkprop.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.data.Datasets;
import dev.forkprop.engine.Engine;
import dev.forkprop.engine.TestDataAccess;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.loss.SoftmaxCrossEntropy;
import dev.forkprop.model.Init;
import dev.forkprop.model.Network;
import dev.forkprop.optim.GradClip;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.LrSchedule;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.optim.Optimizers;
import dev.forkprop.run.Checkpointing;
import dev.forkprop.run.Position;
import dev.forkprop.run.RunLength;
import dev.forkprop.run.RunResult;
import dev.forkprop.run.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's library example, verbatim between the markers, run as a test. */
class LibraryExampleTest {

    @Test
    void readmeExampleRuns(@TempDir Path out) {
        Path dataDir = TestDataAccess.mnistParent();
        RunResult r;
        // --- README example start
        Datasets.Split mnist = Datasets.fromEnvironment(dataDir).load("mnist");
        Network net = Network.builder(784).dense(256).relu().dropout(0.2f).dense(10).build();
        Optimizer adam = Optimizers.create("adam", net.layout().size(), Hyper.DEFAULTS);
        int batch = 128, shards = 2, threads = 2;
        long seed = 1;
        RunLength length = RunLength.of(mnist.train().size(), batch, 1, 0); // 1 epoch: 468 steps
        try (Engine engine = new Engine(net, new SoftmaxCrossEntropy(), adam, new GradClip(0),
                Gemms.best(), batch, shards, threads, seed, 10)) {
            net.init(engine.params, engine.buffers, Init.HE_NORMAL, seed);
            // Checkpoints every 200 steps and at the end into `out`; checkpoints.resume(length)
            // would restore the newest one and return its position to start from instead.
            Checkpointing checkpoints = new Checkpointing(net, engine, adam, Map.of("model", net.spec()),
                    out, System.err).every(200).keep(2);
            Trainer trainer = new Trainer(engine, LrSchedule.parse("constant", 1e-3f, length.totalSteps()),
                    seed, System.err, 10);
            r = trainer.fit(mnist.train(), null, mnist.test(), length, new Position(), checkpoints);
            System.err.printf("test accuracy %.4f, %.0f samples/s%n", r.testAccuracy, r.samplesPerSec);
        }
        // --- README example end
        assertEquals(468, r.steps);
        assertTrue(r.testAccuracy > 0.9, "one epoch learns MNIST: " + r.testAccuracy);
        assertTrue(Files.exists(out.resolve("ckpt-468.safetensors")), "final checkpoint written");
        assertTrue(Files.exists(out.resolve("ckpt-400.safetensors")), "periodic checkpoint kept");
        assertTrue(!Files.exists(out.resolve("ckpt-200.safetensors")), "only the newest two kept");
    }
}
