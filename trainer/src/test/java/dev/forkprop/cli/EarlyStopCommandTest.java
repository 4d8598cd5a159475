package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.io.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --early-stop and best.safetensors end to end. */
class EarlyStopCommandTest {
    @TempDir Path dir;

    /** 784-32-10 on 1000 training samples (--val 59000 holds out the rest), batch 50: 20 steps an epoch. */
    static List<String> args(String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data-dir", CheckpointCommandTest.data(), "--model", "784-32-10",
                "--val", "59000", "--batch", "50", "--threads", "2", "--schedule", "constant", "--json"));
        a.addAll(List.of(extra));
        return a;
    }

    /** best.safetensors holds the epoch with the lowest validation loss (from metrics.jsonl), and evaluates. */
    @Test
    void bestCheckpointIsTheLowestValidationLoss() throws Exception {
        Path out = dir.resolve("run");
        TrainCommandTest.Run r = CheckpointCommandTest.run(args("--epochs", "4", "--optimizer", "sgd", "--lr", "0.05", "--out", out.toString()));
        assertEquals(0, r.code(), r.err());
        double best = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode row = new ObjectMapper().readTree(line);
            if (!row.get("kind").asText().equals("epoch")) continue;
            double v = row.get("val_loss").asDouble();
            if (v < best) {
                best = v;
                bestEpoch = row.get("epoch").asInt();
            }
        }
        Path file = out.resolve("checkpoints").resolve("best.safetensors");
        Checkpoint c = Checkpoint.read(file);
        assertEquals(best, Double.parseDouble(c.get("val_loss")), 1e-12);
        assertEquals(bestEpoch, Integer.parseInt(c.get("epoch")) + 1);
        assertEquals(bestEpoch * 20L, Long.parseLong(c.get("step")));
        JsonNode j = DivergenceCommandTest.lastJson(r);
        assertEquals(best, j.get("best_val_loss").asDouble(), 1e-12);
        assertEquals(bestEpoch, j.get("best_epoch").asInt());
        assertFalse(j.get("early_stopped").asBoolean());
        assertTrue(r.err().contains("forkprop: best validation loss "), r.err());

        TrainCommandTest.Run ev = TrainCommandTest.run("eval", "--checkpoint", file.toString(), "--data-dir", CheckpointCommandTest.data());
        assertEquals(0, ev.code(), ev.err());
        assertTrue(ev.out().contains("checkpoint step " + bestEpoch * 20), ev.out());
    }

    /**
     * An lr too small to move a float parameter: every validation loss equals epoch 1's, so with
     * patience 2 the run stops after epoch 3, keeps epoch 1 as best, and still evaluates the test set.
     */
    @Test
    void earlyStopAfterPatienceEpochs() throws Exception {
        Path ck = dir.resolve("ck");
        TrainCommandTest.Run r = CheckpointCommandTest.run(args("--epochs", "10", "--optimizer", "sgd", "--lr", "1e-30",
                "--early-stop", "2", "--checkpoint-dir", ck.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("forkprop: early stop after epoch 3: no lower validation loss for 2 epochs (best "), r.err());
        assertTrue(r.err().contains("at epoch 1, saved in " + ck.resolve("best.safetensors") + ")"), r.err());
        JsonNode j = DivergenceCommandTest.lastJson(r);
        assertTrue(j.get("early_stopped").asBoolean());
        assertEquals(3, j.get("epochs").asInt());
        assertEquals(60, j.get("steps").asInt());
        assertEquals(1, j.get("best_epoch").asInt());
        assertTrue(j.get("test_accuracy").asDouble() > 0, "the test set is evaluated");
        assertEquals("0", Checkpoint.read(ck.resolve("best.safetensors")).get("epoch"));
        assertEquals(List.of(Checkpoint.fileFor(ck, 60)), Checkpoint.list(ck));

        BadInputCommandTest.assertOneLineError(TrainCommandTest.run("train", "--early-stop", "2"),
                "--early-stop needs a validation split: add --val N");
        BadInputCommandTest.assertOneLineError(TrainCommandTest.run("train", "--early-stop", "-1"), "--early-stop must be >= 0, got -1");
    }

    /**
     * Resumed from a checkpoint written at the end of epoch 2 before its validation (step 40,
     * --checkpoint-every), after it (the final checkpoint of a --max-steps 40 run), and mid-epoch
     * (step 45): the validation record comes back from the checkpoint, an epoch validated before
     * the checkpoint is not counted twice, and every resumed run stops where the uninterrupted one
     * stops. (Without the record a resumed run would take its first validation as a new best.)
     */
    @Test
    void resumedEarlyStopStopsWhereTheUninterruptedRunStops() throws Exception {
        String[] common = {"--epochs", "10", "--optimizer", "sgd", "--lr", "1e-30", "--early-stop", "2", "--deterministic", "--shards", "2"};
        JsonNode full = trained(common, "--checkpoint-dir", dir.resolve("full").toString());
        assertTrue(full.get("early_stopped").asBoolean());
        assertEquals(60, full.get("steps").asInt());

        Path every = dir.resolve("every"), end = dir.resolve("end");
        trained(common, "--checkpoint-dir", every.toString(), "--checkpoint-every", "40", "--max-steps", "45");
        trained(common, "--checkpoint-dir", end.toString(), "--max-steps", "40");
        assertEquals("1", Checkpoint.read(Checkpoint.fileFor(every, 40)).get("validated_epochs"), "saved before epoch 2's validation");
        assertEquals("2", Checkpoint.read(Checkpoint.fileFor(every, 45)).get("validated_epochs"), "mid-epoch 3");
        assertEquals("2", Checkpoint.read(Checkpoint.fileFor(end, 40)).get("validated_epochs"), "saved after epoch 2's validation");

        JsonNode midEpoch = trained(common, "--checkpoint-dir", every.toString(), "--resume");
        Files.delete(Checkpoint.fileFor(every, 60));
        Files.delete(Checkpoint.fileFor(every, 45)); // now the newest is step 40 again
        JsonNode beforeValidation = trained(common, "--checkpoint-dir", every.toString(), "--resume");
        JsonNode afterValidation = trained(common, "--checkpoint-dir", end.toString(), "--resume");
        for (JsonNode j : new JsonNode[] {midEpoch, beforeValidation, afterValidation}) {
            assertTrue(j.get("early_stopped").asBoolean(), j.toString());
            assertEquals(60, j.get("steps").asInt(), j.toString());
            assertEquals(1, j.get("best_epoch").asInt(), j.toString());
            assertEquals(full.get("params_sha256").asText(), j.get("params_sha256").asText());
        }
    }

    private static JsonNode trained(String[] common, String... extra) throws Exception {
        List<String> a = args(common);
        a.addAll(List.of(extra));
        TrainCommandTest.Run r = CheckpointCommandTest.run(a);
        assertEquals(0, r.code(), r.err());
        return DivergenceCommandTest.lastJson(r);
    }
}
