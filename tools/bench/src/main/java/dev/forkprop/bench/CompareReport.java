package dev.forkprop.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forkprop.bench.CompareRow.TorchSetting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The result of {@code bench compare} and its three renderings: a text table for people, a JSON
 * array and a CSV file for scripts. Samples/s are medians over the repeats with min-max; the ratio
 * is forkprop's median over PyTorch's best setting's median (above 1: forkprop is faster).
 *
 * <p>JSON: one object per row with {@code model, batch, optimizer, lr, threads, warmup_steps,
 * steps, repeats, forkprop_samples_per_sec, forkprop_min, forkprop_max, torch_samples_per_sec,
 * torch_min, torch_max, torch_threading, torch_intra_op_threads, torch_blas_threads, ratio,
 * torch_settings} (an array of {@code name, intra_op_threads, blas_threads, samples_per_sec, min,
 * max}) and {@code torch_note}. Numbers that do not exist (PyTorch skipped) are {@code null}.
 * CSV: the same fields but {@code torch_settings}, which becomes {@code name=median} pairs
 * separated by ';'.
 */
final class CompareReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String CSV_HEADER = "model,batch,optimizer,lr,threads,warmup_steps,steps,repeats,"
            + "forkprop_samples_per_sec,forkprop_min,forkprop_max,torch_samples_per_sec,torch_min,torch_max,"
            + "torch_threading,torch_intra_op_threads,torch_blas_threads,ratio,torch_settings,torch_note";

    private final List<CompareRow> rows;
    private final int repeats;

    CompareReport(List<CompareRow> rows, int repeats) {
        this.rows = List.copyOf(rows);
        this.repeats = repeats;
    }

    List<CompareRow> rows() {
        return rows;
    }

    /** True if a PyTorch run failed (skipping PyTorch is not a failure). */
    boolean anyFailed() {
        return rows.stream().anyMatch(r -> r.torchNote() != null && r.torchNote().startsWith("failed"));
    }

    static String tableHeader() {
        return String.format(Locale.ROOT, "%-30s %7s  %-28s %-28s %7s  %s", "case (model batch optimizer)", "threads",
                "forkprop samples/s (min-max)", "PyTorch samples/s (min-max)", "ratio", "PyTorch threads: best (others)");
    }

    /** One table line; without PyTorch numbers, its note instead. */
    static String tableLine(CompareRow r) {
        CompareCase c = r.c();
        String head = String.format(Locale.ROOT, "%-30s %7d  %-28s", c.model() + " b" + c.batch() + " " + c.optimizer(),
                r.threads(), spread(r.forkprop()));
        TorchSetting best = r.best();
        if (best == null) {
            return String.format(Locale.ROOT, "%s %-28s %7s  %s", head, "-", "-", r.torchNote() == null ? "" : r.torchNote());
        }
        String others = r.torch().stream().filter(s -> s != best)
                .map(s -> s.threads().name() + " " + String.format(Locale.ROOT, "%,.0f", s.samplesPerSec().median()))
                .collect(Collectors.joining(", "));
        return String.format(Locale.ROOT, "%s %-28s %7.2f  %s%s", head, spread(best.samplesPerSec()), r.ratio(),
                best.threads().label(), others.isEmpty() ? "" : " (" + others + ")");
    }

    /** "135,100 (122,947-142,047)". */
    static String spread(Spread s) {
        return String.format(Locale.ROOT, "%,.0f (%,.0f-%,.0f)", s.median(), s.min(), s.max());
    }

    /** Header, then one line per row. */
    String table() {
        StringBuilder sb = new StringBuilder(tableHeader()).append('\n');
        for (CompareRow r : rows) sb.append(tableLine(r)).append('\n');
        return sb.toString();
    }

    /** The rows as a JSON array (fields in the class comment). */
    ArrayNode toJson() {
        ArrayNode arr = JSON.createArrayNode();
        for (CompareRow r : rows) {
            ObjectNode o = arr.addObject();
            o.put("model", r.c().model());
            o.put("batch", r.c().batch());
            o.put("optimizer", r.c().optimizer());
            o.put("lr", (double) r.lr());
            o.put("threads", r.threads());
            o.put("warmup_steps", r.warmup());
            o.put("steps", r.steps());
            o.put("repeats", repeats);
            o.put("forkprop_samples_per_sec", r.forkprop().median());
            o.put("forkprop_min", r.forkprop().min());
            o.put("forkprop_max", r.forkprop().max());
            TorchSetting best = r.best();
            putNumber(o, "torch_samples_per_sec", best == null ? Double.NaN : best.samplesPerSec().median());
            putNumber(o, "torch_min", best == null ? Double.NaN : best.samplesPerSec().min());
            putNumber(o, "torch_max", best == null ? Double.NaN : best.samplesPerSec().max());
            o.put("torch_threading", best == null ? null : best.threads().name());
            if (best == null) {
                o.putNull("torch_intra_op_threads");
                o.putNull("torch_blas_threads");
            } else {
                o.put("torch_intra_op_threads", best.threads().intraOp());
                o.put("torch_blas_threads", best.threads().blas());
            }
            putNumber(o, "ratio", r.ratio());
            ArrayNode settings = o.putArray("torch_settings");
            for (TorchSetting s : r.torch()) {
                ObjectNode so = settings.addObject();
                so.put("name", s.threads().name());
                so.put("intra_op_threads", s.threads().intraOp());
                so.put("blas_threads", s.threads().blas());
                so.put("samples_per_sec", s.samplesPerSec().median());
                so.put("min", s.samplesPerSec().min());
                so.put("max", s.samplesPerSec().max());
            }
            o.put("torch_note", r.torchNote());
        }
        return arr;
    }

    /** The rows as CSV, {@link #CSV_HEADER} first; missing numbers are empty fields. */
    String toCsv() {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (CompareRow r : rows) {
            TorchSetting best = r.best();
            Spread t = best == null ? new Spread(Double.NaN, Double.NaN, Double.NaN) : best.samplesPerSec();
            String settings = r.torch().stream()
                    .map(s -> s.threads().name() + "=" + csvNumber(s.samplesPerSec().median()))
                    .collect(Collectors.joining(";"));
            sb.append(String.join(",", r.c().model(), Integer.toString(r.c().batch()), r.c().optimizer(),
                    Float.toString(r.lr()), Integer.toString(r.threads()), Integer.toString(r.warmup()),
                    Integer.toString(r.steps()), Integer.toString(repeats),
                    csvNumber(r.forkprop().median()), csvNumber(r.forkprop().min()), csvNumber(r.forkprop().max()),
                    csvNumber(t.median()), csvNumber(t.min()), csvNumber(t.max()),
                    best == null ? "" : best.threads().name(),
                    best == null ? "" : Integer.toString(best.threads().intraOp()),
                    best == null ? "" : Integer.toString(best.threads().blas()),
                    Double.isNaN(r.ratio()) ? "" : String.format(Locale.ROOT, "%.4f", r.ratio()),
                    settings, csvText(r.torchNote())));
            sb.append('\n');
        }
        return sb.toString();
    }

    void writeJson(Path file) throws IOException {
        JSON.writeValue(file.toFile(), toJson());
    }

    void writeCsv(Path file) throws IOException {
        Files.writeString(file, toCsv());
    }

    private static void putNumber(ObjectNode o, String field, double v) {
        if (Double.isFinite(v)) {
            o.put(field, v);
        } else {
            o.putNull(field);
        }
    }

    private static String csvNumber(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f", v) : "";
    }

    /** A note as one CSV field: quoted, with quotes doubled, when it holds a comma, quote or newline. */
    private static String csvText(String s) {
        if (s == null) return "";
        String one = s.replace('\n', ' ');
        return one.contains(",") || one.contains("\"") ? "\"" + one.replace("\"", "\"\"") + "\"" : one;
    }
}
