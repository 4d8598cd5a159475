package dev.forkprop.io;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The {@code params_sha256} of a run: SHA-256 over the parameter vector's little-endian float
 * bytes, in the flat layout (alignment gaps and statistics slots included). Equal hashes mean
 * bitwise-equal parameters: what the determinism and resume tests compare.
 */
public final class ParamsHash {
    private ParamsHash() {}

    public static String sha256(float[] params) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] bytes = new byte[params.length * 4];
            for (int i = 0; i < params.length; i++) {
                int bits = Float.floatToRawIntBits(params[i]);
                bytes[4 * i] = (byte) bits;
                bytes[4 * i + 1] = (byte) (bits >>> 8);
                bytes[4 * i + 2] = (byte) (bits >>> 16);
                bytes[4 * i + 3] = (byte) (bits >>> 24);
            }
            return HexFormat.of().formatHex(md.digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
