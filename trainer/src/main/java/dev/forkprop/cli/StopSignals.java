package dev.forkprop.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT and SIGTERM as a stop request the trainer polls between steps: the first signal sets a
 * flag (the run finishes its step, saves a checkpoint and exits with 128 + signal number); a second
 * signal halts the JVM at once with that code.
 *
 * <p>Why {@code sun.misc.Signal} (module jdk.unsupported) and not a shutdown hook: a shutdown hook
 * runs while the JVM is already exiting, concurrently with the training threads, and cannot choose
 * the exit code or let the current step finish first; a signal handler only sets a flag and lets
 * the coordinator stop at a step boundary, where parameters are consistent. The handlers run on
 * the JVM's signal-dispatch thread. {@link #close} puts the previous handlers back (tests run
 * commands in-process). Where a signal cannot be handled (e.g. the JVM runs with -Xrs) it is
 * skipped and the default behaviour stays.
 *
 * <p>Memory consistency effects: the handler's write of the signal name is volatile; the
 * coordinator's read in {@link #received} sees it at the next step boundary.
 */
final class StopSignals implements AutoCloseable {
    private static final String[] NAMES = {"INT", "TERM"};

    private volatile String received;
    private volatile int code;
    private final List<Signal> installed = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();

    /** Where the signal messages go (the run's log, so that a progress bar moves below them). */
    private final PrintStream log;

    private StopSignals(PrintStream log) {
        this.log = log;
    }

    static StopSignals install(PrintStream log) {
        StopSignals s = new StopSignals(log);
        for (String name : NAMES) {
            try {
                Signal sig = new Signal(name);
                SignalHandler old = Signal.handle(sig, s::onSignal);
                s.installed.add(sig);
                s.previous.add(old);
            } catch (IllegalArgumentException | UnsupportedOperationException ex) {
                // not handleable here (e.g. -Xrs, or the OS has no such signal): keep the default
            }
        }
        return s;
    }

    private void onSignal(Signal sig) {
        int c = 128 + sig.getNumber();
        if (received != null) {
            log.printf("forkprop: second SIG%s, exiting now without a checkpoint%n", sig.getName());
            Runtime.getRuntime().halt(c);
        }
        code = c;
        received = sig.getName(); // volatile write publishes code too
        log.printf("forkprop: SIG%s received: finishing the current step and saving a checkpoint (send again to exit at once)%n", sig.getName());
    }

    /** The name of the signal that asked to stop ("INT", "TERM"), or null. */
    String received() {
        return received;
    }

    /** 0 when no signal arrived, else 128 + its number. */
    int exitCode() {
        return received == null ? 0 : code;
    }

    @Override
    public void close() {
        for (int i = 0; i < installed.size(); i++) Signal.handle(installed.get(i), previous.get(i));
        installed.clear();
        previous.clear();
    }
}
