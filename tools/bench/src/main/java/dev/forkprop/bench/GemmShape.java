package dev.forkprop.bench;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One GEMM problem as the benchmark names it: {@code C[m,n] = op(A)[m,k] * op(B)[k,n]} with the
 * transposes given by the op letters (BLAS order: A then B). Text form {@code OP:MxKxN}, e.g.
 * {@code TN:784x256x1024}; a bare {@code MxKxN} means NN. The text form is what JMH's
 * {@code @Param} carries into the forked VM, so it must round-trip through {@link #parse}.
 *
 * <p>Not a matrix: it only knows sizes and the stored layout (row-major, tight leading dims).
 */
public record GemmShape(boolean transA, boolean transB, int m, int k, int n) {

    /**
     * The MLP shapes (M,K,N): a 784-1024-1024-10 MNIST net at batch 256, a 1024^3 square, the
     * small nets of the examples, and the two backward products of the first layer:
     * dW = X^T*dY (TN, X stored [256,784]) and dX = dY*W^T (NT, W stored [784,1024]).
     * {@link GemmBench}'s {@code @Param} default lists the same labels (a test checks it).
     */
    public static final List<GemmShape> MLP = List.of(
            nn(256, 784, 1024), nn(256, 1024, 1024), nn(1024, 1024, 1024), nn(256, 1024, 10),
            nn(32, 784, 100), nn(128, 784, 256),
            new GemmShape(true, false, 784, 256, 1024),
            new GemmShape(false, true, 256, 1024, 784));

    /** Largest matrix the benchmark can hold in one float[]. */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final Pattern TEXT =
            Pattern.compile("(?:([NT])([NT]):)?(\\d+)x(\\d+)x(\\d+)", Pattern.CASE_INSENSITIVE);

    public GemmShape {
        if (m <= 0 || k <= 0 || n <= 0) {
            throw new IllegalArgumentException("sizes must be positive: m=" + m + " k=" + k + " n=" + n);
        }
        if ((long) m * k > MAX_ELEMENTS || (long) k * n > MAX_ELEMENTS || (long) m * n > MAX_ELEMENTS) {
            throw new IllegalArgumentException("shape " + m + "x" + k + "x" + n + " has a matrix over "
                    + MAX_ELEMENTS + " elements (one float[] each)");
        }
    }

    static GemmShape nn(int m, int k, int n) {
        return new GemmShape(false, false, m, k, n);
    }

    /** Parses {@code OP:MxKxN} or {@code MxKxN}; IllegalArgumentException with the expected form. */
    public static GemmShape parse(String text) {
        Matcher mt = TEXT.matcher(text.trim());
        if (!mt.matches()) {
            throw new IllegalArgumentException("bad shape '" + text + "': expected MxKxN or OP:MxKxN"
                    + " with OP one of NN, NT, TN, TT (e.g. TN:784x256x1024)");
        }
        boolean ta = mt.group(1) != null && mt.group(1).equalsIgnoreCase("T");
        boolean tb = mt.group(2) != null && mt.group(2).equalsIgnoreCase("T");
        try {
            return new GemmShape(ta, tb, Integer.parseInt(mt.group(3)), Integer.parseInt(mt.group(4)),
                    Integer.parseInt(mt.group(5)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad shape '" + text + "': size does not fit an int", e);
        }
    }

    /** {@code NN}, {@code TN}, ...: the transposes of A and B. */
    public String op() {
        return (transA ? "T" : "N") + (transB ? "T" : "N");
    }

    /** The text form {@link #parse} reads back, e.g. {@code NT:256x1024x784}. */
    public String label() {
        return String.format(Locale.ROOT, "%s:%dx%dx%d", op(), m, k, n);
    }

    /** Floating-point operations of one call: a multiply and an add per (i, j, p). */
    public double flops() {
        return 2.0 * m * n * k;
    }

    // Stored layouts, row-major with tight leading dimensions (see the Gemm contract).
    /** A stored: [m,k] with lda = k, or [k,m] with lda = m when transposed. */
    public int lda() { return transA ? m : k; }
    /** B stored: [k,n] with ldb = n, or [n,k] with ldb = k when transposed. */
    public int ldb() { return transB ? k : n; }
    /** C: [m,n], ldc = n. */
    public int ldc() { return n; }
    public int aLength() { return m * k; }
    public int bLength() { return k * n; }
    public int cLength() { return m * n; }

    @Override
    public String toString() {
        return label();
    }
}
