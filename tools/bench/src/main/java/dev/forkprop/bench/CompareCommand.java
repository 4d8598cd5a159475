package dev.forkprop.bench;

import dev.forkprop.bench.CompareRow.TorchSetting;
import dev.forkprop.data.Dataset;
import dev.forkprop.data.Datasets;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.optim.Hyper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bench compare}: forkprop against PyTorch on the same model, batch, optimizer, data and
 * thread count.
 *
 * <p>Per case and thread count: one untimed forkprop run (JIT compilation stays out of the timed
 * runs), then {@code --repeats} rounds of a forkprop {@link TrainingRun} followed by one PyTorch run
 * per threading setting ({@link TorchThreads}; each a {@link TorchBench} child process), so drift on
 * a noisy machine hits both sides alike. PyTorch's OpenBLAS chooses its own kernels for the CPU
 * unless {@code --torch-coretype} says otherwise (see {@link TorchBench}). A PyTorch run's warm-up and timed steps each stop once
 * they have taken {@code --torch-max-seconds} (one setting, intra-op T, ran 50x slower than the
 * others on the busy 2-core VM); its samples/s is then over the steps it did. Both sides: He-normal weights, zero biases, ReLU between
 * dense layers, softmax cross-entropy, the same learning rate and {@link Hyper#DEFAULTS}, warm-up
 * steps, then the same number of timed steps on MNIST training images. forkprop normalises each
 * batch from the bytes, as it trains; PyTorch gets the whole set as a preloaded float32 tensor,
 * shuffled once, each batch a view. Reported: median samples/s with min-max for both sides, the
 * PyTorch setting with the best median, and forkprop / PyTorch.
 *
 * <p>Without a Python that imports torch the PyTorch runs are skipped with a line saying how to
 * install it, and forkprop's numbers are still reported (exit 0). A PyTorch run that fails is
 * reported in its row and makes the exit code 1.
 */
@Command(name = "compare", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Training samples/s of forkprop and PyTorch side by side (same model, batch, optimizer, data, threads).",
            "Default cases: 784-100-10:32:sgd 784-256-256-10:128:adam 784-1024-1024-10:256:adam 784-4096-4096-10:512:momentum"})
public final class CompareCommand implements Callable<Integer> {

    @Option(names = "--cases", split = ",", paramLabel = "MODEL:BATCH:OPTIMIZER", converter = CaseConverter.class,
            description = "cases, comma-separated (default: the four above)")
    List<CompareCase> cases;
    @Option(names = "--model", description = "one case's model (compact spec, ReLU between layers); with --batch and --optimizer instead of --cases")
    String model;
    @Option(names = "--batch", description = "one case's global batch (default with --model: 256)")
    Integer batch;
    @Option(names = "--optimizer", description = "one case's optimizer: sgd, momentum, nesterov, adam, adamw (default with --model: adam)")
    String optimizer;
    @Option(names = "--threads", split = ",", description = "thread counts (default: ${DEFAULT-VALUE})")
    int[] threads = {1, 2};
    @Option(names = "--lr", description = "learning rate for every case (default: 1e-3 for adam/adamw, 0.01 otherwise)")
    Float lr;
    @Option(names = "--warmup-steps", description = "untimed steps per run (default: a quarter of --steps, 5 to 100)")
    Integer warmup;
    @Option(names = "--steps", description = "timed steps per run (default per case: about 2e11 flop, 20 to 2000 steps)")
    Integer steps;
    @Option(names = "--repeats", description = "runs per side, case and thread count (default: ${DEFAULT-VALUE})")
    int repeats = 3;
    @Option(names = "--torch-threading", split = ",", paramLabel = "SETTING",
            description = "PyTorch thread settings to try, the best median wins: blas (intra-op 1, BLAS T), both (T, T), intra (T, 1) (default: blas,both)")
    List<String> torchThreading = TorchThreads.DEFAULTS;
    @Option(names = "--torch-max-seconds", paramLabel = "S",
            description = "cap on one PyTorch run's warm-up and on its timed steps; samples/s is then over the steps done (default: ${DEFAULT-VALUE}, 0: none)")
    double torchMaxSeconds = 30;
    @Option(names = "--torch-coretype", paramLabel = "CORE",
            description = "OPENBLAS_CORETYPE for PyTorch: auto (unset: OpenBLAS picks the kernels for this CPU), inherit (keep this environment's), or a core name such as Haswell (default: ${DEFAULT-VALUE})")
    String torchCoretype = TorchBench.AUTO;
    @Option(names = "--python", paramLabel = "EXE", description = "Python with torch (default: $FORKPROP_PYTHON, else python3, else /usr/bin/python3)")
    String python;
    @Option(names = "--torch-script", paramLabel = "FILE", description = "the PyTorch side (default: tools/bench/src/main/python/torch_bench.py)")
    Path torchScript;
    @Option(names = "--data-dir", description = "folder holding mnist/ (default: $FORKPROP_DATA, then ./data)")
    Path dataDir;
    @Option(names = "--json", paramLabel = "FILE", description = "write the rows as a JSON array")
    Path json;
    @Option(names = "--csv", paramLabel = "FILE", description = "write the rows as CSV")
    Path csv;

