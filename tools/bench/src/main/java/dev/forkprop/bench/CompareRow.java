package dev.forkprop.bench;

import java.util.Comparator;
import java.util.List;

/**
 * One line of the {@code bench compare} report: a case at one thread count, forkprop's samples/s
 * over the repeats and PyTorch's for each threading setting that was run.
 *
 * @param lr        the learning rate both sides trained with
 * @param warmup    untimed steps per run
 * @param steps     timed steps per run
 * @param forkprop  forkprop's samples/s over the repeats
 * @param torch     PyTorch's samples/s per threading setting, in run order; empty when PyTorch was
 *                  skipped, or failed before a setting completed its repeats
 * @param torchNote null when PyTorch ran; else "skipped" or "failed: REASON"
 */
record CompareRow(CompareCase c, int threads, float lr, int warmup, int steps, Spread forkprop,
                  List<TorchSetting> torch, String torchNote) {

    /** One PyTorch threading setting's samples/s over the repeats. */
    record TorchSetting(TorchThreads threads, Spread samplesPerSec) {}

    CompareRow {
        torch = List.copyOf(torch);
    }

    /** The setting with the highest median samples/s, or null when there is none. */
    TorchSetting best() {
        return torch.stream().max(Comparator.comparingDouble(s -> s.samplesPerSec().median())).orElse(null);
    }

    /** forkprop's median / PyTorch's best median; NaN without PyTorch. */
    double ratio() {
        TorchSetting b = best();
        return b == null ? Double.NaN : forkprop.median() / b.samplesPerSec().median();
    }
}
