package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * Jazzer fuzz test of the train command's numeric flags: picocli's conversion, then
 * {@link TrainCommand#validateFlags} and the checks of the option mixins, then the schedule
 * parser, exactly as {@code train} runs them before it loads data. Any command line is either
 * accepted with every value inside its documented range (finite numbers, positive sizes, a
 * schedule and a clip threshold the engine accepts) or rejected with a one-line
 * {@link CommandLine.ParameterException} or {@link IllegalArgumentException} (never a bare
 * NumberFormatException); anything else is a finding. Regression inputs in
 * {@code src/test/resources/dev/forkprop/cli/TrainFlagsFuzzTestInputs/flags}.
 *
 * <p>Input (FuzzedDataProvider): up to six (flag, value) pairs; a value is free text, or a long,
 * double or float printed by Java.
 */
class TrainFlagsFuzzTest {

    static final String[] FLAGS = {"--batch", "--epochs", "--max-steps", "--threads", "--shards", "--seed", "--val",
            "--lr", "--momentum", "--weight-decay", "--clip", "--dropout", "--positive-class", "--log-every",
            "--metrics-every", "--checkpoint-every", "--checkpoint-minutes", "--keep", "--schedule", "--deterministic"};

    @FuzzTest(maxDuration = "10s")
    void flags(FuzzedDataProvider in) {
        List<String> args = new ArrayList<>(List.of("train", "--checkpoint-dir", "/nonexistent/fuzz"));
        int pairs = in.consumeInt(0, 6);
        for (int i = 0; i < pairs; i++) {
            String flag = in.pickValue(FLAGS);
            args.add(flag);
            if (flag.equals("--deterministic")) continue;
            args.add(switch (in.consumeInt(0, 3)) {
                case 0 -> Long.toString(in.consumeLong());
                case 1 -> Double.toString(in.consumeDouble());
                case 2 -> Float.toString(in.consumeFloat());
                default -> in.consumeString(24);
            });
        }
        TrainCommand t;
        try {
            CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
            t = (TrainCommand) parsed.subcommand().commandSpec().userObject();
            t.validateFlags();
            t.output.prepare();
            t.checkpoints.validate(t.output.out);
            t.optimizerOptions.lrSchedule(1000);
        } catch (CommandLine.ParameterException | IllegalArgumentException expected) {
            assertTrue(expected instanceof CommandLine.ParameterException || expected.getClass() == IllegalArgumentException.class,
                    "undocumented " + expected);
            assertTrue(!expected.getMessage().contains("\n") || args.toString().contains("\n"), expected.getMessage());
            return;
        }
        assertTrue(t.batch > 0 && t.epochs > 0 && t.threads >= 1 && t.threads <= 4096, args.toString());
        assertTrue(t.maxSteps >= 0 && t.dataOptions.val >= 0 && t.shards >= 1, args.toString());
        assertTrue(t.optimizerOptions.lr > 0 && Float.isFinite(t.optimizerOptions.lr), args.toString());
        assertTrue(Double.isFinite(t.optimizerOptions.momentum) && t.optimizerOptions.momentum >= 0, args.toString());
        assertTrue(Double.isFinite(t.optimizerOptions.weightDecay) && t.optimizerOptions.weightDecay >= 0, args.toString());
        assertTrue(Float.isFinite(t.optimizerOptions.clip) && t.optimizerOptions.clip >= 0, args.toString());
        assertTrue(t.modelOptions.dropout >= 0 && t.modelOptions.dropout < 1, args.toString());
        assertTrue(t.positiveClass >= -1, args.toString());
        assertTrue(t.logEvery > 0 && Double.isFinite(t.logEvery), args.toString());
        assertTrue(t.output.metricsEverySteps >= 0, args.toString());
        assertTrue(t.checkpoints.every >= 0 && t.checkpoints.keep >= 1, args.toString());
        assertTrue(t.checkpoints.minutes >= 0 && Double.isFinite(t.checkpoints.minutes), args.toString());
        assertEquals(t.optimizerOptions.clip, t.optimizerOptions.gradClip().maxNorm());
    }
}
