package dev.forkprop.cli;

import dev.forkprop.data.Dataset;
import dev.forkprop.data.TrainingData;
import dev.forkprop.mpi.Mpi;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The check that every rank of an mpirun job was started alike: rank 0 sends its configuration
 * (the checkpoint's keys but {@code threads}, which may differ per rank) and a fingerprint of the
 * data it read; each rank compares, and every rank learns which ranks differ and where. A job whose
 * ranks would train different models, or the same one on different data, stops before its first
 * step with one line from rank 0.
 */
final class RankAgreement {
    private RankAgreement() {}

    /** True when every rank agrees with rank 0; else rank 0 has printed the first difference. Collective. */
    static boolean check(Mpi mpi, Map<String, String> config, TrainingData data, PrintStream log) {
        List<String> mine = lines(config, data);
        String zero = new String(mpi.broadcast(String.join("\n", mine).getBytes(StandardCharsets.UTF_8), 0), StandardCharsets.UTF_8);
        List<String> theirs = List.of(zero.split("\n", -1));
        long firstDiff = -1;
        for (int i = 0; i < Math.max(mine.size(), theirs.size()); i++) {
            String a = i < mine.size() ? mine.get(i) : "", b = i < theirs.size() ? theirs.get(i) : "";
            if (!a.equals(b)) {
                firstDiff = i;
                break;
            }
        }
        long[] all = mpi.allgather(firstDiff);
        for (int r = 0; r < all.length; r++) {
            if (all[r] < 0) continue;
            String line = all[r] < theirs.size() ? theirs.get((int) all[r]) : "(more settings)";
            int eq = line.indexOf('=');
            log.printf("forkprop: rank %d was started with other flags or data than rank 0: its %s differs (rank 0 has %s); start every rank"
                    + " with the same arguments and data%n", r, eq < 0 ? line : line.substring(0, eq), eq < 0 ? "none" : "'" + line.substring(eq + 1) + "'");
            return false;
        }
        return true;
    }

    private static List<String> lines(Map<String, String> config, TrainingData data) {
        List<String> l = new ArrayList<>();
        config.forEach((k, v) -> {
            if (!k.equals("threads")) l.add(k + "=" + v.replace('\n', ' '));
        });
        l.add("training data=" + fingerprint(data.train()));
        l.add("test data=" + fingerprint(data.test()));
        return l;
    }

    /** Size, shape and a hash of up to 512 evenly spaced samples' features and targets. */
    private static String fingerprint(Dataset d) {
        int n = d.size(), step = Math.max(1, n / 512);
        float[] x = new float[d.featureDim()], y = new float[d.targetDim()];
        long h = 1;
        for (int i = 0; i < n; i += step) {
            d.features(i, x, 0);
            d.target(i, y, 0);
            for (float v : x) h = 31 * h + Float.floatToIntBits(v);
            for (float v : y) h = 31 * h + Float.floatToIntBits(v);
        }
        return n + " x " + d.featureDim() + " -> " + d.targetDim() + " #" + Long.toHexString(h);
    }
}
