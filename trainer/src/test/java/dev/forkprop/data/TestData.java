package dev.forkprop.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.function.Executable;

/** Builders for small IDX files and the one-line-error assertion (real data: {@link TestDatasets}). */
final class TestData {

    private TestData() {
    }

    /** An IDX file: big-endian magic and dimensions, then {@code payload}. */
    static byte[] idx(int magic, int[] dims, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + payload.length);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(payload);
        return b.array();
    }

    /** An IDX image file of {@code count} images {@code rows x cols}; pixel i of image s = (s * 31 + i) & 0xFF. */
    static byte[] images(int count, int rows, int cols) {
        return images(count, rows, cols, 0);
    }

    /** As {@link #images(int, int, int)} with every pixel shifted by {@code salt}. */
    static byte[] images(int count, int rows, int cols, int salt) {
        byte[] px = new byte[count * rows * cols];
        for (int s = 0; s < count; s++) {
            for (int i = 0; i < rows * cols; i++) {
                px[s * rows * cols + i] = (byte) (s * 31 + i + salt);
            }
        }
        return idx(IdxReader.IMAGES_MAGIC, new int[] {count, rows, cols}, px);
    }

    /** An IDX label file with the given labels. */
    static byte[] labels(int... labels) {
        byte[] l = new byte[labels.length];
        for (int i = 0; i < labels.length; i++) {
            l[i] = (byte) labels[i];
        }
        return idx(IdxReader.LABELS_MAGIC, new int[] {labels.length}, l);
    }

    static byte[] gzip(byte[] content) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.toByteArray();
    }

    static Path write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /**
     * Runs {@code code} and checks that it throws exactly {@code type} (no other exception type
     * escapes) with a one-line message equal to {@code message}.
     */
    static <T extends DataException> T assertOneLine(Class<T> type, String message, Executable code) {
        T e = assertThrowsExactly(type, code);
        assertEquals(message, e.getMessage());
        return e;
    }

    /** Like {@link #assertOneLine} but the message must match {@code regex}. */
    static <T extends DataException> T assertOneLineMatching(Class<T> type, String regex, Executable code) {
        T e = assertThrowsExactly(type, code);
        if (!e.getMessage().matches(regex)) {
            fail("message does not match " + regex + ": " + e.getMessage());
        }
        return e;
    }

    private static <T extends DataException> T assertThrowsExactly(Class<T> type, Executable code) {
        Throwable thrown = null;
        try {
            code.execute();
        } catch (Throwable t) {
            thrown = t;
        }
        if (thrown == null) {
            return fail("expected " + type.getSimpleName() + ", nothing was thrown");
        }
        if (thrown.getClass() != type) {
            throw new AssertionError("expected " + type.getSimpleName() + ", got " + thrown, thrown);
        }
        assertFalse(thrown.getMessage().contains("\n") || thrown.getMessage().contains("\r"),
                "message must be one line: " + thrown.getMessage());
        return type.cast(thrown);
    }
}
