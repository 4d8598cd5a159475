package dev.forkprop.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.forkprop.data.BadDataException;
import dev.forkprop.model.Init;
import dev.forkprop.model.ModelSpec;
import dev.forkprop.model.Network;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PyTorch layout: batch norm's num_batches_tracked is exported as an I64 scalar and accepted (or absent) on import. */
class TorchExportTest {
    @TempDir Path dir;

    private final Network net = ModelSpec.parse("dense:4,relu,batchnorm,dense:3", 5, "relu", 0);

    private Map<String, Safetensors.Tensor> exported(long steps) {
        float[] params = net.newParams(), buffers = net.newBuffers();
        net.init(params, buffers, Init.HE_NORMAL, 7);
        return steps < 0 ? TorchExport.export(net, params, buffers) : TorchExport.export(net, params, buffers, steps);
    }

    private Path file(Map<String, Safetensors.Tensor> tensors) throws Exception {
        return Files.write(dir.resolve("m.safetensors"), Safetensors.encode(tensors, Map.of("format", "pt")));
    }

    @Test
    void batchNormHasAnI64ScalarNumBatchesTracked() {
        Safetensors.Tensor t = exported(123).get("layers.2.num_batches_tracked");
        assertEquals("I64", t.dtype());
        assertArrayEquals(new int[0], t.shape());
        assertArrayEquals(new long[] {123}, t.i64());
        assertArrayEquals(new long[] {0}, exported(-1).get("layers.2.num_batches_tracked").i64(), "without the steps: 0");
        assertEquals(1, exported(0).keySet().stream().filter(k -> k.endsWith("num_batches_tracked")).count());
    }

    @Test
    void importAcceptsNumBatchesTrackedOrItsAbsence() throws Exception {
        Map<String, Safetensors.Tensor> x = exported(50);
        float[] params = net.newParams(), buffers = net.newBuffers();
        TorchExport.importInto(file(x), net, params, buffers);
        assertArrayEquals(x.get("layers.2.running_var").data(), java.util.Arrays.copyOfRange(buffers, 4, 8));

        Map<String, Safetensors.Tensor> without = new LinkedHashMap<>(x);
        without.remove("layers.2.num_batches_tracked");
        TorchExport.importInto(file(without), net, net.newParams(), net.newBuffers());
    }

    @Test
    void importRejectsAWrongNumBatchesTrackedInOneLine() throws Exception {
        Map<String, Safetensors.Tensor> x = exported(50);
        x.put("layers.2.num_batches_tracked", new Safetensors.Tensor(new int[0], new float[] {50}));
        Path f = file(x);
        BadDataException e = assertThrows(BadDataException.class, () -> TorchExport.importInto(f, net, net.newParams(), net.newBuffers()));
        assertEquals(f + ": tensor 'layers.2.num_batches_tracked' is F32 [], expected I64 [] (PyTorch layout)", e.getMessage());

        Map<String, Safetensors.Tensor> y = exported(50);
        y.put("layers.0.num_batches_tracked", Safetensors.Tensor.ofI64(new int[0], 1));
        Path g = file(y);
        e = assertThrows(BadDataException.class, () -> TorchExport.importInto(g, net, net.newParams(), net.newBuffers()));
        assertEquals(g + ": tensor 'layers.0.num_batches_tracked' does not belong to model " + net.spec(), e.getMessage());

        Map<String, Safetensors.Tensor> z = exported(50);
        z.put("layers.0.bias", Safetensors.Tensor.ofI64(new int[] {4}, 1, 2, 3, 4));
        Path h = file(z);
        e = assertThrows(BadDataException.class, () -> TorchExport.importInto(h, net, net.newParams(), net.newBuffers()));
        assertEquals(h + ": tensor 'layers.0.bias' is I64, expected F32", e.getMessage());
    }

    /** A checkpoint holds F32 only: an I64 tensor in one, even with a valid checksum, is refused in one line. */
    @Test
    void checkpointRefusesI64Tensors() throws Exception {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>(exported(1));
        Map<String, String> m = new LinkedHashMap<>(Map.of(Checkpoint.MAGIC, Checkpoint.VERSION, Checkpoint.SHA_KEY, "0".repeat(64)));
        byte[] b = Safetensors.encode(t, m);
        // Checkpoint's checksum: SHA-256 of everything after the length prefix, with the field zeroed.
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        md.update(b, 8, b.length - 8);
        byte[] hex = java.util.HexFormat.of().formatHex(md.digest()).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int at = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("0".repeat(64));
        System.arraycopy(hex, 0, b, at, 64);
        Path f = Files.write(dir.resolve("ckpt-1.safetensors"), b);
        BadDataException e = assertThrows(BadDataException.class, () -> Checkpoint.read(f));
        assertEquals(f + ": tensor 'layers.2.num_batches_tracked' is I64; a checkpoint holds F32 tensors only", e.getMessage());
    }
}
