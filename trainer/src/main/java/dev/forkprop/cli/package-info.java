/**
 * The command line: {@code train}, {@code eval} and {@code export} (picocli), their option
 * mixins ({@link dev.forkprop.cli.DataOptions}, {@link dev.forkprop.cli.ModelOptions},
 * {@link dev.forkprop.cli.OptimizerOptions}, checkpoint and output options, shared with the bench
 * commands), stop signals, and the mapping of failures to one-line messages and exit codes
 * ({@link dev.forkprop.cli.Main}). It parses flags and prints; the run itself is {@code run}'s
 * and the data's choice {@code data}'s. Nothing in the trainer depends on this package.
 */
package dev.forkprop.cli;
