package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.forkprop.data.BadDataException;
import dev.forkprop.data.FuzzFiles;
import dev.forkprop.io.Checkpoint;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Jazzer fuzz test of checkpoint loading as {@code eval}, {@code export} and {@code --resume} do it:
 * {@link Checkpoint#read} (structure, magic, version, checksum) then {@link LoadedCheckpoint#read}
 * (model, optimizer and loss from the metadata, every tensor restored). Any file is either loaded
 * or rejected with a one-line {@link BadDataException} naming the file; another exception, an
 * OutOfMemoryError (say from a forged model spec in the metadata) or a hang is a finding.
 * Regression inputs in {@code src/test/resources/dev/forkprop/cli/CheckpointFuzzTestInputs/file}.
 *
 * <p>Input layout: byte 0 is a mode, the rest is the file. Mode bit 0 set: the harness re-signs
 * the file first (recomputes the {@code forkprop.sha256} field where the file has one in
 * canonical form), since the fuzzer cannot forge a SHA-256 and would otherwise never get past the
 * checksum to the metadata and tensors.
 */
class CheckpointFuzzTest {

    private static final Path FILE = FuzzFiles.scratch("ckpt");
    private static final byte[] FIELD = ("\"" + Checkpoint.SHA_KEY + "\":\"").getBytes(StandardCharsets.US_ASCII);

    @FuzzTest(maxDuration = "10s")
    void file(byte[] input) throws Exception {
        if (input.length == 0) return;
        byte[] file = Arrays.copyOfRange(input, 1, input.length);
        if ((input[0] & 1) != 0) resign(file);
        FuzzFiles.write(FILE, file);
        try {
            LoadedCheckpoint.read(FILE);
        } catch (BadDataException expected) {
            assertTrue(expected.getMessage().startsWith(FILE.toString()), expected.getMessage());
            assertTrue(!expected.getMessage().contains("\n"), expected.getMessage());
        }
    }

    /** Writes the SHA-256 that {@link Checkpoint#encode} would into the first checksum field, if any. */
    static void resign(byte[] file) throws Exception {
        int at = indexOf(file, FIELD);
        if (at < 0 || at + FIELD.length + 65 > file.length || file[at + FIELD.length + 64] != '"') return;
        int digits = at + FIELD.length;
        Arrays.fill(file, digits, digits + 64, (byte) '0');
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(file, 8, file.length - 8);
        byte[] hex = HexFormat.of().formatHex(md.digest()).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(hex, 0, file, digits, 64);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 8; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
