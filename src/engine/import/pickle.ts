import { DataError } from '../data/types';

/**
 * A restricted unpickler: reads Python pickle protocols 0-5 into plain values and never runs
 * or constructs anything the caller has not allowed. Python's own Unpickler calls whatever
 * callable a GLOBAL names (os.system, builtins.eval, ...); here a GLOBAL outside
 * `allowed` is refused when it is read, before any REDUCE could apply it, and an allowed one
 * maps to a pure TypeScript function that builds a value. Opcodes that construct instances of
 * arbitrary classes (INST, OBJ, NEWOBJ, EXT*) and out-of-band buffers are refused as well.
 *
 * Opcode meanings follow CPython's Lib/pickletools.py, the format's reference documentation.
 */

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** dict and collections.OrderedDict (both keep insertion order, as Python 3.7+ dicts do). */
export class PyDict {
  readonly map = new Map<unknown, PyValue>();
  constructor(readonly className: 'dict' | 'collections.OrderedDict' = 'dict') {}
}

/** A GLOBAL the caller allowed; `call` builds a value from REDUCE's argument tuple. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly call: ((args: PyValue[]) => PyValue) | null,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export class PySet {
  constructor(readonly items: PyValue[]) {}
}

/**
 * Anything the caller's functions produce (tensors, storages) is opaque here; `object` keeps
 * the type open for them.
 */
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PySet | PyGlobal | object;