    @Spec
    CommandSpec spec;

    static final class CaseConverter implements ITypeConverter<CompareCase> {
        @Override
        public CompareCase convert(String value) {
            return CompareCase.parse(value);
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<CompareCase> caseList = caseList();
        for (int t : threads) {
            if (t <= 0) throw new ParameterException(spec.commandLine(), "--threads values must be positive, got " + t);
        }
        if (repeats <= 0 || (steps != null && steps <= 0) || (warmup != null && warmup < 0) || !(torchMaxSeconds >= 0)) {
            throw new ParameterException(spec.commandLine(),
                    "--steps and --repeats must be positive, --warmup-steps and --torch-max-seconds >= 0");
        }
        if (lr != null && !(lr > 0 && Float.isFinite(lr))) {
            throw new ParameterException(spec.commandLine(), "--lr must be positive, got " + lr);
        }
        for (String name : torchThreading) {
            if (!TorchThreads.NAMES.contains(name)) {
                throw new ParameterException(spec.commandLine(), "unknown --torch-threading '" + name + "' (expected "
                        + String.join(", ", TorchThreads.NAMES) + ")");
            }
        }

        Datasets datasets = Datasets.fromEnvironment(dataDir);
        Path mnistDir = datasets.ensure("mnist").toAbsolutePath();
        Dataset data = datasets.load("mnist").train();
        TorchBench.Located torch = TorchBench.locate(python, torchScript, torchCoretype);

        out.println("# forkprop bench compare");
        BenchEnvironment.printHeader(out, threads);
        out.printf("# forkprop: the train command in this JVM (loader and telemetry threads, its own samples/s after warm-up), gemm %s, one shard per thread (not deterministic)%n",
                Gemms.best().name());
        if (torch.bench() != null) {
            TorchBench b = torch.bench();
            out.printf("# PyTorch: %s (%s), %s; a preloaded float32 tensor, shuffled once, batches are views%n",
                    b.torchVersion(), b.python(), b.script());
            out.printf("# PyTorch's BLAS: %s, kernels %s (OPENBLAS_CORETYPE %s; --torch-coretype)%n", b.blasLibrary(),
                    b.blasCore(), b.coretypeSetting());
        } else {
            out.println("# " + torch.missing());
            err.println("bench compare: " + torch.missing());
        }
        out.printf("# both: MNIST train (%d images), He-normal init, ReLU, softmax cross-entropy, %s; %d repeats, alternating%n",
                data.size(), hyper(), repeats);
        out.flush();

        List<CompareRow> rows = new ArrayList<>();
        for (CompareCase c : caseList) {
            float rate = lr != null ? lr : TrainingRun.defaultLr(c.optimizer());
            int s = steps != null ? steps : c.defaultSteps();
            int w = warmup != null ? warmup : CompareCase.defaultWarmup(s);
            for (int t : threads) {
                rows.add(runCase(out, c, rate, t, w, s, data, mnistDir, torch.bench()));
            }
        }

        CompareReport report = new CompareReport(rows, repeats);
        out.println();
        out.print(report.table());
        out.println("# ratio = forkprop / PyTorch (best setting), medians over " + repeats + " repeats; above 1: forkprop is faster");
        BenchEnvironment.printLoadAtEnd(out);
        if (json != null) report.writeJson(json);
        if (csv != null) report.writeCsv(csv);
        out.flush();
        return report.anyFailed() ? 1 : 0;
    }

