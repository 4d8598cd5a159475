package dev.forkprop.io;

import dev.forkprop.data.BadDataException;
import dev.forkprop.model.BatchNorm;
import dev.forkprop.model.Dense;
import dev.forkprop.model.Layer;
import dev.forkprop.model.Network;
import dev.forkprop.model.ParamLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Weights in PyTorch's {@code nn.Sequential} naming and layout, both ways: what
 * {@code safetensors.torch.load_file} + {@code load_state_dict} loads into the equivalent
 * sequential model, and back ({@code --init-from}). Weights only: no optimizer state, no run
 * metadata beyond {@code format = pt} and the model spec.
 *
 * <p>Layer {@code i} of our network is module {@code i} of the {@code nn.Sequential} (activations
 * and dropout are modules of their own in both). Per layer:
 * <ul>
 *   <li>{@code dense:N} = {@code nn.Linear(in, N)}: {@code layers.<i>.weight} {@code [out, in]} (ours is
 *       {@code [in, out]}: transposed here), {@code layers.<i>.bias} {@code [out]};</li>
 *   <li>{@code batchnorm} = {@code nn.BatchNorm1d(w, eps=1e-5, momentum=0.1)}: weight, bias,
 *       running_mean, running_var (F32), and {@code num_batches_tracked}, an I64 scalar (shape
 *       {@code []}) as in PyTorch's state dict, so that {@code load_state_dict(strict=True)} finds
 *       every key: the training steps taken, or 0 where the caller does not know them. PyTorch
 *       only uses it with {@code momentum=None}; on import it may be absent and its value is
 *       ignored (forkprop's running statistics use momentum 0.1);</li>
 *   <li>{@code layernorm} = {@code nn.LayerNorm(w, eps=1e-5)}: weight, bias;</li>
 *   <li>relu, leakyrelu (slope 0.01), sigmoid, tanh, gelu (the module's default, exact erf form),
 *       dropout: no tensors.</li>
 * </ul>
 * The exported state dict is keyed {@code layers.<i>...}, so load it into a module whose
 * {@code nn.Sequential} attribute is named {@code layers}, or strip the prefix.
 */
public final class TorchExport {
    private TorchExport() {}

    /** Tensors in PyTorch layout from a run's arrays; each batch norm's {@code num_batches_tracked} is 0. */
    public static Map<String, Safetensors.Tensor> export(Network net, float[] params, float[] buffers) {
        return export(net, params, buffers, 0);
    }

    /**
     * Tensors in PyTorch layout from a run's arrays, with {@code batchesTracked} (the training
     * steps the run took, the checkpoint's {@code step}) as each batch norm's {@code num_batches_tracked}.
     */
    public static Map<String, Safetensors.Tensor> export(Network net, float[] params, float[] buffers, long batchesTracked) {
        if (batchesTracked < 0) throw new IllegalArgumentException("batchesTracked " + batchesTracked + " < 0");
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        Layer[] layers = net.layers();
        for (ParamLayout.Tensor t : Checkpoint.trainable(net)) {
            float[] data = Arrays.copyOfRange(params, t.offset(), t.offset() + t.size());
            if (isDenseWeight(layers, t)) {
                int in = t.shape()[0], outW = t.shape()[1];
                out.put(t.name(), new Safetensors.Tensor(new int[] {outW, in}, transpose(data, in, outW)));
            } else {
                out.put(t.name(), new Safetensors.Tensor(t.shape().clone(), data));
            }
        }
        Checkpoint.forEachBuffer(net, (name, offset, width) ->
                out.put(name, new Safetensors.Tensor(new int[] {width}, Arrays.copyOfRange(buffers, offset, offset + width))));
        for (int i = 0; i < layers.length; i++) {
            if (layers[i] instanceof BatchNorm) out.put(batchesTrackedName(i), Safetensors.Tensor.ofI64(new int[0], batchesTracked));
        }
        return out;
    }

    private static String batchesTrackedName(int layer) {
        return "layers." + layer + ".num_batches_tracked";
    }

    /**
     * Loads a PyTorch-layout file into a run's arrays (parameters, batch-norm statistics). Every
     * tensor the network has must be present with the PyTorch shape and dtype F32 and nothing else
     * may be, or a one-line {@link BadDataException} names the tensor. A batch norm's
     * {@code num_batches_tracked} may be present (I64, shape {@code []}) or absent; its value is not used.
     */
    public static void importInto(Path file, Network net, float[] params, float[] buffers) {
        Safetensors.Contents c = Safetensors.read(file);
        Layer[] layers = net.layers();
        List<String> used = new ArrayList<>();
        for (ParamLayout.Tensor t : Checkpoint.trainable(net)) {
            boolean dense = isDenseWeight(layers, t);
            int[] want = dense ? new int[] {t.shape()[1], t.shape()[0]} : t.shape();
            float[] data = take(file, c, t.name(), want, used);
            if (dense) data = transpose(data, want[0], want[1]); // [out, in] -> [in, out]
            System.arraycopy(data, 0, params, t.offset(), data.length);
        }
        Checkpoint.forEachBuffer(net, (name, offset, width) ->
                System.arraycopy(take(file, c, name, new int[] {width}, used), 0, buffers, offset, width));
        for (int i = 0; i < layers.length; i++) {
            Safetensors.Tensor t = layers[i] instanceof BatchNorm ? c.tensors().get(batchesTrackedName(i)) : null;
            if (t == null) continue;
            if (t.i64() == null || t.shape().length != 0) {
                throw new BadDataException(file + ": tensor '" + batchesTrackedName(i) + "' is " + t.dtype() + " "
                        + Arrays.toString(t.shape()) + ", expected I64 [] (PyTorch layout)");
            }
            used.add(batchesTrackedName(i));
        }
        for (String name : c.tensors().keySet()) {
            if (!used.contains(name)) throw new BadDataException(file + ": tensor '" + name + "' does not belong to model " + net.spec());
        }
    }

    private static float[] take(Path file, Safetensors.Contents c, String name, int[] shape, List<String> used) {
        Safetensors.Tensor t = c.tensors().get(name);
        if (t == null) throw new BadDataException(file + ": no tensor '" + name + "' (model " + c.metadata().getOrDefault("model", "?") + ")");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new BadDataException(file + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape) + " (PyTorch layout)");
        }
        if (t.data() == null) throw new BadDataException(file + ": tensor '" + name + "' is " + t.dtype() + ", expected F32");
        used.add(name);
        return t.data();
    }

    private static boolean isDenseWeight(Layer[] layers, ParamLayout.Tensor t) {
        if (!t.name().endsWith(".weight")) return false;
        int i = Integer.parseInt(t.name().substring("layers.".length(), t.name().indexOf('.', "layers.".length())));
        return layers[i] instanceof Dense;
    }

    /** {@code a: [rows, cols]} row-major -> {@code [cols, rows]} row-major. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        }
        return t;
    }
}
