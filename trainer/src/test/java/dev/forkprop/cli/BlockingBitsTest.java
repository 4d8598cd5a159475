package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.data.TestDatasets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A run's bits depend on seed, flags, data and shard count, never on the kernel's blocking, which
 * differs by CPU (a 12-row tile with 512-bit vectors, 6 rows with 256-bit ones): the same short
 * run under forced blockings (the {@code forkprop.gemm.*} properties, read once per JVM, so each
 * run is a child JVM) must give the same parameter hash. Shapes are chosen so that the blockings
 * cut the products differently: shards of 48 rows (4 tiles of 12 or 8 of 6, in row blocks of
 * 36 or 24, so with ragged last blocks), hidden widths 200 and 72 (not multiples of the panel
 * width), column blocks of one or four panels. The reduction depth is not varied: it is part of
 * the bits by design (see VectorGemm.KC).
 */
class BlockingBitsTest {

    @Test
    void blockingChangesNoBit() throws Exception {
        List<String> args = List.of("train", "--data-dir", TestDatasets.dataDir("mnist").toString(), "--model", "784-200-72-10",
                "--batch", "96", "--threads", "2", "--deterministic", "--shards", "2", "--max-steps", "25",
                "--dropout", "0.1", "--json", "--progress", "lines", "--gemm", "vector");
        String reference = hash(List.of(), args);
        for (List<String> blocking : List.of(
                List.of("-Dforkprop.gemm.mr=6", "-Dforkprop.gemm.mc=36", "-Dforkprop.gemm.nc=" + 4 * panel()),
                List.of("-Dforkprop.gemm.mr=12", "-Dforkprop.gemm.mc=24", "-Dforkprop.gemm.nc=" + panel()))) {
            assertEquals(reference, hash(blocking, args), "params_sha256 under " + blocking);
        }
    }

    /** The packed panel width: two vectors of the preferred species. */
    private static int panel() {
        return 2 * jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    }

    private static String hash(List<String> jvm, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector"));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.forkprop.cli.Main"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("FORKPROP_JVM_OPTS");
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> CheckpointCommandTest.readAll(p.getErrorStream()));
        String out = CheckpointCommandTest.readAll(p.getInputStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the run ends");
        assertEquals(0, p.exitValue(), err.join());
        String[] lines = out.strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]).get("params_sha256").asText();
    }
}
