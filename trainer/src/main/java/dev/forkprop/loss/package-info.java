/**
 * Losses on a shard's logits: softmax cross-entropy, sigmoid binary cross-entropy and mean
 * squared error. Each computes the shard's summed loss and writes {@code dLogits} in place, for
 * the network's backward; none allocates. Who calls: the engine's workers. Depends on
 * {@code kernels} and {@code model}'s workspace.
 */
package dev.forkprop.loss;
