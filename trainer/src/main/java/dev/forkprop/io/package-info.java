/**
 * Files forkprop writes and reads: safetensors ({@link dev.forkprop.io.Safetensors}), checkpoints
 * on top of it ({@link dev.forkprop.io.Checkpoint}: parameters, buffers, optimizer state and the
 * run's metadata, a format version, a SHA-256 over the content, atomic writes, keep-the-newest-K),
 * the PyTorch {@code nn.Sequential} export and import ({@link dev.forkprop.io.TorchExport}), and
 * the parameter hash runs are compared by ({@link dev.forkprop.io.ParamsHash}). Every read checks
 * what it reads and fails with a one-line {@code BadDataException}. Who calls: {@code run},
 * {@code cli}. Not the policy of when to save: that is {@code run.Checkpointing}.
 */
package dev.forkprop.io;
