package dev.forkprop.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmark of one single-threaded GEMM call, {@code C = op(A)*op(B)} (alpha 1, beta 0), per
 * shape and implementation. The setup checks the result against the reference before any
 * iteration is timed ({@link GemmCheck}); the benchmark returns C so the call cannot be elided.
 *
 * <p>Usually launched by {@code bench kernels} ({@link KernelsCommand}), which overrides the
 * params and iteration counts; the annotations are the defaults for running it with plain JMH.
 * Not a throughput test of the trainer: one thread, operands hot in whatever cache fits them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
public class GemmBench {

    /** Same labels as {@link GemmShape#MLP}, in the same order (GemmBenchParamsTest checks). */
    @Param({"NN:256x784x1024", "NN:256x1024x1024", "NN:1024x1024x1024", "NN:256x1024x10",
            "NN:32x784x100", "NN:128x784x256", "TN:784x256x1024", "NT:256x1024x784"})
    public String shape;

    @Param({"vector", "scalar", "openblas"})
    public String impl;

    private GemmCall call;

    @Setup(Level.Trial)
    public void setUp() {
        GemmOperands ops = GemmOperands.random(GemmShape.parse(shape), GemmOperands.SEED);
        call = GemmCall.prepare(impl, ops);
        call.run();
        GemmCheck.verify(ops, call.result(), impl);
    }

    @Benchmark
    public Object gemm() {
        return call.run();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (call != null) call.close();
    }
}
