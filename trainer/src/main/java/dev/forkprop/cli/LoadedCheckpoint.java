package dev.forkprop.cli;

import dev.forkprop.data.BadDataException;
import dev.forkprop.io.Checkpoint;
import dev.forkprop.io.Safetensors;
import dev.forkprop.loss.Loss;
import dev.forkprop.model.ModelSpec;
import dev.forkprop.model.Network;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.optim.Optimizers;
import java.nio.file.Path;

/**
 * A checkpoint turned back into a network and its arrays, for {@code eval} and {@code export}:
 * the model comes from the metadata ({@code model}, {@code input_width}), not from flags.
 *
 * <p>The metadata is input like the rest of the file: every problem with it (an unknown
 * optimizer or loss, a number that is not one, a model spec that does not parse or that needs
 * more parameters than the file holds) is a one-line {@link BadDataException} naming the file, and
 * nothing is allocated for a model before its size is checked against the tensors actually read.
 */
record LoadedCheckpoint(Checkpoint checkpoint, Network net, float[] params, float[] buffers, Loss loss, int targetWidth) {

    static LoadedCheckpoint read(Path file) {
        Checkpoint c = Checkpoint.read(file);
        try {
            Network net = ModelSpec.parse(c.get("model"), Integer.parseInt(c.get("input_width")), "relu", 0);
            // A forged spec must not make us allocate more than the file holds.
            long held = 0;
            for (Safetensors.Tensor t : c.tensors().values()) held += t.data().length;
            if (net.layout().parameterCount() > held) {
                throw c.bad("model " + net.spec() + " has " + net.layout().parameterCount() + " parameters, the file holds "
                        + held + " values");
            }
            float[] params = net.newParams(), buffers = net.newBuffers();
            // Optimizer state is read (restore checks every tensor) but not used.
            Optimizer opt = Optimizers.create(c.get("optimizer"), net.layout().size(), Hyper.DEFAULTS);
            c.restore(net, params, buffers, opt);
            Loss loss = Loss.parse(c.get("loss"), Integer.parseInt(c.get("positive_class")));
            int targetWidth = Integer.parseInt(c.get("target_width"));
            if (targetWidth < 1) throw c.bad("metadata has target_width " + targetWidth + ", expected >= 1");
            return new LoadedCheckpoint(c, net, params, buffers, loss, targetWidth);
        } catch (IllegalArgumentException ex) { // includes NumberFormatException
            throw c.bad("has bad metadata: " + ex.getMessage());
        }
    }
}
