package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --out DIR}: a short real run writes every artefact; a bad DIR is a one-line error. */
class OutputOptionsTest {

    private static final String[] STEP_FIELDS = {"kind", "step", "epoch", "loss", "train_accuracy", "lr", "samples_per_sec", "step_ms_p50", "step_ms_p99"};
    private static final String[] EPOCH_FIELDS = {"kind", "step", "epoch", "loss", "train_accuracy", "val_loss", "val_accuracy", "samples_per_sec",
            "step_ms_p50", "step_ms_p99"};

    @Test
    void shortRunWritesAllArtefacts(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run"); // does not exist yet: --out creates it
        TrainCommandTest.Run r = TrainCommandTest.run("train", "--data-dir", dev.forkprop.engine.TestDataAccess.mnistParent().toString(),
                "--model", "784-32-10", "--epochs", "2", "--batch", "512", "--val", "2000", "--threads", "2", "--log-every", "0.2",
                "--lr", "1e-3", "--schedule", "constant",
                "--metrics-every", "20", "--progress", "lines", "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());

        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        ObjectMapper om = new ObjectMapper();
        int steps = 0, epochs = 0;
        long lastStep = 0;
        for (String line : lines) {
            JsonNode j = om.readTree(line);
            String kind = j.get("kind").asText();
            for (String f : kind.equals("epoch") ? EPOCH_FIELDS : STEP_FIELDS) assertTrue(j.has(f), "missing " + f + " in " + line);
            assertTrue(j.get("step").asLong() >= lastStep, "rows in step order: " + line);
            lastStep = j.get("step").asLong();
            assertTrue(Double.isFinite(j.get("loss").asDouble()) && j.get("loss").isNumber(), line);
            assertTrue(j.get("step_ms_p99").asDouble() >= j.get("step_ms_p50").asDouble(), line);
            if (kind.equals("epoch")) {
                epochs++;
                assertTrue(j.get("val_accuracy").asDouble() > 0.5, line);
            } else {
                assertEquals("step", kind);
                steps++;
                assertEquals(1e-3, j.get("lr").asDouble(), 1e-9, line);
            }
        }
        assertEquals(2, epochs, "one row per epoch");
        assertTrue(steps >= 2 * (58_000 / 512) / 20, "a step row every 20 steps at least: " + steps);

        assertImage(out.resolve("curves.png"));
        assertImage(out.resolve("latency.png"));

        try (var in = Files.newInputStream(out.resolve("latency.hlog"))) {
            HistogramLogReader reader = new HistogramLogReader(in);
            Set<String> tags = new HashSet<>();
            long stepCount = 0;
            for (Histogram h; (h = (Histogram) reader.nextIntervalHistogram()) != null; ) {
                tags.add(h.getTag());
                if ("step".equals(h.getTag())) stepCount += h.getTotalCount();
            }
            assertEquals(Set.of("step", "compute", "reduce_update", "barrier_wait", "data_wait"), tags);
            assertTrue(stepCount > 0, "timed steps in the .hlog");
        }

        JsonNode run = om.readTree(out.resolve("run.json").toFile());
        String[] stdout = r.out().strip().split("\n");
        JsonNode printed = om.readTree(stdout[stdout.length - 1]);
        printed.fieldNames().forEachRemaining(f -> assertEquals(printed.get(f), run.get(f), "run.json repeats --json's " + f));
        assertEquals("784-32-10", run.get("config").get("model").asText());
        assertEquals(512, run.get("config").get("batch").asInt());
        assertEquals(out.toString(), run.get("config").get("out").asText());
        assertTrue(run.get("config").has("seed") && run.get("config").has("lr"), "every flag, defaults included");
        assertTrue(Files.isDirectory(out.resolve("checkpoints")), "--out puts the final checkpoint in OUT/checkpoints");
        try (var files = Files.list(out)) {
            assertFalse(files.anyMatch(p -> p.toString().endsWith(".tmp")), "no temp files left behind");
        }
    }

    /** A readable PNG of non-trivial size that is not a single colour. */
    private static void assertImage(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img != null, png + " is not a readable image");
        assertTrue(img.getWidth() >= 200 && img.getHeight() >= 200, png + " is " + img.getWidth() + "x" + img.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) colours.add(img.getRGB(x, y));
        }
        assertTrue(colours.size() > 5, png + " has " + colours.size() + " colours");
    }

    @Test
    void outThatIsAFileOrUnwritableIsOneLineExitTwo(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("afile"), "x");
        assertOneLineError(TrainCommandTest.run("train", "--out", file.toString()), "--out " + file + " is a file, not a directory");
        Path under = file.resolve("sub");
        assertOneLineError(TrainCommandTest.run("train", "--out", under.toString()), "--out " + under + ": cannot create the directory");
        // /proc refuses new directories even to root, where permission bits would not
        assertOneLineError(TrainCommandTest.run("train", "--out", "/proc/forkprop-test-out"), "--out /proc/forkprop-test-out: cannot create the directory");
        assertOneLineError(TrainCommandTest.run("train", "--progress", "fancy"), "--progress must be auto, bar or lines, got 'fancy'");
    }

    private static void assertOneLineError(TrainCommandTest.Run r, String expected) {
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.out().isEmpty(), r.out());
    }
}