    /** The train command's arguments for case {@code c} at {@code t} threads (MNIST, ReLU, He init, the optimizer's defaults). */
    private List<String> trainArgs(CompareCase c, float rate, int t) {
        List<String> a = new ArrayList<>(List.of("--data", "mnist", "--model", c.model(), "--activation", "relu",
                "--batch", Integer.toString(c.batch()), "--optimizer", c.optimizer(), "--lr", Float.toString(rate),
                "--threads", Integer.toString(t)));
        if (dataDir != null) a.addAll(List.of("--data-dir", dataDir.toString()));
        return a;
    }

    /** One case at one thread count: the untimed forkprop run, then the alternating repeats. */
    private CompareRow runCase(PrintWriter out, CompareCase c, float rate, int t, int w, int s, Dataset data,
                               Path mnistDir, TorchBench torch) throws Exception {
        String what = String.format(Locale.ROOT, "%s b%d %s, %d thread%s, lr %s, %d + %d steps", c.model(), c.batch(),
                c.optimizer(), t, t == 1 ? "" : "s", rate, w, s);
        out.println("# " + what);
        out.flush();
        List<String> trainArgs = trainArgs(c, rate, t);
        TrainingRun.train(trainArgs, w, s); // untimed: the JIT compiles this case's code
        List<TorchThreads> settings = TorchThreads.settings(torchThreading, t);
        double[] forkprop = new double[repeats];
        Map<TorchThreads, double[]> torchSps = new LinkedHashMap<>();
        for (TorchThreads th : settings) torchSps.put(th, new double[repeats]);
        String note = torch == null ? "skipped" : null;
        for (int r = 0; r < repeats; r++) {
            forkprop[r] = TrainingRun.train(trainArgs, w, s).samplesPerSec();
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "#   repeat %d: forkprop %,.0f", r + 1, forkprop[r]));
            for (TorchThreads th : settings) {
                if (note != null) break;
                try {
                    TorchBench.Result tr = torch.run(c, rate, Hyper.DEFAULTS, th, w, s, torchMaxSeconds, mnistDir);
                    torchSps.get(th)[r] = tr.samplesPerSec();
                    line.append(String.format(Locale.ROOT, " | PyTorch %s %,.0f", th.name(), tr.samplesPerSec()));
                    if (tr.steps() >= 0 && tr.steps() < s) {
                        line.append(String.format(Locale.ROOT, " (%d of %d steps: %.0f s cap)", tr.steps(), s, torchMaxSeconds));
                    }
                    if (tr.blasThreads() >= 0 && tr.blasThreads() != th.blas()) {
                        line.append(" (BLAS reported ").append(tr.blasThreads()).append(" threads)");
                    }
                } catch (TorchBench.Failure e) {
                    note = "failed: " + e.getMessage();
                    line.append(" | PyTorch ").append(th.name()).append(' ').append(note);
                }
            }
            out.println(line);
            out.flush();
        }
        List<TorchSetting> torchRows = new ArrayList<>();
        if (note == null) {
            for (var e : torchSps.entrySet()) torchRows.add(new TorchSetting(e.getKey(), Spread.of(e.getValue())));
        }
        return new CompareRow(c, t, rate, w, s, Spread.of(forkprop), torchRows, note);
    }

    /** --cases, or the one case of --model/--batch/--optimizer, or the defaults. */
    private List<CompareCase> caseList() {
        boolean one = model != null || batch != null || optimizer != null;
        if (one && cases != null) {
            throw new ParameterException(spec.commandLine(), "give either --cases or --model/--batch/--optimizer, not both");
        }
        if (!one) return cases != null ? cases.stream().distinct().toList() : CompareCase.DEFAULTS;
        try {
            return List.of(new CompareCase(model != null ? model : "784-1024-1024-10", batch != null ? batch : 256,
                    optimizer != null ? optimizer.toLowerCase(Locale.ROOT) : "adam"));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private static String hyper() {
        Hyper h = Hyper.DEFAULTS;
        return String.format(Locale.ROOT, "momentum %s, Adam betas %s/%s eps %s, weight decay %s", h.momentum(), h.beta1(),
                h.beta2(), h.eps(), h.weightDecay());
    }

    @Override
    public String toString() {
        return "compare " + Arrays.toString(threads);
    }
}
