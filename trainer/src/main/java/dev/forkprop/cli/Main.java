package dev.forkprop.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code forkprop} command line: dispatches subcommands and turns every expected failure
 * (bad flags, bad data, bad specs) into one line on stderr and exit code 2, never a stack trace.
 */
@Command(name = "forkprop", mixinStandardHelpOptions = true, version = "forkprop 0.1.0",
        description = "Pure-Java multicore neural network trainer.",
        subcommands = {TrainCommand.class, EvalCommand.class, ExportCommand.class})
public final class Main implements Runnable {

    /** Exit code for bad input: flags, data files, specs. */
    public static final int EXIT_BAD_INPUT = 2;

    @Override
    public void run() {
        CommandLine.usage(this, System.err);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int execute(String... args) {
        CommandLine cl = commandLine();
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof dev.forkprop.data.DataException) {
                System.err.println("forkprop: " + ex.getMessage());
                return EXIT_BAD_INPUT;
            }
            throw ex;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            System.err.println("forkprop: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, System.err);
            System.err.println(ex.getCommandLine().getHelp().fullSynopsis().strip());
            return EXIT_BAD_INPUT;
        });
        return cl.execute(args);
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
