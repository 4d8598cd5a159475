package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
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
    }

    @Test
    void usageErrorsAreOneLineAndExitTwo() {
        for (String[] args : new String[][] {{}, {"nope"}, {"--nope"}, {"kernels", "--nope"},
                {"kernels", "--shapes", "12x3"}}) {
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
}
