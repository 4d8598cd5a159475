package dev.forkprop.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptimizersTest {
    private static final Hyper H = new Hyper(0.8, 0.85, 0.995, 1e-7, 0.02);

    @Test
    void createsEachNameWithItsStateAndHyper() {
        assertInstanceOf(Sgd.class, Optimizers.create("sgd", 5, H));
        assertEquals(0, Optimizers.create("sgd", 5, H).stateCount());

        Optimizer m = Optimizers.create("momentum", 5, H);
        assertFalse(((Momentum) m).nesterov());
        assertEquals(List.of("momentum"), List.of(m.stateName(0)));
        assertEquals(Map.of("momentum", "0.8", "nesterov", "false", "weight_decay", "0.02"), m.hyper());
        Optimizer n = Optimizers.create("nesterov", 5, H);
        assertTrue(((Momentum) n).nesterov());
        assertEquals("nesterov", n.name());

        for (String name : List.of("adam", "adamw")) {
            Optimizer a = Optimizers.create(name, 5, H);
            assertEquals(name, a.name());
            assertEquals(2, a.stateCount());
            assertEquals("adam_m", a.stateName(0));
            assertEquals("adam_v", a.stateName(1));
            assertEquals(List.of("beta1", "beta2", "eps", "weight_decay"), List.copyOf(a.hyper().keySet()));
            assertEquals(1e-7, Double.parseDouble(a.hyper().get("eps")));   // round-trips exactly
        }
        assertEquals(0, Optimizers.create("adam", 0, H).state(0).length);   // P = 0 is allowed
    }

    @Test
    void unknownNameListsTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Optimizers.create("rmsprop", 5, H));
        assertTrue(e.getMessage().contains("'rmsprop'"), e.getMessage());
        for (String valid : Optimizers.NAMES) assertTrue(e.getMessage().contains(valid), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Optimizers.create("Adam", 5, H));
        assertThrows(IllegalArgumentException.class, () -> Optimizers.create(null, 5, H));
        assertThrows(IllegalArgumentException.class, () -> Optimizers.create("sgd", -1, H));
    }

    @Test
    void hyperRejectsOutOfRangeValues() {
        assertThrows(IllegalArgumentException.class, () -> Hyper.DEFAULTS.withBetas(1, 0.999));
        assertThrows(IllegalArgumentException.class, () -> Hyper.DEFAULTS.withBetas(0.9, -0.1));
        assertThrows(IllegalArgumentException.class, () -> Hyper.DEFAULTS.withWeightDecay(-1e-4));
        assertThrows(IllegalArgumentException.class, () -> Hyper.DEFAULTS.withEps(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Hyper.DEFAULTS.withMomentum(Double.POSITIVE_INFINITY));
        assertEquals(0.0, Hyper.DEFAULTS.withBetas(0, 0).beta1());
    }
}
