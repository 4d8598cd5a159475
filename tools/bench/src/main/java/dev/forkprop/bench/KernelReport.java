package dev.forkprop.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The result of {@code bench kernels}: rows in run order (shape by shape), the ratio of each
 * implementation to OpenBLAS on the same shape, and the two renderings: a text table for people
 * and a JSON array for scripts.
 *
 * <p>JSON: one object per row with {@code m, k, n, transA, transB, op, impl, status, gflops,
 * median_us, spread, ratio_to_openblas, note}. Numbers that do not exist (an unavailable
 * implementation, no OpenBLAS) are {@code null}, never NaN.
 */
public final class KernelReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final List<KernelRow> rows;

    /** Takes rows in display order and fills in {@link KernelRow#ratioToOpenblas()}. */
    public KernelReport(List<KernelRow> rows) {
        List<KernelRow> withRatio = new ArrayList<>(rows.size());
        for (KernelRow r : rows) {
            double blas = rows.stream()
                    .filter(o -> o.ok() && o.impl().equals(GemmCall.OPENBLAS) && o.shape().equals(r.shape()))
                    .mapToDouble(KernelRow::gflops).findFirst().orElse(Double.NaN);
            withRatio.add(r.withRatioToOpenblas(r.gflops() / blas));
        }
        this.rows = List.copyOf(withRatio);
    }

    public List<KernelRow> rows() {
        return rows;
    }

    /** True if any implementation failed (an unavailable one is not a failure). */
    public boolean anyFailed() {
        return rows.stream().anyMatch(r -> r.status().equals("failed"));
    }

    public static String tableHeader() {
        return String.format(Locale.ROOT, "%-3s %5s %5s %5s  %-10s %11s %8s %7s %10s",
                "op", "M", "K", "N", "impl", "median us", "GFLOPS", "spread", "/openblas");
    }

    /** One table line; rows without a number carry their reason instead. */
    public static String tableLine(KernelRow r) {
        GemmShape s = r.shape();
        String head = String.format(Locale.ROOT, "%-3s %5d %5d %5d  %-10s", s.op(), s.m(), s.k(), s.n(), r.impl());
        if (!r.ok()) {
            return head + " " + r.status() + ": " + r.note();
        }
        return head + String.format(Locale.ROOT, " %11.1f %8.2f %6.1f%% %10s",
                r.medianUs(), r.gflops(), 100 * r.spread(),
                Double.isNaN(r.ratioToOpenblas()) ? "-" : String.format(Locale.ROOT, "%.2f", r.ratioToOpenblas()));
    }

    /** The whole table, header first, a blank line between shapes. */
    public String table() {
        StringBuilder sb = new StringBuilder(tableHeader()).append('\n');
        GemmShape prev = null;
        for (KernelRow r : rows) {
            if (prev != null && !prev.equals(r.shape())) sb.append('\n');
            sb.append(tableLine(r)).append('\n');
            prev = r.shape();
        }
        return sb.toString();
    }

    /** The rows as a JSON array (see the class comment for the fields). */
    public ArrayNode toJson() {
        ArrayNode arr = JSON.createArrayNode();
        for (KernelRow r : rows) {
            GemmShape s = r.shape();
            ObjectNode o = arr.addObject();
            o.put("m", s.m());
            o.put("k", s.k());
            o.put("n", s.n());
            o.put("transA", s.transA());
            o.put("transB", s.transB());
            o.put("op", s.op());
            o.put("impl", r.impl());
            o.put("status", r.status());
            putNumber(o, "gflops", r.gflops());
            putNumber(o, "median_us", r.medianUs());
            putNumber(o, "spread", r.spread());
            putNumber(o, "ratio_to_openblas", r.ratioToOpenblas());
            o.put("note", r.note());
        }
        return arr;
    }

    private static void putNumber(ObjectNode o, String field, double v) {
        if (Double.isFinite(v)) {
            o.put(field, v);
        } else {
            o.putNull(field);
        }
    }

    public void writeJson(Path file) throws IOException {
        JSON.writeValue(file.toFile(), toJson());
    }
}
