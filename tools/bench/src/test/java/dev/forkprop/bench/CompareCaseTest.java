package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Case text, its checks, and the step counts that size each run. */
class CompareCaseTest {

    @Test
    void textRoundTripsAndTheDefaultsAreTheFourStandardCases() {
        for (CompareCase c : CompareCase.DEFAULTS) assertEquals(c, CompareCase.parse(c.text()));
        assertEquals(List.of("784-100-10:32:sgd", "784-256-256-10:128:adam", "784-1024-1024-10:256:adam",
                "784-4096-4096-10:512:momentum"), CompareCase.DEFAULTS.stream().map(CompareCase::text).toList());
        assertEquals(new CompareCase("784-10", 16, "adamw"), CompareCase.parse(" 784-10:16:AdamW "));
    }

    @Test
    void badCasesAreOneLineErrors() {
        for (String bad : new String[] {"784-10", "784-10:16", "784-10:x:sgd", "784-10:0:sgd", "784-10:16:lbfgs",
                "784:16:sgd", "dense:10:16:sgd", "784-0-10:16:sgd", "784--10:16:sgd", "784-99999999999-10:16:sgd"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CompareCase.parse(bad), bad);
            assertTrue(!e.getMessage().contains("\n") && !e.getMessage().isBlank(), bad + ": " + e.getMessage());
        }
    }

    @Test
    void defaultStepsAreAboutTheSameWorkPerRunWithinBounds() {
        // 784-100-10 b32: 79,400 weights, 6 * 79,400 * 32 = 15.2 Mflop per step -> capped at 2000 steps.
        assertEquals(79_400, CompareCase.parse("784-100-10:32:sgd").weights());
        assertEquals(6.0 * 79_400 * 32, CompareCase.parse("784-100-10:32:sgd").flopPerStep());
        assertEquals(CompareCase.MAX_STEPS, CompareCase.parse("784-100-10:32:sgd").defaultSteps());
        // 784-1024-1024-10 b256: 1,861,632 weights, 2.86 Gflop per step -> 2e11 / 2.86e9 = 70 steps.
        assertEquals(70, CompareCase.parse("784-1024-1024-10:256:adam").defaultSteps());
        assertEquals(CompareCase.MIN_STEPS, CompareCase.parse("784-4096-4096-10:512:momentum").defaultSteps());
        assertEquals(5, CompareCase.defaultWarmup(20));
        assertEquals(17, CompareCase.defaultWarmup(70));
        assertEquals(100, CompareCase.defaultWarmup(2000));
    }
}
