import { createRng } from '../data/rng';

/**
 * For tests: PyTorch-layout state dicts of the CIFAR networks, written from the publishers'
 * module definitions (not from layouts.ts), and a plain-loop NCHW forward that computes what
 * PyTorch's eval mode computes — Conv2d(padding=k//2), BatchNorm2d(eps=1e-5) with running
 * statistics, the option-A shortcut F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, C/4, C/4)), max
 * pooling, average pooling, Linear. It shares no code with the importer or tfjs.
 */

export type TorchState = Map<string, { shape: number[]; data: Float32Array }>;

interface Fm {
  c: number;
  h: number;
  w: number;
  d: Float32Array;
}

export interface TorchResnetSpec {
  blocks: number;
  shortcut: 'A' | 'B';
  downsample?: 'shortcut' | 'downsample';
  classifier?: 'linear' | 'fc';
  classes?: number;
  /** Option A of a slimmed network: channels zero-padded [before, after] per stage ("layer2"). */
  pads?: Record<string, [number, number]>;
}

export interface TorchVggSpec {
  scheme: 'features' | 'block';
  /** Indices of the classifier's Linear modules ([] = one `classifier` Linear). */
  head: number[];
  hidden?: number;
  convBias: boolean;
}

function filler(seed: number) {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  return {
    normal: (shape: number[], std: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => normal() * std) }),
    uniform: (shape: number[], lo: number, hi: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * rng.next()) }),
  };
}

function addBn(s: TorchState, f: ReturnType<typeof filler>, key: string, c: number): void {
  s.set(`${key}.weight`, f.uniform([c], 0.5, 1.5));
  s.set(`${key}.bias`, f.normal([c], 0.1));
  s.set(`${key}.running_mean`, f.normal([c], 0.1));
  s.set(`${key}.running_var`, f.uniform([c], 0.5, 1.5));
  s.set(`${key}.num_batches_tracked`, { shape: [], data: new Float32Array([1000]) });
}

const conv = (f: ReturnType<typeof filler>, o: number, i: number, k: number) => f.normal([o, i, k, k], Math.sqrt(2 / (i * k * k)));

export function torchResnetState(spec: TorchResnetSpec, seed = 1): TorchState {
  const f = filler(seed);
  const s: TorchState = new Map();
  s.set('conv1.weight', conv(f, 16, 3, 3));
  addBn(s, f, 'bn1', 16);
  let inPlanes = 16;
  [16, 32, 64].forEach((planes, li) => {
    for (let b = 0; b < spec.blocks; b++) {
      const p = `layer${li + 1}.${b}`;
      s.set(`${p}.conv1.weight`, conv(f, planes, inPlanes, 3));
      addBn(s, f, `${p}.bn1`, planes);
      s.set(`${p}.conv2.weight`, conv(f, planes, planes, 3));
      addBn(s, f, `${p}.bn2`, planes);
      if (spec.shortcut === 'B' && inPlanes !== planes) {
        const d = spec.downsample ?? 'downsample';
        s.set(`${p}.${d}.0.weight`, conv(f, planes, inPlanes, 1));
        addBn(s, f, `${p}.${d}.1`, planes);
      }
      inPlanes = planes;
    }
  });
  const cls = spec.classifier ?? 'linear';
  s.set(`${cls}.weight`, f.normal([spec.classes ?? 10, 64], 0.3));
  s.set(`${cls}.bias`, f.normal([spec.classes ?? 10], 0.1));
  return s;
}

const VGG_CFG: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

export function torchVggState(spec: TorchVggSpec, seed = 1): TorchState {
  const f = filler(seed);
  const s: TorchState = new Map();
  let inC = 3;
  let n = 0;
  let block = 0;
  for (const v of VGG_CFG) {
    if (v === 'M') {
      if (spec.scheme === 'features') n++;
      else [block, n] = [block + 1, 0];
      continue;
    }
    const at = (i: number) => (spec.scheme === 'features' ? `features.${i}` : `block${block}.${i}`);
    s.set(`${at(n)}.weight`, conv(f, v, inC, 3));
    if (spec.convBias) s.set(`${at(n)}.bias`, f.normal([v], 0.1));
    addBn(s, f, at(n + 1), v);
    n += 3;
    inC = v;
  }
  if (spec.head.length === 0) {
    s.set('classifier.weight', f.normal([10, 512], 0.1));
    s.set('classifier.bias', f.normal([10], 0.1));
  } else {
    const h = spec.hidden ?? 512;
    const dims = [512, h, h, 10];
    spec.head.forEach((idx, j) => {
      s.set(`classifier.${idx}.weight`, f.normal([dims[j + 1], dims[j]], Math.sqrt(2 / dims[j])));
      s.set(`classifier.${idx}.bias`, f.normal([dims[j + 1]], 0.1));
    });
  }
  return s;
}

// --- The reference forward, NCHW, one image at a time ------------------------------------

function conv2d(x: Fm, w: { shape: number[]; data: Float32Array }, stride: number, bias?: Float32Array): Fm {
  const [O, I, K] = w.shape;
  const pad = (K - 1) / 2;
  const h = Math.floor((x.h + 2 * pad - K) / stride) + 1;
  const wd = Math.floor((x.w + 2 * pad - K) / stride) + 1;
  const d = new Float32Array(O * h * wd);
  for (let o = 0; o < O; o++)
    for (let y = 0; y < h; y++)
      for (let z = 0; z < wd; z++) {
        let acc = bias ? bias[o] : 0;
        for (let i = 0; i < I; i++)
          for (let ky = 0; ky < K; ky++) {
            const iy = y * stride - pad + ky;
            if (iy < 0 || iy >= x.h) continue;
            for (let kx = 0; kx < K; kx++) {
              const ix = z * stride - pad + kx;
              if (ix < 0 || ix >= x.w) continue;
              acc += x.d[(i * x.h + iy) * x.w + ix] * w.data[((o * I + i) * K + ky) * K + kx];
            }
          }
        d[(o * h + y) * wd + z] = acc;
      }
  return { c: O, h, w: wd, d };
}

