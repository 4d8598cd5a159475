package dev.forkprop.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forkprop.metrics.CurvesChart;
import dev.forkprop.metrics.LatencyChart;
import dev.forkprop.metrics.MetricsJsonl;
import dev.forkprop.metrics.StatusLineStream;
import dev.forkprop.metrics.TerminalProgress;
import dev.forkprop.run.Position;
import dev.forkprop.run.RunLength;
import dev.forkprop.run.RunResult;
import dev.forkprop.run.Trainer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The run-artefact and progress-display options of {@code train}, as a picocli mixin: {@code --out
 * DIR} writes {@code metrics.jsonl}, {@code latency.hlog}, {@code curves.png}, {@code latency.png}
 * and {@code run.json} into DIR (the {@code checkpoints/} folder there belongs to checkpointing, not
 * to this class); on a terminal the progress lines become a progress bar. Call order from the
 * command: {@link #prepare()} before the slow work, {@link #hlog}, {@link #attach} before
 * {@code fit}, {@link #finish} after it. Command thread only.
 */
public final class OutputOptions {
    @Option(names = "--out", paramLabel = "DIR", description = "write run artefacts into DIR (created): metrics.jsonl, latency.hlog, curves.png, latency.png, run.json")
    Path out;
    @Option(names = "--metrics-every", paramLabel = "STEPS", description = "with --out: a metrics.jsonl step row at least every STEPS steps, besides every --log-every seconds (0: time only) (default: ${DEFAULT-VALUE})")
    long metricsEverySteps = 100;
    @Option(names = "--progress", description = "progress display: auto (a bar on a terminal, lines otherwise), bar or lines (default: ${DEFAULT-VALUE})")
    String progress = "auto";

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** Checks the flags and creates the --out directory; a one-line IllegalArgumentException when it cannot. */
    public void prepare() {
        if (!progress.equals("auto") && !progress.equals("bar") && !progress.equals("lines")) {
            throw new IllegalArgumentException("--progress must be auto, bar or lines, got '" + progress + "'");
        }
        if (metricsEverySteps < 0) throw new IllegalArgumentException("--metrics-every must be >= 0, got " + metricsEverySteps);
        if (out == null) return;
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a file, not a directory");
        }
        try {
            Files.createDirectories(out);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException("--out " + out + ": cannot create the directory, " + e.getFile() + " is a file");
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException("--out " + out + ": cannot create the directory (" + reason(e) + ")");
        }
        if (!Files.isWritable(out)) throw new IllegalArgumentException("--out " + out + ": the directory is not writable");
    }

    /** True when progress is a terminal bar: then every other line must go through the bar's {@link StatusLineStream}. */
    public boolean showsBar() {
        return progress.equals("bar") || (progress.equals("auto") && TerminalProgress.isTerminal());
    }

    /** Where the .hlog goes: {@code explicit} (--hlog) when given, else DIR/latency.hlog with --out, else null. */
    public Path hlog(Path explicit) {
        return explicit != null || out == null ? explicit : out.resolve("latency.hlog");
    }

    /**
     * Adds the progress display and, with --out, the metrics.jsonl and curves.png sinks to
     * {@code trainer}. A run resumed from {@code start} (a step after 0) continues
     * the metrics.jsonl of the run before it ({@link MetricsJsonl#reopen}); {@code validates}: the
     * run has a validation set.
     */
    public void attach(Trainer trainer, PrintStream log, RunLength length, boolean classification,
                       double logEverySeconds, Position start, boolean validates) {
        final int stepsPerEpoch = length.stepsPerEpoch();
        if (showsBar()) {
            trainer.progress(new TerminalProgress(log, length.totalSteps(), length.epochs(), System.nanoTime()));
        }
        if (out == null) return;
        Path metrics = out.resolve("metrics.jsonl");
        try {
            boolean epochRowAgain = validates && start.revalidatesEpoch(stepsPerEpoch);
            var stream = start.step() > 0 ? MetricsJsonl.reopen(metrics, start.step(), epochRowAgain) : Files.newOutputStream(metrics);
            trainer.addSink(new MetricsJsonl(new BufferedOutputStream(stream), (long) (logEverySeconds * 1e9), metricsEverySteps,
                    classification).badStepsBefore(start.badSteps()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out.resolve("metrics.jsonl") + ": " + reason(e), e);
        }
        var curves = new CurvesChart(out.resolve("curves.png"), stepsPerEpoch, classification);
        try {
            if (start.step() > 0) curves.seedFrom(metrics);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + metrics + ": " + reason(e), e);
        }
        trainer.addSink(curves);
    }

    /**
     * With --out: writes latency.png from the run's latency histograms, and run.json: {@code
     * summary} (what --json prints) plus {@code config}, every option's value, and {@code argv}.
     */
    public void finish(RunResult result, ObjectNode summary) throws IOException {
        if (out == null) return;
        LatencyChart.write(result.latency, out.resolve("latency.png"));
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode run = summary.deepCopy();
        ObjectNode config = run.putObject("config");
        for (OptionSpec o : command.options()) {
            if (o.usageHelp() || o.versionHelp()) continue;
            String name = o.longestName().replaceFirst("^-+", "");
            Object v = o.getValue();
            if (v == null) config.putNull(name);
            else if (v instanceof Number || v instanceof Boolean) config.set(name, om.valueToTree(v));
            else config.put(name, v.toString()); // Path, String, enums: their plain text, as typed
        }
        var argv = run.putArray("argv");
        if (command.commandLine() != null && command.commandLine().getParseResult() != null) {
            command.commandLine().getParseResult().originalArgs().forEach(argv::add);
        }
        Files.writeString(out.resolve("run.json"), om.writeValueAsString(run) + "\n");
    }

    private static String reason(Exception e) {
        return e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
