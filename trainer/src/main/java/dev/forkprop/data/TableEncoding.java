package dev.forkprop.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * How the columns of a CSV file become a model's inputs, fitted on the training rows only and then
 * applied unchanged to every other row (validation, test, {@code eval}, {@code predict}, a
 * resumed run): each numeric column is scaled, {@code (x - shift) / scale}, and each categorical
 * column becomes one 0/1 input per category seen in training (sorted), a category not seen in
 * training becoming all zeros. A missing numeric cell ({@code --missing mean}) takes the column's
 * training mean before scaling; a missing category is all zeros. Regression targets are
 * standardised the same way, and {@link #target} / {@link #lossUnits} turn the model's outputs and
 * losses back into the data's units.
 *
 * <p>Scalings ({@code --normalize}): {@code standard} (shift the training mean, scale the
 * population standard deviation), {@code minmax} (shift the minimum, scale the range) and
 * {@code none}; a constant column gets scale 1. Statistics are computed in double; encoded values
 * are {@code (float) ((x - shift) / scale)}.
 *
 * <p>Checkpoints and exports store it as JSON ({@link #toJson}, {@link #fromJson}). Immutable and
 * thread-safe.
 */
public final class TableEncoding {

    /** Format version of {@link #toJson}. */
    static final int JSON_VERSION = 1;

    /** One CSV column: numeric (shift, scale, fill) or categorical (its training categories, sorted). */
    record Column(String name, boolean categorical, double shift, double scale, double fill, List<String> values) {
        int width() {
            return categorical ? values.size() : 1;
        }
    }

    /** A table encoded into a dataset, and what the encoding had to make up. */
    public record Encoded(TableDataset data, long unseenCategories, long filledCells) {}

    private final boolean classification;
    private final String label;
    private final String scaling;
    private final String missing;
    private final int numClasses;
    private final double targetShift, targetScale;
    private final List<Column> columns;
    private final int width;
    /** Per categorical column (by index), category -> offset of its input within the column. */
    private final Map<Integer, Map<String, Integer>> index = new HashMap<>();

    private TableEncoding(boolean classification, String label, String scaling, String missing, int numClasses,
                          double targetShift, double targetScale, List<Column> columns) {
        this.classification = classification;
        this.label = label;
        this.scaling = scaling;
        this.missing = missing;
        this.numClasses = numClasses;
        this.targetShift = targetShift;
        this.targetScale = targetScale;
        this.columns = List.copyOf(columns);
        int w = 0;
        for (int c = 0; c < this.columns.size(); c++) {
            Column col = this.columns.get(c);
            w += col.width();
            if (col.categorical()) {
                Map<String, Integer> m = new HashMap<>();
                for (int i = 0; i < col.values().size(); i++) m.put(col.values().get(i), i);
                index.put(c, m);
            }
        }
        this.width = w;
    }

    /** The scalings {@code --normalize} takes for CSV data. */
    public static final List<String> SCALINGS = List.of("standard", "minmax", "none");

    /**
     * Fits the encoding on rows {@code [from, to)} of {@code t} (the training rows).
     *
     * @param scaling    standard, minmax or none
     * @param missing    the {@code --missing} policy the table was read with, recorded for predict
     * @param numClasses classification: the width of the one-hot target (largest label in all the
     *                   data + 1); regression: 0
     */
    public static TableEncoding fit(CsvTable t, int from, int to, String scaling, CsvReader.Missing missing, int numClasses) {
        if (!SCALINGS.contains(scaling)) {
            throw new IllegalArgumentException("--normalize for CSV data must be standard, minmax or none, got '" + scaling + "'");
        }
        if (to <= from) throw new IllegalArgumentException(t.source() + ": no training rows to fit the feature scaling on");
        int w = t.width();
        List<Column> cols = new ArrayList<>(w);
        float[] x = t.numeric();
        for (int f = 0; f < w; f++) {
            if (t.categorical()[f]) {
                TreeSet<String> seen = new TreeSet<>();
                for (int r = from; r < to; r++) {
                    String v = t.categories()[f][r];
                    if (v != null) seen.add(v);
                }
                cols.add(new Column(t.columns().get(f), true, 0, 1, 0, List.copyOf(seen)));
                continue;
            }
            double[] s = stats(x, f, w, from, to);
            cols.add(new Column(t.columns().get(f), false, shift(scaling, s), scale(scaling, s), s[0], List.of()));
        }
        double tShift = 0, tScale = 1;
        boolean classification = numClasses > 0;
        if (!classification && !scaling.equals("none")) {
            double[] s = stats(t.labels(), 0, 1, from, to);
            tShift = s[0];
            tScale = s[1] > 0 ? s[1] : 1;
        }
        TableEncoding e = new TableEncoding(classification, t.label(), scaling, missing.flag(), numClasses, tShift, tScale, cols);
        if (e.width == 0) throw new IllegalArgumentException(t.source() + ": no feature columns left to train on");
        return e;
    }

    /**
     * The encoding of a checkpoint written before CSV features were scaled: every column numeric
     * and used as it is, the target too.
     */
    public static TableEncoding raw(List<String> columns, String label, int numClasses) {
        List<Column> cols = new ArrayList<>();
        for (String c : columns) cols.add(new Column(c, false, 0, 1, 0, List.of()));
        return new TableEncoding(numClasses > 0, label, "none", "error", numClasses, 0, 1, cols);
    }

    /** {mean, std, min, max} of column f over rows [from, to), ignoring NaN; {0, 1, 0, 1} when it has no value. */
    private static double[] stats(float[] x, int f, int stride, int from, int to) {
        double sum = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        long n = 0;
        for (int r = from; r < to; r++) {
            float v = x[r * stride + f];
            if (Float.isNaN(v)) continue;
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
            n++;
        }
        if (n == 0) return new double[] {0, 1, 0, 1};
        double mean = sum / n, ss = 0;
        for (int r = from; r < to; r++) {
            float v = x[r * stride + f];
            if (!Float.isNaN(v)) ss += (v - mean) * (v - mean);
        }
        return new double[] {mean, Math.sqrt(ss / n), min, max};
    }

    private static double shift(String scaling, double[] s) {
        return switch (scaling) {
            case "standard" -> s[0];
            case "minmax" -> s[2];
            default -> 0;
        };
    }

    private static double scale(String scaling, double[] s) {
        double v = switch (scaling) {
            case "standard" -> s[1];
            case "minmax" -> s[3] - s[2];
            default -> 1;
        };
        return v > 0 && Double.isFinite(v) ? v : 1;
    }

    /**
     * Encodes rows {@code [from, to)} of {@code t}, which must have this encoding's columns (in
     * its order, as {@link CsvReader#expectColumns} reads them). Without a label column (rows to
     * predict) every label is 0.
     */
    public Encoded encode(CsvTable t, int from, int to) {
        if (!t.columns().equals(columnNames())) {
            throw new IllegalArgumentException(t.source() + ": columns " + t.columns() + ", the encoding has " + columnNames());
        }
        int n = to - from, w = t.width();
        float[] out = new float[Math.multiplyExact(n, width)];
        long unseen = 0, filled = 0;
        float[] x = t.numeric();
        for (int r = 0; r < n; r++) {
            int o = r * width;
            for (int f = 0; f < w; f++) {
                Column col = columns.get(f);
                if (col.categorical()) {
                    String v = t.categories()[f][from + r];
                    if (v == null) {
                        filled++;
                    } else {
                        Integer at = index.get(f).get(v);
                        if (at == null) unseen++;
                        else out[o + at] = 1f;
                    }
                    o += col.width();
                } else {
                    double v = x[(from + r) * w + f];
                    if (Double.isNaN(v)) {
                        v = col.fill();
                        filled++;
                    }
                    out[o++] = (float) ((v - col.shift()) / col.scale());
                }
            }
        }
        String name = n == t.rows() ? t.source() : t.source() + "[" + from + "," + to + ")";
        float[] labels = t.labels();
        TableDataset d;
        if (classification) {
            int[] y = new int[n];
            for (int r = 0; r < n; r++) {
                float v = labels == null ? 0 : labels[from + r];
                if (v >= numClasses) {
                    throw new BadDataException(t.source() + ": label " + (int) v + " in row " + (from + r + 1)
                            + ", expected a class the model has: 0.." + (numClasses - 1));
                }
                y[r] = (int) v;
            }
            d = TableDataset.classification(name, out, width, y, numClasses);
        } else {
            float[] y = new float[n];
            for (int r = 0; r < n; r++) y[r] = labels == null ? 0f : (float) ((labels[from + r] - targetShift) / targetScale);
            d = TableDataset.regression(name, out, width, y, 1);
        }
        return new Encoded(d, unseen, filled);
    }

    /** Inputs per row: numeric columns plus one per training category. */
    public int width() {
        return width;
    }

    /** The CSV feature columns, in the order {@link #encode} expects them. */
    public List<String> columnNames() {
        List<String> names = new ArrayList<>(columns.size());
        for (Column c : columns) names.add(c.name());
        return names;
    }

    /** The categorical columns, by name. */
    public List<String> categoricalColumns() {
        List<String> names = new ArrayList<>();
        for (Column c : columns) if (c.categorical()) names.add(c.name());
        return names;
    }

    /** The label column's name (null if the encoding was fitted on rows without one). */
    public String label() {
        return label;
    }

    public boolean isClassification() {
        return classification;
    }

    /** Classes (classification), else 0. */
    public int numClasses() {
        return numClasses;
    }

    /** The {@code --missing} policy the training data was read with. */
    public CsvReader.Missing missing() {
        return CsvReader.Missing.parse(missing);
    }

    /** The {@code --normalize} scaling. */
    public String scaling() {
        return scaling;
    }

    /** A model output for a regression target, in the data's units. */
    public double target(float encoded) {
        return encoded * targetScale + targetShift;
    }

    /**
     * The factor that takes a mean squared error on encoded targets to the data's units (the
     * target's variance when it is standardised; 1 for classification).
     */
    public double lossUnits() {
        return classification ? 1 : targetScale * targetScale;
    }

    /** The encoding as one line of JSON, for checkpoint and export metadata. */
    public String toJson() {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", JSON_VERSION);
        root.put("task", classification ? "classification" : "regression");
        if (label != null) root.put("label", label);
        root.put("normalize", scaling);
        root.put("missing", missing);
        root.put("classes", numClasses);
        root.put("target_shift", targetShift);
        root.put("target_scale", targetScale);
        ArrayNode cols = root.putArray("columns");
        for (Column c : columns) {
            ObjectNode o = cols.addObject();
            o.put("name", c.name());
            if (c.categorical()) {
                o.put("kind", "categorical");
                ArrayNode v = o.putArray("values");
                c.values().forEach(v::add);
            } else {
                o.put("kind", "numeric");
                o.put("shift", c.shift());
                o.put("scale", c.scale());
                o.put("fill", c.fill());
            }
        }
        try {
            return om.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree of strings and numbers always serialises
        }
    }

    /** Parses {@link #toJson}; anything malformed is a one-line IllegalArgumentException. */
    public static TableEncoding fromJson(String json) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("feature encoding is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException("feature encoding is not a JSON object");
        int version = root.path("version").asInt(-1);
        if (version != JSON_VERSION) throw new IllegalArgumentException("feature encoding version " + root.path("version") + ", expected " + JSON_VERSION);
        String task = text(root, "task");
        if (!task.equals("classification") && !task.equals("regression")) throw new IllegalArgumentException("feature encoding task '" + task + "'");
        String scaling = text(root, "normalize");
        if (!SCALINGS.contains(scaling)) throw new IllegalArgumentException("feature encoding normalize '" + scaling + "'");
        String missing = CsvReader.Missing.parse(text(root, "missing")).flag();
        int classes = root.path("classes").asInt(-1);
        if (task.equals("classification") ? classes < 1 || classes > CsvReader.MAX_LABEL + 1 : classes != 0) {
            throw new IllegalArgumentException("feature encoding has " + root.path("classes") + " classes for " + task);
        }
        List<Column> cols = new ArrayList<>();
        for (JsonNode c : root.path("columns")) {
            String name = text(c, "name"), kind = text(c, "kind");
            if (kind.equals("categorical")) {
                List<String> values = new ArrayList<>();
                for (JsonNode v : c.path("values")) values.add(v.asText());
                cols.add(new Column(name, true, 0, 1, 0, List.copyOf(values)));
            } else if (kind.equals("numeric")) {
                double scale = number(c, "scale");
                if (!(scale > 0)) throw new IllegalArgumentException("feature encoding column '" + name + "' has scale " + scale);
                cols.add(new Column(name, false, number(c, "shift"), scale, number(c, "fill"), List.of()));
            } else {
                throw new IllegalArgumentException("feature encoding column '" + name + "' has kind '" + kind + "'");
            }
        }
        if (cols.isEmpty()) throw new IllegalArgumentException("feature encoding has no columns");
        double tScale = number(root, "target_scale");
        if (!(tScale > 0)) throw new IllegalArgumentException("feature encoding has target_scale " + tScale);
        JsonNode label = root.get("label");
        return new TableEncoding(task.equals("classification"), label == null ? null : label.asText(), scaling, missing, classes,
                number(root, "target_shift"), tScale, cols);
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException("feature encoding has no text '" + key + "'");
        return v.asText();
    }

    private static double number(JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw new IllegalArgumentException("feature encoding has no finite number '" + key + "'");
        }
        return v.asDouble();
    }

    @Override
    public String toString() {
        int cats = categoricalColumns().size();
        return String.format(Locale.ROOT, "%d columns (%d categorical) -> %d inputs, %s scaling", columns.size(), cats, width, scaling);
    }
}
