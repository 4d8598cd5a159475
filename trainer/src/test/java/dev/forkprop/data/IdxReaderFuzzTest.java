package dev.forkprop.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Jazzer fuzz test of {@link IdxReader}: any file is either read or rejected with a one-line
 * {@link BadDataException} naming the file; any other exception, an OutOfMemoryError from a
 * forged dimension, or a hang is a finding. Regression inputs (seeds and every past finding) are in
 * {@code src/test/resources/dev/forkprop/data/IdxReaderFuzzTestInputs/idxFile}; {@code ./run.sh test}
 * replays them, {@code ./run.sh stress --fuzz MINUTES} fuzzes (JAZZER_FUZZ=1).
 *
 * <p>Input layout: byte 0 is a mode, the rest is the file content. Mode bit 0: gzip the content
 * first (the fuzzer cannot forge a gzip CRC, so this reaches the decompressed-content checks);
 * bit 1: read labels with 10 classes instead of inferring them. The same file goes through the
 * image reader and the label reader.
 */
class IdxReaderFuzzTest {

    private static final Path FILE = FuzzFiles.scratch("idx");

    @FuzzTest(maxDuration = "10s")
    void idxFile(byte[] input) {
        if (input.length == 0) return;
        int mode = input[0];
        byte[] content = Arrays.copyOfRange(input, 1, input.length);
        FuzzFiles.write(FILE, (mode & 1) != 0 ? TestData.gzip(content) : content);
        try {
            IdxReader.Images im = IdxReader.readImages(FILE);
            assertEquals((long) im.count() * im.rows() * im.cols(), im.pixels().length);
        } catch (BadDataException expected) {
            assertNamesFile(expected);
        }
        try {
            IdxReader.Labels l = IdxReader.readLabels(FILE, (mode & 2) != 0 ? 10 : 0);
            assertEquals(l.count(), l.labels().length);
            for (byte b : l.labels()) assertTrue((b & 0xFF) < l.numClasses());
        } catch (BadDataException expected) {
            assertNamesFile(expected);
        }
    }

    private static void assertNamesFile(BadDataException e) {
        assertTrue(e.getMessage().startsWith(FILE + ": offset "), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
}
