package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.io.Checkpoint;
import dev.forkprop.io.Safetensors;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** export transposes dense weights to [out, in]; eval's confusion matrix covers the test split; --init-from reads exports. */
class EvalExportTest {
    @TempDir Path dir;

    @Test
    void exportTransposesEvalCountsEveryTestSampleAndInitFromReadsItBack() throws Exception {
        Path ck = dir.resolve("ck");
        List<String> a = CheckpointCommandTest.args("--model", "dense:16,relu,batchnorm,dense:10", "--max-steps", "20",
                "--checkpoint-dir", ck.toString());
        a.remove("--model"); // args() already names a model; use the later one only
        a.remove("784-32-10");
        assertEquals(0, CheckpointCommandTest.run(a).code());
        Path file = Checkpoint.newest(ck);
        Checkpoint c = Checkpoint.read(file);

        Path out = dir.resolve("model.safetensors");
        TrainCommandTest.Run e = TrainCommandTest.run("export", "--checkpoint", file.toString(), "--out", out.toString());
        assertEquals(0, e.code(), e.err());
        Safetensors.Contents x = Safetensors.read(out);
        // In file order: the I64 num_batches_tracked first (8-byte aligned), then the F32 tensors.
        assertEquals(List.of("layers.2.num_batches_tracked", "layers.0.weight", "layers.0.bias", "layers.2.weight",
                "layers.2.bias", "layers.3.weight", "layers.3.bias", "layers.2.running_mean", "layers.2.running_var"),
                List.copyOf(x.tensors().keySet()));
        Safetensors.Tensor tracked = x.tensors().get("layers.2.num_batches_tracked"); // as in BatchNorm1d's state_dict
        assertEquals("I64", tracked.dtype());
        assertArrayEquals(new int[0], tracked.shape());
        assertEquals(1, tracked.i64().length);
        assertTrue(tracked.i64()[0] >= 0, "the steps taken, or 0");
        float[] ours = c.tensors().get("layers.0.weight").data();       // [784, 16]
        Safetensors.Tensor torch = x.tensors().get("layers.0.weight");  // [16, 784]
        assertArrayEquals(new int[] {16, 784}, torch.shape());
        for (int[] ij : new int[][] {{0, 0}, {0, 15}, {783, 0}, {400, 7}, {783, 15}}) {
            int i = ij[0], o = ij[1];
            assertEquals(ours[i * 16 + o], torch.data()[o * 784 + i], "weight[in " + i + ", out " + o + "]");
        }
        float[] w3 = c.tensors().get("layers.3.weight").data();        // [16, 10]
        assertEquals(w3[5 * 10 + 9], x.tensors().get("layers.3.weight").data()[9 * 16 + 5]);
        assertArrayEquals(c.tensors().get("layers.2.running_var").data(), x.tensors().get("layers.2.running_var").data());

        TrainCommandTest.Run ev = TrainCommandTest.run("eval", "--checkpoint", file.toString(), "--data-dir", CheckpointCommandTest.data());
        assertEquals(0, ev.code(), ev.err());
        long total = 0;
        boolean inMatrix = false;
        for (String line : ev.out().split("\n")) {
            if (line.startsWith("confusion matrix")) { inMatrix = true; continue; }
            String[] f = line.trim().split("\\s+");
            if (!inMatrix || f[0].equals("true")) continue;
            assertEquals(12, f.length, line); // class, 10 counts, row total
            long row = 0;
            for (int k = 1; k <= 10; k++) row += Long.parseLong(f[k]);
            assertEquals(Long.parseLong(f[11]), row, line);
            total += row;
        }
        assertEquals(10_000, total, ev.out());
        assertTrue(ev.out().startsWith("mnist test: 10000 samples"), ev.out());

        // predict on the dataset's test images and on the IDX file itself: the same rows, and eval's accuracy
        Path p1 = dir.resolve("p1.csv"), p2 = dir.resolve("p2.csv");
        assertEquals(0, TrainCommandTest.run("predict", "--checkpoint", file.toString(), "--data", "mnist", "--data-dir",
                CheckpointCommandTest.data(), "--out", p1.toString()).code());
        Path images = Path.of(CheckpointCommandTest.data(), "mnist");
        try (var files = java.nio.file.Files.list(images)) {
            images = files.filter(f -> f.getFileName().toString().startsWith("t10k-images")).findFirst().orElseThrow();
        }
        TrainCommandTest.Run pr = TrainCommandTest.run("predict", "--checkpoint", file.toString(), "--data", images.toString(),
                "--out", p2.toString(), "--threads", "1");
        assertEquals(0, pr.code(), pr.err());
        List<String> rows = java.nio.file.Files.readAllLines(p1);
        assertEquals(rows, java.nio.file.Files.readAllLines(p2));
        assertEquals(10_001, rows.size());
        assertEquals("prediction,p_0,p_1,p_2,p_3,p_4,p_5,p_6,p_7,p_8,p_9", rows.get(0));
        var labels = dev.forkprop.data.Datasets.fromEnvironment(Path.of(CheckpointCommandTest.data())).load("mnist").test();
        int correct = 0;
        for (int i = 1; i < rows.size(); i++) if (Integer.parseInt(rows.get(i).split(",")[0]) == labels.label(i - 1)) correct++;
        assertTrue(ev.out().contains(String.format(java.util.Locale.ROOT, "accuracy %.4f", correct / 10_000.0)), ev.out());

        // --init-from: training 0 further steps is not possible, so check the imported weights by exporting again.
        Path ck2 = dir.resolve("ck2");
        List<String> b = CheckpointCommandTest.args("--model", "dense:16,relu,batchnorm,dense:10", "--max-steps", "1",
                "--checkpoint-dir", ck2.toString(), "--init-from", out.toString());
        b.remove("--model");
        b.remove("784-32-10");
        b.set(b.indexOf("--lr") + 1, "1e-30"); // args() names the lr; this run must not move the weights
        TrainCommandTest.Run t = CheckpointCommandTest.run(b);
        assertEquals(0, t.code(), t.err());
        assertTrue(t.err().contains("initialised weights from " + out), t.err());
        Checkpoint c2 = Checkpoint.read(Checkpoint.newest(ck2));
        float[] imported = c2.tensors().get("layers.0.weight").data();
        for (int k = 0; k < ours.length; k += 997) assertEquals(ours[k], imported[k], 1e-6f * (1 + Math.abs(ours[k])), "index " + k);
    }
}
