package dev.forkprop.bench;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Entry point of the bench jar ({@code ./run.sh bench SUBCOMMAND ...}): dispatches to one
 * subcommand per benchmark: {@code kernels}, {@code scaling}, {@code compare} (against PyTorch),
 * {@code soak} (memory and latency over time) and the kill -9 harness {@code crash}.
 *
 * <p>Exit codes: 0 ok, 1 a benchmark failed (or a result check did), 2 a usage error, reported
 * on one line.
 */
@Command(name = "bench", sortOptions = false,
        description = "forkprop benchmarks: ./run.sh bench SUBCOMMAND [OPTIONS] (SUBCOMMAND --help for its options).",
        subcommands = {KernelsCommand.class, ScalingCommand.class, CompareCommand.class, SoakCommand.class,
                CrashCommand.class})
public final class BenchMain implements Callable<Integer> {

    static final int EXIT_USAGE = 2;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Parses and runs; returns the exit code. Usage errors are one line on {@code err}. */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new BenchMain());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("bench: " + usageError(ex));
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            c.getErr().println("bench: " + c.getCommandName() + " failed: " + ex);
            return 1;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** No subcommand given. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing subcommand (expected: " + subcommands() + ")");
    }

    private static String subcommands() {
        return String.join(", ", new CommandLine(new BenchMain()).getSubcommands().keySet());
    }

    private static String usageError(ParameterException ex) {
        CommandLine where = ex.getCommandLine();
        String hint = "; try '" + where.getCommandSpec().qualifiedName() + " --help'";
        if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String first = u.getUnmatched().getFirst();
            if (where.getParent() == null && !first.startsWith("-")) {
                return "unknown subcommand '" + first + "' (expected: " + subcommands() + ")" + hint;
            }
            return (first.startsWith("-") ? "unknown option '" : "unexpected argument '") + first + "'" + hint;
        }
        String msg = String.valueOf(ex.getMessage());
        int nl = msg.indexOf('\n');
        return (nl < 0 ? msg : msg.substring(0, nl)).trim() + hint;
    }
}
