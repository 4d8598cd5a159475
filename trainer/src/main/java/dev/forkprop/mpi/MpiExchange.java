package dev.forkprop.mpi;

import dev.forkprop.engine.ShardExchange;
import java.lang.foreign.MemorySegment;

/** The engine's {@link ShardExchange} over {@link Mpi}: gathered shards when {@code exact}, else an allreduce of each rank's sum. */
public record MpiExchange(Mpi mpi, boolean exact) implements ShardExchange {
    @Override
    public int rank() {
        return mpi.rank();
    }

    @Override
    public int ranks() {
        return mpi.size();
    }

    @Override
    public void allgather(MemorySegment all, long floatsPerRank) {
        mpi.allgather(all, floatsPerRank);
    }

    @Override
    public void allreduceSum(float[] data, int floats) {
        mpi.allreduceSum(data, floats);
    }

    @Override
    public void allreduceSum(double[] values) {
        mpi.allreduceSum(values);
    }
}
