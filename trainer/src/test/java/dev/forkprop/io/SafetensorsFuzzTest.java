package dev.forkprop.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.forkprop.data.BadDataException;
import dev.forkprop.data.FuzzFiles;
import java.nio.file.Path;
import java.util.Map;

/**
 * Jazzer fuzz test of {@link Safetensors#read}: any file is either decoded (and then re-encodes to
 * a file that decodes to the same tensors and metadata) or rejected with a one-line
 * {@link BadDataException} naming the file; another exception, an OutOfMemoryError from a forged
 * header length or shape, or a hang is a finding. The input is the whole file. Regression inputs
 * in {@code src/test/resources/dev/forkprop/io/SafetensorsFuzzTestInputs/file}.
 */
class SafetensorsFuzzTest {

    private static final Path FILE = FuzzFiles.scratch("safetensors");

    @FuzzTest(maxDuration = "10s")
    void file(byte[] input) {
        FuzzFiles.write(FILE, input);
        Safetensors.Contents c;
        try {
            c = Safetensors.read(FILE);
        } catch (BadDataException expected) {
            assertTrue(expected.getMessage().startsWith(FILE + ": "), expected.getMessage());
            assertTrue(!expected.getMessage().contains("\n"), expected.getMessage());
            return;
        }
        FuzzFiles.write(FILE, Safetensors.encode(c.tensors(), c.metadata()));
        Safetensors.Contents again = Safetensors.read(FILE);
        assertEquals(c.metadata(), again.metadata());
        assertEquals(c.tensors().keySet(), again.tensors().keySet());
        for (Map.Entry<String, Safetensors.Tensor> e : c.tensors().entrySet()) {
            Safetensors.Tensor t = again.tensors().get(e.getKey());
            assertArrayEquals(e.getValue().shape(), t.shape());
            assertArrayEquals(e.getValue().data(), t.data());
            assertArrayEquals(e.getValue().i64(), t.i64());
        }
    }
}
