package dev.forkprop.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LrScheduleTest {

    @Test
    void constant() {
        LrSchedule s = LrSchedule.parse("constant", 0.1f, 0);
        assertEquals(0.1f, s.lr(1));
        assertEquals(0.1f, s.lr(1_000_000_000L));
    }

    @Test
    void stepDecay() {
        // step:3:0.5 — steps 1..3 at base, 4..6 halved, 7.. quartered.
        LrSchedule s = LrSchedule.parse("step:3:0.5", 1f, 0);
        float[] expected = {1, 1, 1, 0.5f, 0.5f, 0.5f, 0.25f};
        for (int t = 1; t <= 7; t++) assertEquals(expected[t - 1], s.lr(t), "step " + t);
        assertEquals(1e-3, LrSchedule.parse("step:30000:0.1", 1f, 0).lr(90_001), 1e-9);
        assertEquals(1f, LrSchedule.parse("step:30000:0.1", 1f, 0).lr(30_000));
    }

    @Test
    void cosineEndpointsAndMidpoint() {
        // T = 100: lr(1) = base, lr(51) = mid, lr(101) = floor, then stays at the floor.
        LrSchedule s = LrSchedule.parse("cosine", 1f, 100);
        assertEquals(1f, s.lr(1));
        assertEquals(0.8535533905932737, s.lr(26), 1e-7);   // (1 + cos(pi/4)) / 2
        assertEquals(0.5, s.lr(51), 1e-7);
        assertEquals(0f, s.lr(101));
        assertEquals(0f, s.lr(500));
        assertTrue(s.lr(100) > 0 && s.lr(100) < 1e-3);       // PyTorch: the last step is just above the floor
        LrSchedule f = LrSchedule.parse("cosine:0.1", 1f, 100);
        assertEquals(1f, f.lr(1));
        assertEquals(0.55, f.lr(51), 1e-7);
        assertEquals(0.1f, f.lr(101));
    }

    @Test
    void cosineIsMonotone() {
        LrSchedule s = LrSchedule.parse("cosine:0.01", 0.5f, 1000);
        for (int t = 2; t <= 1001; t++) assertTrue(s.lr(t) <= s.lr(t - 1), "step " + t);
    }

    @Test
    void warmupRampThenCosineOverTheRemainingSteps() {
        // warmup:4 over 104 steps: ramp 0.25, 0.5, 0.75, 1, then cosine over 100 steps from step 5.
        LrSchedule s = LrSchedule.parse("warmup:4,cosine", 1f, 104);
        assertInstanceOf(WarmupLr.class, s);
        assertEquals(0.25f, s.lr(1));
        assertEquals(0.5f, s.lr(2));
        assertEquals(0.75f, s.lr(3));
        assertEquals(1f, s.lr(4));
        assertEquals(1f, s.lr(5));          // the cosine's own step 1
        assertEquals(0.5, s.lr(55), 1e-7);  // cosine step 51
        assertEquals(0f, s.lr(105));
    }

    @Test
    void warmupAloneAndBeforeStepDecay() {
        LrSchedule alone = LrSchedule.parse("warmup:10", 0.2f, 0);
        assertEquals(0.02f, alone.lr(1), 1e-9f);
        assertEquals(0.2f, alone.lr(10));
        assertEquals(0.2f, alone.lr(11_000));
        LrSchedule s = LrSchedule.parse("warmup:2,step:2:0.1", 1f, 0);
        double[] expected = {0.5, 1, 1, 1, 0.1, 0.1, 0.01};
        for (int t = 1; t <= 7; t++) assertEquals(expected[t - 1], s.lr(t), 1e-7, "step " + t);
    }

    @ParameterizedTest
    @ValueSource(strings = {"constant", "step:30000:0.1", "cosine", "cosine:1.0E-5", "warmup:500,cosine",
                            "warmup:10,constant", "warmup:3,step:7:0.5"})
    void specRoundTrips(String spec) {
        assertEquals(spec, LrSchedule.parse(spec, 0.1f, 100_000).spec());
    }

    @ParameterizedTest(name = "''{0}'' names ''{1}''")
    @CsvSource(delimiter = '|', value = {
        "cosinus|cosinus",
        "step:abc:0.1|abc",
        "step:10|step:10",
        "step:0:0.1|0",
        "step:10:0|0",
        "step:10:x|x",
        "warmup:-5,cosine|-5",
        "warmup:5,warmup:3|warmup:3",
        "warmup:5,linear|linear",
        "constant,cosine|cosine",
        "constant:3|constant:3",
        "cosine:2|2",
        "cosine:1:2|cosine:1:2",
        "warmup|warmup"})
    void badSpecNamesTheBadToken(String spec, String token) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LrSchedule.parse(spec, 1f, 1000));
        assertTrue(e.getMessage().contains("'" + token + "'"), e.getMessage());
    }

    @Test
    void cosineWithoutTotalStepsSaysSo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LrSchedule.parse("cosine", 1f, 0));
        assertTrue(e.getMessage().contains("total"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("warmup:100,cosine", 1f, 100));
        assertTrue(e.getMessage().contains("warm-up"), e.getMessage());
    }

    @Test
    void rejectsEmptySpecBadBaseAndStepZero() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse(" ", 1f, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("constant", 0f, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("constant", Float.NaN, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("constant", 1f, 10).lr(0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("warmup:3,cosine", 1f, 10).lr(0));
    }
}
