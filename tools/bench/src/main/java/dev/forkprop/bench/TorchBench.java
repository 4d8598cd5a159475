package dev.forkprop.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.optim.Hyper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PyTorch side of {@code bench compare}: finds a Python that imports torch and the script
 * {@code tools/bench/src/main/python/torch_bench.py}, and runs the script once per timed run as a
 * child process with the thread variables of a {@link TorchThreads} setting, parsing the one JSON
 * line it prints last.
 *
 * <p>OpenBLAS's kernels: by default ({@code auto}) the child runs without
 * {@code OPENBLAS_CORETYPE}, so OpenBLAS picks the kernels for this CPU (on the 2-core EPYC VM:
 * Cooperlake, AVX-512, where the machine's {@code OPENBLAS_CORETYPE=Haswell} pins AVX2 kernels that
 * make PyTorch 1.2-1.7x slower); {@code inherit} keeps this process's value; any other value is set.
 *
 * <p>A fresh process per run, like the fresh engine per forkprop run: {@code OPENBLAS_NUM_THREADS}
 * is only read when the BLAS library loads, and no run inherits another's allocator state. The
 * start-up (importing torch, reading MNIST, about 2 s) is outside the script's timed steps.
 *
 * <p>Not thread-safe; one run at a time (a second would compete for the cores being measured).
 */
final class TorchBench {

    static final String SCRIPT = "torch_bench.py";
    /** Env var naming the Python to use when there is no {@code --python}. */
    static final String ENV_PYTHON = "FORKPROP_PYTHON";
    /** Pythons tried, in order, when neither {@code --python} nor {@value #ENV_PYTHON} names one. */
    static final List<String> DEFAULT_PYTHONS = List.of("python3", "/usr/bin/python3");
    /** torch_bench.py's exit code when {@code import torch} fails. */
    static final int EXIT_NO_TORCH = 3;
    static final String INSTALL_HINT = "install it with 'apt-get install python3-torch' (Debian's PyTorch, for "
            + "/usr/bin/python3), or name a Python that has torch with --python or $" + ENV_PYTHON;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A failed or implausible PyTorch run; the message is one line. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    /**
     * Either a usable {@link TorchBench} or, in {@code missing}, why there is none: one line ending
     * with how to install PyTorch.
     */
    record Located(TorchBench bench, String missing) {}

    /**
     * One timed PyTorch run, as torch_bench.py reported it.
     *
     * @param steps       timed steps done: fewer than asked when the run reached its time cap; -1 if unknown
     * @param blasThreads what OpenBLAS says it uses ({@code openblas_get_num_threads}), -1 if unknown
     */
    record Result(double samplesPerSec, int steps, int intraOpThreads, int blasThreads, double firstLoss,
                  double lastLoss) {}

    /** {@code --torch-coretype} values besides a core name. */
    static final String AUTO = "auto", INHERIT = "inherit";

    private final String python;
    private final Path script;
    private final String coretype;
    private final String torchVersion;
    private final String blasLibrary;
    private final String blasCore;

    private TorchBench(String python, Path script, String coretype, String torchVersion, String blasLibrary,
                       String blasCore) {
        this.python = python;
        this.script = script;
        this.coretype = coretype;
        this.torchVersion = torchVersion;
        this.blasLibrary = blasLibrary;
        this.blasCore = blasCore;
    }

