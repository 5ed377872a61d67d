import type { ChannelFamily, ConvPad, ModelDef, Op, ParamSpec } from './graph';

/**
 * Builds a ModelDef while tracking which channel family every tensor's channels belong to,
 * so the coupling description falls out of construction instead of being written by hand.
 */
export class GraphBuilder {
  private ops: Op[] = [];
  private params: ParamSpec[] = [];
  private families = new Map<string, ChannelFamily>();
  /** tensor name -> [family id (undefined for the image), channel count] */
  private tensors = new Map<string, { family?: string; channels: number }>();
  private counter = 0;

  constructor(
    private readonly name: string,
    private readonly inputShape: [number, number, number] = [32, 32, 3],
    private readonly numClasses = 10,
  ) {
    this.tensors.set('input', { channels: inputShape[2] });
  }

  /** A new family of `channels` coupled channels; convs and adds that share it are tied. */
  family(id: string, label: string, channels: number): string {
    if (this.families.has(id)) throw new Error(`duplicate family ${id}`);
    this.families.set(id, { id, label, channels, members: [], bns: [] });
    return id;
  }

  conv(input: string, family: string, k: number, stride: number, name: string, pad: ConvPad = 'same'): string {
    const src = this.tensor(input);
    const fam = this.fam(family);
    const weight = `${name}.w`;
    this.params.push({ name: weight, shape: [k, k, src.channels, fam.channels], init: 'he', trainable: true, decay: true });
    fam.members.push({ param: weight, axis: 3, role: 'out' });
    if (src.family) this.fam(src.family).members.push({ param: weight, axis: 2, role: 'in' });
    return this.emit(pad === 'torch' ? { kind: 'conv', out: name, input, weight, stride, pad } : { kind: 'conv', out: name, input, weight, stride }, family);
  }

  bn(input: string, name: string): string {
    const src = this.tensor(input);
    if (!src.family) throw new Error('bn needs a channel family');
    const fam = this.fam(src.family);
    const [gamma, beta, mean, variance] = ['gamma', 'beta', 'mean', 'var'].map((s) => `${name}.${s}`);
    const c = fam.channels;
    this.params.push(
      { name: gamma, shape: [c], init: 'ones', trainable: true, decay: true },
      { name: beta, shape: [c], init: 'zeros', trainable: true, decay: true },
      { name: mean, shape: [c], init: 'zeros', trainable: false, decay: false },
      { name: variance, shape: [c], init: 'ones', trainable: false, decay: false },
    );
    for (const param of [gamma, beta, mean, variance]) fam.members.push({ param, axis: 0, role: 'out' });
    fam.bns.push(name);
    return this.emit({ kind: 'bn', out: name, input, gamma, beta, mean, variance }, src.family);
  }

  relu(input: string): string {
    return this.emit({ kind: 'relu', out: this.fresh('relu'), input }, this.tensor(input).family);
  }

  subsample(input: string, stride: number): string {
    return this.emit({ kind: 'subsample', out: this.fresh('sub'), input, stride }, this.tensor(input).family);
  }

  maxpool(input: string): string {
    return this.emit({ kind: 'maxpool', out: this.fresh('pool'), input }, this.tensor(input).family);
  }

  add(a: string, b: string): string {
    const fa = this.tensor(a).family;
    if (fa !== this.tensor(b).family) throw new Error(`add of ${a} and ${b}: different channel families`);
    return this.emit({ kind: 'add', out: this.fresh('add'), a, b }, fa);
  }

  gap(input: string): string {
    return this.emit({ kind: 'gap', out: this.fresh('gap'), input }, this.tensor(input).family);
  }

  /** `withBias: false` for the partial products of a classifier whose input is split by family. */
  dense(input: string, units: number, name: string, withBias = true): string {
    const src = this.tensor(input);
    const weight = `${name}.w`;
    const bias = `${name}.b`;
    this.params.push({ name: weight, shape: [src.channels, units], init: 'dense', trainable: true, decay: true });
    if (withBias) this.params.push({ name: bias, shape: [units], init: 'dense', trainable: true, decay: true });
    if (src.family) this.fam(src.family).members.push({ param: weight, axis: 0, role: 'in' });
    this.ops.push(withBias ? { kind: 'dense', out: name, input, weight, bias } : { kind: 'dense', out: name, input, weight });
    this.tensors.set(name, { channels: units });
    return name;
  }

  build(output: string): ModelDef {
    return {
      name: this.name,
      inputShape: this.inputShape,
      numClasses: this.numClasses,
      ops: this.ops,
      output,
      params: this.params,
      families: [...this.families.values()],
    };
  }

  private emit(op: Op, family: string | undefined): string {
    this.ops.push(op);
    // Without a family (the image, a classifier's hidden units) the width passes through.
    const channels = family ? this.fam(family).channels : this.tensor('input' in op ? op.input : 'a' in op ? op.a : 'input').channels;
    this.tensors.set(op.out, { family, channels });
    return op.out;
  }

  private fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  private tensor(name: string) {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`unknown tensor ${name}`);
    return t;
  }

  private fam(id: string): ChannelFamily {
    const f = this.families.get(id);
    if (!f) throw new Error(`unknown family ${id}`);
    return f;
  }
}
