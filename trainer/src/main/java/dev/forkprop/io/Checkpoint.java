package dev.forkprop.io;

import dev.forkprop.data.BadDataException;
import dev.forkprop.data.DataException;
import dev.forkprop.model.BatchNorm;
import dev.forkprop.model.Layer;
import dev.forkprop.model.Network;
import dev.forkprop.model.ParamLayout;
import dev.forkprop.optim.Optimizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A training checkpoint: a safetensors file holding everything a run needs to continue bitwise
 * identically (parameters, batch-norm running statistics, optimizer state) plus, in
 * {@code __metadata__}, the run's configuration and position. Not the exported model (see
 * {@link TorchExport}): tensors keep this project's layout ({@code layers.<i>.weight} of a dense
 * layer is {@code [in, out]}).
 *
 * <p>Tensors: every trainable tensor of {@link Network#layout()} by name and shape (alignment gaps
 * stripped); {@code layers.<i>.running_mean} / {@code running_var} per batch-norm layer;
 * {@code optim.<state>.<tensor>} per optimizer state tensor (e.g.
 * {@code optim.adam_m.layers.0.weight}).
 *
 * <p>Metadata: {@code forkprop.checkpoint = "2"} (magic and format version), the run
 * configuration given to {@link #capture}, and {@code forkprop.sha256}: the SHA-256 over the
 * header and data section with the digest's own 64 hex digits replaced by zeros, so a flipped byte
 * anywhere after the length prefix is detected (a flipped length prefix fails its own checks).
 *
 * <p>Versions: 2 adds, for a run on a CSV file, {@code features} (its {@code TableEncoding} as
 * JSON: the column scaling, categories and target scaling fitted on the training rows),
 * {@code task}, {@code label}, {@code test_data}, {@code categorical} and {@code missing}. Version
 * 1 files still load ({@link #READS}); a version-1 run on a CSV file was trained on its raw
 * columns, and is evaluated and resumed on them.
 *
 * <p>Files are written atomically: a temp file in the same directory, {@code force(true)}, an
 * atomic rename, then an fsync of the directory, so a crash leaves either the old set of files or
 * the new one, never a torn checkpoint under the final name. Immutable once built; not
 * thread-safe to build from live arrays while a step runs (capture between steps).
 */
public final class Checkpoint {
    public static final String MAGIC = "forkprop.checkpoint";
    public static final String VERSION = "2";
    /** The versions {@link #read} accepts. */
    public static final java.util.Set<String> READS = java.util.Set.of("1", "2");
    public static final String SHA_KEY = "forkprop.sha256";
    private static final String ZEROS = "0".repeat(64);
    private static final Pattern FILE = Pattern.compile("ckpt-(\\d+)\\.safetensors");
    private static final Pattern TEMP = Pattern.compile("\\.ckpt-\\d+\\.safetensors\\..*\\.tmp");

    private final Map<String, Safetensors.Tensor> tensors;
    private final Map<String, String> metadata;
    private final String source; // the file it was read from, or null when captured; starts error messages

    private Checkpoint(Map<String, Safetensors.Tensor> tensors, Map<String, String> metadata, String source) {
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.source = source;
    }

    public Map<String, Safetensors.Tensor> tensors() { return tensors; }

    /** The format version the file was written in ({@link #VERSION} when captured). */
    public String version() {
        return metadata.get(MAGIC);
    }

    /** Metadata as written (without the checksum). */
    public Map<String, String> metadata() { return metadata; }

    /** A metadata value; a missing key is a one-line {@link BadDataException} naming the file and the key. */
    public String get(String key) {
        String v = metadata.get(key);
        if (v == null) throw bad("metadata has no '" + key + "'");
        return v;
    }

    /**
     * Metadata {@code key} as a whole number in {@code [min, max]}; a missing, non-numeric or
     * out-of-range value is a {@link #bad} error naming the file and the key (the checksum only
     * proves the file is what was written, not that a writer wrote sense).
     */
    public long longField(String key, long min, long max) {
        String v = get(key);
        long x;
        try {
            x = Long.parseLong(v);
        } catch (NumberFormatException ex) {
            throw bad("metadata '" + key + "' is not a whole number: '" + v + "'");
        }
        if (x < min || x > max) throw bad("metadata '" + key + "' = " + x + " is outside [" + min + ", " + max + "]");
        return x;
    }

    /** Metadata {@code key} as a double (NaN allowed), or {@code absent} when the key is missing; see {@link #longField}. */
    public double doubleField(String key, double absent) {
        String v = metadata.get(key);
        if (v == null) return absent;
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException ex) {
            throw bad("metadata '" + key + "' is not a number: '" + v + "'");
        }
    }

    /** {@code "<file>: checkpoint <what>"}: the file first, as every {@link BadDataException}. */
    public BadDataException bad(String what) {
        return new BadDataException((source == null ? "" : source + ": ") + "checkpoint " + what);
    }

    /**
     * Copies the state of a run (between steps) into a new checkpoint.
     *
     * @param run configuration and position, string to string; {@link #MAGIC} is added
     */
    public static Checkpoint capture(Network net, float[] params, float[] buffers, Optimizer opt, Map<String, String> run) {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        List<ParamLayout.Tensor> trainable = trainable(net);
        for (ParamLayout.Tensor p : trainable) t.put(p.name(), slice(params, p));
        forEachBuffer(net, (name, offset, width) ->
                t.put(name, new Safetensors.Tensor(new int[] {width}, Arrays.copyOfRange(buffers, offset, offset + width))));
        for (int s = 0; s < opt.stateCount(); s++) {
            for (ParamLayout.Tensor p : trainable) t.put("optim." + opt.stateName(s) + "." + p.name(), slice(opt.state(s), p));
        }
        Map<String, String> m = new LinkedHashMap<>();
        m.put(MAGIC, VERSION);
        m.putAll(run);
        m.remove(SHA_KEY);
        return new Checkpoint(t, m, null);
    }

    /**
     * Writes this checkpoint's tensors into a run's arrays. The network must be the one the
     * checkpoint was taken from (same spec): every tensor must be present with its shape, and no
     * tensor may be left over, else a one-line {@link BadDataException} naming the file.
     */
    public void restore(Network net, float[] params, float[] buffers, Optimizer opt) {
        List<String> used = new ArrayList<>();
        List<ParamLayout.Tensor> trainable = trainable(net);
        for (ParamLayout.Tensor p : trainable) used.add(copyInto(p.name(), p.shape(), params, p.offset()));
        forEachBuffer(net, (name, offset, width) -> used.add(copyInto(name, new int[] {width}, buffers, offset)));
        for (int s = 0; s < opt.stateCount(); s++) {
            for (ParamLayout.Tensor p : trainable) {
                used.add(copyInto("optim." + opt.stateName(s) + "." + p.name(), p.shape(), opt.state(s), p.offset()));
            }
        }
        for (String name : tensors.keySet()) {
            if (!used.contains(name)) throw bad("has tensor '" + name + "' that this run does not use");
        }
    }

    private String copyInto(String name, int[] shape, float[] dst, int offset) {
        Safetensors.Tensor t = tensors.get(name);
        if (t == null) throw bad("has no tensor '" + name + "'");
        if (!Arrays.equals(t.shape(), shape)) {
            throw bad("tensor '" + name + "' has shape " + Arrays.toString(t.shape()) + ", the network needs " + Arrays.toString(shape));
        }
        System.arraycopy(t.data(), 0, dst, offset, t.data().length);
        return name;
    }

    static List<ParamLayout.Tensor> trainable(Network net) {
        List<ParamLayout.Tensor> out = new ArrayList<>();
        for (ParamLayout.Tensor t : net.layout().tensors()) if (t.trainable()) out.add(t);
        return out;
    }

    private static Safetensors.Tensor slice(float[] flat, ParamLayout.Tensor p) {
        return new Safetensors.Tensor(p.shape().clone(), Arrays.copyOfRange(flat, p.offset(), p.offset() + p.size()));
    }

    interface BufferVisitor {
        void visit(String name, int offset, int width);
    }

    /** Names the running statistics in {@code buffers}: layers are laid out in order (see Network). */
    static void forEachBuffer(Network net, BufferVisitor v) {
        Layer[] layers = net.layers();
        int off = 0;
        for (int i = 0; i < layers.length; i++) {
            int n = layers[i].bufferSize();
            if (layers[i] instanceof BatchNorm) {
                // BatchNorm: running mean [width] then running variance [width].
                v.visit("layers." + i + ".running_mean", off, n / 2);
                v.visit("layers." + i + ".running_var", off + n / 2, n / 2);
            } else if (n > 0) {
                v.visit("layers." + i + ".buffer", off, n);
            }
            off += n;
        }
    }

    /** The file's bytes, checksum included. */
    public byte[] encode() {
        Map<String, String> m = new LinkedHashMap<>(metadata);
        m.put(SHA_KEY, ZEROS);
        byte[] file = Safetensors.encode(tensors, m);
        int at = indexOf(file, checksumField(ZEROS), 8);
        String hex = HexFormat.of().formatHex(sha256(file, 8));
        byte[] hexBytes = hex.getBytes(StandardCharsets.US_ASCII);
        // The field is "forkprop.sha256":"<64 digits>": the digits start after the key, colon and quote.
        System.arraycopy(hexBytes, 0, file, at + checksumField(ZEROS).length - 65, 64);
        return file;
    }

    /** Reads and verifies a checkpoint: safetensors structure, magic and version, checksum. */
    public static Checkpoint read(Path file) {
        Safetensors.Contents c = Safetensors.read(file);
        String version = c.metadata().get(MAGIC);
        if (version == null) throw new BadDataException(file + ": not a forkprop checkpoint (no '" + MAGIC + "' in __metadata__)");
        if (!READS.contains(version)) {
            throw new BadDataException(file + ": checkpoint format version " + version + ", this build reads versions 1 and " + VERSION);
        }
        String sha = c.metadata().get(SHA_KEY);
        if (sha == null || !sha.matches("[0-9a-f]{64}")) throw new BadDataException(file + ": checkpoint has no valid '" + SHA_KEY + "'");
        byte[] header = c.header().clone();
        byte[] field = checksumField(sha);
        int at = indexOf(header, field, 0);
        if (at < 0) throw new BadDataException(file + ": checksum field is not in canonical form");
        System.arraycopy(checksumField(ZEROS), 0, header, at, field.length);
        MessageDigest md = digest();
        md.update(header);
        md.update(c.data());
        String actual = HexFormat.of().formatHex(md.digest());
        if (!actual.equals(sha)) {
            throw new BadDataException(file + ": checksum mismatch (stored " + sha.substring(0, 12) + "..., computed "
                    + actual.substring(0, 12) + "...): the file is corrupt");
        }
        for (Map.Entry<String, Safetensors.Tensor> t : c.tensors().entrySet()) {
            if (t.getValue().data() == null) {
                throw new BadDataException(file + ": tensor '" + t.getKey() + "' is " + t.getValue().dtype()
                        + "; a checkpoint holds F32 tensors only");
            }
        }
        Map<String, String> m = new LinkedHashMap<>(c.metadata());
        m.remove(SHA_KEY);
        return new Checkpoint(new LinkedHashMap<>(c.tensors()), m, file.toString());
    }

    /**
     * Writes this checkpoint to {@code file} atomically (see the class comment). On failure the
     * temp file is removed, whatever was at {@code file} is untouched, and a one-line
     * {@link CheckpointWriteException} names the file and the cause.
     */
    public void write(Path file) {
        writeAtomically(file, encode(), "checkpoint");
    }

    /** Writes {@code bytes} to {@code file} atomically (temp file, force, rename, directory fsync). */
    public static void writeAtomically(Path file, byte[] bytes, String what) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
            if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--")); // temp files start 0600
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException ex) {
                throw new IOException("the file system does not support atomic rename", ex);
            }
            tmp = null;
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true); // the rename itself is durable only once the directory is
            }
        } catch (IOException ex) {
            throw new CheckpointWriteException("cannot write " + what + " " + file + ": " + describe(ex), ex);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the original error is the one to report
                }
            }
        }
    }

    private static String describe(IOException ex) {
        String s = ex.getClass().getSimpleName().replace("Exception", "");
        return ex.getMessage() == null ? s : s + " " + ex.getMessage();
    }

    /** {@code dir/ckpt-<step>.safetensors}. */
    public static Path fileFor(Path dir, long step) {
        return dir.resolve("ckpt-" + step + ".safetensors");
    }

    /**
     * Writes {@code ckpt-<step>.safetensors} into {@code dir}, then deletes all but the newest
     * {@code keep}, and any checkpoint temp file a killed writer left behind (a process killed
     * with SIGKILL between creating its temp file and the rename cannot remove it; without this
     * each such kill would leave a checkpoint-sized file forever). One writer per directory.
     */
    public Path saveInto(Path dir, long step, int keep) {
        Path f = fileFor(dir, step);
        write(f);
        List<Path> all = list(dir);
        List<Path> delete = new ArrayList<>(all.subList(0, Math.max(0, all.size() - Math.max(1, keep))));
        delete.addAll(tempFiles(dir));
        for (Path old : delete) {
            try {
                Files.deleteIfExists(old);
            } catch (IOException ex) {
                throw new CheckpointWriteException("cannot delete old checkpoint " + old + ": " + describe(ex), ex);
            }
        }
        return f;
    }

    /** Temp files of {@link #writeAtomically} for checkpoints in {@code dir}: {@code .ckpt-<step>.safetensors.<random>.tmp}. */
    public static List<Path> tempFiles(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> TEMP.matcher(p.getFileName().toString()).matches()).sorted().toList();
        } catch (IOException ex) {
            throw new DataException("cannot list checkpoint directory " + dir + ": " + describe(ex), ex);
        }
    }

    /** The newest {@code ckpt-<step>.safetensors} in {@code dir} by step, or null when there is none. */
    public static Path newest(Path dir) {
        List<Path> all = list(dir);
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /** Checkpoint files in {@code dir}, oldest step first; empty when the directory does not exist. */
    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> FILE.matcher(p.getFileName().toString()).matches())
                    .sorted((a, b) -> Long.compare(stepOf(a), stepOf(b)))
                    .toList();
        } catch (IOException ex) {
            throw new DataException("cannot list checkpoint directory " + dir + ": " + describe(ex), ex);
        }
    }

    private static long stepOf(Path p) {
        Matcher m = FILE.matcher(p.getFileName().toString());
        if (!m.matches()) return -1;
        try {
            return Long.parseLong(m.group(1));
        } catch (NumberFormatException ex) {
            return Long.MAX_VALUE;
        }
    }

    private static byte[] checksumField(String hex) {
        return ("\"" + SHA_KEY + "\":\"" + hex + "\"").getBytes(StandardCharsets.US_ASCII);
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    private static byte[] sha256(byte[] b, int from) {
        MessageDigest md = digest();
        md.update(b, from, b.length - from);
        return md.digest();
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex); // every JDK has SHA-256
        }
    }
}
