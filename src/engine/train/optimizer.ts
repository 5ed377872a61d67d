import * as tf from '@tensorflow/tfjs';
import { fastWebGpu } from '../kernels/webgpu/install';
import { sgdMomentumUpdate, uninitialisedVelocity, type SgdVariableUpdate, type UpdateTaps } from '../kernels/webgpu/sgd';

/**
 * SGD with momentum and weight decay exactly as PyTorch's torch.optim.SGD (the reference
 * recipes are PyTorch): g' = g + wd*w; v = mu*v + g'; w -= lr*v. tfjs's own momentum
 * optimizer has no weight decay and keeps its state private, which checkpoints need.
 */
export class SgdMomentum {
  private readonly velocity = new Map<string, tf.Variable>();

  constructor(
    private readonly momentum: number,
    private readonly weightDecay: number,
  ) {}

  /**
   * `decayed` says which variables get weight decay (BN stats never reach here: not trainable).
   * `taps`: sums the pruning hooks want from this update; only the fused path writes them.
   */
  apply(vars: readonly tf.Variable[], grads: Record<string, tf.Tensor>, lr: number, decayed: (v: tf.Variable) => boolean, taps?: UpdateTaps | null): void {
    if (fastWebGpu()) {
      this.applyFused(vars, grads, lr, decayed, taps ?? null);
      return;
    }
    tf.tidy(() => {
      for (const v of vars) {
        const g = grads[v.name];
        if (!g) continue;
        const d = this.weightDecay > 0 && decayed(v) ? tf.add(g, tf.mul(v, this.weightDecay)) : g;
        let buf = this.velocity.get(v.name);
        if (!buf || !sameShape(buf.shape, v.shape)) {
          buf?.dispose();
          // PyTorch initialises the buffer with the first gradient rather than zeros.
          buf = tf.variable(tf.clone(d), false);
          this.velocity.set(v.name, buf);
        } else if (this.momentum > 0) {
          buf.assign(tf.add(tf.mul(buf, this.momentum), d));
        } else {
          buf.assign(d);
        }
        v.assign(tf.sub(v, tf.mul(buf, lr)));
      }
    });
  }

  /** The same update, bit for bit, in one dispatch per two variables (see kernels/webgpu/sgd). */
  private applyFused(vars: readonly tf.Variable[], grads: Record<string, tf.Tensor>, lr: number, decayed: (v: tf.Variable) => boolean, taps: UpdateTaps | null): void {
    const updates: SgdVariableUpdate[] = [];
    for (const v of vars) {
      const grad = grads[v.name];
      if (!grad) continue;
      let velocity = this.velocity.get(v.name);
      const first = !velocity || !sameShape(velocity.shape, v.shape);
      if (first) {
        velocity?.dispose();
        velocity = uninitialisedVelocity(v.shape);
        this.velocity.set(v.name, velocity);
      }
      updates.push({ weight: v, velocity: velocity!, grad, decayed: this.weightDecay > 0 && decayed(v), first, taps: taps?.byVariable.get(v.name) });
    }
    sgdMomentumUpdate(updates, { lr, momentum: this.momentum, weightDecay: this.weightDecay }, taps?.scratch);
    if (taps) for (const up of updates) if (up.taps) taps.written.add(up.weight.name);
  }

  /** Momentum buffers keyed by variable name, for checkpoints. */
  async state(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, buf] of this.velocity) out[name] = { shape: [...buf.shape], data: (await buf.data()) as Float32Array };
    return out;
  }

  restore(state: Record<string, { shape: number[]; data: Float32Array }>): void {
    this.dispose();
    for (const [name, { shape, data }] of Object.entries(state)) {
      // The variable takes the tensor's buffer; disposing the tensor leaves it the only owner.
      this.velocity.set(name, tf.tidy(() => tf.variable(tf.tensor(data, shape), false)));
    }
  }

  /** Drops the buffers of variables that no longer exist (after slimming, say). */
  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
