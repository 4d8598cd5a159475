package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.forkprop.optim.Hyper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch side without PyTorch: parsing the script's output, the missing-Python and
 * missing-torch messages, and the child-process plumbing through a fake python (a shell script
 * that answers like torch_bench.py). One test runs the real script, only where torch is installed.
 */
class TorchBenchTest {

    /** torch_bench.py's output less some fields ("steps" among them: it is optional). */
    static final String RESULT = "{\"torch_version\": \"1.13.0a0\", \"samples_per_sec\": 12345.5, \"intra_op_threads\": 1,"
            + " \"blas_threads\": 2, \"first_loss\": 2.5, \"last_loss\": 0.75, \"timed_s\": 1.0}";

    @Test
    void parseTakesTheLastJsonLineAndIgnoresWarningsBeforeIt() {
        TorchBench.Result r = TorchBench.parse("/usr/lib/python3/dist-packages/torch/x.py:1: UserWarning: noise\n"
                + "{\"not\": \"this one\"}\n" + RESULT + "\n");
        assertEquals(12345.5, r.samplesPerSec());
        assertEquals(-1, r.steps());
        assertEquals(7, TorchBench.parse(RESULT.replace("{", "{\"steps\": 7, ")).steps());
        assertEquals(1, r.intraOpThreads());
        assertEquals(2, r.blasThreads());
        assertEquals(2.5, r.firstLoss());
        assertEquals(0.75, r.lastLoss());
        assertEquals(-1, TorchBench.parse(RESULT.replace("\"blas_threads\": 2", "\"blas_threads\": null")).blasThreads());
    }

    @Test
    void parseRejectsMissingJsonNoSpeedAndTrainingThatDidNotProgress() {
        assertFailure("no JSON line in torch_bench.py's output: Traceback", () -> TorchBench.parse("Traceback\n"));
        assertFailure("no JSON line in torch_bench.py's output", () -> TorchBench.parse(""));
        assertFailure("unreadable JSON", () -> TorchBench.parse("{\"samples_per_sec\": \n"));
        assertFailure("no positive samples_per_sec", () -> TorchBench.parse(RESULT.replace("12345.5", "null")));
        assertFailure("no positive samples_per_sec", () -> TorchBench.parse(RESULT.replace("12345.5", "0")));
        assertFailure("PyTorch training did not progress (loss 2.5 -> 2.5)",
                () -> TorchBench.parse(RESULT.replace("0.75", "2.5")));
        assertFailure("PyTorch training did not progress (loss 2.5 -> NaN)",
                () -> TorchBench.parse(RESULT.replace("0.75", "null")));
    }

    @Test
    void aMissingPythonIsAOneLineSkipThatSaysHowToInstallTorch() throws Exception {
        TorchBench.Located l = TorchBench.locate("/nonexistent/python3", null, TorchBench.AUTO);
        assertNull(l.bench());
        assertEquals("PyTorch skipped: cannot run '/nonexistent/python3' (No such file or directory). To compare with"
                + " PyTorch, " + TorchBench.INSTALL_HINT, l.missing());
        assertTrue(l.missing().contains("apt-get install python3-torch"));
    }

    @Test
    void aPythonWithoutTorchIsASkipThatNamesTheImportError(@TempDir Path dir) throws Exception {
        Path py = fakePython(dir, "echo \"torch_bench: cannot import torch (No module named 'torch') with /x/python3\" >&2; exit 3");
        TorchBench.Located l = TorchBench.locate(py.toString(), null, TorchBench.AUTO);
        assertNull(l.bench());
        assertEquals("PyTorch skipped: '" + py + "' has no torch (torch_bench: cannot import torch (No module named"
                + " 'torch') with /x/python3). To compare with PyTorch, " + TorchBench.INSTALL_HINT, l.missing());
    }

    @Test
    void aMissingScriptIsASkipToo(@TempDir Path dir) throws Exception {
        TorchBench.Located l = TorchBench.locate("/usr/bin/env", dir.resolve("nope.py"), TorchBench.AUTO);
        assertNull(l.bench());
        assertEquals("PyTorch skipped: no such script: " + dir.resolve("nope.py"), l.missing());
    }

    @Test
    void theScriptIsFoundFromTheBuildOutput() {
        Path s = TorchBench.findScript();
        assertNotNull(s, "torch_bench.py not found from " + Path.of("").toAbsolutePath());
        assertTrue(s.endsWith(Path.of("tools", "bench", "src", "main", "python", TorchBench.SCRIPT))
                || s.endsWith(Path.of("bench", "src", "main", "python", TorchBench.SCRIPT)), s.toString());
    }

    @Test
    void eachRunGetsItsSettingsThreadVariables(@TempDir Path dir) throws Exception {
        TorchBench b = TorchBench.locate(fakeTorch(dir).toString(), dir.resolve("torch_bench.py"), TorchBench.AUTO).bench();
        assertNotNull(b);
        assertEquals("fake", b.torchVersion());
        assertEquals("/fake/libopenblasp.so", b.blasLibrary());
        CompareCase c = CompareCase.parse("784-10:16:sgd");
        for (String name : TorchThreads.NAMES) {
            TorchThreads th = TorchThreads.of(name, 2);
            TorchBench.Result r = b.run(c, 0.01f, Hyper.DEFAULTS, th, 1, 3, 0, dir);
            assertEquals(th.intraOp(), r.intraOpThreads(), name);
            assertEquals(th.blas(), r.blasThreads(), name);
            assertEquals(fakeSamplesPerSec(th), r.samplesPerSec(), name);
        }
    }

