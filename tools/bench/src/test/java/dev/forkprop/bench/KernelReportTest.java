package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The table and the JSON carry the documented fields; GFLOPS and ratios come from the median. */
class KernelReportTest {
    static final GemmShape TN = GemmShape.parse("TN:784x256x1024");

    static KernelReport sample() {
        return new KernelReport(List.of(
                // median of {400, 100, 200, 300} is 250 us
                KernelRow.measured(TN, "vector", new double[] {400, 100, 200, 300}),
                KernelRow.unavailable(TN, "scalar", "unknown GEMM implementation 'scalar'"),
                KernelRow.measured(TN, GemmCall.OPENBLAS, new double[] {130, 125, 5000})));
    }

    @Test
    void gflopsComeFromTheMedianIteration() {
        KernelRow vector = sample().rows().getFirst();
        assertEquals(250, vector.medianUs());
        assertEquals(2.0 * 784 * 256 * 1024 / 250e3, vector.gflops(), 1e-9);
        // The 5000 us outlier does not move OpenBLAS's median (130 us), so the ratio is 130/250.
        assertEquals(130.0 / 250, vector.ratioToOpenblas(), 1e-12);
    }

    @Test
    void jsonHasTheDocumentedFieldsAndNullForMissingNumbers(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("k.json");
        sample().writeJson(file);
        JsonNode arr = new ObjectMapper().readTree(Files.readString(file));
        assertTrue(arr.isArray());
        assertEquals(3, arr.size());
        Set<String> fields = Set.of("m", "k", "n", "transA", "transB", "op", "impl", "status", "gflops",
                "median_us", "spread", "ratio_to_openblas", "note");
        for (JsonNode row : arr) {
            for (String f : fields) assertTrue(row.has(f), "missing " + f + " in " + row);
        }
        JsonNode vector = arr.get(0);
        assertEquals(784, vector.get("m").asInt());
        assertEquals(256, vector.get("k").asInt());
        assertEquals(1024, vector.get("n").asInt());
        assertTrue(vector.get("transA").asBoolean());
        assertFalse(vector.get("transB").asBoolean());
        assertEquals("vector", vector.get("impl").asText());
        assertEquals(2.0 * 784 * 256 * 1024 / 250e3, vector.get("gflops").asDouble(), 1e-9);
        JsonNode scalar = arr.get(1);
        assertEquals("unavailable", scalar.get("status").asText());
        assertTrue(scalar.get("gflops").isNull());
        assertTrue(scalar.get("ratio_to_openblas").isNull());
    }

    @Test
    void tableShowsEveryRowAndTheReasonForMissingOnes() {
        String table = sample().table();
        String[] lines = table.split("\n");
        assertEquals(KernelReport.tableHeader(), lines[0]);
        assertEquals(4, lines.length);
        assertTrue(lines[1].matches("TN\\s+784\\s+256\\s+1024\\s+vector\\s+250\\.0\\s+1644\\.17\\s+120\\.0%\\s+0\\.52"), lines[1]);
        assertTrue(lines[2].contains("scalar") && lines[2].contains("unavailable: unknown GEMM implementation"), lines[2]);
    }
}
