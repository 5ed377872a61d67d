import { DataError } from '../data/types';
import { PyDict, type PyValue } from './pickle';
import { readSafetensors } from './safetensors';
import { checkCheckpointSize, type StateDict } from './tensors';
import { isLegacyTorch, isZip, readTorchZip, TorchTensor } from './torch-zip';

export interface ReadCheckpoint {
  state: StateDict;
  format: 'pytorch' | 'safetensors';
  /** Where in the saved object the state dict was (e.g. "state_dict"); '' for a bare one. */
  path: string;
  /** True when every key carried DataParallel's "module." prefix (removed). */
  strippedModulePrefix: boolean;
  metadata: Record<string, string>;
}

/** Keys under which training scripts commonly store the model's weights, tried in order. */
const WRAPPER_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'network', 'state', 'params', 'weights', 'module'];

/**
 * Reads a checkpoint's weights: a torch.save zip or a safetensors file (told apart by content,
 * not by name), unwrapped from the dict training scripts save it in, DataParallel's "module."
 * prefix removed.
 */
export function readCheckpoint(file: string, bytes: Uint8Array): ReadCheckpoint {
  checkCheckpointSize(file, bytes.length);
  if (isZip(bytes) || isLegacyTorch(bytes)) {
    const root = readTorchZip(file, bytes);
    const { dict, path } = findStateDict(file, root);
    return { ...stripModule(dict), format: 'pytorch', path, metadata: {} };
  }
  if (bytes.length >= 9 && bytes[8] === 0x7b /* '{' */) {
    const { tensors, metadata } = readSafetensors(file, bytes);
    return { ...stripModule(tensors), format: 'safetensors', path: '', metadata };
  }
  throw new DataError(file, 'not a checkpoint this app reads: expected a PyTorch zip checkpoint (.pt, .pth, .th saved by torch.save since 1.6) or a .safetensors file');
}

function tensorsOf(d: PyDict): StateDict | null {
  if (d.map.size === 0) return null;
  const out: StateDict = new Map();
  for (const [k, v] of d.map) {
    if (typeof k !== 'string' || !(v instanceof TorchTensor)) return null;
    out.set(k, v.tensor);
  }
  return out;
}

function findStateDict(file: string, root: PyValue): { dict: StateDict; path: string } {
  if (!(root instanceof PyDict)) throw new DataError(file, 'the checkpoint holds no dict of tensors (save model.state_dict(), not the model object)');
  const bare = tensorsOf(root);
  if (bare) return { dict: bare, path: '' };
  const candidates: [string, PyDict][] = [];
  for (const [k, v] of root.map) if (typeof k === 'string' && v instanceof PyDict) candidates.push([k, v]);
  candidates.sort(([a], [b]) => rank(a) - rank(b));
  for (const [k, v] of candidates) {
    const d = tensorsOf(v);
    if (d) return { dict: d, path: k };
  }
  const keys = [...root.map.keys()].map(String).slice(0, 8).join(', ');
  throw new DataError(file, `found no state dict (a dict of name -> tensor) in the checkpoint; its top-level keys are: ${keys}`);
}

const rank = (k: string) => {
  const i = WRAPPER_KEYS.indexOf(k);
  return i < 0 ? WRAPPER_KEYS.length : i;
};

function stripModule(state: StateDict): { state: StateDict; strippedModulePrefix: boolean } {
  const keys = [...state.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith('module.'))) return { state, strippedModulePrefix: false };
  return { state: new Map([...state].map(([k, v]) => [k.slice('module.'.length), v])), strippedModulePrefix: true };
}
