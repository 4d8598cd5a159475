package dev.forkprop.cli;

import dev.forkprop.io.Checkpoint;
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
 */
record LoadedCheckpoint(Checkpoint checkpoint, Network net, float[] params, float[] buffers, Loss loss, int targetWidth) {

    static LoadedCheckpoint read(Path file) {
        Checkpoint c = Checkpoint.read(file);
        Network net;
        try {
            net = ModelSpec.parse(c.get("model"), Integer.parseInt(c.get("input_width")), "relu", 0);
        } catch (IllegalArgumentException ex) {
            throw new dev.forkprop.data.BadDataException(file + ": bad model in metadata: " + ex.getMessage());
        }
        float[] params = net.newParams(), buffers = net.newBuffers();
        // Optimizer state is read (restore checks every tensor) but not used.
        Optimizer opt = Optimizers.create(c.get("optimizer"), net.layout().size(), Hyper.DEFAULTS);
        c.restore(net, params, buffers, opt);
        Loss loss = Loss.parse(c.get("loss"), Integer.parseInt(c.get("positive_class")));
        return new LoadedCheckpoint(c, net, params, buffers, loss, Integer.parseInt(c.get("target_width")));
    }
}