export interface UnpickleHost {
  /** "module.name" -> builder; `null` allows the global as a value only (e.g. a storage type). */
  globals: ReadonlyMap<string, ((args: PyValue[]) => PyValue) | null>;
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Why the globals are restricted, appended to a refusal. */
  refusalHint: string;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Limits that keep a hostile pickle from exhausting memory through the memo or the stack. */
const MAX_STACK = 1_000_000;
const MAX_MEMO = 1_000_000;

export function unpickle(file: string, bytes: Uint8Array, host: UnpickleHost): PyValue {
  const fail = (problem: string): never => {
    throw new DataError(file, problem);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  const need = (n: number, what: string) => {
    if (n < 0 || pos + n > bytes.length) fail(`the pickle ends inside ${what} (at byte ${pos} of ${bytes.length}); the file is truncated or damaged`);
  };
  const u8 = () => (need(1, 'an opcode argument'), bytes[pos++]);
  const u16 = () => (need(2, 'an opcode argument'), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4, 'an opcode argument'), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4, 'an opcode argument'), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8, 'an opcode argument');
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(`a length of ${v} bytes runs past the end of the pickle`);
    return Number(v);
  };
  const take = (n: number, what: string) => {
    need(n, what);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('the pickle ends inside a text argument');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (b: Uint8Array) => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('a string in the pickle is not valid UTF-8');
    }
  };
  const push = (v: StackItem) => {
    if (stack.length >= MAX_STACK) fail('the pickle nests too deeply');
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) fail('the pickle pops from an empty stack (damaged file)');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) fail('the pickle reads an empty stack (damaged file)');
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('the pickle closes a MARK it never opened (damaged file)');
    const items = stack.splice(m!);
    // The MARK placeholder itself sits at index m; drop it.
    if (items.shift() !== MARK || items.includes(MARK)) fail('the pickle\'s MARK stack is inconsistent (damaged file)');
    return items as PyValue[];
  };
  const memoPut = (key: number) => {
    if (memo.size >= MAX_MEMO && !memo.has(key)) fail('the pickle memoizes too many objects');
    memo.set(key, top());
  };
  const memoGet = (key: number) => {
    if (!memo.has(key)) fail(`the pickle reads memo entry ${key} that was never written (damaged file)`);
    push(memo.get(key)!);
  };
  const global = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    if (!host.globals.has(q)) fail(`refused the Python global ${q}: ${host.refusalHint}. Nothing in the file was run.`);
    return new PyGlobal(module, name, host.globals.get(q) ?? null);
  };
  const asDict = (v: PyValue, op: string): PyDict => {
    if (!(v instanceof PyDict)) fail(`${op} on something that is not a dict (damaged or unsupported pickle)`);
    return v as PyDict;
  };
  const asList = (v: PyValue, op: string): PyValue[] => {
    if (!Array.isArray(v)) fail(`${op} on something that is not a list (damaged or unsupported pickle)`);
    return v as PyValue[];
  };
  const setItems = (d: PyDict, items: PyValue[]) => {
    if (items.length % 2) fail('SETITEMS with an odd number of items (damaged file)');
    for (let i = 0; i < items.length; i += 2) d.map.set(items[i], items[i + 1]);
  };
  const intOf = (v: bigint) => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const long = (b: Uint8Array) => {
    if (b.length > 64) fail('an integer of more than 512 bits (not a state dict)');
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return intOf(v);
  };

  for (;;) {
    if (pos >= bytes.length) fail('the pickle ends without its STOP opcode; the file is truncated');
    const opAt = pos;
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME: framing is only a read-ahead hint
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail('the pickle stops with a malformed stack (damaged file)');
        return stack[0] as PyValue;
      case 0x28: // MARK
        marks.push(stack.length);
        push(MARK);
        break;
      case 0x30: // POP
        if (stack.length && stack[stack.length - 1] === MARK) {
          stack.pop();
          marks.pop();
        } else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(long(take(u8(), 'a LONG1')));
        break;
      case 0x8b: // LONG4
        push(long(take(u32(), 'a LONG4')));
        break;
      case 0x49: { // INT (protocol 0; "01"/"00" are booleans)
        const s = line();
        if (s === '01' || s === '00') push(s === '01');
        else if (/^[+-]?\d+$/.test(s)) push(intOf(BigInt(s)));
        else fail(`INT with a bad argument "${s.slice(0, 20)}"`);
        break;
      }
      case 0x4c: { // LONG (protocol 0)
        const s = line().replace(/L$/, '');
        if (!/^[+-]?\d{1,160}$/.test(s)) fail(`LONG with a bad argument "${s.slice(0, 20)}"`);
        push(intOf(BigInt(s)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8, 'a float');
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: { // FLOAT (protocol 0)
        const v = Number(line());
        if (Number.isNaN(v)) fail('FLOAT with a bad argument');
        push(v);
        break;
      }
      case 0x58: // BINUNICODE
        push(text(take(u32(), 'a string')));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(take(u8(), 'a string')));
        break;
      case 0x8d: // BINUNICODE8
        push(text(take(u64(), 'a string')));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        push(latin1.decode(take(i32(), 'a string')));
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(take(u8(), 'a string')));
        break;
      case 0x42: // BINBYTES
        push(take(u32(), 'bytes').slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8(), 'bytes').slice());
        break;
      case 0x8e: // BINBYTES8
        push(take(u64(), 'bytes').slice());
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: { // APPEND
        const v = pop();
        asList(top(), 'APPEND').push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        asList(top(), 'APPENDS').push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x64: { // DICT
        const d = new PyDict();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        asDict(top(), 'SETITEM').map.set(k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(asDict(top(), 'SETITEMS'), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new PySet([]));
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet)) fail('ADDITEMS on something that is not a set');
        (s as PySet).items.push(...items);
        break;
      }
      case 0x91: // FROZENSET
        push(new PySet(popMark()));
        break;
      case 0x63: { // GLOBAL
        const module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string names');
        push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal)) fail('REDUCE applies something that is not an allowed global (damaged or hostile pickle)');
        if (!(args instanceof PyTuple)) fail(`REDUCE of ${(fn as PyGlobal).qualified} without an argument tuple`);
        const g = fn as PyGlobal;
        if (!g.call) fail(`refused to call ${g.qualified}: it is allowed only as a value. Nothing in the file was run.`);
        push(g.call!((args as PyTuple).items));
        break;
      }
      case 0x62: { // BUILD: only OrderedDict's attribute dict (state_dict()._metadata) is accepted
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict) || !(state instanceof PyDict || state === null)) {
          fail('BUILD sets the state of an object that is not a dict: a state dict never needs that');
        }
        break;
      }
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x70: { // PUT
        const k = Number(line());
        if (!Number.isSafeInteger(k)) fail('PUT with a bad argument');
        memoPut(k);
        break;
      }
      case 0x68: // BINGET
        memoGet(u8());
        break;
      case 0x6a: // LONG_BINGET
        memoGet(u32());
        break;
      case 0x67: { // GET
        const k = Number(line());
        if (!Number.isSafeInteger(k)) fail('GET with a bad argument');
        memoGet(k);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!host.persistentLoad) fail('the pickle refers to external data (persistent id) where none is expected');
        push(host.persistentLoad!(pid));
        break;
      }
      case 0x50: { // PERSID
        const pid = line();
        if (!host.persistentLoad) fail('the pickle refers to external data (persistent id) where none is expected');
        push(host.persistentLoad!(pid));
        break;
      }
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x81: // NEWOBJ
      case 0x92: // NEWOBJ_EX
        fail(`the pickle constructs an object instance (opcode 0x${op.toString(16)} at byte ${opAt}); a state dict never needs that. Nothing in the file was run.`);
        break;
      case 0x82:
      case 0x83:
      case 0x84:
        fail('the pickle uses the copyreg extension registry (EXT opcodes); a state dict never needs that');
        break;
      case 0x96:
      case 0x97:
      case 0x98:
        fail('the pickle uses out-of-band buffers (protocol 5); a state dict saved by torch.save never does');
        break;
      default:
        fail(`unknown pickle opcode 0x${op.toString(16)} at byte ${opAt} (damaged file)`);
    }
  }
}