    @Test
    void openBlasCoretypeIsUnsetInheritedOrSetAsAsked(@TempDir Path dir) throws Exception {
        Path py = fakeTorch(dir), script = dir.resolve("torch_bench.py");
        // The fake reports $OPENBLAS_CORETYPE as its core, "detected" when it is unset.
        TorchBench auto = TorchBench.locate(py.toString(), script, TorchBench.AUTO).bench();
        assertEquals("detected", auto.blasCore());
        assertEquals("unset", auto.coretypeSetting());
        TorchBench named = TorchBench.locate(py.toString(), script, "SkylakeX").bench();
        assertEquals("SkylakeX", named.blasCore());
        assertEquals("SkylakeX", named.coretypeSetting());
        String env = System.getenv("OPENBLAS_CORETYPE");
        TorchBench inherit = TorchBench.locate(py.toString(), script, TorchBench.INHERIT).bench();
        assertEquals(env == null || env.isEmpty() ? "detected" : env, inherit.blasCore());
        assertEquals("inherited: " + (env == null ? "(unset)" : env), inherit.coretypeSetting());
    }

    @Test
    void aFailingRunIsAFailureWithItsLastLine(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("torch_bench.py"), "# not read by the fake\n");
        Path py = fakePython(dir, "case \" $* \" in *' --probe '*) echo '{\"torch_version\": \"fake\"}';;"
                + " *) echo 'Traceback (most recent call last):'; echo 'torch_bench: MemoryError: ' >&2; exit 1;; esac");
        TorchBench b = TorchBench.locate(py.toString(), dir.resolve("torch_bench.py"), TorchBench.AUTO).bench();
        assertNotNull(b);
        assertFailure("torch_bench.py exited 1: torch_bench: MemoryError:",
                () -> b.run(CompareCase.parse("784-10:16:sgd"), 0.01f, Hyper.DEFAULTS, TorchThreads.of("blas", 1), 1, 3, 0, dir));
    }

    /** The real script on real MNIST, a few steps: only where a Python with torch is installed. */
    @Test
    void theRealScriptTrainsWhereTorchIsInstalled() throws Exception {
        TorchBench.Located l = TorchBench.locate(null, null, TorchBench.AUTO);
        assumeTrue(l.bench() != null, () -> l.missing());
        Path mnist = BenchTestData.dataDir().resolve("mnist");
        TorchBench.Result r = l.bench().run(CompareCase.parse("784-10:64:sgd"), 0.1f, Hyper.DEFAULTS,
                TorchThreads.of("blas", 1), 1, 10, 60, mnist);
        assertTrue(r.samplesPerSec() > 0, r.toString());
        assertEquals(10, r.steps());
        assertEquals(1, r.intraOpThreads());
        assertTrue(r.blasThreads() == 1 || r.blasThreads() == -1, r.toString());
    }

    /** samples/s the fake answers with: 1000 per BLAS thread plus 100 per intra-op thread. */
    static double fakeSamplesPerSec(TorchThreads th) {
        return 1000.0 * th.blas() + 100.0 * th.intraOp();
    }

    /**
     * A fake python that answers --probe and runs like torch_bench.py, echoing the thread variables
     * it was given, after a warning line.
     */
    static Path fakeTorch(Path dir) throws IOException {
        Files.writeString(dir.resolve("torch_bench.py"), "# not read by the fake\n");
        return fakePython(dir, "case \" $* \" in"
                + " *' --probe '*) echo \"{\\\"torch_version\\\": \\\"fake\\\", \\\"blas_library\\\": \\\"/fake/libopenblasp.so\\\","
                + " \\\"blas_core\\\": \\\"${OPENBLAS_CORETYPE:-detected}\\\"}\";;"
                + " *) echo 'UserWarning: a warning first' >&2;"
                + " echo \"{\\\"samples_per_sec\\\": $((1000 * OPENBLAS_NUM_THREADS + 100 * OMP_NUM_THREADS)),"
                + " \\\"intra_op_threads\\\": $OMP_NUM_THREADS, \\\"blas_threads\\\": $OPENBLAS_NUM_THREADS,"
                + " \\\"first_loss\\\": 2.3, \\\"last_loss\\\": 1.1}\";;"
                + " esac");
    }

    static Path fakePython(Path dir, String body) throws IOException {
        Path py = dir.resolve("python3");
        Files.writeString(py, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(py, PosixFilePermissions.fromString("rwxr-xr-x"));
        return py;
    }

    private static void assertFailure(String messageStart, org.junit.jupiter.api.function.Executable code) {
        TorchBench.Failure f = assertThrows(TorchBench.Failure.class, code);
        assertTrue(f.getMessage().startsWith(messageStart), "expected '" + messageStart + "...', got: " + f.getMessage());
        assertTrue(!f.getMessage().contains("\n"), f.getMessage());
    }
}
