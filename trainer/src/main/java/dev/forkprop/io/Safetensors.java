package dev.forkprop.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forkprop.data.BadDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The safetensors file format (Hugging Face), F32 and I64 tensors: encode to bytes, decode and
 * validate from a file. I64 exists for PyTorch's integer buffers (BatchNorm's
 * {@code num_batches_tracked}, a 0-d tensor); everything forkprop computes with is F32.
 *
 * <pre>
 * [8 bytes]  N, unsigned little-endian 64-bit: length of the header
 * [N bytes]  JSON: {"name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...,
 *                   "count": {"dtype": "I64", "shape": [], "data_offsets": [begin, begin + 8]}, ...,
 *                   "__metadata__": {"key": "value", ...}}   (padded with trailing spaces to 8 bytes)
 * [rest]     data section: tensors contiguous, little-endian, offsets relative to its start
 * </pre>
 *
 * <p>The reader trusts nothing: the header length is checked against the file size before
 * anything is allocated, the JSON must parse (duplicate keys rejected), every dtype must be F32
 * or I64, every shape's product times the element size (4 or 8) must equal its offset span (a
 * shape {@code []} is a scalar: one element), and the spans must tile the data
 * section exactly (no overlap, no gap, no trailing bytes). Every failure is a
 * {@link BadDataException} with one line naming the file and the problem.
 *
 * <p>Not a streaming or memory-mapped reader: whole files go through {@code byte[]} (checkpoints of
 * this project are megabytes), so the data section must be under 2 GiB. Not thread-safe per call;
 * no shared state.
 */
public final class Safetensors {
    /** Largest header we accept: 100 MiB, the limit the reference Rust implementation uses. */
    public static final long MAX_HEADER = 100L << 20;
    public static final String METADATA = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Safetensors() {}

    /**
     * One tensor, {@code shape} row-major ({@code []}: a scalar, one element): F32 values in
     * {@code data} ({@code i64} null), or I64 values in {@code i64} ({@code data} null), with
     * {@code product(shape)} elements.
     */
    public record Tensor(int[] shape, float[] data, long[] i64) {
        public Tensor {
            long n = 1;
            for (int d : shape) {
                if (d < 0) throw new IllegalArgumentException("negative dimension in shape");
                n *= d;
            }
            if ((data == null) == (i64 == null)) throw new IllegalArgumentException("a tensor holds either F32 or I64 values");
            int length = data != null ? data.length : i64.length;
            if (n != length) throw new IllegalArgumentException("shape product " + n + " != data length " + length);
        }

        /** An F32 tensor. */
        public Tensor(int[] shape, float[] data) {
            this(shape, Objects.requireNonNull(data, "data"), null);
        }

        /** An I64 tensor, e.g. {@code ofI64(new int[0], 0)} for a 0-d count. */
        public static Tensor ofI64(int[] shape, long... values) {
            return new Tensor(shape, null, Objects.requireNonNull(values, "values"));
        }

        /** "F32" or "I64", as the header names it. */
        public String dtype() {
            return data != null ? "F32" : "I64";
        }

        int elementBytes() {
            return data != null ? 4 : 8;
        }

        int count() {
            return data != null ? data.length : i64.length;
        }
    }

