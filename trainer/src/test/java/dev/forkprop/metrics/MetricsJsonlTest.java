package dev.forkprop.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.jsonl rows from hand-made events: cuts, sums, NaN as null, the tail at close; percentile tick labels. */
class MetricsJsonlTest {

    private static StepEvent step(long step, double loss, long correct, long nanoTime) {
        return new StepEvent().step(step, 1, 10, 0.5f, 2_000_000, true, nanoTime).result(loss, correct, 10, 1, 1, 1, true);
    }

    @Test
    void rowsPerStepCountEpochAndTail() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MetricsJsonl sink = new MetricsJsonl(bytes, Long.MAX_VALUE / 4, 2, false); // regression: no accuracy
        sink.onEvent(step(1, 1.0, 0, 1), false);
        sink.onEvent(step(2, 3.0, 0, 2), false);                                    // row: steps 1-2
        sink.onEvent(step(3, 5.0, 0, 3), false);
        sink.onEvent(new StepEvent().epochEnd(3, 1, 10, 3.0, 0, 30, Double.NaN, Double.NaN, 4), false); // tail row, then epoch
        sink.onEvent(step(4, 7.0, 0, 5), false);
        sink.onClose();                                                             // tail row at close
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(4, lines.length, bytes.toString(StandardCharsets.UTF_8));
        ObjectMapper om = new ObjectMapper();
        JsonNode first = om.readTree(lines[0]), tail = om.readTree(lines[1]), epoch = om.readTree(lines[2]), last = om.readTree(lines[3]);
        assertEquals("step", first.get("kind").asText());
        assertEquals(2, first.get("step").asLong());
        assertEquals(2.0, first.get("loss").asDouble(), 1e-12, "sample-weighted mean of 1 and 3");
        assertTrue(first.get("train_accuracy").isNull(), "regression has no accuracy");
        assertEquals(0.5, first.get("lr").asDouble());
        assertEquals(5_000, first.get("samples_per_sec").asDouble(), 1e-6, "20 samples in 2 x 2 ms of step time");
        assertEquals(2.0, first.get("step_ms_p50").asDouble(), 0.01);
        assertEquals(3, tail.get("step").asLong());
        assertEquals("epoch", epoch.get("kind").asText());
        assertFalse(epoch.has("val_loss") || epoch.has("lr"), "no validation set, no lr on epoch rows: " + lines[2]);
        assertEquals(3.0, epoch.get("loss").asDouble());
        assertEquals(4, last.get("step").asLong());
        for (String l : lines) assertFalse(l.startsWith(" "), "no separator before a row: '" + l + "'");
    }

    /** A resumed run's metrics.jsonl keeps the rows up to its checkpoint, and its rows count bad steps on. */
    @Test
    void reopenCutsPastTheCheckpointAndCountsBadStepsOn(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("metrics.jsonl");
        Files.writeString(file, """
                {"kind":"step","step":10,"epoch":1,"bad_steps":2}
                {"kind":"step","step":20,"epoch":1,"bad_steps":2}
                {"kind":"step","step":30,"epoch":2,"bad_steps":7}
                {"kind":"st""");
        MetricsJsonl sink = new MetricsJsonl(MetricsJsonl.reopen(file, 25, false), Long.MAX_VALUE / 4, 1, false)
                .badStepsBefore(4); // the checkpoint at step 25 counted 4
        sink.onEvent(new StepEvent().step(26, 1, 40, 0.5f, 2_000_000, true, 1).result(Double.NaN, 0, 10, 1, 1, 1, false), false);
        sink.onClose();
        var lines = Files.readAllLines(file);
        assertEquals(3, lines.size(), String.join("\n", lines));
        JsonNode row = new ObjectMapper().readTree(lines.get(2));
        assertEquals(26, row.get("step").asLong());
        assertEquals(5, row.get("bad_steps").asLong(), "four before the resume and this one");
    }

    @Test
    void percentileTicksAreTheNines() {
        assertEquals("0%", LatencyChart.percentileLabel(0));
        assertEquals("90%", LatencyChart.percentileLabel(1));
        assertEquals("99%", LatencyChart.percentileLabel(2));
        assertEquals("99.9%", LatencyChart.percentileLabel(3));
        assertEquals("99.99%", LatencyChart.percentileLabel(4));
        assertEquals("", LatencyChart.percentileLabel(1.5));
    }
}
