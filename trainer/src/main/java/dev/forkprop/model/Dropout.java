package dev.forkprop.model;

/**
 * Inverted dropout: in training each element is kept with probability {@code keep = 1 - rate} and
 * scaled by {@code 1/keep}; at evaluation it is the identity.
 *
 * <p>Masks are a pure function of (run seed, step, sample position in the minibatch, layer,
 * element), drawn from a counter-based hash rather than a per-thread RNG, so the same seed gives
 * the same masks however the minibatch is cut into shards or spread over threads. The mask
 * (0 or 1/keep per element) is kept in the per-shard state for backward.
 */
public final class Dropout implements Layer {
    private final float rate;
    private final int width;
    private int index;

    public Dropout(float rate, int width) {
        if (!(rate >= 0f && rate < 1f)) {
            throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + rate);
        }
        this.rate = rate;
        this.width = width;
    }

    public float rate() { return rate; }
    @Override public int in() { return width; }
    @Override public int out() { return width; }
    @Override public String spec() { return "dropout:" + rate; }

    @Override
    public void declare(ParamLayout.Builder layout, int index) {
        this.index = index;
    }

    @Override
    public long stateSize(int maxRows) {
        return (long) maxRows * width;
    }

    @Override
    public void forward(ShardContext p, float[] x, int xOff, float[] y, int yOff, int rows, float[] state) {
        final int n = rows * width;
        if (!p.train || rate == 0f) {
            System.arraycopy(x, xOff, y, yOff, n);
            return;
        }
        final float scale = 1f / (1f - rate);
        // Keep when the top 24 bits of the hash, as a fraction, are >= rate.
        final int threshold = (int) Math.ceil(rate * (1 << 24));
        final long layerKey = mix(p.seed ^ mix(p.step * 0x9E3779B97F4A7C15L + index));
        for (int r = 0; r < rows; r++) {
            final long rowKey = mix(layerKey + (p.rowBase + r) * 0xD1B54A32D192ED03L);
            final int base = r * width;
            for (int j = 0; j < width; j++) {
                int bits = (int) (mix(rowKey + j) >>> 40);
                float m = bits >= threshold ? scale : 0f;
                state[base + j] = m;
                y[yOff + base + j] = x[xOff + base + j] * m;
            }
        }
    }

    @Override
    public void backward(ShardContext p, float[] x, int xOff, float[] y, int yOff, float[] dy, int dyOff,
                         float[] dx, int dxOff, int rows, float[] state, float[] grad) {
        if (dx == null) return;
        final int n = rows * width;
        if (!p.train || rate == 0f) {
            System.arraycopy(dy, dyOff, dx, dxOff, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            dx[dxOff + i] = dy[dyOff + i] * state[i];
        }
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix with full avalanche. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
