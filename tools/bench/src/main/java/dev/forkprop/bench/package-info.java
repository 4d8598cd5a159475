/**
 * Benchmarks and drills, outside the tests: {@code bench kernels} (JMH, GEMM GFLOPS per shape
 * against OpenBLAS), {@code bench scaling} (training samples/s by thread count), {@code bench
 * compare} (forkprop against PyTorch on the same cases), {@code bench soak} (RSS, GC and latency
 * over a long run) and {@code bench crash} (SIGKILL and resume). Each checks its result before it
 * reports a number, and prints the machine it ran on. Reuses the train command's option mixins.
 */
package dev.forkprop.bench;
