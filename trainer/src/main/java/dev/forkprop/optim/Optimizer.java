package dev.forkprop.optim;

import java.util.Map;

/**
 * A first-order optimizer over one flat parameter array of {@link #paramCount()} floats.
 *
 * <p>Not an object you call once per element: once per step the coordinator calls
 * {@link #beginStep(long, float, float)}, then each worker calls
 * {@link #update(float[], float[], int, int)} on its own slice. The contract, for every
 * implementation:
 * <ul>
 *   <li>{@code update} is elementwise over {@code [from, to)}: index {@code i} of the params
 *       and of every state tensor depends only on index {@code i} of the inputs and on the
 *       scalars fixed by {@code beginStep}. Updating {@code [0,P)} in one call or in any
 *       partition into slices gives bitwise-identical results.</li>
 *   <li>{@code update} allocates nothing, takes no locks and spawns no threads.</li>
 *   <li>Concurrent {@code update} calls on disjoint slices are safe; overlapping slices are a
 *       caller bug (each index has exactly one owner per step).</li>
 *   <li>{@code beginStep} must not run concurrently with {@code update}.</li>
 *   <li>State tensors are allocated once, at construction, zero-filled.</li>
 * </ul>
 *
 * <p>Memory consistency effects: {@code beginStep} writes plain fields; actions in the thread
 * calling {@code beginStep} must happen-before a worker's {@code update} through the engine's
 * own release of the workers (the same edge that publishes the reduced gradient), and every
 * {@code update} of step {@code t} must happen-before {@code beginStep} of step {@code t+1}
 * and before any read of {@link #state(int)} (the engine's step barrier).
 */
public interface Optimizer {

    /** Short name used by flags and checkpoints: {@code sgd, momentum, nesterov, adam, adamw}. */
    String name();

    /** P, the number of parameters this optimizer's state was sized for. */
    int paramCount();

    /**
     * Fixes the scalars of one step. Call once per step, on one thread, before any
     * {@code update} of that step.
     *
     * @param step      1-based step number (Adam's bias correction uses it); must be {@code >= 1}
     * @param lr        learning rate for this step, already scheduled; finite, {@code >= 0}
     * @param gradScale factor applied to {@code grad} before anything else, typically
     *                  {@code (1/batchSize) * clipScale}; see {@link GradClip#gradScale}
     * @throws IllegalArgumentException if step &lt; 1 or lr is negative or not finite
     */
    void beginStep(long step, float lr, float gradScale);

    /**
     * Applies the step fixed by the last {@link #beginStep} to {@code params[from, to)}, reading
     * the summed gradient {@code grad[from, to)} (multiplied by {@code gradScale} first) and
     * updating the state tensors over the same range. {@code grad} is not written.
     *
     * <p>Any thread; allocates nothing. Checks bounds and that a step was begun.
     *
     * @param params {@code float[P]}, updated in place over {@code [from, to)}
     * @param grad   {@code float[P]}, the gradient summed over the batch, same layout
     * @throws IndexOutOfBoundsException if {@code [from, to)} is not inside {@code [0, P)}
     * @throws IllegalArgumentException  if an array's length is not P
     * @throws IllegalStateException     if {@code beginStep} was never called
     */
    void update(float[] params, float[] grad, int from, int to);

    /** Number of state tensors: 0 for SGD, 1 for momentum, 2 for Adam/AdamW. */
    int stateCount();

    /** Checkpoint name of state tensor {@code i}, e.g. {@code "momentum"}, {@code "adam_m"}. */
    String stateName(int i);

    /**
     * The live state tensor {@code i}, {@code float[P]}, same layout as the parameters. Not a
     * copy: a checkpoint reader restores state by writing into it (between steps only).
     */
    float[] state(int i);

    /**
     * Hyper-parameters for checkpoint metadata: unmodifiable, insertion-ordered, values written
     * with {@link Double#toString(double)} so they parse back exactly. Excludes the learning rate,
     * which belongs to the schedule.
     */
    Map<String, String> hyper();
}
