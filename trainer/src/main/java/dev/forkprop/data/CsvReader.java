package dev.forkprop.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads a comma-separated table with a header row into a {@link TableDataset}: one column is the
 * label (classification: a non-negative integer class, {@code numClasses} = largest + 1) or the
 * target (regression: a finite real), every other column is a numeric feature.
 *
 * <p>Format: UTF-8 (a leading BOM is skipped), {@code ,} between cells, cells trimmed, cells may
 * be double-quoted ({@code ""} inside quotes is a quote; a quoted cell cannot span lines), blank
 * lines are skipped. Numbers are decimal ({@code -1.5}, {@code 2e-3}); hex, {@code 1f}-style
 * suffixes, NaN and infinities are rejected.
 *
 * <p>Each problem is one {@link BadDataException}:
 * {@code <file>: line <n>: column '<name>' (<index>): <found>, expected <what>}, or for whole-row
 * problems {@code <file>: line <n>: <found>, expected <what>}. Lines count from 1 (the header).
 *
 * <p>Options: columns read as categories ({@link #categorical}), what a missing cell does
 * ({@link #missing}: by default it is an error, as above), the feature columns a file must have
 * ({@link #expectColumns}) and whether the label column may be absent ({@link #labelOptional}).
 * {@link #readTable} returns the cells as read; {@link TableEncoding} scales and one-hot encodes
 * them. Not here: string class labels. Immutable configuration; {@link #read} and
 * {@link #readTable} allocate the table and may be called from any thread.
 */
public final class CsvReader {

    /** The largest class label accepted; the one-hot target is {@code MAX_LABEL + 1} wide at most. */
    public static final int MAX_LABEL = 65535;

    private final boolean classification;
    // The label column: by name if labelName != null, else (or if no header has that name and
    // hasIndex) by labelIndex, negative from the end. The default is index -1, the last column.
    private final String labelName;
    private final boolean hasIndex;
    private final int labelIndex;
    /** Columns read as strings (one-hot encoded later), by header name. */
    private final Set<String> categorical;
    /** What a missing cell does: stops the read, drops its row, or is kept (NaN / null) for imputation. */
    private final Missing missing;
    /** The feature columns the file must have, by name, in any order (null: every non-label column). */
    private final List<String> expected;
    /** Whether a file without the label column is accepted (prediction input). */
    private final boolean labelOptional;

    /** What {@link #readTable} does with a missing cell (empty, or one of {@link #MISSING_TOKENS}). */
    public enum Missing {
        /** The read stops with a one-line error naming the cell. */
        ERROR,
        /** The row is left out and counted ({@link CsvTable#dropped}). */
        DROP,
        /** The cell is kept as missing for {@link TableEncoding} to fill with the training mean. */
        MEAN;

        /** {@code error}, {@code drop} or {@code mean}, as {@code --missing} takes it. */
        public static Missing parse(String s) {
            return switch (s) {
                case "error" -> ERROR;
                case "drop" -> DROP;
                case "mean" -> MEAN;
                default -> throw new IllegalArgumentException("--missing must be error, drop or mean, got '" + s + "'");
            };
        }

        /** The flag value. */
        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Cells read as missing besides the empty cell (compared ignoring case), as pandas and R write them. */
    public static final List<String> MISSING_TOKENS = List.of("na", "n/a", "nan", "null", "?");

    private CsvReader(boolean classification, String labelName, boolean hasIndex, int labelIndex) {
        this(classification, labelName, hasIndex, labelIndex, Set.of(), Missing.ERROR, null, false);
    }

    private CsvReader(boolean classification, String labelName, boolean hasIndex, int labelIndex,
                      Set<String> categorical, Missing missing, List<String> expected, boolean labelOptional) {
        this.classification = classification;
        this.labelName = labelName;
        this.hasIndex = hasIndex;
        this.labelIndex = labelIndex;
        this.categorical = categorical;
        this.missing = missing;
        this.expected = expected;
        this.labelOptional = labelOptional;
    }

    /** Integer class labels in the last column (change it with {@link #labelColumn}). */
    public static CsvReader classification() {
        return new CsvReader(true, null, true, -1);
    }

    /** A real-valued target in the last column (change it with {@link #labelColumn}). */
    public static CsvReader regression() {
        return new CsvReader(false, null, true, -1);
    }

    /** The label (or target) column by its header name. */
    public CsvReader labelColumn(String name) {
        return new CsvReader(classification, Objects.requireNonNull(name, "name"), false, 0, categorical, missing, expected, labelOptional);
    }

    /** The label (or target) column by 0-based index; negative counts from the end (-1 = last). */
    public CsvReader labelColumn(int index) {
        return new CsvReader(classification, null, true, index, categorical, missing, expected, labelOptional);
    }

    /**
     * Parses a CLI value such as {@code --label species} or {@code --label 4}: a header with that
     * name wins; otherwise an integer selects by index (negative from the end).
     */
    public CsvReader labelColumnSpec(String spec) {
        Objects.requireNonNull(spec, "spec");
        try {
            return new CsvReader(classification, spec, true, Integer.parseInt(spec.strip()), categorical, missing, expected, labelOptional);
        } catch (NumberFormatException e) {
            return labelColumn(spec);
        }
    }

    /** Reads these columns (by header name) as strings, for one-hot encoding; each must exist. */
    public CsvReader categorical(Collection<String> names) {
        return new CsvReader(classification, labelName, hasIndex, labelIndex, Set.copyOf(names), missing, expected, labelOptional);
    }

    /** What a missing cell does (default {@link Missing#ERROR}). */
    public CsvReader missing(Missing policy) {
        return new CsvReader(classification, labelName, hasIndex, labelIndex, categorical, Objects.requireNonNull(policy), expected, labelOptional);
    }

    /**
     * Requires exactly these feature columns (by name, in any order; read in this order) besides
     * the label column: a missing or an unknown column is a one-line error.
     */
    public CsvReader expectColumns(List<String> names) {
        return new CsvReader(classification, labelName, hasIndex, labelIndex, categorical, missing, List.copyOf(names), labelOptional);
    }

    /**
     * Accepts a file without the label column (rows to predict); a label column that is there is
     * still read, by name only. Needs {@link #labelColumn(String)} and {@link #expectColumns}, so that
     * a label column can be told from a feature column.
     */
    public CsvReader labelOptional() {
        return new CsvReader(classification, labelName, hasIndex, labelIndex, categorical, missing, expected, true);
    }

    /**
     * Reads {@code file} as a table of raw numeric features (no categorical columns, no encoding);
     * the dataset is named after the file name (as given).
     */
    public TableDataset read(Path file) {
        return rawDataset(readTable(file));
    }

    /**
     * Reads from {@code in} (not closed here) as {@link #read(Path)} does; {@code source} names it in
     * messages and becomes the dataset name. An I/O failure of {@code in} is a {@link MissingDataException}.
     */
    public TableDataset read(String source, Reader in) {
        return rawDataset(readTable(source, in));
    }

    /** Reads {@code file} into a {@link CsvTable}, with this reader's columns and missing-cell policy. */
    public CsvTable readTable(Path file) {
        String src = file.toString();
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > IdxReader.MAX_PAYLOAD) {
                throw new BadDataException(src + ": " + size + " bytes, expected at most " + IdxReader.MAX_PAYLOAD
                        + " (CSV files are read into one array)");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new MissingDataException(src + ": no such file", e);
        } catch (IOException e) {
            throw new MissingDataException(src + ": cannot read (" + e + ")", e);
        }
        return readTable(src, new StringReader(decodeUtf8(src, bytes)));
    }

    /** {@link #readTable(Path)} from {@code in} (not closed here), named {@code source}. */
    public CsvTable readTable(String source, Reader in) {
        LineCounter lines = new LineCounter();
        try {
            return parse(source, in, lines);
        } catch (CharacterCodingException e) {
            throw new BadDataException(source + ": not valid text (" + e + "), expected a UTF-8 CSV file", e);
        } catch (IOException e) {
            throw new MissingDataException(source + ": read failed at line " + (lines.lineNo + 1) + " (" + e + ")", e);
        }
    }

    /** The table's features as they are: every column numeric, nothing missing, a label column. */
    private TableDataset rawDataset(CsvTable t) {
        if (t.hasCategorical() || t.labels() == null) {
            throw new IllegalStateException("a raw dataset needs numeric features and a label column");
        }
        if (classification) {
            int[] labels = new int[t.rows()];
            for (int i = 0; i < labels.length; i++) labels[i] = (int) t.labels()[i];
            return TableDataset.classification(t.source(), t.numeric(), t.width(), labels, t.numClasses());
        }
        return TableDataset.regression(t.source(), t.numeric(), t.width(), t.labels(), 1);
    }

    /** Strict UTF-8 decoding; a bad byte is reported with its line and offset. */
    private static String decodeUtf8(String src, byte[] bytes) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8, bytes.length + 1L));
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) {
            r = dec.flush(out);
        }
        if (r.isError()) {
            int at = in.position();
            long line = 1;
            for (int i = 0; i < at; i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw BadDataException.atLine(src, line, String.format("byte 0x%02X at offset %d is not UTF-8,"
                    + " expected a UTF-8 CSV file", bytes[at] & 0xFF, at));
        }
        return out.flip().toString();
    }

    private static final class LineCounter {
        long lineNo;
    }

    private CsvTable parse(String source, Reader in, LineCounter counter) throws IOException {
        BufferedReader br = in instanceof BufferedReader b ? b : new BufferedReader(in);
        long lineNo = 0;
        String line;
        do {
            line = br.readLine();
            counter.lineNo = ++lineNo;
            if (line != null && lineNo == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
        } while (line != null && line.isBlank());
        if (line == null) {
            throw BadDataException.atLine(source, lineNo, "empty file, expected a header row");
        }
        List<String> header = split(source, lineNo, line);
        int cols = header.size();
        int label = resolveLabel(source, lineNo, header);
        if (cols < 2 && label >= 0) {
            throw BadDataException.atLine(source, lineNo, "1 column, expected a label column and at least one feature column");
        }
        // column c of the file -> feature index, or -1 for the label column
        int[] featureOf = featureIndices(source, lineNo, header, label);
        List<String> names = expected != null ? expected : new ArrayList<>(cols);
        if (expected == null) for (int c = 0; c < cols; c++) if (c != label) names.add(header.get(c));
        int featureDim = names.size();
        boolean[] isCategorical = new boolean[featureDim];
        for (String name : categorical) {
            int f = names.indexOf(name);
            if (f < 0) {
                throw BadDataException.atLine(source, lineNo, "no feature column named '" + name + "' for --categorical in header "
                        + header + (label >= 0 && header.get(label).equals(name) ? " (it is the label column)" : ""));
            }
            isCategorical[f] = true;
        }
        long headerLine = lineNo;

        float[] x = new float[featureDim * 64];
        float[] y = new float[64];
        String[][] cats = new String[featureDim][];
        for (int f = 0; f < featureDim; f++) if (isCategorical[f]) cats[f] = new String[64];
        // One String instance per distinct category value, so a large file holds each value once.
        Map<String, String> interned = new HashMap<>();
        int rows = 0, dropped = 0;
        int maxLabel = -1;
        rows:
        while ((line = br.readLine()) != null) {
            counter.lineNo = ++lineNo;
            if (line.isBlank()) {
                continue;
            }
            List<String> cells = split(source, lineNo, line);
            if (cells.size() != cols) {
                throw BadDataException.atLine(source, lineNo, cells.size() + " cells, expected " + cols
                        + " (as in the header on line " + headerLine + ")");
            }
            if ((long) (rows + 1) * featureDim > IdxReader.MAX_PAYLOAD) {
                throw BadDataException.atLine(source, lineNo, "more than " + rows + " rows, expected at most "
                        + IdxReader.MAX_PAYLOAD / featureDim + " (one Java array)");
            }
            if (rows == y.length) {
                int grown = (int) Math.min(IdxReader.MAX_PAYLOAD / featureDim, 2L * rows);
                y = Arrays.copyOf(y, grown);
                x = Arrays.copyOf(x, grown * featureDim);
                for (int f = 0; f < featureDim; f++) if (cats[f] != null) cats[f] = Arrays.copyOf(cats[f], grown);
            }
            int base = rows * featureDim;
            for (int c = 0; c < cols; c++) {
                String cell = cells.get(c);
                boolean absent = missing != Missing.ERROR && isMissing(cell);
                if (c == label) {
                    if (absent) {
                        if (missing == Missing.DROP) {
                            dropped++;
                            continue rows;
                        }
                        throw cellError(source, lineNo, header, c, "missing label", "a value (--missing drop skips such rows)");
                    }
                    float v = number(source, lineNo, header, c, cell);
                    if (classification) {
                        if (v != Math.rint(v) || v < 0 || v > MAX_LABEL) {
                            throw cellError(source, lineNo, header, c, "'" + cell + "'",
                                    "a class label: an integer in 0.." + MAX_LABEL);
                        }
                    }
                    y[rows] = v;
                    continue;
                }
                int f = featureOf[c];
                if (absent && missing == Missing.DROP) {
                    dropped++;
                    continue rows;
                }
                if (isCategorical[f]) {
                    if (cell.isEmpty() && missing == Missing.ERROR) {
                        throw cellError(source, lineNo, header, c, "empty cell", "a category (or --missing drop|mean)");
                    }
                    cats[f][rows] = absent ? null : interned.computeIfAbsent(cell, v -> v);
                    x[base + f] = 0f;
                } else {
                    x[base + f] = absent ? Float.NaN : number(source, lineNo, header, c, cell);
                }
            }
            if (classification && label >= 0) maxLabel = Math.max(maxLabel, (int) y[rows]);
            rows++;
        }
        if (rows == 0) {
            throw BadDataException.atLine(source, lineNo + 1, dropped > 0
                    ? "no data rows left after dropping " + dropped + " with missing cells, expected at least one"
                    : "no data rows, expected at least one after the header");
        }
        for (int f = 0; f < featureDim; f++) if (cats[f] != null) cats[f] = Arrays.copyOf(cats[f], rows);
        return new CsvTable(source, List.copyOf(names), isCategorical, Arrays.copyOf(x, rows * featureDim), cats,
                label >= 0 ? Arrays.copyOf(y, rows) : null, label >= 0 ? header.get(label) : null, rows,
                classification && label >= 0 ? maxLabel + 1 : 0, dropped);
    }

    /** Whether {@code cell} is a missing value: empty, or one of {@link #MISSING_TOKENS}. */
    static boolean isMissing(String cell) {
        if (cell.isEmpty()) return true;
        for (String t : MISSING_TOKENS) if (t.equalsIgnoreCase(cell)) return true;
        return false;
    }

    /**
     * For each column of the file, its feature index ({@code -1} for the label column), checking
     * the header against {@link #expected}: every expected column once, nothing else.
     */
    private int[] featureIndices(String source, long lineNo, List<String> header, int label) {
        int cols = header.size();
        int[] featureOf = new int[cols];
        if (expected == null) {
            for (int c = 0, f = 0; c < cols; c++) featureOf[c] = c == label ? -1 : f++;
            return featureOf;
        }
        boolean[] seen = new boolean[expected.size()];
        List<String> unknown = new ArrayList<>(), absent = new ArrayList<>();
        for (int c = 0; c < cols; c++) {
            if (c == label) {
                featureOf[c] = -1;
                continue;
            }
            String name = header.get(c);
            int f = expected.indexOf(name);
            if (f < 0) {
                unknown.add("'" + name + "'");
                continue;
            }
            if (seen[f]) {
                throw BadDataException.atLine(source, lineNo, "column '" + name + "' appears twice, expected each feature column once");
            }
            seen[f] = true;
            featureOf[c] = f;
        }
        for (int f = 0; f < seen.length; f++) if (!seen[f]) absent.add("'" + expected.get(f) + "'");
        if (!unknown.isEmpty() || !absent.isEmpty()) {
            String found = (absent.isEmpty() ? "" : "no column " + String.join(", ", absent))
                    + (absent.isEmpty() || unknown.isEmpty() ? "" : " and ")
                    + (unknown.isEmpty() ? "" : "unknown column " + String.join(", ", unknown));
            throw BadDataException.atLine(source, lineNo, found + ", expected " + (unknown.isEmpty() ? "" : "only ") + "the model's "
                    + expected.size() + " feature columns " + expected + (unknown.isEmpty() || labelName == null ? "" : " and the label '" + labelName + "'"));
        }
        return featureOf;
    }

    private int resolveLabel(String source, long lineNo, List<String> header) {
        int cols = header.size();
        if (labelName != null) {
            int found = -1;
            for (int c = 0; c < cols; c++) {
                if (header.get(c).equals(labelName)) {
                    if (found >= 0) {
                        throw BadDataException.atLine(source, lineNo, "label column '" + labelName
                                + "' appears twice (columns " + found + " and " + c + "), expected a unique name");
                    }
                    found = c;
                }
            }
            if (found >= 0) {
                return found;
            }
            if (labelOptional) {
                return -1;
            }
            if (!hasIndex) {
                throw BadDataException.atLine(source, lineNo, "no column named '" + labelName + "' in header "
                        + header + ", expected a column name or an index 0.." + (cols - 1));
            }
        }
        int resolved = labelIndex < 0 ? cols + labelIndex : labelIndex;
        if (resolved < 0 || resolved >= cols) {
            throw BadDataException.atLine(source, lineNo, "no column " + labelIndex + " in header " + header
                    + ", expected a column name or an index 0.." + (cols - 1) + " (negative from the end)");
        }
        return resolved;
    }

    /** A finite float, or a one-line error naming the cell. */
    private static float number(String source, long lineNo, List<String> header, int col, String cell) {
        if (cell.isEmpty()) {
            throw cellError(source, lineNo, header, col, "empty cell", "a finite number");
        }
        String lower = cell.toLowerCase(java.util.Locale.ROOT);
        String unsigned = lower.startsWith("+") || lower.startsWith("-") ? lower.substring(1) : lower;
        if (unsigned.equals("nan")) {
            throw cellError(source, lineNo, header, col, "NaN", "a finite number");
        }
        if (unsigned.equals("inf") || unsigned.equals("infinity")) {
            throw cellError(source, lineNo, header, col, "infinite value '" + cell + "'", "a finite number");
        }
        if (!isDecimal(cell)) {
            throw cellError(source, lineNo, header, col, "non-numeric cell '" + cell + "'", "a finite number");
        }
        float v = Float.parseFloat(cell);
        if (!Float.isFinite(v)) {
            throw cellError(source, lineNo, header, col, "'" + cell + "' overflows float", "a finite number");
        }
        return v;
    }

    /** {@code [+-]digits[.digits][(e|E)[+-]digits]} with at least one mantissa digit. */
    private static boolean isDecimal(String s) {
        int i = 0, n = s.length();
        if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) i++;
        int digits = 0;
        while (i < n && Character.isDigit(s.charAt(i)) && s.charAt(i) < 128) { i++; digits++; }
        if (i < n && s.charAt(i) == '.') {
            i++;
            while (i < n && Character.isDigit(s.charAt(i)) && s.charAt(i) < 128) { i++; digits++; }
        }
        if (digits == 0) return false;
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) i++;
            int exp = 0;
            while (i < n && Character.isDigit(s.charAt(i)) && s.charAt(i) < 128) { i++; exp++; }
            if (exp == 0) return false;
        }
        return i == n;
    }

    private static BadDataException cellError(String source, long lineNo, List<String> header, int col,
                                              String found, String expected) {
        return BadDataException.atLine(source, lineNo, "column '" + header.get(col) + "' (" + col + "): "
                + found + ", expected " + expected);
    }

    /** Splits one line into trimmed cells, honouring double quotes. */
    private static List<String> split(String source, long lineNo, String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        int i = 0, n = line.length();
        while (true) {
            // One cell: optional spaces, then either a quoted string or raw text up to the comma.
            while (i < n && line.charAt(i) == ' ') i++;
            if (i < n && line.charAt(i) == '"') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char ch = line.charAt(i++);
                    if (ch == '"') {
                        if (i < n && line.charAt(i) == '"') {
                            cell.append('"');
                            i++;
                        } else {
                            closed = true;
                            break;
                        }
                    } else {
                        cell.append(ch);
                    }
                }
                if (!closed) {
                    throw BadDataException.atLine(source, lineNo, "unterminated quote in cell " + cells.size()
                            + ", expected a closing '\"' on the same line");
                }
                while (i < n && line.charAt(i) == ' ') i++;
                if (i < n && line.charAt(i) != ',') {
                    throw BadDataException.atLine(source, lineNo, "text after the closing quote of cell "
                            + cells.size() + ", expected ','");
                }
                cells.add(cell.toString().strip());
            } else {
                int start = i;
                while (i < n && line.charAt(i) != ',') i++;
                cells.add(line.substring(start, i).strip());
            }
            cell.setLength(0);
            if (i >= n) {
                return cells;
            }
            i++; // the comma
        }
    }
}
