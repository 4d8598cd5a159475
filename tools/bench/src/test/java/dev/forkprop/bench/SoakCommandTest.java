package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short soak on a small model: interval rows with real values, JSON, plot, and the steady-state summary. */
class SoakCommandTest {

    @Test
    void shortSoakReportsIntervals(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("soak.json"), png = dir.resolve("soak.png");
        BenchMainTest.Outcome o = BenchMainTest.run("soak", "--minutes", "0.1", "--interval-seconds", "1.5",
                "--model", "784-32-10", "--batch", "32", "--threads", "2", "--json", json.toString(), "--plot", png.toString(),
                "--data-dir", BenchTestData.dataDir().toString());
        assertEquals(0, o.code(), o.err() + o.out());
        JsonNode rows = new ObjectMapper().readTree(json.toFile());
        assertTrue(rows.size() >= 3, o.out());
        for (JsonNode r : rows) {
            assertTrue(r.get("steps").asLong() > 0, r.toString());
            assertTrue(r.get("samples_per_sec").asDouble() > 0, r.toString());
            assertTrue(r.get("step_ms_p99").asDouble() >= r.get("step_ms_p50").asDouble(), r.toString());
            assertTrue(r.get("rss_mb").asDouble() > 10, r.toString());
            assertTrue(r.get("gc_count").asLong() >= 0, r.toString());
        }
        assertTrue(o.out().contains("# steady state"), o.out());
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    void rejectsNonPositiveDurations() {
        assertEquals(2, BenchMainTest.run("soak", "--minutes", "0").code());
        assertEquals(2, BenchMainTest.run("soak", "--interval-seconds", "-1").code());
    }
}
