package dev.forkprop.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code forkprop} command line: dispatches subcommands and turns every expected failure
 * (bad flags, bad data, bad specs) into one line on stderr and exit code 2, never a stack trace.
 */
@Command(name = "forkprop", mixinStandardHelpOptions = true, version = "forkprop 0.1.0",
        description = "Pure-Java multicore neural network trainer.",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, ExportCommand.class})
public final class Main implements Runnable {

    /** Exit code for bad input: flags, data files, specs. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code of a training run stopped by non-finite losses or gradients ({@code --max-bad-steps}). */
    public static final int EXIT_DIVERGED = 3;
    /** Exit code of a run stopped by a failing worker or data loader (a bug or the environment, not the input). */
    public static final int EXIT_FAILED = 1;

    @Override
    public void run() {
        CommandLine.usage(this, System.err);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Where the root cause of {@code t} was thrown, for a one-line report: "(at Class.method(File.java:42))". */
    static String origin(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        StackTraceElement[] st = root.getStackTrace();
        String where = st.length == 0 ? "unknown" : st[0].toString();
        return "(" + root.getClass().getSimpleName() + " at " + where + ")";
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int execute(String... args) {
        CommandLine cl = commandLine();
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof dev.forkprop.data.DataException
                    || ex instanceof java.io.UncheckedIOException) { // an output file that cannot be written (--out, --hlog)
                System.err.println("forkprop: " + ex.getMessage());
                return EXIT_BAD_INPUT;
            }
            if (ex instanceof dev.forkprop.mpi.MpiException) { // the MPI library or the job's launch
                System.err.println("forkprop: " + ex.getMessage());
                return EXIT_FAILED;
            }
            if (ex instanceof dev.forkprop.engine.WorkerFailure || ex instanceof dev.forkprop.data.BatchLoaderFailure) {
                // The step has stopped and the pool is shut down; parameters are the last completed step's.
                System.err.println("forkprop: training stopped: " + ex.getMessage() + " " + origin(ex));
                return EXIT_FAILED;
            }
            throw ex;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            System.err.println("forkprop: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, System.err);
            System.err.println(ex.getCommandLine().getHelp().fullSynopsis().strip());
            return EXIT_BAD_INPUT;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            // train checks the heap before it allocates the engine; this is the net under everything else
            System.err.println("forkprop: out of memory (" + e.getMessage() + ", -Xmx " + (Runtime.getRuntime().maxMemory() >> 20)
                    + " MB): use a smaller model, --batch or --threads, or raise the heap, e.g. FORKPROP_JVM_OPTS=-Xmx8g");
            return EXIT_FAILED;
        }
    }

    /**
     * The command line as {@link #execute} parses it (the fuzz test of the flags parses with it
     * too). Arguments are taken literally: found by TrainFlagsFuzzTest, picocli's default reads an
     * argument {@code @FILE} as a file of arguments, and an unreadable one (a directory, say
     * {@code --data @/tmp}) escaped as a stack trace with exit code 1.
     */
    static CommandLine commandLine() {
        return new CommandLine(new Main()).setExpandAtFiles(false);
    }
}
