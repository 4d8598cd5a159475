package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.io.Checkpoint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CSV end to end: train scales and encodes the columns, eval and predict apply the checkpoint's
 * encoding and agree with train, bad prediction input is one line and no file, resume keeps the
 * encoding and the bits, and a format-version-1 checkpoint is still evaluated on raw columns.
 */
class TabularCommandTest {
    @TempDir Path dir;

    /**
     * {@code n} rows whose features differ in scale by orders of magnitude (income ~ 5e4, ratio ~
     * 0.3, age ~ 40) and a category; the class depends on all of them.
     */
    static String table(int n, long seed, boolean regression, String... unseen) {
        Random r = new Random(seed);
        String[] colors = {"red", "green", "blue"};
        StringBuilder sb = new StringBuilder("income,color,ratio,age," + (regression ? "price" : "label") + "\n");
        for (int i = 0; i < n; i++) {
            double income = 50_000 + 15_000 * r.nextGaussian(), ratio = 0.3 + 0.1 * r.nextGaussian(), age = 40 + 10 * r.nextGaussian();
            int c = r.nextInt(3);
            String color = unseen.length > 0 && i % 5 == 0 ? unseen[0] : colors[c];
            double z = (income - 50_000) / 15_000 - 2 * (ratio - 0.3) / 0.1 + (age - 40) / 10 + (c - 1) + 0.3 * r.nextGaussian();
            String y = regression ? String.format(Locale.ROOT, "%.3f", 1000 + 250 * z) : Integer.toString(z > 0.8 ? 2 : z > -0.8 ? 1 : 0);
            sb.append(String.format(Locale.ROOT, "%.1f,%s,%.4f,%.1f,%s%n", income, color, ratio, age, y));
        }
        return sb.toString();
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    private static JsonNode json(TrainCommandTest.Run r) throws IOException {
        String[] lines = r.out().strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }

    /** train on the two files; {@code flags} are pairs "--flag", "value" that replace the defaults ("" for a flag without a value). */
    private static List<String> trainArgs(Path train, Path test, String... flags) {
        Map<String, String> f = new LinkedHashMap<>();
        String[] defaults = {"--data", train.toString(), "--test-data", test.toString(), "--categorical", "color",
                "--model", "dense:32,relu,dense:3", "--epochs", "20", "--lr", "1e-2", "--batch", "32", "--threads", "2",
                "--deterministic", "", "--shards", "2", "--json", ""};
        for (int i = 0; i < defaults.length; i += 2) f.put(defaults[i], defaults[i + 1]);
        for (int i = 0; i < flags.length; i += 2) f.put(flags[i], flags[i + 1]);
        List<String> a = new ArrayList<>(List.of("train"));
        f.forEach((k, v) -> {
            a.add(k);
            if (!v.isEmpty()) a.add(v);
        });
        return a;
    }

    @Test
    void predictAndEvalAgreeWithTrainAndScalingBeatsRawColumns() throws Exception {
        Path train = write("train.csv", table(600, 1, false)), test = write("test.csv", table(200, 2, false));
        Path ck = dir.resolve("ck");
        TrainCommandTest.Run t = CheckpointCommandTest.run(trainArgs(train, test, "--checkpoint-dir", ck.toString()));
        assertEquals(0, t.code(), t.err());
        double trainAccuracy = json(t).get("test_accuracy").asDouble();
        assertTrue(trainAccuracy > 0.85, "accuracy " + trainAccuracy);
        Path file = Checkpoint.newest(ck);
        assertTrue(Checkpoint.read(file).get("features").contains("\"categorical\""));

        // predict: one row per input row, the label column ignored; its accuracy is train's
        Path out = dir.resolve("pred.csv");
        TrainCommandTest.Run p = TrainCommandTest.run("predict", "--checkpoint", file.toString(), "--data", test.toString(),
                "--out", out.toString(), "--threads", "2");
        assertEquals(0, p.code(), p.err());
        List<String> rows = Files.readAllLines(out);
        assertEquals("prediction,p_0,p_1,p_2", rows.get(0));
        List<String> truth = Files.readAllLines(test);
        assertEquals(truth.size(), rows.size());
        int correct = 0;
        for (int i = 1; i < rows.size(); i++) {
            String[] f = rows.get(i).split(",");
            double sum = Float.parseFloat(f[1]) + Float.parseFloat(f[2]) + Float.parseFloat(f[3]);
            assertEquals(1.0, sum, 1e-5, "probabilities of row " + i);
            if (f[0].equals(truth.get(i).substring(truth.get(i).lastIndexOf(',') + 1))) correct++;
        }
        assertEquals(trainAccuracy, correct / (double) (rows.size() - 1), 1e-12);

        // the same rows without the label column, the columns in another order: the same predictions
        List<String> unlabelled = new ArrayList<>();
        for (String line : truth) {
            String[] f = line.split(",");
            unlabelled.add(String.join(",", f[3], f[2], f[1], f[0]));
        }
        Path shuffled = write("rows.csv", String.join("\n", unlabelled) + "\n");
        Path out2 = dir.resolve("pred2.csv");
        assertEquals(0, TrainCommandTest.run("predict", "--checkpoint", file.toString(), "--data", shuffled.toString(),
                "--out", out2.toString()).code());
        assertEquals(rows, Files.readAllLines(out2));

        // eval: the run's own test split by default, and the same file named
        TrainCommandTest.Run e = TrainCommandTest.run("eval", "--checkpoint", file.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains(String.format(Locale.ROOT, "accuracy %.4f", trainAccuracy)), e.out());
        assertTrue(e.out().contains("test.csv test: 200 samples"), e.out());
        TrainCommandTest.Run e2 = TrainCommandTest.run("eval", "--checkpoint", file.toString(), "--data", test.toString());
        assertEquals(e.out(), e2.out());

        // The same model on raw columns learns far less from these scales.
        TrainCommandTest.Run raw = CheckpointCommandTest.run(trainArgs(train, test, "--normalize", "none"));
        assertEquals(0, raw.code(), raw.err());
        assertTrue(json(raw).get("test_accuracy").asDouble() < trainAccuracy - 0.1,
                "raw " + json(raw).get("test_accuracy") + " vs scaled " + trainAccuracy);
    }

    @Test
    void regressionIsTrainedStandardisedAndReportedInTheDataUnits() throws Exception {
        Path train = write("train.csv", table(600, 3, true)), test = write("test.csv", table(150, 4, true));
        Path ck = dir.resolve("ck");
        List<String> a = trainArgs(train, test, "--task", "regression", "--model", "dense:32,relu,dense:1", "--checkpoint-dir", ck.toString());
        TrainCommandTest.Run t = CheckpointCommandTest.run(a);
        assertEquals(0, t.code(), t.err());
        double mse = json(t).get("test_loss").asDouble();
        Path out = dir.resolve("pred.csv");
        Path file = Checkpoint.newest(ck);
        assertEquals(0, TrainCommandTest.run("predict", "--checkpoint", file.toString(), "--data", test.toString(),
                "--out", out.toString()).code());
        List<String> rows = Files.readAllLines(out), truth = Files.readAllLines(test);
        assertEquals("prediction", rows.get(0));
        double se = 0;
        for (int i = 1; i < rows.size(); i++) {
            double y = Double.parseDouble(truth.get(i).substring(truth.get(i).lastIndexOf(',') + 1));
            se += Math.pow(Float.parseFloat(rows.get(i)) - y, 2);
        }
        double fromFile = se / (rows.size() - 1);
        assertEquals(mse, fromFile, 1e-3 * mse, "train's test MSE is in the target's units");
        assertTrue(mse < 250 * 250 * 6.8 * 0.1, "MSE " + mse + " against a target variance of about 250^2 x 6.8");
        TrainCommandTest.Run e = TrainCommandTest.run("eval", "--checkpoint", file.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().matches("(?s).*\\| mse [0-9.e+]+ \\| mae [0-9.e+]+ \\| r2 0\\.9[0-9]+ .*"), e.out());
    }

    @Test
    void badPredictionInputIsOneLineAndWritesNoFile() throws Exception {
        Path train = write("train.csv", table(300, 1, false)), test = write("test.csv", table(50, 2, false));
        Path ck = dir.resolve("ck");
        assertEquals(0, CheckpointCommandTest.run(trainArgs(train, test, "--epochs", "1", "--checkpoint-dir", ck.toString())).code());
        String file = Checkpoint.newest(ck).toString();
        String good = Files.readString(test);
        String[][] cases = {
                {good.replace("income,", "salary,"), "no column 'income' and unknown column 'salary', expected only the model's 4 feature columns [income, color, ratio, age] and the label 'label'"},
                {good.replace("label\n", "label,extra\n").replaceAll("(?m)^(\\d.*)$", "$1,7"), "unknown column 'extra', expected only the model's 4 feature columns [income, color, ratio, age] and the label 'label'"},
                {good.replaceFirst("\n[0-9.]+,", "\nlots,"), "column 'income' (0): non-numeric cell 'lots', expected a finite number"},
        };
        for (String[] c : cases) {
            Path bad = write("bad.csv", c[0]);
            for (String cmd : List.of("predict", "eval")) {
                Path out = dir.resolve("out-" + cmd + ".csv");
                List<String> args = new ArrayList<>(List.of(cmd, "--checkpoint", file, "--data", bad.toString()));
                if (cmd.equals("predict")) args.addAll(List.of("--out", out.toString()));
                TrainCommandTest.Run r = TrainCommandTest.run(args.toArray(String[]::new));
                assertEquals(2, r.code(), cmd + ": " + r.err());
                assertEquals(1, r.err().strip().lines().count(), r.err());
                assertTrue(r.err().contains(c[1]), r.err());
                assertFalse(Files.exists(out), cmd + " wrote " + out);
            }
        }
        // An unseen category is encoded as zeros and counted.
        Path unseen = write("unseen.csv", table(50, 5, false, "purple"));
        TrainCommandTest.Run r = TrainCommandTest.run("predict", "--checkpoint", file, "--data", unseen.toString(), "--out",
                dir.resolve("p.csv").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("10 categorical cells with a category not seen in training"), r.err());
    }

    @Test
    void resumeAppliesTheCheckpointsEncodingAndKeepsTheBits() throws Exception {
        Path train = write("train.csv", table(400, 6, false)), test = write("test.csv", table(80, 7, false));
        String whole = json(CheckpointCommandTest.run(trainArgs(train, test, "--epochs", "4", "--schedule", "constant")))
                .get("params_sha256").asText();
        Path ck = dir.resolve("ck");
        assertEquals(0, CheckpointCommandTest.run(trainArgs(train, test, "--epochs", "4", "--schedule", "constant", "--max-steps", "20",
                "--checkpoint-dir", ck.toString())).code());
        TrainCommandTest.Run resumed = CheckpointCommandTest.run(trainArgs(train, test, "--epochs", "4", "--schedule", "constant",
                "--checkpoint-dir", ck.toString(), "--resume", ""));
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(whole, json(resumed).get("params_sha256").asText());
    }

    @Test
    void aVersionOneCheckpointIsEvaluatedOnRawColumns() throws Exception {
        Path fixture = resource("legacy-v1-csv.safetensors"), rows = resource("legacy-v1-test.csv");
        assertEquals("1", Checkpoint.read(fixture).version());
        // Written by the version-1 trainer (train --data legacy-v1.csv --model dense:4,relu,dense:2 --epochs 3 --batch 16
        // --threads 1 --seed 3), which reported test loss 88.4881, accuracy 0.7500 on these 12 rows, its last 10%.
        TrainCommandTest.Run e = TrainCommandTest.run("eval", "--checkpoint", fixture.toString(), "--data", rows.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("12 samples | loss 88.4881 | accuracy 0.7500"), e.out());
        Path out = dir.resolve("p.csv");
        TrainCommandTest.Run p = TrainCommandTest.run("predict", "--checkpoint", fixture.toString(), "--data", rows.toString(),
                "--out", out.toString());
        assertEquals(0, p.code(), p.err());
        assertEquals(13, Files.readAllLines(out).size());
    }

    private Path resource(String name) throws IOException {
        try (InputStream in = TabularCommandTest.class.getResourceAsStream("/dev/forkprop/io/" + name)) {
            Path p = dir.resolve(name);
            Files.write(p, in.readAllBytes());
            return p;
        }
    }
}
