package dev.forkprop.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Jazzer fuzz test of {@link ModelSpec#parse}: any spec is either a network with a consistent
 * parameter layout (every tensor inside the flat vector, no overflowed size) whose {@code spec()}
 * parses back to the same network, or a one-line {@link IllegalArgumentException} quoting the
 * spec; another exception or a hang is a finding. Nothing is allocated per parameter: a spec's
 * size is only checked, not built. Regression inputs in
 * {@code src/test/resources/dev/forkprop/model/ModelSpecFuzzTestInputs/spec}.
 *
 * <p>Input: the input width (an int, may be bad), the compact-spec activation, the dropout, then the
 * spec text (FuzzedDataProvider).
 */
class ModelSpecFuzzTest {

    private static final String[] ACTIVATIONS = {"relu", "sigmoid", "tanh", "gelu", "leakyrelu", "RELU", "swish"};

    @FuzzTest(maxDuration = "10s")
    void spec(FuzzedDataProvider in) {
        int width = in.consumeInt(-2, 4096);
        String activation = in.pickValue(ACTIVATIONS);
        float dropout = in.consumeProbabilityFloat();
        String spec = in.consumeRemainingAsString();
        Network net;
        try {
            net = ModelSpec.parse(spec, width, activation, dropout);
        } catch (IllegalArgumentException expected) {
            assertTrue(!expected.getMessage().contains("\n") || spec.contains("\n"), expected.getMessage());
            return;
        }
        ParamLayout layout = net.layout();
        assertTrue(layout.size() >= 0 && layout.trainable() <= layout.size());
        long sum = 0;
        for (ParamLayout.Tensor t : layout.tensors()) {
            long n = 1;
            for (int d : t.shape()) n *= d;
            assertTrue(t.offset() >= 0 && t.offset() + n <= layout.size(), t.name() + " outside the layout");
            sum += n;
        }
        assertTrue(sum <= layout.size());
        Network again = ModelSpec.parse(net.spec(), net.in(), "relu", 0);
        assertEquals(net.spec(), again.spec());
        assertEquals(layout.size(), again.layout().size());
    }
}
