package dev.forkprop.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What every {@link Optimizer} here shares: the state tensors and their names, the scalars of
 * the current step, and the checks {@code update} makes before its loop. Subclasses write only
 * {@link #prepare()} (per-step scalars) and {@link #apply} (the elementwise loop).
 *
 * <p>Not a public extension point: package-private so the contract stays in {@link Optimizer}.
 */
abstract class FlatOptimizer implements Optimizer {
    /*
     * Design note: why slice invariance holds bitwise. Every loop body reads and writes only
     * index i, plus final locals fixed in beginStep. Java float arithmetic is IEEE with no FMA
     * contraction or reassociation allowed (JLS 15.4), so C2's vectorised main loop, its
     * scalar pre/post loops and the interpreter all round identically; where a slice starts
     * changes which of them handles index i, never its result. Keep it that way: no
     * Math.fma, no reductions, no slice-dependent constants in apply().
     */
    private final String name;
    private final int paramCount;
    private final String[] stateNames;
    private final float[][] states;       // states[s]: [P], same layout as params
    private final Map<String, String> hyper;

    // Scalars of the current step, written by beginStep (coordinator), read by update (workers).
    // HB: beginStep -> engine's release of the workers -> update; see Optimizer's Javadoc.
    protected long step;                  // 0 until the first beginStep
    protected float lr;
    protected float gradScale;

    FlatOptimizer(String name, int paramCount, Map<String, String> hyper, String... stateNames) {
        if (paramCount < 0) throw new IllegalArgumentException("paramCount " + paramCount + " < 0");
        this.name = name;
        this.paramCount = paramCount;
        this.stateNames = stateNames.clone();
        this.states = new float[stateNames.length][paramCount];
        this.hyper = Collections.unmodifiableMap(new LinkedHashMap<>(hyper));
    }

    @Override public final String name() { return name; }
    @Override public final int paramCount() { return paramCount; }
    @Override public final int stateCount() { return states.length; }
    @Override public final String stateName(int i) { return stateNames[i]; }
    @Override public final float[] state(int i) { return states[i]; }
    @Override public final Map<String, String> hyper() { return hyper; }

    @Override
    public final void beginStep(long step, float lr, float gradScale) {
        if (step < 1) throw new IllegalArgumentException("step " + step + " < 1 (steps are 1-based)");
        if (!(lr >= 0) || !Float.isFinite(lr)) {
            throw new IllegalArgumentException("learning rate " + lr + " is not a finite value >= 0");
        }
        this.step = step;
        this.lr = lr;
        this.gradScale = gradScale;
        prepare();
    }

    @Override
    public final void update(float[] params, float[] grad, int from, int to) {
        Objects.checkFromToIndex(from, to, paramCount);
        if (params.length != paramCount || grad.length != paramCount) {
            throw new IllegalArgumentException("params.length " + params.length + ", grad.length "
                    + grad.length + ": both must be " + paramCount);
        }
        if (step == 0) throw new IllegalStateException(name + ": update before the first beginStep");
        apply(params, grad, from, to);
    }

    /** Derives the per-step scalars from {@link #step}, {@link #lr}, {@link #gradScale}. */
    protected void prepare() {}

    /** The elementwise loop over {@code [from, to)}; arguments already checked. */
    protected abstract void apply(float[] params, float[] grad, int from, int to);

    static Map<String, String> map(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }
}
