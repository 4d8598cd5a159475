package dev.forkprop.engine;

import java.lang.foreign.MemorySegment;

/**
 * How the ranks of a multi-process run (see {@code dev.forkprop.mpi}) combine their gradients.
 * Each rank's {@link Engine} computes its share of the shards ({@link ShardPlan#ownStart} ..
 * {@link ShardPlan#ownEnd}); the engine's coordinator thread then calls these collectives, every
 * rank in the same order, between the engine's phases. Implementations block until every rank has
 * called.
 *
 * <p>Two ways to combine, chosen by {@link #exact}:
 * <ul>
 *   <li>exact (deterministic mode): every rank gathers every shard's gradient and sums all of
 *       them in shard order, as one process would: the bits depend only on the shard count;</li>
 *   <li>otherwise each rank sums its own shards, and the ranks add their sums with an allreduce.</li>
 * </ul>
 */
public interface ShardExchange {
    int rank();

    int ranks();

    /** Whether gradients are gathered shard by shard (bitwise a single process's sum). */
    boolean exact();

    /**
     * Gathers equal blocks: rank r's {@code floatsPerRank} floats at {@code r * floatsPerRank}
     * of {@code all} go to every rank, in place.
     */
    void allgather(MemorySegment all, long floatsPerRank);

    /**
     * In place, the elementwise sum over the ranks of the first {@code floats} floats of a Java
     * array: the gradient, without an off-heap copy (see the implementation for what that costs).
     */
    void allreduceSum(float[] data, int floats);

    /** In place, the elementwise sum over the ranks of {@code values} (small: scalars of a step). */
    void allreduceSum(double[] values);
}
