package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.io.Checkpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input at the command line: a truncated IDX file, a wrong magic number, image and
 * label counts that disagree, a CSV with a NaN, a checkpoint with one flipped byte, a model spec
 * typo and {@code --batch 0}. Each must print exactly one non-empty line on stderr that names the
 * problem, nothing on stdout, no stack trace, and exit with code 2.
 */
class BadInputCommandTest {
    @TempDir static Path dir;
    /** A checkpoint of a 5-step run, shared by the corrupt-checkpoint cases. */
    static Path checkpoint;

    @BeforeAll
    static void writeACheckpoint() {
        Path ck = dir.resolve("ck");
        TrainCommandTest.Run r = TrainCommandTest.run("train", "--data-dir", CheckpointCommandTest.data(), "--model", "784-16-10",
                "--max-steps", "5", "--batch", "32", "--threads", "2", "--checkpoint-dir", ck.toString());
        assertEquals(0, r.code(), r.err());
        checkpoint = Checkpoint.newest(ck);
    }

    static void assertOneLineError(TrainCommandTest.Run r, String expectedFragment) {
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), "exactly one line on stderr: " + r.err());
        String line = lines.get(0);
        assertTrue(line.startsWith("forkprop: "), line);
        assertTrue(line.contains(expectedFragment), "'" + expectedFragment + "' in: " + line);
        assertFalse(line.contains("Exception") || r.err().contains("\tat ") || r.err().contains("at dev."), "no stack trace: " + r.err());
        assertTrue(r.out().isEmpty(), "nothing on stdout: " + r.out());
    }

    private static byte[] gunzip(Path gz) {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A data directory {@code <name>/mnist/} holding the real MNIST files except the raw
     * {@code replaced} ones (the reader prefers {@code .gz}, so a replaced file's {@code .gz} is left out).
     */
    private static Path dataDir(String name, String replacedStem, byte[] content, String replacedStem2, byte[] content2) throws IOException {
        Path mnist = dir.resolve(name).resolve("mnist");
        Files.createDirectories(mnist);
        Path real = Path.of(CheckpointCommandTest.data()).resolve("mnist");
        for (String stem : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")) {
            if (stem.equals(replacedStem)) Files.write(mnist.resolve(stem), content);
            else if (stem.equals(replacedStem2)) Files.write(mnist.resolve(stem), content2);
            else Files.createSymbolicLink(mnist.resolve(stem + ".gz"), real.resolve(stem + ".gz").toAbsolutePath());
        }
        return dir.resolve(name);
    }

    private static TrainCommandTest.Run train(Path dataDir) {
        return TrainCommandTest.run("train", "--data-dir", dataDir.toString(), "--model", "784-16-10", "--max-steps", "5");
    }

    @Test
    void truncatedIdxFile() throws IOException {
        byte[] labels = gunzip(Path.of(CheckpointCommandTest.data(), "mnist", "train-labels-idx1-ubyte.gz"));
        byte[] cut = Arrays.copyOf(labels, 8 + 1000); // the header says 60000 labels; 1000 are there
        Path d = dataDir("truncated", "train-labels-idx1-ubyte", cut, null, null);
        assertOneLineError(train(d), "train-labels-idx1-ubyte: offset 1008: truncated");
    }

    @Test
    void wrongMagicNumber() throws IOException {
        byte[] labels = gunzip(Path.of(CheckpointCommandTest.data(), "mnist", "t10k-labels-idx1-ubyte.gz"));
        ByteBuffer.wrap(labels).putInt(0, 0x00000803); // an image file's magic
        Path d = dataDir("magic", "t10k-labels-idx1-ubyte", labels, null, null);
        assertOneLineError(train(d), "t10k-labels-idx1-ubyte: offset 0: bad magic 0x00000803, expected 0x00000801");
    }

    /** The real training labels (60000) and an image file of 100 images: the counts disagree. */
    @Test
    void imageAndLabelCountsDisagree() throws IOException {
        byte[] labels = gunzip(Path.of(CheckpointCommandTest.data(), "mnist", "train-labels-idx1-ubyte.gz"));
        ByteBuffer images = ByteBuffer.allocate(16 + 100 * 784);
        images.putInt(0x00000803).putInt(100).putInt(28).putInt(28);
        Path d = dataDir("counts", "train-labels-idx1-ubyte", labels, "train-images-idx3-ubyte", images.array());
        assertOneLineError(train(d), "train-images-idx3-ubyte: offset 4: image count 100, expected 60000");
    }

    @Test
    void csvWithANaN() throws IOException {
        Path csv = dir.resolve("nan.csv");
        Files.writeString(csv, "a,b,label\n1,2,0\n3,NaN,1\n4,5,1\n");
        assertOneLineError(TrainCommandTest.run("train", "--data", csv.toString(), "--model", "2-2"), "nan.csv: line 3");
    }

    /** One flipped byte in the tensor data: eval and train --resume both refuse the file. */
    @Test
    void checkpointWithAFlippedByte() throws IOException {
        byte[] b = Files.readAllBytes(checkpoint);
        b[b.length - 100] ^= 0x10;
        Path ck = dir.resolve("flipped");
        Files.createDirectories(ck);
        Path bad = Files.write(ck.resolve(checkpoint.getFileName()), b);
        assertOneLineError(TrainCommandTest.run("eval", "--checkpoint", bad.toString(), "--data-dir", CheckpointCommandTest.data()),
                "checksum mismatch");
        assertOneLineError(TrainCommandTest.run("train", "--data-dir", CheckpointCommandTest.data(), "--model", "784-16-10",
                "--max-steps", "5", "--batch", "32", "--threads", "2", "--checkpoint-dir", ck.toString(), "--resume"),
                bad + ": checksum mismatch");
    }

    @Test
    void modelSpecTypo() {
        assertOneLineError(TrainCommandTest.run("train", "--data-dir", CheckpointCommandTest.data(), "--model", "784-100-1O"),
                "model spec '784-100-1O': bad token '1O'");
        assertOneLineError(TrainCommandTest.run("train", "--data-dir", CheckpointCommandTest.data(), "--model", "dense:100,relux,dense:10"),
                "bad token 'relux'");
    }

    /**
     * A model whose parameters fit in one array but whose engine (parameters, Adam's two moments,
     * a gradient buffer per shard) does not fit in the heap: one line before anything is
     * allocated, not an OutOfMemoryError halfway. 784-20000-20000-10: 416M parameters, 1.7 GB per
     * copy, 128 shards: over 200 GB, more than any test machine's heap.
     */
    @Test
    void modelTooLargeForTheHeap() {
        assertOneLineError(TrainCommandTest.run("train", "--data-dir", CheckpointCommandTest.data(), "--model", "784-20000-20000-10",
                "--optimizer", "adam", "--threads", "2", "--deterministic", "--shards", "128", "--batch", "128"), "MB of heap");
    }

    /** Batch x width past 2^31 - 1 floats in one activation buffer: named, not a NegativeArraySizeException. */
    @Test
    void shardTooLargeForAnArray() {
        assertOneLineError(TrainCommandTest.run("train", "--data-dir", CheckpointCommandTest.data(), "--model", "784-100000-10",
                "--batch", "30000", "--threads", "1"), "more than one array holds");
    }

    @Test
    void batchZero() {
        assertOneLineError(TrainCommandTest.run("train", "--batch", "0"), "--batch must be positive, got 0");
    }
}
