package dev.forkprop.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files (LeCun's MNIST format): a big-endian header {@code 00 00 08 ndim}, then
 * {@code ndim} 32-bit dimensions, then the unsigned bytes. Images are {@code 0x00000803}
 * ({@code [count, rows, cols]}), labels {@code 0x00000801} ({@code [count]}). A file starting with
 * the gzip magic {@code 1f 8b} is decompressed on the fly; otherwise it is read raw.
 *
 * <p>Everything is validated and every problem is one {@link BadDataException} naming the file and
 * the byte offset in the (uncompressed) content: magic and dimension count, each dimension
 * positive, their product within one Java array, content shorter or longer than declared, corrupt
 * gzip (including its CRC), labels within range, and image and label counts agreeing. Missing or
 * unreadable files are a {@link MissingDataException}. No other exception escapes for bad input.
 *
 * <p>Not here: dataset names, fetching and checksum tables ({@link Datasets}).
 *
 * <p>Allocation: one array of exactly the declared size, allocated only once the declared size is
 * plausible for the file (see the design note). Stateless; any thread may call.
 */
public final class IdxReader {

    /*
     * Design note: a forged header must not make us allocate gigabytes before we notice the file is
     * short. For a raw file the content length is the file size, so a declared size that exceeds it
     * is reported as truncated without reading. For gzip, deflate expands at most 1032:1, so a
     * declared size above 1032 x the compressed size is impossible: we then only count the content
     * (in a 64 KiB buffer) to report how much there really is. Below that bound, sizes up to 64 MiB
     * (MNIST train is 47 MB) are allocated exactly; larger ones grow by doubling from 64 MiB, so a
     * lying header costs at most twice what the file really holds.
     */

    /** Magic of an IDX image file: unsigned bytes, 3 dimensions {@code [count, rows, cols]}. */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic of an IDX label file: unsigned bytes, 1 dimension {@code [count]}. */
    public static final int LABELS_MAGIC = 0x00000801;
    /** The largest content we accept: the largest Java {@code byte[]}. */
    static final long MAX_PAYLOAD = Integer.MAX_VALUE - 8;
    /** Deflate's maximum expansion ratio (RFC 1951 length codes: 258 bytes per 2 bits, ~1032:1). */
    static final long MAX_DEFLATE_RATIO = 1032;
    /** Declared sizes up to this are allocated at once (when plausible); larger ones grow. */
    static final int EXACT_ALLOCATION_LIMIT = 64 << 20;
    /** Bytes asked of the stream per read call. */
    private static final int CHUNK = 1 << 20;

    private IdxReader() {
    }

    /**
     * The images of an IDX image file. {@code pixels} is {@code [count, rows * cols]} row-major
     * uint8; {@code contentMd5} is the lowercase hex MD5 of the whole uncompressed file content.
     */
    public record Images(String source, int count, int rows, int cols, byte[] pixels, String contentMd5) {
    }

    /**
     * The labels of an IDX label file: {@code labels} is {@code [count]} uint8, each below
     * {@code numClasses}; {@code contentMd5} as for {@link Images}.
     */
    public record Labels(String source, int count, byte[] labels, int numClasses, String contentMd5) {
    }

    /**
     * Reads a matching pair of image and label files into an {@link ImageDataset}. The label file
     * is read first so that a count mismatch is reported from the image header, before the pixels.
     *
     * @param numClasses the number of classes, 1..256, or 0 to infer it as the largest label + 1
     */
    public static ImageDataset read(String name, Path images, Path labels, int numClasses, Normalization norm) {
        Labels l = readLabels(labels, numClasses);
        Images i = readImagesMatching(images, l.count(), labels.toString());
        return new ImageDataset(name, i.pixels(), l.labels(), i.rows(), i.cols(), l.numClasses(), norm);
    }

    /** Reads an IDX image file (raw or gzip). */
    public static Images readImages(Path file) {
        return readImagesMatching(file, -1, null);
    }

    /**
     * Reads an IDX label file (raw or gzip).
     *
     * @param numClasses the number of classes, 1..256, or 0 to infer it as the largest label + 1
     */
    public static Labels readLabels(Path file, int numClasses) {
        if (numClasses < 0 || numClasses > 256) {
            throw new IllegalArgumentException("numClasses " + numClasses + " not in 0..256 (0 = infer)");
        }
        String src = file.toString();
        try (Content c = Content.open(file)) {
            int[] dims = c.header(LABELS_MAGIC, "IDX labels", 1);
            int count = dims[0];
            checkDim(src, 4, "label count", count);
            byte[] labels = c.payload(count, count + " labels");
            int max = 0;
            for (int i = 0; i < count; i++) {
                int v = labels[i] & 0xFF;
                if (numClasses > 0 && v >= numClasses) {
                    throw BadDataException.atOffset(src, 8L + i, "label " + v + " of sample " + i
                            + " out of range, expected 0.." + (numClasses - 1));
                }
                max = Math.max(max, v);
            }
            return new Labels(src, count, labels, numClasses > 0 ? numClasses : max + 1, c.md5());
        }
    }

    /**
     * Reads an IDX image file whose count must be {@code expectedCount} (the label count of
     * {@code labelsSource}), checked from the header before the pixels are read; -1 for any.
     */
    static Images readImagesMatching(Path file, int expectedCount, String labelsSource) {
        String src = file.toString();
        try (Content c = Content.open(file)) {
            int[] dims = c.header(IMAGES_MAGIC, "IDX images", 3);
            int count = dims[0], rows = dims[1], cols = dims[2];
            checkDim(src, 4, "image count", count);
            checkDim(src, 8, "rows", rows);
            checkDim(src, 12, "cols", cols);
            if (expectedCount >= 0 && count != expectedCount) {
                throw BadDataException.atOffset(src, 4, "image count " + count + ", expected " + expectedCount
                        + " to match the label count of " + labelsSource);
            }
            long perImage = (long) rows * cols;   // < 2^62: two ints
            // Checking perImage first keeps count * perImage < 2^31 * 2^31: no long overflow.
            if (perImage > MAX_PAYLOAD || count * perImage > MAX_PAYLOAD) {
                throw BadDataException.atOffset(src, 4, "dimensions " + count + " x " + rows + " x " + cols
                        + " declare " + (perImage > MAX_PAYLOAD ? "more than " + MAX_PAYLOAD : count * perImage)
                        + " bytes, expected at most " + MAX_PAYLOAD + " (one Java array)");
            }
            byte[] pixels = c.payload(count * perImage, count + " images of " + rows + "x" + cols);
            return new Images(src, count, rows, cols, pixels, c.md5());
        }
    }

    private static void checkDim(String src, long offset, String what, int value) {
        if (value <= 0) {
            throw BadDataException.atOffset(src, offset, "bad " + what + " " + value + ", expected at least 1");
        }
    }

    /**
     * The uncompressed content of one file, read sequentially, with the offset of the next byte,
     * the running MD5, and every IOException turned into a one-line DataException.
     */
    private static final class Content implements AutoCloseable {
        private final String src;
        private final InputStream in;
        private final boolean gzip;
        private final long fileSize;
        private final MessageDigest md5;
        private long pos;

        private Content(String src, InputStream in, boolean gzip, long fileSize) {
            this.src = src;
            this.in = in;
            this.gzip = gzip;
            this.fileSize = fileSize;
            try {
                this.md5 = MessageDigest.getInstance("MD5");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has MD5", e);
            }
        }

        static Content open(Path file) {
            String src = file.toString();
            InputStream raw = null;
            try {
                raw = Files.newInputStream(file);
                long size = Files.size(file);
                BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
                buffered.mark(2);
                boolean gzip = buffered.read() == 0x1f && buffered.read() == 0x8b;
                buffered.reset();
                InputStream in = buffered;
                if (gzip) {
                    try {
                        in = new GZIPInputStream(buffered, 1 << 16);
                    } catch (IOException e) {
                        throw BadDataException.atOffset(src, 0, "corrupt gzip header (" + e.getMessage()
                                + "), expected a gzip member", e);
                    }
                }
                return new Content(src, in, gzip, size);
            } catch (NoSuchFileException e) {
                closeQuietly(raw);
                throw new MissingDataException(src + ": no such file", e);
            } catch (IOException e) {
                closeQuietly(raw);
                throw new MissingDataException(src + ": cannot read (" + e + ")", e);
            } catch (RuntimeException e) {
                closeQuietly(raw);
                throw e;
            }
        }

        /** Reads and checks the magic and {@code ndims} dimensions; returns the dimensions. */
        int[] header(int magic, String kind, int ndims) {
            int headerLen = 4 + 4 * ndims;
            byte[] h = new byte[headerLen];
            int got = fill(h, 0, headerLen);
            if (got >= 4) {
                int found = intAt(h, 0);
                if (found != magic) {
                    String hint = found == IMAGES_MAGIC ? "; this is an IDX image file"
                            : found == LABELS_MAGIC ? "; this is an IDX label file" : "";
                    throw BadDataException.atOffset(src, 0, String.format(
                            "bad magic 0x%08X, expected 0x%08X (%s)%s", found, magic, kind, hint));
                }
            }
            if (got < headerLen) {
                throw BadDataException.atOffset(src, got, "truncated header: expected " + headerLen
                        + " bytes (" + kind + " header), found " + got);
            }
            int[] dims = new int[ndims];
            for (int d = 0; d < ndims; d++) {
                dims[d] = intAt(h, 4 + 4 * d);
            }
            return dims;
        }

        /**
         * Reads exactly {@code size} more bytes and checks that the content ends there;
         * {@code what} describes them for messages. {@code size <= MAX_PAYLOAD}.
         */
        byte[] payload(long size, String what) {
            long start = pos;
            long expectedEnd = start + size;
            long plausible = gzip ? MAX_DEFLATE_RATIO * fileSize : fileSize - start;
            if (size > plausible) {
                // Impossible for this file: count what is really there, allocating nothing big.
                long end = gzip ? start + drain() : fileSize;
                throw truncated(end, expectedEnd, what);
            }
            int n = (int) size;
            byte[] buf = new byte[Math.min(n, size <= EXACT_ALLOCATION_LIMIT ? n : EXACT_ALLOCATION_LIMIT)];
            int filled = 0;
            while (filled < n) {
                if (filled == buf.length) {
                    buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
                }
                int got = fill(buf, filled, buf.length - filled);
                filled += got;
                if (filled < buf.length) {
                    throw truncated(pos, expectedEnd, what);
                }
            }
            long extra = drain();
            if (extra > 0) {
                throw BadDataException.atOffset(src, expectedEnd, "trailing garbage: expected end of content after "
                        + what + ", found " + extra + " more bytes");
            }
            return buf;
        }

        private BadDataException truncated(long end, long expectedEnd, String what) {
            return BadDataException.atOffset(src, end, "truncated: expected " + expectedEnd
                    + " bytes of content (header + " + what + "), found " + end);
        }

        String md5() {
            return HexFormat.of().formatHex(md5.digest());
        }

        /** Reads up to {@code len} bytes, fewer only at the end of the content; returns the count. */
        private int fill(byte[] b, int off, int len) {
            int total = 0;
            while (total < len) {
                int r = read(b, off + total, Math.min(CHUNK, len - total));
                if (r < 0) {
                    break;
                }
                md5.update(b, off + total, r);
                total += r;
                pos += r;
            }
            return total;
        }

        /** Reads to the end of the content (which, for gzip, checks the CRC); returns the count. */
        private long drain() {
            byte[] scratch = new byte[1 << 16];
            long total = 0;
            int r;
            while ((r = read(scratch, 0, scratch.length)) >= 0) {
                total += r;
            }
            return total;
        }

        private int read(byte[] b, int off, int len) {
            try {
                return in.read(b, off, len);
            } catch (ZipException | EOFException e) {
                // EOFException: the compressed stream ends mid-block; ZipException: bad data or CRC.
                throw BadDataException.atOffset(src, pos, "corrupt gzip data (" + e.getMessage()
                        + "), expected a valid gzip stream", e);
            } catch (IOException e) {
                throw new MissingDataException(src + ": read failed at offset " + pos + " (" + e + ")", e);
            }
        }

        private static int intAt(byte[] b, int i) {
            return (b[i] & 0xFF) << 24 | (b[i + 1] & 0xFF) << 16 | (b[i + 2] & 0xFF) << 8 | (b[i + 3] & 0xFF);
        }

        @Override
        public void close() {
            closeQuietly(in);
        }

        private static void closeQuietly(InputStream s) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // Reading is over; a failing close cannot change the data we return.
                }
            }
        }
    }
}
