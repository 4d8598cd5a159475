/**
 * jcstress tests of every concurrent protocol the training engine relies on. Not a library: the
 * classes here are test classes that the jcstress annotation processor turns into harnesses, and
 * the shaded jar ({@code tools/stress/target/forkprop-stress.jar}) runs them.
 *
 * <p>Conventions:
 * <ul>
 *   <li>One file per protocol; one nested {@code @JCStressTest} per property.</li>
 *   <li>The production class is under test ({@code PhaseCountdown}, {@code ShardPlan},
 *       {@code Vec}, Disruptor's {@code RingBuffer}, {@code SpscBatchPrefetch}); never a copy.</li>
 *   <li>Every outcome has a {@code desc} in words; the bug's outcome is {@code FORBIDDEN}.</li>
 *   <li>Beside each correct test, a deliberately broken twin named {@code Broken...} whose bad
 *       outcome is {@code ACCEPTABLE_INTERESTING}: it shows the test can tell. Where x86's TSO
 *       hides the reordering the twin depends on, the twin's comment says so and argues in words.</li>
 *   <li>"Never hangs" is a {@code Mode.Termination} test: {@code STALE} is {@code FORBIDDEN}.</li>
 * </ul>
 *
 * <p>Runs: {@code mvn verify} runs every test in jcstress quick mode (CI); {@code ./run.sh stress}
 * runs the default (full) mode, results in {@code target/jcstress-results}.
 */
package dev.forkprop.stress;