    /**
     * A decoded file: tensors in file-offset order, metadata, and the raw header bytes (the
     * checkpoint checksum covers them).
     */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata, byte[] header, byte[] data) {}

    /**
     * Encodes tensors (contiguous: the I64 tensors first, then the F32 ones, each kind in iteration
     * order, so that every 8-byte value is 8-byte aligned, as the reference writer orders them by
     * dtype) and string metadata. The JSON header is padded with spaces to a multiple of 8 bytes, as
     * the reference writer does.
     */
    public static byte[] encode(Map<String, Tensor> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject(METADATA);
            metadata.forEach(m::put);
        }
        List<Map.Entry<String, Tensor>> ordered = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) if (e.getValue().i64() != null) ordered.add(e);
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) if (e.getValue().i64() == null) ordered.add(e);
        long offset = 0;
        for (Map.Entry<String, Tensor> e : ordered) {
            if (e.getKey().equals(METADATA)) throw new IllegalArgumentException("tensor name " + METADATA + " is reserved");
            Tensor t = e.getValue();
            ObjectNode o = header.putObject(e.getKey());
            o.put("dtype", t.dtype());
            ArrayNode shape = o.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            long end = offset + (long) t.elementBytes() * t.count();
            o.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex); // cannot happen for a tree of strings and numbers
        }
        int padded = (json.length + 7) / 8 * 8;
        if (offset + padded + 8 > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("safetensors file over 2 GiB");
        ByteBuffer buf = ByteBuffer.allocate(8 + padded + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(padded);
        buf.put(json);
        for (int i = json.length; i < padded; i++) buf.put((byte) ' ');
        for (Map.Entry<String, Tensor> e : ordered) {
            Tensor t = e.getValue();
            if (t.i64() != null) {
                for (long v : t.i64()) buf.putLong(v);
            } else {
                for (float f : t.data()) buf.putFloat(f);
            }
        }
        return buf.array();
    }

    /** Reads and validates {@code file}; see the class comment for what is checked. */
    public static Contents read(Path file) {
        String name = file.toString();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(name, "file is " + size + " bytes, shorter than the 8-byte header length");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0, name);
            long n = len.flip().getLong();
            // Checked before allocating: a forged length must not make us allocate it.
            if (n < 2 || n > size - 8 || n > MAX_HEADER) {
                throw bad(name, "header length " + Long.toUnsignedString(n) + " is impossible for a file of " + size
                        + " bytes (must be 2.." + Math.min(size - 8, MAX_HEADER) + ")");
            }
            long dataLen = size - 8 - n;
            if (dataLen > Integer.MAX_VALUE - 16) throw bad(name, "data section of " + dataLen + " bytes is over 2 GiB");
            ByteBuffer header = ByteBuffer.allocate((int) n);
            readFully(ch, header, 8, name);
            ByteBuffer data = ByteBuffer.allocate((int) dataLen);
            readFully(ch, data, 8 + n, name);
            return decode(name, header.array(), data.array());
        } catch (NoSuchFileException ex) {
            throw new BadDataException(name + ": no such file", ex);
        } catch (IOException ex) {
            throw new BadDataException(name + ": cannot read: " + ex.getMessage(), ex);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long pos, String name) throws IOException {
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos + dst.position());
            if (r < 0) throw bad(name, "file ended early (truncated)");
        }
    }

    /** Decodes a header and data section that were already split by the length prefix. */
    static Contents decode(String name, byte[] headerBytes, byte[] data) {
        JsonNode root;
        try {
            root = JSON.readTree(headerBytes);
        } catch (IOException ex) {
            throw bad(name, "header is not well-formed JSON (" + firstLine(ex.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) throw bad(name, "header is not a JSON object");
        Map<String, String> metadata = new LinkedHashMap<>();
        record Entry(String name, boolean i64, int[] shape, long begin, long end) {}
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String key = f.getKey();
            JsonNode v = f.getValue();
            if (key.equals(METADATA)) {
                if (!v.isObject()) throw bad(name, METADATA + " is not an object");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) throw bad(name, METADATA + "." + kv.getKey() + " is not a string");
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            if (!v.isObject()) throw bad(name, "tensor '" + key + "': entry is not an object");
            JsonNode dtype = v.get("dtype"), shape = v.get("shape"), offs = v.get("data_offsets");
            if (dtype == null || !dtype.isTextual()) throw bad(name, "tensor '" + key + "': missing dtype");
            boolean i64 = dtype.textValue().equals("I64");
            if (!i64 && !dtype.textValue().equals("F32")) {
                throw bad(name, "tensor '" + key + "': dtype " + dtype.textValue() + " is not supported (F32 and I64 only)");
            }
            int elementBytes = i64 ? 8 : 4;
            if (shape == null || !shape.isArray()) throw bad(name, "tensor '" + key + "': missing shape");
            if (offs == null || !offs.isArray() || offs.size() != 2 || !offs.get(0).canConvertToLong() || !offs.get(1).canConvertToLong()
                    || !offs.get(0).isIntegralNumber() || !offs.get(1).isIntegralNumber()) {
                throw bad(name, "tensor '" + key + "': data_offsets must be [begin, end]");
            }
            int[] dims = new int[shape.size()];
            long count = 1;
            for (int i = 0; i < dims.length; i++) {
                JsonNode d = shape.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                    throw bad(name, "tensor '" + key + "': shape entry " + d + " is not a non-negative int");
                }
                dims[i] = d.intValue();
                if (dims[i] != 0 && count > Integer.MAX_VALUE / dims[i]) throw bad(name, "tensor '" + key + "': shape " + shape + " has too many elements");
                count *= dims[i];
            }
            long begin = offs.get(0).longValue(), end = offs.get(1).longValue();
            if (begin < 0 || end < begin || end > data.length) {
                throw bad(name, "tensor '" + key + "': data_offsets [" + begin + ", " + end + "] outside the data section of " + data.length + " bytes");
            }
            if (count * elementBytes != end - begin) {
                throw bad(name, "tensor '" + key + "': shape " + shape + " needs " + count * elementBytes
                        + " bytes but data_offsets span " + (end - begin));
            }
            entries.add(new Entry(key, i64, dims, begin, end));
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expect = 0;
        for (Entry e : entries) {
            if (e.begin != expect) {
                throw bad(name, e.begin < expect ? "tensor '" + e.name + "' overlaps the previous tensor (begins at " + e.begin + ", previous ends at " + expect + ")"
                        : "gap in the data section before tensor '" + e.name + "' (bytes " + expect + ".." + e.begin + ")");
            }
            expect = e.end;
        }
        if (expect != data.length) throw bad(name, (data.length - expect) + " trailing bytes after the last tensor");
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            buf.position((int) e.begin);
            if (e.i64) {
                long[] v = new long[(int) ((e.end - e.begin) / 8)];
                buf.asLongBuffer().get(v);
                tensors.put(e.name, Tensor.ofI64(e.shape, v));
            } else {
                float[] f = new float[(int) ((e.end - e.begin) / 4)];
                buf.asFloatBuffer().get(f);
                tensors.put(e.name, new Tensor(e.shape, f));
            }
        }
        return new Contents(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata), headerBytes, data);
    }

    private static String firstLine(String s) {
        if (s == null) return "parse error";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static BadDataException bad(String file, String what) {
        return new BadDataException(file + ": " + what);
    }
}
