package dev.forkprop.mpi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * Open MPI's C API through the Foreign Function &amp; Memory API: the few calls a data-parallel
 * run needs, on {@code MPI_COMM_WORLD}. No JNI and no native code of our own; Open MPI's Java
 * bindings are JNI, marked provisional, and gone from Open MPI 6.
 *
 * <p>Facts it relies on (Open MPI 4.1, Debian's {@code libmpi.so.40}): the predefined handles are
 * the addresses of the exported objects {@code ompi_mpi_comm_world}, {@code ompi_mpi_float},
 * {@code ompi_mpi_double}, {@code ompi_mpi_byte} and {@code ompi_mpi_op_sum}; {@code MPI_IN_PLACE}
 * is {@code (void*) 1}; {@code MPI_THREAD_SERIALIZED} is 2. A process started by {@code mpirun}
 * has {@code OMPI_COMM_WORLD_SIZE} in its environment ({@link #launched}).
 *
 * <p>Thread-safety: initialised with {@code MPI_THREAD_SERIALIZED}; one thread at a time may call
 * it (the run's coordinator). Buffers are off-heap segments, so that a thread waiting in a
 * collective on a lost rank is in native code and holds up no safepoint; the one exception is the
 * gradient's allreduce ({@link #allreduceSum(float[], int)}), a critical downcall on the Java array
 * itself, because copying it out and back cost more than the allreduce. Every failing call becomes an
 * {@link MpiException}; by default Open MPI aborts the job on an error before returning one.
 */
// Restricted FFM methods are the point of this class (the JVM runs with --enable-native-access).
@SuppressWarnings("restricted")
public final class Mpi implements AutoCloseable {
    /** Tried in order: the runtime library (openmpi-bin), then the development link. */
    static final List<String> LIBRARIES = List.of("libmpi.so.40", "/usr/lib/x86_64-linux-gnu/libmpi.so.40", "libmpi.so");
    private static final int MPI_THREAD_SERIALIZED = 2;
    private static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1);

    private final MemorySegment world, floatType, doubleType, byteType, sum;
    private final MethodHandle allreduce, allreduceHeap, allgather, bcast, finalizeCall;
    private final int rank, size;
    /** Scratch for small calls: an int out-parameter, and the doubles of {@link #allreduceSum(double[])}. */
    private final Arena arena = Arena.ofShared();
    private MemorySegment scalars = MemorySegment.NULL;
    /** The last Java array {@link #allreduceSum(float[], int)} was given, and its segment: one per run, none per step. */
    private float[] heapArray;
    private MemorySegment heapSegment;
    private boolean finalized;

    /** Whether this process was started by Open MPI's {@code mpirun} (or {@code mpiexec}). */
    public static boolean launched() {
        String n = System.getenv("OMPI_COMM_WORLD_SIZE");
        return n != null && !n.isBlank();
    }

    /** Loads libmpi and calls {@code MPI_Init_thread}; a missing library is a one-line {@link MpiException}. */
    public static Mpi init() {
        Throwable last = null;
        for (String lib : LIBRARIES) {
            try {
                return new Mpi(SymbolLookup.libraryLookup(lib, Arena.global()));
            } catch (IllegalArgumentException e) { // no such library
                last = e;
            }
        }
        throw new MpiException("started by mpirun, but Open MPI's libmpi.so.40 does not load (" + last.getMessage()
                + "): apt-get install openmpi-bin", last);
    }

    private Mpi(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        world = handle(lib, "ompi_mpi_comm_world");
        floatType = handle(lib, "ompi_mpi_float");
        doubleType = handle(lib, "ompi_mpi_double");
        byteType = handle(lib, "ompi_mpi_byte");
        sum = handle(lib, "ompi_mpi_op_sum");
        // int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
        MethodHandle initThread = linker.downcallHandle(handle(lib, "MPI_Init_thread"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        MethodHandle commRank = linker.downcallHandle(handle(lib, "MPI_Comm_rank"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle commSize = linker.downcallHandle(handle(lib, "MPI_Comm_size"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        // int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype, MPI_Op, MPI_Comm)
        allreduce = linker.downcallHandle(handle(lib, "MPI_Allreduce"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        // The same call on a Java array: a critical downcall, which may read and write the heap
        // because the JVM holds off safepoints (and so the GC) until it returns.
        allreduceHeap = linker.downcallHandle(handle(lib, "MPI_Allreduce"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS), Linker.Option.critical(true));
        // int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype, void *recvbuf, int recvcount, MPI_Datatype, MPI_Comm)
        allgather = linker.downcallHandle(handle(lib, "MPI_Allgather"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        // int MPI_Bcast(void *buffer, int count, MPI_Datatype, int root, MPI_Comm)
        bcast = linker.downcallHandle(handle(lib, "MPI_Bcast"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        finalizeCall = linker.downcallHandle(handle(lib, "MPI_Finalize"), FunctionDescriptor.of(JAVA_INT));
        try {
            MemorySegment provided = arena.allocate(JAVA_INT);
            check("MPI_Init_thread", (int) initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL, MPI_THREAD_SERIALIZED, provided));
            if (provided.get(JAVA_INT, 0) < MPI_THREAD_SERIALIZED) {
                throw new MpiException("Open MPI provides thread level " + provided.get(JAVA_INT, 0) + ", forkprop needs MPI_THREAD_SERIALIZED (2)", null);
            }
            MemorySegment out = arena.allocate(JAVA_INT);
            check("MPI_Comm_rank", (int) commRank.invokeExact(world, out));
            rank = out.get(JAVA_INT, 0);
            check("MPI_Comm_size", (int) commSize.invokeExact(world, out));
            size = out.get(JAVA_INT, 0);
        } catch (MpiException e) {
            throw e;
        } catch (Throwable t) {
            throw new MpiException("MPI_Init_thread failed: " + t, t);
        }
    }

    private static MemorySegment handle(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new MpiException("libmpi has no '" + name + "': forkprop needs Open MPI (4.x or 5.x)", null));
    }

    private static void check(String call, int rc) {
        if (rc != 0) throw new MpiException(call + " returned error " + rc, null);
    }

    /** This process's rank in {@code MPI_COMM_WORLD}. */
    public int rank() {
        return rank;
    }

    /** The number of ranks. */
    public int size() {
        return size;
    }

    /**
     * In place: {@code floats} floats of {@code data} become their sum over the ranks, with no
     * off-heap copy. The JVM reaches no safepoint until the call returns: the other threads of the
     * process run on, but a GC or any other safepoint waits for it. For the gradient's allreduce,
     * which returns within milliseconds; a rank that died stops this one through {@link PeerWatch}
     * (which prints before it halts) or mpirun.
     */
    public void allreduceSum(float[] data, int floats) {
        try {
            if (data != heapArray) {
                heapArray = data;
                heapSegment = MemorySegment.ofArray(data);
            }
            check("MPI_Allreduce", (int) allreduceHeap.invokeExact(IN_PLACE, heapSegment, floats, floatType, sum, world));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable t) {
            throw new MpiException("MPI_Allreduce failed: " + t, t);
        }
    }

    /** In place: each value becomes its sum over the ranks (through an off-heap copy; allocates only when it grows). */
    public void allreduceSum(double[] values) {
        if (scalars.byteSize() < 8L * values.length) scalars = arena.allocate(8L * values.length, 8);
        MemorySegment.copy(values, 0, scalars, ValueLayout.JAVA_DOUBLE, 0, values.length);
        try {
            check("MPI_Allreduce", (int) allreduce.invokeExact(IN_PLACE, scalars, values.length, doubleType, sum, world));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable t) {
            throw new MpiException("MPI_Allreduce failed: " + t, t);
        }
        MemorySegment.copy(scalars, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
    }

    /** In place: rank r's block of {@code floatsPerRank} floats at {@code r * floatsPerRank} reaches every rank. */
    public void allgather(MemorySegment all, long floatsPerRank) {
        try {
            check("MPI_Allgather", (int) allgather.invokeExact(IN_PLACE, 0, floatType, all, count(floatsPerRank), floatType, world));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable t) {
            throw new MpiException("MPI_Allgather failed: " + t, t);
        }
    }

    /** Every rank gets rank {@code root}'s {@code bytes}: the length first, then the content. */
    public byte[] broadcast(byte[] bytes, int root) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(JAVA_LONG);
            n.set(JAVA_LONG, 0, bytes.length);
            check("MPI_Bcast", (int) bcast.invokeExact(n, 8, byteType, root, world));
            int len = (int) n.get(JAVA_LONG, 0);
            MemorySegment buf = a.allocate(Math.max(1, len));
            if (rank == root) MemorySegment.copy(bytes, 0, buf, ValueLayout.JAVA_BYTE, 0, len);
            check("MPI_Bcast", (int) bcast.invokeExact(buf, len, byteType, root, world));
            return buf.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
        } catch (MpiException e) {
            throw e;
        } catch (Throwable t) {
            throw new MpiException("MPI_Bcast failed: " + t, t);
        }
    }

    /** Every rank gets every rank's {@code mine}: {@code size()} entries, rank order. */
    public long[] allgather(long mine) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment all = a.allocate(8L * size, 8);
            all.set(JAVA_LONG, 8L * rank, mine);
            check("MPI_Allgather", (int) allgather.invokeExact(IN_PLACE, 0, byteType, all, 8, byteType, world));
            return all.toArray(JAVA_LONG);
        } catch (MpiException e) {
            throw e;
        } catch (Throwable t) {
            throw new MpiException("MPI_Allgather failed: " + t, t);
        }
    }

    private static int count(long n) {
        if (n < 0 || n > Integer.MAX_VALUE) throw new IllegalArgumentException("MPI count " + n + " does not fit an int");
        return (int) n;
    }

    /** {@code MPI_Finalize}, once: every rank must call it before it exits normally. */
    @Override
    public void close() {
        if (finalized) return;
        finalized = true;
        try {
            check("MPI_Finalize", (int) finalizeCall.invokeExact());
        } catch (MpiException e) {
            throw e;
        } catch (Throwable t) {
            throw new MpiException("MPI_Finalize failed: " + t, t);
        }
    }
}
