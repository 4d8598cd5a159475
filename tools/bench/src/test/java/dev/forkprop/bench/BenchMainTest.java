package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.annotations.Param;

/** Command-line contract of the bench jar, and the JMH defaults staying in step with the command's. */
class BenchMainTest {

    record Outcome(int code, String out, String err) {}

    static Outcome run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = BenchMain.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Outcome(code, out.toString(), err.toString());
    }

    @Test
    void helpExitsZero() {
        Outcome o = run("--help");
        assertEquals(0, o.code());
        assertTrue(o.out().contains("kernels"), o.out());
        assertEquals(0, run("kernels", "--help").code());
        assertTrue(o.out().contains("compare"), o.out());
        Outcome compare = run("compare", "--help");
        assertEquals(0, compare.code());
        assertTrue(compare.out().contains("--torch-threading"), compare.out());
    }

    @Test
    void usageErrorsAreOneLineAndExitTwo() {
        for (String[] args : new String[][] {{}, {"nope"}, {"--nope"}, {"kernels", "--nope"},
                {"kernels", "--shapes", "12x3"}, {"compare", "--cases", "784-10:0:sgd"},
                {"compare", "--cases", "784-10:16:sgd", "--model", "784-10"}, {"compare", "--model", "dense:10"},
                {"compare", "--threads", "0"}, {"compare", "--torch-threading", "all"}, {"compare", "--repeats", "0"}}) {
            Outcome o = run(args);
            assertEquals(2, o.code(), Arrays.toString(args));
            assertEquals(1, o.err().strip().lines().count(), "one line for " + Arrays.toString(args) + ": " + o.err());
            assertTrue(o.err().startsWith("bench: "), o.err());
        }
        assertTrue(run("nope").err().contains("unknown subcommand 'nope'"));
    }

    @Test
    void shapeTextRoundTrips() {
        for (GemmShape s : GemmShape.MLP) assertEquals(s, GemmShape.parse(s.label()));
        assertEquals(GemmShape.parse("NN:2x3x4"), GemmShape.parse("2x3x4"));
        GemmShape tn = GemmShape.parse("TN:784x256x1024");
        assertEquals(784, tn.lda()); // X stored [256,784]
        GemmShape nt = GemmShape.parse("NT:256x1024x784");
        assertEquals(1024, nt.ldb()); // W stored [784,1024]
    }

    @Test
    void jmhParamDefaultsMatchTheCommandDefaults() throws Exception {
        Field shape = GemmBench.class.getField("shape");
        assertEquals(GemmShape.MLP.stream().map(GemmShape::label).toList(),
                Arrays.asList(shape.getAnnotation(Param.class).value()));
        Field impl = GemmBench.class.getField("impl");
        assertEquals(KernelsCommand.DEFAULT_IMPLS, Arrays.asList(impl.getAnnotation(Param.class).value()));
    }

    /** A tiny case, few steps: seconds of forkprop on real MNIST. lr 0.1 so that the loss falls in 12 steps. */
    static final String[] TINY = {"--cases", "784-10:64:sgd", "--lr", "0.1", "--warmup-steps", "2", "--steps", "10",
            "--data-dir", BenchTestData.dataDir().toString()};

    static String[] compare(String... more) {
        String[] args = new String[1 + TINY.length + more.length];
        args[0] = "compare";
        System.arraycopy(TINY, 0, args, 1, TINY.length);
        System.arraycopy(more, 0, args, 1 + TINY.length, more.length);
        return args;
    }

    @Test
    void compareWithoutPythonSkipsPyTorchSaysHowToInstallItAndStillReportsForkprop(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("c.json");
        Outcome o = run(compare("--threads", "1", "--repeats", "1", "--python", "/nonexistent/python3", "--json", json.toString()));
        assertEquals(0, o.code(), o.err());
        String skipped = "PyTorch skipped: cannot run '/nonexistent/python3' (No such file or directory). To compare with"
                + " PyTorch, install it with 'apt-get install python3-torch'";
        assertTrue(o.out().contains("# " + skipped), o.out());
        assertTrue(o.err().contains(skipped), o.err());
        assertTrue(o.out().lines().anyMatch(l -> l.matches("784-10 b64 sgd\\s+1\\s+[0-9,]+ \\([0-9,]+-[0-9,]+\\)\\s+-\\s+-\\s+skipped")),
                o.out());
        JsonNode row = new ObjectMapper().readTree(Files.readString(json)).get(0);
        assertTrue(row.get("forkprop_samples_per_sec").asDouble() > 0, row.toString());
        assertTrue(row.get("torch_samples_per_sec").isNull(), row.toString());
        assertEquals("skipped", row.get("torch_note").asText());
    }

    /** The whole command with a fake PyTorch: alternation, the thread variables per setting, best setting, ratio. */
    @Test
    void compareRunsEverySettingPerRepeatAndReportsTheBest(@TempDir Path dir) throws Exception {
        Path py = TorchBenchTest.fakeTorch(dir), json = dir.resolve("c.json"), csv = dir.resolve("c.csv");
        Outcome o = run(compare("--threads", "1,2", "--repeats", "2", "--python", py.toString(),
                "--torch-script", dir.resolve("torch_bench.py").toString(), "--json", json.toString(), "--csv", csv.toString()));
        assertEquals(0, o.code(), o.out() + o.err());
        // 1 thread: one setting (all coincide); 2 threads: blas then both, after forkprop, in every repeat.
        assertEquals(2, o.out().lines().filter(l -> l.matches("#   repeat \\d: forkprop [0-9,]+ \\| PyTorch blas 1,100")).count(), o.out());
        assertEquals(2, o.out().lines().filter(l -> l.matches(
                "#   repeat \\d: forkprop [0-9,]+ \\| PyTorch blas 2,100 \\| PyTorch both 2,200")).count(), o.out());
        JsonNode rows = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(2, rows.size());
        JsonNode one = rows.get(0), two = rows.get(1);
        assertEquals(1, one.get("threads").asInt());
        assertEquals(1100, one.get("torch_samples_per_sec").asDouble());
        assertEquals(1, one.get("torch_settings").size());
        assertEquals(2, two.get("threads").asInt());
        assertEquals("both", two.get("torch_threading").asText());
        assertEquals(2200, two.get("torch_samples_per_sec").asDouble());
        assertEquals(two.get("forkprop_samples_per_sec").asDouble() / 2200, two.get("ratio").asDouble(), 1e-9);
        assertEquals(0.1, two.get("lr").asDouble(), 1e-7);
        assertEquals(10, two.get("steps").asInt());
        assertEquals(3, Files.readAllLines(csv).size());
    }
}
