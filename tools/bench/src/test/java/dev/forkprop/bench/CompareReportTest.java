package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.bench.CompareRow.TorchSetting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The best PyTorch setting and the ratio come from medians; table, JSON and CSV carry every row. */
class CompareReportTest {
    static final CompareCase SMALL = CompareCase.parse("784-100-10:32:sgd");

    static CompareReport sample() {
        return new CompareReport(List.of(
                // blas has the fastest single run (90,000) but both the higher median (60,000 > 50,000).
                new CompareRow(SMALL, 2, 0.01f, 100, 2000, Spread.of(110_000, 130_000, 120_000),
                        List.of(new TorchSetting(TorchThreads.of("blas", 2), Spread.of(50_000, 40_000, 90_000)),
                                new TorchSetting(TorchThreads.of("both", 2), Spread.of(60_000, 1_000, 61_000))), null),
                new CompareRow(SMALL, 1, 0.01f, 100, 2000, Spread.of(100_000), List.of(), "skipped")), 3);
    }

    @Test
    void theBestSettingIsTheHighestMedianNotTheHighestRun() {
        CompareRow r = sample().rows().getFirst();
        assertEquals(new Spread(120_000, 110_000, 130_000), r.forkprop());
        assertEquals("both", r.best().threads().name());
        assertEquals(2.0, r.ratio(), 1e-12);
        assertTrue(Double.isNaN(sample().rows().get(1).ratio()));
        assertEquals(null, sample().rows().get(1).best());
    }

    @Test
    void tableShowsBothSidesTheRatioAndTheWinningSetting() {
        String[] lines = sample().table().split("\n");
        assertEquals(CompareReport.tableHeader(), lines[0]);
        assertEquals(3, lines.length);
        assertTrue(lines[1].matches("784-100-10 b32 sgd\\s+2\\s+120,000 \\(110,000-130,000\\)\\s+60,000 \\(1,000-61,000\\)"
                + "\\s+2\\.00\\s+both \\(intra-op 2, BLAS 2\\) \\(blas 50,000\\)"), lines[1]);
        assertTrue(lines[2].matches("784-100-10 b32 sgd\\s+1\\s+100,000 \\(100,000-100,000\\)\\s+-\\s+-\\s+skipped"), lines[2]);
    }

    @Test
    void jsonHasTheDocumentedFieldsAndNullWithoutPyTorch(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.json");
        sample().writeJson(file);
        JsonNode arr = new ObjectMapper().readTree(Files.readString(file));
        assertEquals(2, arr.size());
        List<String> fields = List.of("model", "batch", "optimizer", "lr", "threads", "warmup_steps", "steps", "repeats",
                "forkprop_samples_per_sec", "forkprop_min", "forkprop_max", "torch_samples_per_sec", "torch_min",
                "torch_max", "torch_threading", "torch_intra_op_threads", "torch_blas_threads", "ratio", "torch_settings",
                "torch_note");
        for (JsonNode row : arr) {
            for (String f : fields) assertTrue(row.has(f), "missing " + f + " in " + row);
        }
        JsonNode a = arr.get(0);
        assertEquals("784-100-10", a.get("model").asText());
        assertEquals(32, a.get("batch").asInt());
        assertEquals(3, a.get("repeats").asInt());
        assertEquals(120_000, a.get("forkprop_samples_per_sec").asDouble());
        assertEquals(60_000, a.get("torch_samples_per_sec").asDouble());
        assertEquals("both", a.get("torch_threading").asText());
        assertEquals(2, a.get("torch_intra_op_threads").asInt());
        assertEquals(2.0, a.get("ratio").asDouble(), 1e-12);
        assertEquals(2, a.get("torch_settings").size());
        assertEquals("blas", a.get("torch_settings").get(0).get("name").asText());
        assertEquals(1, a.get("torch_settings").get(0).get("intra_op_threads").asInt());
        assertEquals(50_000, a.get("torch_settings").get(0).get("samples_per_sec").asDouble());
        assertTrue(a.get("torch_note").isNull());
        JsonNode b = arr.get(1);
        for (String f : List.of("torch_samples_per_sec", "torch_min", "torch_max", "torch_threading",
                "torch_intra_op_threads", "torch_blas_threads", "ratio")) {
            assertTrue(b.get(f).isNull(), f + " in " + b);
        }
        assertEquals("skipped", b.get("torch_note").asText());
    }

    @Test
    void csvHasOneLinePerRowAndEmptyFieldsWithoutPyTorch(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.csv");
        sample().writeCsv(file);
        List<String> lines = Files.readAllLines(file);
        assertEquals(CompareReport.CSV_HEADER, lines.get(0));
        assertEquals(3, lines.size());
        assertEquals("784-100-10,32,sgd,0.01,2,100,2000,3,120000.0,110000.0,130000.0,60000.0,1000.0,61000.0,both,2,2,"
                + "2.0000,blas=50000.0;both=60000.0,", lines.get(1));
        assertEquals("784-100-10,32,sgd,0.01,1,100,2000,3,100000.0,100000.0,100000.0,,,,,,,,,skipped", lines.get(2));
        int columns = CompareReport.CSV_HEADER.split(",").length;
        for (String l : lines) assertEquals(columns, l.split(",", -1).length, l);
    }
}