function bn(x: Fm, s: TorchState, key: string): Fm {
  const g = s.get(`${key}.weight`)!.data;
  const b = s.get(`${key}.bias`)!.data;
  const m = s.get(`${key}.running_mean`)!.data;
  const v = s.get(`${key}.running_var`)!.data;
  const d = new Float32Array(x.d.length);
  const hw = x.h * x.w;
  for (let c = 0; c < x.c; c++) for (let i = 0; i < hw; i++) d[c * hw + i] = ((x.d[c * hw + i] - m[c]) / Math.sqrt(v[c] + 1e-5)) * g[c] + b[c];
  return { ...x, d };
}

const relu = (x: Fm): Fm => ({ ...x, d: x.d.map((v) => Math.max(0, v)) });
const add = (a: Fm, b: Fm): Fm => ({ ...a, d: a.d.map((v, i) => v + b.d[i]) });

function optionA(x: Fm, padC: number, after: number): Fm {
  const h = Math.ceil(x.h / 2);
  const w = Math.ceil(x.w / 2);
  const planes = padC + x.c + after;
  const d = new Float32Array(planes * h * w);
  for (let c = 0; c < x.c; c++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) d[((c + padC) * h + y) * w + z] = x.d[(c * x.h + 2 * y) * x.w + 2 * z];
  return { c: planes, h, w, d };
}

function maxPool(x: Fm): Fm {
  const h = x.h / 2;
  const w = x.w / 2;
  const d = new Float32Array(x.c * h * w);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < h; y++)
      for (let z = 0; z < w; z++) {
        const at = (dy: number, dz: number) => x.d[(c * x.h + 2 * y + dy) * x.w + 2 * z + dz];
        d[(c * h + y) * w + z] = Math.max(at(0, 0), at(0, 1), at(1, 0), at(1, 1));
      }
  return { c: x.c, h, w, d };
}

function avgPool(x: Fm): Float32Array {
  const hw = x.h * x.w;
  return Float32Array.from({ length: x.c }, (_, c) => x.d.subarray(c * hw, (c + 1) * hw).reduce((a, b) => a + b, 0) / hw);
}

function linear(x: Float32Array, s: TorchState, key: string): Float32Array {
  const w = s.get(`${key}.weight`)!;
  const b = s.get(`${key}.bias`)!.data;
  const [O, I] = w.shape;
  return Float32Array.from({ length: O }, (_, o) => {
    let acc = b[o];
    for (let i = 0; i < I; i++) acc += w.data[o * I + i] * x[i];
    return acc;
  });
}

/** Raw HWC uint8 pixels -> NCHW, (x/255 - mean) / std. */
function toInput(pixels: Uint8Array, mean: number[], std: number[]): Fm {
  const d = new Float32Array(3 * 32 * 32);
  for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) d[c * 1024 + p] = (pixels[p * 3 + c] / 255 - mean[c]) / std[c];
  return { c: 3, h: 32, w: 32, d };
}

export function referenceResnet(s: TorchState, spec: TorchResnetSpec, pixels: Uint8Array, mean: number[], std: number[]): Float32Array {
  let x = relu(bn(conv2d(toInput(pixels, mean, std), s.get('conv1.weight')!, 1), s, 'bn1'));
  [16, 32, 64].forEach((planes, li) => {
    for (let b = 0; b < spec.blocks; b++) {
      const p = `layer${li + 1}.${b}`;
      const stride = li > 0 && b === 0 ? 2 : 1;
      const out = bn(conv2d(relu(bn(conv2d(x, s.get(`${p}.conv1.weight`)!, stride), s, `${p}.bn1`)), s.get(`${p}.conv2.weight`)!, 1), s, `${p}.bn2`);
      let sc = x;
      if (stride === 2) {
        const d = spec.downsample ?? 'downsample';
        const [before, after] = spec.pads?.[`layer${li + 1}`] ?? [planes / 4, planes / 4];
        sc = spec.shortcut === 'A' ? optionA(x, before, after) : bn(conv2d(x, s.get(`${p}.${d}.0.weight`)!, 2), s, `${p}.${d}.1`);
      }
      x = relu(add(out, sc));
    }
  });
  return linear(avgPool(x), s, spec.classifier ?? 'linear');
}

export function referenceVgg(s: TorchState, spec: TorchVggSpec, pixels: Uint8Array, mean: number[], std: number[]): Float32Array {
  let x = toInput(pixels, mean, std);
  let n = 0;
  let block = 0;
  for (const v of VGG_CFG) {
    if (v === 'M') {
      x = maxPool(x);
      if (spec.scheme === 'features') n++;
      else [block, n] = [block + 1, 0];
      continue;
    }
    const at = (i: number) => (spec.scheme === 'features' ? `features.${i}` : `block${block}.${i}`);
    x = relu(bn(conv2d(x, s.get(`${at(n)}.weight`)!, 1, s.get(`${at(n)}.bias`)?.data), s, at(n + 1)));
    n += 3;
  }
  let h = avgPool(x);
  if (spec.head.length === 0) return linear(h, s, 'classifier');
  spec.head.forEach((idx, j) => {
    h = linear(h, s, `classifier.${idx}`);
    if (j < spec.head.length - 1) h = h.map((v) => Math.max(0, v));
  });
  return h;
}
