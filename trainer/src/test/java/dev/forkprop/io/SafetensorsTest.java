package dev.forkprop.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.data.BadDataException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors codec: round trip, the bytes per the spec, and one-line errors for bad files. */
class SafetensorsTest {
    @TempDir Path dir;

    static Map<String, Safetensors.Tensor> sample() {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("layers.0.weight", new Safetensors.Tensor(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
        t.put("layers.0.bias", new Safetensors.Tensor(new int[] {3}, new float[] {Float.MIN_VALUE, -0f, Float.NaN}));
        t.put("empty", new Safetensors.Tensor(new int[] {0, 4}, new float[0]));
        t.put("scalar", new Safetensors.Tensor(new int[] {}, new float[] {42}));
        return t;
    }

    private Path write(byte[] bytes) throws Exception {
        Path f = dir.resolve("t.safetensors");
        Files.write(f, bytes);
        return f;
    }

    @Test
    void roundTripKeepsShapesBitsAndMetadata() throws Exception {
        Path f = write(Safetensors.encode(sample(), Map.of("k", "v", "format", "pt")));
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals(Map.of("k", "v", "format", "pt"), c.metadata());
        assertEquals(sample().keySet(), c.tensors().keySet());
        for (var e : sample().entrySet()) {
            Safetensors.Tensor got = c.tensors().get(e.getKey());
            assertArrayEquals(e.getValue().shape(), got.shape(), e.getKey());
            for (int i = 0; i < got.data().length; i++) {
                assertEquals(Float.floatToRawIntBits(e.getValue().data()[i]), Float.floatToRawIntBits(got.data()[i]), e.getKey() + "[" + i + "]");
            }
        }
    }

    /** Parses the bytes by hand: u64 LE length, JSON header, LE float data at the stated offsets. */
    @Test
    void bytesFollowTheSpec() throws Exception {
        byte[] b = Safetensors.encode(sample(), Map.of("k", "v"));
        long n = 0;
        for (int i = 7; i >= 0; i--) n = (n << 8) | (b[i] & 0xff);
        assertEquals(0, n % 8, "header padded to 8 bytes");
        String json = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{") && json.stripTrailing().endsWith("}"), json);
        assertEquals(json.stripTrailing().length() + (json.length() - json.stripTrailing().length()), json.length());
        JsonNode h = new ObjectMapper().readTree(json);
        assertEquals("v", h.get("__metadata__").get("k").asText());
        JsonNode w = h.get("layers.0.weight");
        assertEquals("F32", w.get("dtype").asText());
        assertEquals("[2,3]", w.get("shape").toString());
        assertEquals("[0,24]", w.get("data_offsets").toString());
        assertEquals("[24,36]", h.get("layers.0.bias").get("data_offsets").toString());
        assertEquals("[36,36]", h.get("empty").get("data_offsets").toString());
        assertEquals("[]", h.get("scalar").get("shape").toString());
        int data = 8 + (int) n;
        assertEquals(data + 40, b.length, "no trailing bytes");
        // weight[1][2] = -6.5 at element 5: bytes data + 20 .. data + 24, little-endian.
        int bits = (b[data + 20] & 0xff) | (b[data + 21] & 0xff) << 8 | (b[data + 22] & 0xff) << 16 | (b[data + 23] & 0xff) << 24;
        assertEquals(-6.5f, Float.intBitsToFloat(bits));
        int scalar = (b[data + 36] & 0xff) | (b[data + 37] & 0xff) << 8 | (b[data + 38] & 0xff) << 16 | (b[data + 39] & 0xff) << 24;
        assertEquals(42f, Float.intBitsToFloat(scalar));
    }

    /** I64 tensors (PyTorch's num_batches_tracked is a 0-d one): dtype, shape [], 8 bytes each, placed first, round trip. */
    @Test
    void i64TensorsIncludingAScalarRoundTripAndComeFirst() throws Exception {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("w", new Safetensors.Tensor(new int[] {3}, new float[] {1, 2, 3}));
        t.put("layers.1.num_batches_tracked", Safetensors.Tensor.ofI64(new int[0], 1_234_567_890_123L));
        t.put("ids", Safetensors.Tensor.ofI64(new int[] {2}, -1L, Long.MAX_VALUE));
        byte[] b = Safetensors.encode(t, Map.of());
        long n = 0;
        for (int i = 7; i >= 0; i--) n = (n << 8) | (b[i] & 0xff);
        JsonNode h = new ObjectMapper().readTree(new String(b, 8, (int) n, StandardCharsets.UTF_8));
        JsonNode count = h.get("layers.1.num_batches_tracked");
        assertEquals("I64", count.get("dtype").asText());
        assertEquals("[]", count.get("shape").toString());
        assertEquals("[0,8]", count.get("data_offsets").toString(), "8-byte values first, so they are 8-byte aligned");
        assertEquals("[8,24]", h.get("ids").get("data_offsets").toString());
        assertEquals("[24,36]", h.get("w").get("data_offsets").toString());
        int data = 8 + (int) n;
        long v = 0;
        for (int i = 7; i >= 0; i--) v = (v << 8) | (b[data + i] & 0xff);
        assertEquals(1_234_567_890_123L, v, "little-endian");

        Safetensors.Contents c = Safetensors.read(write(b));
        Safetensors.Tensor got = c.tensors().get("layers.1.num_batches_tracked");
        assertEquals("I64", got.dtype());
        assertArrayEquals(new int[0], got.shape());
        assertArrayEquals(new long[] {1_234_567_890_123L}, got.i64());
        assertEquals(null, got.data());
        assertArrayEquals(new long[] {-1L, Long.MAX_VALUE}, c.tensors().get("ids").i64());
        assertArrayEquals(new float[] {1, 2, 3}, c.tensors().get("w").data());
        assertEquals("F32", c.tensors().get("w").dtype());

        Path f = dir.resolve("t.safetensors");
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,4]}}", 4)), "needs 8 bytes but data_offsets span 4", f);
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4)), "dtype I32 is not supported", f);
        assertThrows(IllegalArgumentException.class, () -> new Safetensors.Tensor(new int[0], new float[] {1}, new long[] {1}));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.Tensor.ofI64(new int[0], 1, 2));
    }

    static void assertOneLine(BadDataException ex, String fragment, Path file) {
        String m = ex.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains(file.toString()), "names the file: " + m);
        assertTrue(m.contains(fragment), "expected '" + fragment + "' in: " + m);
    }

    private BadDataException bad(byte[] bytes) throws Exception {
        Path f = write(bytes);
        return assertThrows(BadDataException.class, () -> Safetensors.read(f));
    }

    private static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[8 + h.length + dataBytes];
        for (int i = 0; i < 8; i++) b[i] = (byte) ((long) h.length >>> (8 * i));
        System.arraycopy(h, 0, b, 8, h.length);
        return b;
    }

    @Test
    void forgedHugeHeaderLengthIsRejectedBeforeAllocating() throws Exception {
        byte[] b = Safetensors.encode(sample(), Map.of());
        for (long forged : new long[] {Long.MAX_VALUE, -1L, 1L << 40, b.length}) {
            byte[] c = b.clone();
            for (int i = 0; i < 8; i++) c[i] = (byte) (forged >>> (8 * i));
            assertOneLine(bad(c), "header length", dir.resolve("t.safetensors"));
        }
    }

    @Test
    void truncatedAndShortFilesAreRejected() throws Exception {
        byte[] b = Safetensors.encode(sample(), Map.of());
        Path f = dir.resolve("t.safetensors");
        assertOneLine(bad(Arrays.copyOf(b, b.length - 3)), "outside the data section", f);
        assertOneLine(bad(Arrays.copyOf(b, 5)), "shorter than the 8-byte header length", f);
        assertOneLine(bad(Arrays.copyOf(b, 40)), "header length", f);
    }

    @Test
    void malformedHeadersAreRejected() throws Exception {
        Path f = dir.resolve("t.safetensors");
        assertOneLine(bad(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], ", 4)), "not well-formed JSON", f);
        assertOneLine(bad(file("[1, 2]", 0)), "not a JSON object", f);
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4)), "dtype F16 is not supported", f);
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4)), "needs 8 bytes but data_offsets span 4", f);
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4)), "not a non-negative int", f);
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", 4)), "too many elements", f);
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)), "overlaps", f);
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)), "gap in the data section", f);
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12)), "8 trailing bytes", f);
        assertOneLine(bad(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)), "not well-formed JSON", f);
        assertOneLine(bad(file("{\"__metadata__\":{\"k\":1}}", 0)), "is not a string", f);
        assertOneLine(bad(file("{} x", 0)), "not well-formed JSON", f);
        Path missing = dir.resolve("nope.safetensors");
        assertOneLine(assertThrows(BadDataException.class, () -> Safetensors.read(missing)), "no such file", missing);
    }
}