    /**
     * Finds the script ({@code scriptFlag}, or {@link #findScript}) and the first Python that runs
     * it with torch: {@code pythonFlag}, else {@code $FORKPROP_PYTHON}, else {@link #DEFAULT_PYTHONS}.
     * Runs {@code python torch_bench.py --probe} (about 1 s per candidate). Never throws for a
     * missing Python or torch: that is a {@link Located#missing()} line.
     *
     * @param coretype {@link #AUTO}, {@link #INHERIT} or an OpenBLAS core name (see the class comment)
     */
    static Located locate(String pythonFlag, Path scriptFlag, String coretype) throws InterruptedException {
        Path s = scriptFlag != null ? scriptFlag : findScript();
        if (s == null || !Files.isRegularFile(s)) {
            return new Located(null, "PyTorch skipped: " + (s == null ? SCRIPT + " not found (looked under ./tools/bench/src/main/python"
                    + " and beside the bench jar); pass --torch-script FILE" : "no such script: " + s));
        }
        String env = System.getenv(ENV_PYTHON);
        List<String> candidates = pythonFlag != null ? List.of(pythonFlag)
                : env != null && !env.isBlank() ? List.of(env) : DEFAULT_PYTHONS;
        List<String> why = new ArrayList<>();
        for (String py : candidates) {
            List<String> cmd = List.of(py, s.toString(), "--probe");
            Output o;
            try {
                o = exec(cmd, TorchThreads.of("both", 1), coretype);
            } catch (IOException e) {
                why.add("cannot run '" + py + "' (" + rootMessage(e) + ")");
                continue;
            }
            if (o.exit() == 0) {
                try {
                    JsonNode j = lastJsonLine(o.text());
                    return new Located(new TorchBench(py, s, coretype, j.path("torch_version").asText("?"),
                            j.path("blas_library").asText("unknown"), j.path("blas_core").asText("unknown")), null);
                } catch (Failure e) {
                    why.add("'" + py + "' --probe printed no JSON (" + e.getMessage() + ")");
                }
            } else if (o.exit() == EXIT_NO_TORCH) {
                why.add("'" + py + "' has no torch (" + lastLine(o.text()) + ")");
            } else {
                why.add("'" + py + " " + SCRIPT + " --probe' exited " + o.exit() + " (" + lastLine(o.text()) + ")");
            }
        }
        return new Located(null, "PyTorch skipped: " + String.join("; ", why) + ". To compare with PyTorch, " + INSTALL_HINT);
    }

    /**
     * {@code ./tools/bench/src/main/python/torch_bench.py} (run.sh runs from the repository root),
     * else {@code src/main/python/torch_bench.py} in a folder above this class's jar or class
     * directory ({@code tools/bench/target/forkprop-bench.jar}, {@code tools/bench/target/classes}).
     * Null if neither exists.
     */
    static Path findScript() {
        Set<Path> tried = new LinkedHashSet<>();
        tried.add(Path.of("tools", "bench", "src", "main", "python", SCRIPT).toAbsolutePath());
        try {
            Path code = Path.of(TorchBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path d = code.getParent(); d != null; d = d.getParent()) {
                tried.add(d.resolve(Path.of("src", "main", "python", SCRIPT)));
            }
        } catch (URISyntaxException | RuntimeException e) {
            // no code source (an unusual class loader): the working directory is all there is
        }
        return tried.stream().filter(Files::isRegularFile).findFirst().orElse(null);
    }

    String python() {
        return python;
    }

    Path script() {
        return script;
    }

    String torchVersion() {
        return torchVersion;
    }

    String blasLibrary() {
        return blasLibrary;
    }

    /** The kernels OpenBLAS chose in the probe ({@code openblas_get_corename}), or "unknown". */
    String blasCore() {
        return blasCore;
    }

    /** How {@code OPENBLAS_CORETYPE} is set for the child: "unset", "inherited: X", or "X". */
    String coretypeSetting() {
        if (coretype.equals(AUTO)) return "unset";
        if (coretype.equals(INHERIT)) {
            String v = System.getenv("OPENBLAS_CORETYPE");
            return "inherited: " + (v == null ? "(unset)" : v);
        }
        return coretype;
    }

