/**
 * Optimizers, learning-rate schedules and gradient clipping over one flat parameter array.
 *
 * <p>Layout: parameters, the summed gradient and every optimizer state tensor are
 * {@code float[P]} with the same index layout ({@code dev.forkprop.model.ParamLayout}), so an
 * update is a flat elementwise loop over an index range, and a range is a shard.
 *
 * <p>The step protocol the engine follows:
 * <pre>
 *   coordinator                          workers 0..T-1 (disjoint slices [from,to) of [0,P))
 *   -----------                          -------------------------------------------------
 *   sumSq  = sum of GradClip partials    (each: GradClip.sumOfSquares(grad, from, to))
 *   scale  = clip.gradScale(sumSq, 1/B)
 *   lr     = schedule.lr(step)
 *   opt.beginStep(step, lr, scale)
 *   --- release workers (HB edge) ---&gt;   opt.update(params, grad, from, to)
 * </pre>
 * Everything global (step number, learning rate, clip scale, bias corrections) is computed
 * once in {@code beginStep}; {@code update} is purely elementwise, allocation-free, lock-free,
 * and gives bitwise-identical results however [0,P) is cut into slices.
 *
 * <p>Conventions follow PyTorch's documented formulas ({@code torch.optim.SGD}, {@code Adam},
 * {@code AdamW}, {@code clip_grad_norm_}, {@code StepLR}, {@code CosineAnnealingLR}); each
 * class's Javadoc gives its formula.
 */
package dev.forkprop.optim;
