package dev.forkprop.cli;

import dev.forkprop.io.Checkpoint;
import dev.forkprop.io.Safetensors;
import dev.forkprop.io.TorchExport;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code forkprop export}: a checkpoint's weights as a PyTorch-loadable safetensors file. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a checkpoint's weights (no optimizer state) as safetensors in PyTorch layout.",
                "Layer i of the model is module i of the equivalent nn.Sequential (activations and dropout are modules too):",
                "  dense:N   -> nn.Linear(in, N): layers.<i>.weight [N, in] (transposed from ours), layers.<i>.bias [N]",
                "  batchnorm -> nn.BatchNorm1d(w, eps=1e-5, momentum=0.1): weight, bias, running_mean, running_var,",
                "               num_batches_tracked (int64 scalar: the checkpoint's step)",
                "  layernorm -> nn.LayerNorm(w, eps=1e-5): weight, bias",
                "  relu, leakyrelu (0.01), sigmoid, tanh, gelu, dropout -> nn.ReLU, nn.LeakyReLU, ..., nn.Dropout: no tensors",
                "Load in Python: m.load_state_dict(safetensors.torch.load_file(F)) where m.layers is the nn.Sequential",
                "Metadata: forkprop.model, forkprop.input_width, forkprop.export (format version, 2), and for a model trained",
                "on CSV forkprop.features: the column scaling and categories to apply to inputs (JSON).",
                "'train --init-from F' reads such a file back."})
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "a checkpoint written by train")
    Path checkpoint;
    @Option(names = "--out", required = true, description = "the safetensors file to write")
    Path out;

    @Override
    public Integer call() {
        LoadedCheckpoint l = LoadedCheckpoint.read(checkpoint);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("forkprop.model", l.net().spec());
        meta.put("forkprop.input_width", Integer.toString(l.net().in()));
        // Version 2 adds the CSV feature encoding; files without the key (version 1) import the same.
        meta.put("forkprop.export", "2");
        String features = l.checkpoint().metadata().get("features");
        if (features != null) meta.put("forkprop.features", features);
        // Every step updates the running statistics once, so the step count is the batches tracked.
        var tensors = TorchExport.export(l.net(), l.params(), l.buffers(), l.checkpoint().longField("step", 0, Long.MAX_VALUE));
        Checkpoint.writeAtomically(out, Safetensors.encode(tensors, meta), "export");
        System.err.printf("forkprop: wrote %s: %d tensors of model %s (step %s)%n", out, tensors.size(), l.net().spec(),
                l.checkpoint().get("step"));
        return 0;
    }
}
