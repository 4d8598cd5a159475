package dev.forkprop.data;

import static dev.forkprop.data.TestData.assertOneLine;
import static dev.forkprop.data.TestData.assertOneLineMatching;
import static dev.forkprop.data.TestData.concat;
import static dev.forkprop.data.TestData.gzip;
import static dev.forkprop.data.TestData.idx;
import static dev.forkprop.data.TestData.images;
import static dev.forkprop.data.TestData.labels;
import static dev.forkprop.data.TestData.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IdxReader on small files written here: the happy path, then every way a file can be bad. */
class IdxReaderTest {

    @TempDir
    Path dir;

    // 3 images of 2x3: a 16-byte header + 18 bytes of pixels = 34 bytes of content.
    private final byte[] images = images(3, 2, 3);

    @Test
    void rawAndGzipReadTheSame() throws Exception {
        Path raw = write(dir.resolve("img"), images);
        Path gz = write(dir.resolve("img.gz"), gzip(images));
        for (Path f : new Path[] {raw, gz}) {
            IdxReader.Images im = IdxReader.readImages(f);
            assertEquals(3, im.count());
            assertEquals(2, im.rows());
            assertEquals(3, im.cols());
            assertArrayEquals(Arrays.copyOfRange(images, 16, 34), im.pixels());
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(images)), im.contentMd5());
        }
    }

    @Test
    void readsAPairIntoADataset() {
        Path img = write(dir.resolve("img.gz"), gzip(images));
        Path lbl = write(dir.resolve("lbl"), labels(2, 0, 1));
        ImageDataset d = IdxReader.read("tiny", img, lbl, 0, Normalization.UNIT);
        assertEquals(3, d.size());
        assertEquals(6, d.featureDim());
        assertEquals(3, d.numClasses(), "inferred as the largest label + 1");
        assertEquals(2, d.label(0));
        assertEquals(31 + 4, d.pixel(1, 4));
        float[] f = new float[6];
        d.features(1, f, 0);
        assertEquals((31 + 4) / 255f, f[4], 1e-7f);
    }

    @Test
    void givenNumClassesIsKept() {
        Path lbl = write(dir.resolve("lbl"), labels(0, 1));
        assertEquals(10, IdxReader.readLabels(lbl, 10).numClasses());
    }

    @Test
    void wrongMagic() {
        byte[] bad = images.clone();
        bad[3] = 0x02;
        Path f = write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(bad));
        assertOneLine(BadDataException.class,
                f + ": offset 0: bad magic 0x00000802, expected 0x00000803 (IDX images)",
                () -> IdxReader.readImages(f));
    }

    @Test
    void labelFileGivenAsImages() {
        Path f = write(dir.resolve("swapped"), labels(1, 2));
        assertOneLine(BadDataException.class,
                f + ": offset 0: bad magic 0x00000801, expected 0x00000803 (IDX images); this is an IDX label file",
                () -> IdxReader.readImages(f));
    }

    @Test
    void emptyFile() {
        Path f = write(dir.resolve("empty"), new byte[0]);
        assertOneLine(BadDataException.class,
                f + ": offset 0: truncated header: expected 16 bytes (IDX images header), found 0",
                () -> IdxReader.readImages(f));
    }

    @Test
    void truncatedHeader() {
        Path f = write(dir.resolve("short"), Arrays.copyOf(images, 10));
        assertOneLine(BadDataException.class,
                f + ": offset 10: truncated header: expected 16 bytes (IDX images header), found 10",
                () -> IdxReader.readImages(f));
    }

    @Test
    void truncatedPixelsRawAndGzip() {
        byte[] cut = Arrays.copyOf(images, 30);
        for (Path f : new Path[] {write(dir.resolve("cut"), cut), write(dir.resolve("cut.gz"), gzip(cut))}) {
            assertOneLine(BadDataException.class,
                    f + ": offset 30: truncated: expected 34 bytes of content (header + 3 images of 2x3), found 30",
                    () -> IdxReader.readImages(f));
        }
    }

    @Test
    void trailingGarbageRawAndGzip() {
        byte[] longer = concat(images, new byte[] {1, 2, 3, 4, 5});
        for (Path f : new Path[] {write(dir.resolve("long"), longer), write(dir.resolve("long.gz"), gzip(longer))}) {
            assertOneLine(BadDataException.class,
                    f + ": offset 34: trailing garbage: expected end of content after 3 images of 2x3, found 5 more bytes",
                    () -> IdxReader.readImages(f));
        }
    }

    @Test
    void trailingGarbageInLabels() {
        Path f = write(dir.resolve("lbl"), concat(labels(1, 2), new byte[] {7}));
        assertOneLine(BadDataException.class,
                f + ": offset 10: trailing garbage: expected end of content after 2 labels, found 1 more bytes",
                () -> IdxReader.readLabels(f, 10));
    }

    @Test
    void imageAndLabelCountsMustAgree() {
        Path img = write(dir.resolve("img.gz"), gzip(images));
        Path lbl = write(dir.resolve("lbl.gz"), gzip(labels(1, 2, 3, 4, 5)));
        assertOneLine(BadDataException.class,
                img + ": offset 4: image count 3, expected 5 to match the label count of " + lbl,
                () -> IdxReader.read("x", img, lbl, 10, Normalization.UNIT));
    }

    @Test
    void labelOutOfRange() {
        Path f = write(dir.resolve("lbl"), labels(1, 2, 10, 3));
        assertOneLine(BadDataException.class,
                f + ": offset 10: label 10 of sample 2 out of range, expected 0..9",
                () -> IdxReader.readLabels(f, 10));
    }

    @Test
    void zeroAndNegativeDimensions() {
        Path rows0 = write(dir.resolve("rows0"), idx(IdxReader.IMAGES_MAGIC, new int[] {3, 0, 3}, new byte[0]));
        assertOneLine(BadDataException.class, rows0 + ": offset 8: bad rows 0, expected at least 1",
                () -> IdxReader.readImages(rows0));
        Path neg = write(dir.resolve("neg"), idx(IdxReader.IMAGES_MAGIC, new int[] {-1, 2, 3}, new byte[0]));
        assertOneLine(BadDataException.class, neg + ": offset 4: bad image count -1, expected at least 1",
                () -> IdxReader.readImages(neg));
        Path lbl0 = write(dir.resolve("lbl0"), idx(IdxReader.LABELS_MAGIC, new int[] {0}, new byte[0]));
        assertOneLine(BadDataException.class, lbl0 + ": offset 4: bad label count 0, expected at least 1",
                () -> IdxReader.readLabels(lbl0, 0));
    }

    @Test
    void dimensionsBeyondOneArray() {
        Path f = write(dir.resolve("huge"), idx(IdxReader.IMAGES_MAGIC, new int[] {Integer.MAX_VALUE, 28, 28}, new byte[8]));
        assertOneLine(BadDataException.class,
                f + ": offset 4: dimensions 2147483647 x 28 x 28 declare 1683627179248 bytes,"
                        + " expected at most 2147483639 (one Java array)",
                () -> IdxReader.readImages(f));
        Path g = write(dir.resolve("huge2"), idx(IdxReader.IMAGES_MAGIC,
                new int[] {1, Integer.MAX_VALUE, Integer.MAX_VALUE}, new byte[8]));
        assertOneLine(BadDataException.class,
                g + ": offset 4: dimensions 1 x 2147483647 x 2147483647 declare more than 2147483639 bytes,"
                        + " expected at most 2147483639 (one Java array)",
                () -> IdxReader.readImages(g));
    }

    /** 2000 x 1000 x 1000 = 2 GB fits one array, but the file holds 10 bytes: no 2 GB allocation. */
    @Test
    void forgedHugeHeaderAllocatesNothingBig() {
        byte[] forged = idx(IdxReader.IMAGES_MAGIC, new int[] {2000, 1000, 1000}, new byte[10]);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (Path f : new Path[] {write(dir.resolve("forged"), forged), write(dir.resolve("forged.gz"), gzip(forged))}) {
            long before = mx.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            assertOneLine(BadDataException.class,
                    f + ": offset 26: truncated: expected 2000000016 bytes of content"
                            + " (header + 2000 images of 1000x1000), found 26",
                    () -> IdxReader.readImages(f));
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < (8 << 20), "allocated " + allocated + " bytes for a 10-byte payload");
            assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "took too long");
        }
    }

    @Test
    void corruptGzipCrc() {
        byte[] gz = gzip(images);
        gz[gz.length - 8] ^= 0x55; // first byte of the CRC-32 trailer
        Path f = write(dir.resolve("crc.gz"), gz);
        assertOneLine(BadDataException.class,
                f + ": offset 34: corrupt gzip data (Corrupt GZIP trailer), expected a valid gzip stream",
                () -> IdxReader.readImages(f));
    }

    @Test
    void corruptGzipBody() {
        byte[] big = images(200, 28, 28);
        byte[] gz = gzip(big);
        for (int i = gz.length / 3; i < gz.length / 3 + 8; i++) {
            gz[i] ^= (byte) 0xA5;
        }
        Path f = write(dir.resolve("body.gz"), gz);
        assertOneLineMatching(BadDataException.class,
                java.util.regex.Pattern.quote(f.toString()) + ": offset \\d+: corrupt gzip data \\(.+\\), expected a valid gzip stream",
                () -> IdxReader.readImages(f));
    }

    @Test
    void truncatedGzipStream() {
        byte[] gz = gzip(images(200, 28, 28));
        Path f = write(dir.resolve("cut.gz"), Arrays.copyOf(gz, gz.length / 2));
        assertOneLineMatching(BadDataException.class,
                java.util.regex.Pattern.quote(f.toString())
                        + ": offset \\d+: corrupt gzip data \\(Unexpected end of ZLIB input stream\\), expected a valid gzip stream",
                () -> IdxReader.readImages(f));
    }

    @Test
    void corruptGzipHeader() {
        Path f = write(dir.resolve("hdr.gz"), new byte[] {0x1f, (byte) 0x8b, 9, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3});
        assertOneLine(BadDataException.class,
                f + ": offset 0: corrupt gzip header (Unsupported compression method), expected a gzip member",
                () -> IdxReader.readImages(f));
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("nope.gz");
        assertOneLine(MissingDataException.class, f + ": no such file", () -> IdxReader.readImages(f));
    }
}