    /**
     * One timed run of {@code c} with the same hyper-parameters as forkprop's run, on the IDX files
     * in {@code mnistDir}. The warm-up and the timed steps each stop early once they have taken
     * {@code maxSeconds} (0: no cap), so that a pathological thread setting cannot stall the
     * benchmark. Blocks until the child exits.
     *
     * @throws Failure if the child fails, prints no JSON, or its loss did not go down
     */
    Result run(CompareCase c, float lr, Hyper h, TorchThreads threads, int warmup, int steps, double maxSeconds,
               Path mnistDir) throws InterruptedException {
        List<String> cmd = List.of(python, script.toString(), "--data", mnistDir.toAbsolutePath().toString(),
                "--model", c.model(), "--batch", Integer.toString(c.batch()), "--optimizer", c.optimizer(),
                "--lr", Float.toString(lr), "--momentum", Double.toString(h.momentum()),
                "--beta1", Double.toString(h.beta1()), "--beta2", Double.toString(h.beta2()),
                "--eps", Double.toString(h.eps()), "--weight-decay", Double.toString(h.weightDecay()),
                "--intra-op", Integer.toString(threads.intraOp()),
                "--warmup-steps", Integer.toString(warmup), "--steps", Integer.toString(steps),
                "--max-seconds", Double.toString(maxSeconds), "--seed", "1");
        Output o;
        try {
            o = exec(cmd, threads, coretype);
        } catch (IOException e) {
            throw new Failure("cannot run '" + python + "' (" + rootMessage(e) + ")");
        }
        if (o.exit() != 0) throw new Failure(SCRIPT + " exited " + o.exit() + ": " + lastLine(o.text()));
        return parse(o.text());
    }

    /**
     * The result in torch_bench.py's output: its last line that starts with '{' (lines before it,
     * such as Python warnings, are ignored). Checks it like forkprop's runs are checked: a positive
     * finite samples/s, and a finite last loss below the first.
     *
     * @throws Failure if there is no such line, it is not JSON, or a check fails
     */
    static Result parse(String output) {
        JsonNode j = lastJsonLine(output);
        double sps = number(j, "samples_per_sec"), first = number(j, "first_loss"), last = number(j, "last_loss");
        if (!(sps > 0) || Double.isInfinite(sps)) {
            throw new Failure("no positive samples_per_sec in " + SCRIPT + "'s output: " + j);
        }
        if (!(Double.isFinite(last) && last < first)) {
            throw new Failure("PyTorch training did not progress (loss " + first + " -> " + last + ")");
        }
        JsonNode blas = j.path("blas_threads");
        return new Result(sps, j.path("steps").asInt(-1), j.path("intra_op_threads").asInt(-1),
                blas.isInt() ? blas.asInt() : -1, first, last);
    }

    private static JsonNode lastJsonLine(String output) {
        String[] lines = output.split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            String l = lines[i].strip();
            if (!l.startsWith("{")) continue;
            try {
                return JSON.readTree(l);
            } catch (JsonProcessingException e) {
                throw new Failure("unreadable JSON from " + SCRIPT + " (" + e.getOriginalMessage() + "): " + l);
            }
        }
        throw new Failure("no JSON line in " + SCRIPT + "'s output" + (output.isBlank() ? "" : ": " + lastLine(output)));
    }

    /** A number field; NaN when absent or null (the script writes null for NaN). */
    private static double number(JsonNode j, String field) {
        JsonNode n = j.get(field);
        return n != null && n.isNumber() ? n.asDouble() : Double.NaN;
    }

    private record Output(int exit, String text) {}

    /**
     * Runs {@code cmd} with the thread variables of {@code threads} and {@code OPENBLAS_CORETYPE}
     * as {@code coretype} says, stdout and stderr merged.
     */
    private static Output exec(List<String> cmd, TorchThreads threads, String coretype)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(threads.environment());
        if (coretype.equals(AUTO)) {
            pb.environment().remove("OPENBLAS_CORETYPE");
        } else if (!coretype.equals(INHERIT)) {
            pb.environment().put("OPENBLAS_CORETYPE", coretype);
        }
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Process p = pb.start();
        try {
            p.getOutputStream().close();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Output(p.waitFor(), text);
        } finally {
            p.destroy();
        }
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\n");
        String l = lines[lines.length - 1].strip();
        return l.isEmpty() ? "no output" : l;
    }

    private static final Pattern ERRNO = Pattern.compile("error[=:] ?\\d+,? \\(?([^()]*)\\)?$");

    /**
     * "No such file or directory" out of ProcessBuilder's "Cannot run program "x": error=2, No such
     * file or directory" (JDK 25 on Linux: "...: Exec failed, error: 2 (No such file or directory)").
     */
    private static String rootMessage(IOException e) {
        String m = String.valueOf(e.getMessage()).strip();
        Matcher errno = ERRNO.matcher(m);
        return errno.find() ? errno.group(1).strip() : m;
    }
}
