package dev.forkprop.cli;

import dev.forkprop.engine.Engine;
import dev.forkprop.model.Network;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.run.Checkpointing;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The train command's checkpoint flags (a picocli mixin): they configure a {@link Checkpointing},
 * which decides when to save and what to restore. Not the policy, not the file format, and not the
 * signal plumbing ({@link StopSignals}).
 */
public final class CheckpointOptions {
    @Option(names = "--checkpoint-dir", description = "write checkpoints (ckpt-<step>.safetensors) here (default with --out: OUT/checkpoints; without, the run saves none)")
    Path dir;
    @Option(names = "--checkpoint-every", description = "save every N steps (0: only at the end) (default: ${DEFAULT-VALUE})")
    long every = 0;
    @Option(names = "--checkpoint-minutes", description = "also save when this many minutes passed since the last save (0: off) (default: ${DEFAULT-VALUE})")
    double minutes = 0;
    @Option(names = "--keep", description = "keep the newest K checkpoints (default: ${DEFAULT-VALUE})")
    int keep = 3;
    @Option(names = "--resume", description = "continue from the newest checkpoint in --checkpoint-dir; the other flags must match it")
    boolean resume;
    @Option(names = "--init-from", description = "start from weights in PyTorch layout (a file written by 'export')")
    Path initFrom;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** Checks the flags on their own; call before loading data. With --out and no --checkpoint-dir, checkpoints go to OUT/checkpoints. */
    void validate(Path out) {
        if (dir == null && out != null) dir = out.resolve("checkpoints");
        check(every >= 0, "--checkpoint-every must be >= 0, got " + every);
        check(minutes >= 0 && Double.isFinite(minutes), "--checkpoint-minutes must be >= 0, got " + minutes);
        check(keep >= 1, "--keep must be >= 1, got " + keep);
        check(dir != null || (!resume && every == 0 && minutes == 0),
                "--resume, --checkpoint-every and --checkpoint-minutes need --checkpoint-dir DIR");
        check(!(resume && initFrom != null), "--resume and --init-from exclude each other");
    }

    /** The run's checkpoint policy from these flags; {@code config} goes into every checkpoint. */
    Checkpointing policy(Network net, Engine engine, Optimizer opt, Map<String, String> config, PrintStream log) {
        return new Checkpointing(net, engine, opt, config, dir, log).every(every).minutes(minutes).keep(keep);
    }

    /** The command line that resumes this run: the same arguments, and --resume. */
    String resumeArgs() {
        List<String> args = mixee == null ? List.of() : mixee.commandLine().getParseResult().originalArgs();
        StringBuilder sb = new StringBuilder();
        if (!args.isEmpty() && args.get(0).equals("train")) args = args.subList(1, args.size());
        for (String a : args) {
            if (a.equals("--resume")) continue;
            sb.append(a.matches("[A-Za-z0-9_./:=,+-]+") ? a : "'" + a.replace("'", "'\\''") + "'").append(' ');
        }
        return sb.append("--resume").toString();
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
