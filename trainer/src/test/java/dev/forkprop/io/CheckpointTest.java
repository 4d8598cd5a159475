package dev.forkprop.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.data.BadDataException;
import dev.forkprop.data.DataException;
import dev.forkprop.model.ModelSpec;
import dev.forkprop.model.Network;
import dev.forkprop.model.ParamLayout;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.optim.Optimizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint files: exact restore, corruption detected anywhere, atomic writes, retention. */
class CheckpointTest {
    @TempDir Path dir;

    static final Map<String, String> RUN = Map.of("model", "dense:5,batchnorm,relu,dense:3", "step", "7");

    record State(Network net, float[] params, float[] buffers, Optimizer opt) {}

    static State state(long seed) {
        Network net = ModelSpec.parse("dense:5,batchnorm,relu,dense:3", 4, "relu", 0);
        Optimizer opt = Optimizers.create("adam", net.layout().size(), Hyper.DEFAULTS);
        float[] p = net.newParams(), b = net.newBuffers();
        SplittableRandom r = new SplittableRandom(seed);
        if (seed != 0) {
            for (ParamLayout.Tensor t : net.layout().tensors()) {
                if (t.trainable()) for (int i = 0; i < t.size(); i++) p[t.offset() + i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble();
            for (int s = 0; s < opt.stateCount(); s++) {
                for (ParamLayout.Tensor t : net.layout().tensors()) {
                    if (t.trainable()) for (int i = 0; i < t.size(); i++) opt.state(s)[t.offset() + i] = (float) r.nextGaussian();
                }
            }
        }
        return new State(net, p, b, opt);
    }

    static Checkpoint capture(State s) {
        return Checkpoint.capture(s.net, s.params, s.buffers, s.opt, RUN);
    }

    @Test
    void restoreGivesBackEveryArrayBitwise() throws Exception {
        State a = state(3);
        Path f = dir.resolve("c.safetensors");
        capture(a).write(f);
        Checkpoint c = Checkpoint.read(f);
        assertEquals(Checkpoint.VERSION, c.get(Checkpoint.MAGIC));
        assertEquals("7", c.get("step"));
        assertTrue(c.tensors().containsKey("optim.adam_m.layers.0.weight"), c.tensors().keySet().toString());
        assertTrue(c.tensors().containsKey("layers.1.running_var"));
        assertArrayEquals(new int[] {4, 5}, c.tensors().get("layers.0.weight").shape());
        State b = state(0);
        c.restore(b.net, b.params, b.buffers, b.opt);
        assertArrayEquals(a.params, b.params);
        assertArrayEquals(a.buffers, b.buffers);
        for (int s = 0; s < a.opt.stateCount(); s++) assertArrayEquals(a.opt.state(s), b.opt.state(s));
    }

    /** Every single-bit flip anywhere in the file is a one-line BadDataException, never a silent load. */
    @Test
    void aFlippedBitAnywhereIsDetected() throws Exception {
        byte[] good = capture(state(5)).encode();
        Path f = dir.resolve("c.safetensors");
        int headerEnd = 8 + (int) (good[0] & 0xff | (good[1] & 0xff) << 8);
        boolean sawChecksum = false;
        for (int i = 0; i < good.length; i++) {
            byte[] b = good.clone();
            b[i] ^= (byte) (1 << (i % 8));
            Files.write(f, b);
            BadDataException ex = assertThrows(BadDataException.class, () -> Checkpoint.read(f), "flip at byte " + i);
            assertFalse(ex.getMessage().contains("\n"));
            assertTrue(ex.getMessage().startsWith(f.toString()), ex.getMessage());
            sawChecksum |= ex.getMessage().contains("checksum mismatch");
            if (i == headerEnd + 5) assertTrue(ex.getMessage().contains("checksum mismatch"), "a data byte: " + ex.getMessage());
        }
        assertTrue(sawChecksum);
    }

    @Test
    void wrongMagicOrVersionIsNamed() throws Exception {
        Path f = dir.resolve("w.safetensors");
        Files.write(f, Safetensors.encode(Map.of(), Map.of("k", "v")));
        assertTrue(assertThrows(BadDataException.class, () -> Checkpoint.read(f)).getMessage().contains("not a forkprop checkpoint"));
        Files.write(f, Safetensors.encode(Map.of(), Map.of(Checkpoint.MAGIC, "9")));
        assertTrue(assertThrows(BadDataException.class, () -> Checkpoint.read(f)).getMessage().contains("version 9"));
    }

    @Test
    void restoreIntoADifferentNetworkNamesTheTensor() throws Exception {
        Checkpoint c = capture(state(1));
        Network other = ModelSpec.parse("dense:6,batchnorm,relu,dense:3", 4, "relu", 0);
        Optimizer opt = Optimizers.create("adam", other.layout().size(), Hyper.DEFAULTS);
        var ex = assertThrows(BadDataException.class, () -> c.restore(other, other.newParams(), other.newBuffers(), opt));
        assertTrue(ex.getMessage().contains("layers.0.weight") && ex.getMessage().contains("[4, 5]"), ex.getMessage());
    }

    private List<String> names() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void saveKeepsTheNewestKAndLeavesNoTempFiles() throws Exception {
        Checkpoint c = capture(state(2));
        for (long step : new long[] {5, 10, 100, 20, 40}) c.saveInto(dir, step, 3);
        assertEquals(List.of("ckpt-100.safetensors", "ckpt-20.safetensors", "ckpt-40.safetensors"), names());
        assertEquals(dir.resolve("ckpt-100.safetensors"), Checkpoint.newest(dir));
        assertEquals(null, Checkpoint.newest(dir.resolve("absent")));
    }

    /** A writer killed between creating its temp file and the rename leaves it behind: the next save removes it. */
    @Test
    void saveRemovesTempFilesAKilledWriterLeft() throws Exception {
        Files.write(dir.resolve(".ckpt-10.safetensors.4711.tmp"), new byte[100]);
        Files.write(dir.resolve(".other.tmp"), new byte[1]);
        assertEquals(List.of(dir.resolve(".ckpt-10.safetensors.4711.tmp")), Checkpoint.tempFiles(dir));
        capture(state(2)).saveInto(dir, 20, 3);
        assertEquals(List.of(".other.tmp", "ckpt-20.safetensors"), names(), "only checkpoint temp files are removed");
        assertEquals(List.of(), Checkpoint.tempFiles(dir.resolve("absent")));
    }

    /** The rename fails (the final name is a non-empty directory): temp removed, old checkpoint intact. */
    @Test
    void aFailedWriteLeavesEarlierCheckpointsIntact() throws Exception {
        Checkpoint c = capture(state(2));
        Path first = c.saveInto(dir, 10, 3);
        byte[] before = Files.readAllBytes(first);
        Files.createDirectories(dir.resolve("ckpt-20.safetensors").resolve("blocker"));
        var ex = assertThrows(CheckpointWriteException.class, () -> c.saveInto(dir, 20, 3));
        assertTrue(ex.getMessage().startsWith("cannot write checkpoint " + dir.resolve("ckpt-20.safetensors")), ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"));
        assertTrue(ex instanceof DataException, "the CLI prints it and exits 2");
        assertArrayEquals(before, Files.readAllBytes(first));
        assertEquals(List.of("ckpt-10.safetensors", "ckpt-20.safetensors"), names(), "no temp file left");
    }

    @Test
    void anUnwritableDirectoryFailsInOneLine() throws Exception {
        Checkpoint c = capture(state(2));
        Path first = c.saveInto(dir, 10, 3);
        byte[] before = Files.readAllBytes(first);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            // Root ignores permission bits; /proc refuses new files even to root, so use it there.
            Path target = Files.isWritable(dir) ? Path.of("/proc/self") : dir;
            var ex = assertThrows(CheckpointWriteException.class, () -> c.saveInto(target, 20, 3));
            assertTrue(ex.getMessage().startsWith("cannot write checkpoint " + target), ex.getMessage());
            assertFalse(ex.getMessage().contains("\n"));
        } finally {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        assertArrayEquals(before, Files.readAllBytes(first));
        assertEquals(List.of("ckpt-10.safetensors"), names());
    }

    /** A directory that cannot exist (its parent is a file), as root sees it too. */
    @Test
    void aDirectoryUnderAFileFailsInOneLine() throws Exception {
        Files.writeString(dir.resolve("file"), "x");
        var ex = assertThrows(CheckpointWriteException.class, () -> capture(state(2)).saveInto(dir.resolve("file").resolve("ck"), 1, 3));
        assertTrue(ex.getMessage().startsWith("cannot write checkpoint " + dir.resolve("file")), ex.getMessage());
    }
}
