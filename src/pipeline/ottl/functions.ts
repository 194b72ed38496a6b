/**
 * OTTL editors and converters Sieve implements, with the Collector's signatures and behaviour
 * (pkg/ottl/ottlfuncs). Hashing converters use the pipeline's keyed hash (see ../hash.ts):
 * `SHA256(x)` is HMAC-SHA256 with the pipeline key unless the processor sets `hash_function: sha256`.
 */
import type { Hasher } from '../hash.js';
import type { Accessor, TransformContext } from './contexts.js';
import { globRegExp, goRegExp, goReplaceAll } from './regex.js';
import {
  asMap,
  asString,
  bytesLike,
  floatLike,
  fromAnyValue,
  goJsonString,
  intLike,
  OMap,
  OSlice,
  OttlRuntimeError,
  OttlTypeError,
  stringLike,
  toAnyValue,
  typeName,
  type Value,
} from './values.js';

export type Getter = (c: TransformContext) => Value;

/** How an argument is bound (the Go type of the Collector's argument struct field). */
export type ParamType =
  | 'getter' // ottl.Getter
  | 'string' // StringGetter
  | 'stringLike' // StringLikeGetter
  | 'int' // IntGetter
  | 'intLike' // IntLikeGetter
  | 'floatLike' // FloatLikeGetter
  | 'bytesLike' // ByteSliceLikeGetter
  | 'pmap' // PMapGetter
  | 'pmapSetter' // PMapGetSetter: a path to a map
  | 'getSetter' // GetSetter: a path
  | 'int64Literal' // int64
  | 'stringLiteral' // string
  | 'stringLiteralList' // []string
  | 'stringGetterList' // []StringGetter
  | 'stringLikeSlice' // SliceGetter[StringLikeGetter]
  | 'function' // FunctionGetter: a converter name such as SHA256
  | 'boolLiteral'; // bool

export interface Param {
  name: string;
  type: ParamType;
  optional?: boolean;
}

/** Arguments after binding: typed closures, literals, accessors, functions. */
export type Bound =
  | { kind: 'getter'; get: Getter; literal?: Value; isLiteral: boolean }
  | { kind: 'accessor'; acc: Accessor }
  | { kind: 'literal'; value: unknown }
  | { kind: 'list'; items: Bound[] }
  | { kind: 'function'; fn: (input: string) => Value }
  | { kind: 'absent' };

export interface FnEnv {
  /** the pipeline's hasher, resolved on first use (the key may be absent at validation) */
  hasher(): Hasher;
  /** called at compile time by functions that hash, so a missing key is reported at start */
  usesHasher?(): void;
}

export interface FnDef {
  params: Param[];
  /** compile-time checks and the runtime closure; editors return null */
  build(args: Bound[], env: FnEnv): Getter;
}

// ---------- argument readers ----------

const g = (b: Bound | undefined): Getter => {
  if (b?.kind !== 'getter') throw new Error('internal: expected a getter');
  return b.get;
};
const acc = (b: Bound | undefined): Accessor => {
  if (b?.kind !== 'accessor') throw new Error('internal: expected a path');
  return b.acc;
};
const lit = <T>(b: Bound | undefined, dflt: T): T => (b?.kind === 'literal' ? (b.value as T) : dflt);
const literalOf = (b: Bound | undefined): Value | undefined =>
  b?.kind === 'getter' && b.isLiteral ? (b.literal as Value) : undefined;

const str = (get: Getter) => (c: TransformContext) => asString(get(c));

/** A regex argument: compiled once when literal (as newDynamicRegex does), else per item. */
function dynamicRegex(fn: string, b: Bound | undefined): (c: TransformContext) => RegExp {
  const literal = literalOf(b);
  const compileRe = (p: string) => {
    try {
      return goRegExp(p);
    } catch (err) {
      throw new OttlRuntimeError(
        `the regex pattern supplied to ${fn} ${goJsonString(p)} is not a valid pattern: ${(err as Error).message}`,
      );
    }
  };
  if (typeof literal === 'string') {
    const re = compileRe(literal);
    return () => re;
  }
  const get = str(g(b));
  return (c) => compileRe(get(c));
}

function dynamicGlob(fn: string, b: Bound | undefined): (c: TransformContext) => RegExp {
  const literal = literalOf(b);
  const compileGlob = (p: string) => {
    try {
      return globRegExp(p);
    } catch (err) {
      throw new OttlRuntimeError(
        `the regex pattern supplied to ${fn} ${goJsonString(p)} is not a valid pattern: ${(err as Error).message}`,
      );
    }
  };
  if (typeof literal === 'string') {
    const re = compileGlob(literal);
    return () => re;
  }
  const get = str(g(b));
  return (c) => compileGlob(get(c));
}

/** `replacementFormat`: a format string with exactly one %s. */
function applyFormat(format: string | undefined, v: string): string {
  if (format === undefined) return v;
  if (!/^(.*?%s.*?)$/s.test(format) || /%[^s]/.test(format) || format.split('%s').length !== 2)
    throw new OttlRuntimeError(
      'replacementFormat must be format string containing a single %s and no other format specifiers',
    );
  return format.replace('%s', v);
}

function optionalFormat(b: Bound | undefined): ((c: TransformContext) => string) | undefined {
  if (b === undefined || b.kind === 'absent') return undefined;
  return str(g(b));
}

function fnOf(b: Bound | undefined): ((input: string) => Value) | undefined {
  return b?.kind === 'function' ? b.fn : undefined;
}

function utf8Len(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
/** Go's s[:n] on the UTF-8 bytes (invalid trailing bytes, if cut mid-rune, become U+FFFD). */
function utf8Slice(s: string, start: number, end: number): string {
  if (isAscii(s)) return s.slice(start, end);
  return Buffer.from(s, 'utf8').subarray(start, end).toString('utf8');
}
function runeStart(b: Buffer, i: number): boolean {
  return ((b[i] as number) & 0xc0) !== 0x80;
}

// ---------- editors ----------

const EDITORS: Record<string, FnDef> = {
  set: {
    params: [
      { name: 'target', type: 'getSetter' },
      { name: 'value', type: 'getter' },
    ],
    build: ([t, v]) => {
      const target = acc(t);
      const value = g(v);
      return (c) => {
        // nil is passed to the target (the Collector's ottl.set.allowNil gate, on since v0.158):
        // an attribute becomes an empty value, a typed field such as name refuses it
        (target.set as NonNullable<Accessor['set']>)(c, value(c));
        return null;
      };
    },
  },
  delete_key: {
    params: [
      { name: 'target', type: 'pmapSetter' },
      { name: 'key', type: 'string' },
    ],
    build: ([t, k]) => {
      const target = acc(t);
      const key = str(g(k));
      return (c) => {
        const m = asMap(target.get(c));
        const kk = key(c);
        // pcommon.Map.Remove: the first entry with the key is replaced by the last entry
        const i = m.kvs.findIndex((kv) => kv.key === kk);
        if (i >= 0) {
          m.kvs[i] = m.kvs[m.kvs.length - 1] as (typeof m.kvs)[number];
          m.kvs.length--;
        }
        return null;
      };
    },
  },
  delete_matching_keys: {
    params: [
      { name: 'target', type: 'pmapSetter' },
      { name: 'pattern', type: 'string' },
    ],
    build: ([t, p]) => {
      const target = acc(t);
      const matcher = keyMatcher('delete_matching_keys', p);
      return (c) => {
        const matches = matcher(c);
        removeIf(asMap(target.get(c)), matches);
        return null;
      };
    },
  },
  keep_keys: {
    params: [
      { name: 'target', type: 'pmapSetter' },
      { name: 'keys', type: 'stringGetterList' },
    ],
    build: ([t, k]) => {
      const target = acc(t);
      const bound = k?.kind === 'list' ? k.items : [];
      const literal = bound.every((b) => typeof literalOf(b) === 'string');
      const fixed = literal ? new Set(bound.map((b) => literalOf(b) as string)) : undefined;
      const items = bound.map((b) => str(g(b)));
      return (c) => {
        const keep = fixed ?? new Set(items.map((f) => f(c)));
        removeIf(asMap(target.get(c)), (name) => !keep.has(name));
        return null;
      };
    },
  },
  keep_matching_keys: {
    params: [
      { name: 'target', type: 'pmapSetter' },
      { name: 'pattern', type: 'string' },
    ],
    build: ([t, p]) => {
      const target = acc(t);
      const matcher = keyMatcher('keep_matching_keys', p);
      return (c) => {
        const matches = matcher(c);
        removeIf(asMap(target.get(c)), (name) => !matches(name));
        return null;
      };
    },
  },
  truncate_all: {
    params: [
      { name: 'target', type: 'pmapSetter' },
      { name: 'limit', type: 'int64Literal' },
      { name: 'utf8_safe', type: 'boolLiteral', optional: true },
      { name: 'truncation_marker', type: 'stringLiteral', optional: true },
    ],
    build: ([t, l, u, m]) => {
      const target = acc(t);
      const limit = lit<bigint>(l, 0n);
      const utf8Safe = lit<boolean>(u, true);
      const marker = lit<string>(m, '');
      if (limit < 0n)
        throw new OttlRuntimeError(`invalid limit for truncate_all function, ${limit} cannot be negative`);
      if (BigInt(utf8Len(marker)) > limit)
        throw new OttlRuntimeError(
          `invalid truncation marker for truncate_all function, length of marker ${utf8Len(marker)} cannot be greater than limit ${limit}`,
        );
      const n = Number(limit);
      return (c) => {
        for (const kv of asMap(target.get(c)).kvs) {
          const v = fromAnyValue(kv.value);
          if (typeof v !== 'string') continue; // Value.Str() is "" for non-strings: never longer than the limit
          if (v.length <= n && (isAscii(v) || utf8Len(v) <= n)) continue;
          const b = Buffer.from(v, 'utf8');
          if (b.length <= n) continue;
          let at = n - utf8Len(marker);
          if (utf8Safe) while (at > 0 && !runeStart(b, at)) at--;
          kv.value = { stringValue: b.subarray(0, at).toString('utf8') + marker };
        }
        return null;
      };
    },
  },
  limit: {
    params: [
      { name: 'target', type: 'pmapSetter' },
      { name: 'limit', type: 'int64Literal' },
      { name: 'priority_keys', type: 'stringLiteralList' },
    ],
    build: ([t, l, p]) => {
      const target = acc(t);
      const limit = lit<bigint>(l, 0n);
      const priority = lit<string[]>(p, []);
      if (limit < 0n) throw new OttlRuntimeError(`invalid limit for limit function, ${limit} cannot be negative`);
      if (limit < BigInt(priority.length))
        throw new OttlRuntimeError(
          `invalid limit for limit function, ${limit} cannot be less than number of priority attributes ${priority.length}`,
        );
      const keep = new Set(priority);
      const n = Number(limit);
      return (c) => {
        const m = asMap(target.get(c));
        if (m.kvs.length <= n) return null;
        let count = 0;
        for (const k of priority) if (m.kvs.some((kv) => kv.key === k)) count++;
        removeIf(m, (name) => {
          if (keep.has(name)) return false;
          if (count < n) {
            count++;
            return false;
          }
          return true;
        });
        return null;
      };
    },
  },
  merge_maps: {
    params: [
      { name: 'target', type: 'pmapSetter' },
      { name: 'source', type: 'pmap' },
      { name: 'strategy', type: 'stringLiteral' },
    ],
    build: ([t, s, st]) => {
      const target = acc(t);
      const source = g(s);
      const strategy = lit<string>(st, '');
      if (!['insert', 'update', 'upsert'].includes(strategy))
        throw new OttlRuntimeError(`invalid value for strategy, ${strategy}, must be 'insert', 'update' or 'upsert'`);
      return (c) => {
        const tm = asMap(target.get(c));
        const sm = asMap(source(c));
        // copy the source first: it may be the target itself
        const entries = sm.kvs.map((kv) => ({ key: kv.key, value: toAnyValue(fromAnyValue(kv.value)) }));
        for (const e of entries) {
          const i = tm.kvs.findIndex((kv) => kv.key === e.key);
          if (strategy === 'insert' && i < 0) tm.kvs.push(e);
          else if (strategy === 'update' && i >= 0) tm.kvs[i] = e;
          else if (strategy === 'upsert') {
            if (i >= 0) tm.kvs[i] = e;
            else tm.kvs.push(e);
          }
        }
        return null;
      };
    },
  },
  replace_pattern: {
    params: [
      { name: 'target', type: 'getSetter' },
      { name: 'regex_pattern', type: 'string' },
      { name: 'replacement', type: 'string' },
      { name: 'function', type: 'function', optional: true },
      { name: 'replacement_format', type: 'string', optional: true },
    ],
    build: ([t, p, r, f, fmt]) => {
      const target = acc(t);
      const re = dynamicRegex('replace_pattern', p);
      const replacement = str(g(r));
      const fn = fnOf(f);
      const format = optionalFormat(fmt);
      return (c) => {
        const v = target.get(c);
        if (v === null) return null;
        const rep = replacement(c);
        if (typeof v !== 'string') return null;
        const r0 = re(c);
        if (!r0.test(v)) return null;
        const fmtVal = format?.(c);
        const out = fn
          ? goReplaceAll(r0, v, rep, (expanded) => applyFormat(fmtVal, asReplacement(fn(expanded))))
          : goReplaceAll(r0, v, rep);
        target.set?.(c, out);
        return null;
      };
    },
  },
  replace_all_patterns: {
    params: [
      { name: 'target', type: 'pmapSetter' },
      { name: 'mode', type: 'stringLiteral' },
      { name: 'regex_pattern', type: 'string' },
      { name: 'replacement', type: 'string' },
      { name: 'function', type: 'function', optional: true },
      { name: 'replacement_format', type: 'string', optional: true },
    ],
    build: ([t, mo, p, r, f, fmt]) => {
      const target = acc(t);
      const mode = lit<string>(mo, '');
      const re = dynamicRegex('replace_all_patterns', p);
      if (mode !== 'key' && mode !== 'value')
        throw new OttlRuntimeError(`invalid mode ${mode}, must be either 'key' or 'value'`);
      const replacement = str(g(r));
      const fn = fnOf(f);
      const format = optionalFormat(fmt);
      return (c) => {
        const m = asMap(target.get(c));
        const rep = replacement(c);
        const r0 = re(c);
        const fmtVal = format?.(c);
        const replace = (s: string): string | undefined => {
          if (!fn) return goReplaceAll(r0, s, rep);
          try {
            return goReplaceAll(r0, s, rep, (expanded) => applyFormat(fmtVal, asReplacement(fn(expanded))));
          } catch {
            return undefined; // the Collector skips an entry whose replacement function fails
          }
        };
        if (mode === 'value') {
          for (const kv of m.kvs) {
            const v = fromAnyValue(kv.value);
            if (typeof v !== 'string' || !r0.test(v)) continue;
            const out = replace(v);
            if (out !== undefined) kv.value = { stringValue: out };
          }
        } else {
          const updated: typeof m.kvs = [];
          for (const kv of m.kvs) {
            let key = kv.key;
            if (r0.test(key)) {
              const out = replace(key);
              if (out === undefined) continue;
              key = out;
            }
            const i = updated.findIndex((x) => x.key === key);
            if (i >= 0) updated[i] = { key, value: kv.value ?? {} };
            else updated.push({ key, value: kv.value ?? {} });
          }
          m.kvs.length = 0;
          for (const kv of updated) m.kvs.push(kv);
        }
        return null;
      };
    },
  },
  replace_match: {
    params: [
      { name: 'target', type: 'getSetter' },
      { name: 'pattern', type: 'string' },
      { name: 'replacement', type: 'string' },
      { name: 'function', type: 'function', optional: true },
      { name: 'replacement_format', type: 'string', optional: true },
    ],
    build: ([t, p, r, f, fmt]) => {
      const target = acc(t);
      const glob = dynamicGlob('replace_match', p);
      const replacement = str(g(r));
      const fn = fnOf(f);
      const format = optionalFormat(fmt);
      return (c) => {
        const gl = glob(c);
        const rep = replacementValue(c, replacement, fn, format);
        const v = target.get(c);
        if (typeof v === 'string' && gl.test(v)) target.set?.(c, rep);
        return null;
      };
    },
  },
  replace_all_matches: {
    params: [
      { name: 'target', type: 'pmapSetter' },
      { name: 'pattern', type: 'string' },
      { name: 'replacement', type: 'string' },
      { name: 'function', type: 'function', optional: true },
      { name: 'replacement_format', type: 'string', optional: true },
    ],
    build: ([t, p, r, f, fmt]) => {
      const target = acc(t);
      const glob = dynamicGlob('replace_all_matches', p);
      const replacement = str(g(r));
      const fn = fnOf(f);
      const format = optionalFormat(fmt);
      return (c) => {
        const gl = glob(c);
        const m = asMap(target.get(c));
        const rep = replacementValue(c, replacement, fn, format);
        for (const kv of m.kvs) {
          const v = fromAnyValue(kv.value);
          if (typeof v === 'string' && gl.test(v)) kv.value = { stringValue: rep };
        }
        return null;
      };
    },
  },
};

function replacementValue(
  c: TransformContext,
  replacement: (c: TransformContext) => string,
  fn: ((input: string) => Value) | undefined,
  format: ((c: TransformContext) => string) | undefined,
): string {
  const r = replacement(c);
  if (!fn) return r;
  return applyFormat(format?.(c), asReplacement(fn(r)));
}

function asReplacement(v: Value): string {
  if (typeof v !== 'string') throw new OttlRuntimeError('the replacement value must be a string');
  return v;
}

const VERDICTS_MAX = 10_000;
/** key → regex.test(key), memoized when the pattern is literal (attribute keys repeat across items). */
function keyMatcher(fn: string, b: Bound | undefined): (c: TransformContext) => (key: string) => boolean {
  const re = dynamicRegex(fn, b);
  if (typeof literalOf(b) !== 'string')
    return (c) => {
      const r = re(c);
      return (k) => r.test(k);
    };
  const r = re(undefined as never);
  const verdicts = new Map<string, boolean>();
  const test = (k: string) => {
    let v = verdicts.get(k);
    if (v === undefined) {
      v = r.test(k);
      if (verdicts.size >= VERDICTS_MAX) verdicts.clear();
      verdicts.set(k, v);
    }
    return v;
  };
  return () => test;
}

function removeIf(m: OMap, drop: (key: string) => boolean): void {
  let w = 0;
  for (let r = 0; r < m.kvs.length; r++) {
    const kv = m.kvs[r] as (typeof m.kvs)[number];
    if (!drop(kv.key)) m.kvs[w++] = kv;
  }
  m.kvs.length = w;
}

// ---------- converters ----------

function sliceValues(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof OSlice) return v.values.map(fromAnyValue);
  throw new OttlTypeError(`expected a slice but got ${typeName(v)}`);
}

const CONVERTERS: Record<string, FnDef> = {
  Concat: {
    params: [
      { name: 'vals', type: 'stringLikeSlice' },
      { name: 'delimiter', type: 'string' },
    ],
    build: ([vals, d]) => {
      const delimiter = str(g(d));
      if (vals?.kind === 'list') {
        const items = vals.items.map((b) => g(b));
        return (c) => {
          const dl = delimiter(c);
          let out = '';
          for (let i = 0; i < items.length; i++) {
            if (i > 0) out += dl;
            const s = stringLike((items[i] as Getter)(c));
            out += s === undefined ? '<nil>' : s;
          }
          return out;
        };
      }
      const whole = g(vals);
      return (c) => {
        const dl = delimiter(c);
        return sliceValues(whole(c))
          .map((x) => stringLike(x) ?? '<nil>')
          .join(dl);
      };
    },
  },
  SHA256: {
    params: [{ name: 'target', type: 'string' }],
    build: ([t], env) => {
      const target = str(g(t));
      env.usesHasher?.();
      return (c) => env.hasher()(target(c));
    },
  },
  IsMatch: {
    params: [
      { name: 'target', type: 'stringLike' },
      { name: 'pattern', type: 'string' },
    ],
    build: ([t, p]) => {
      const target = g(t);
      const re = dynamicRegex('IsMatch', p);
      return (c) => {
        const r = re(c);
        const s = stringLike(target(c));
        return s === undefined ? false : r.test(s);
      };
    },
  },
  Substring: {
    params: [
      { name: 'target', type: 'string' },
      { name: 'start', type: 'int' },
      { name: 'length', type: 'int' },
      { name: 'utf8_safe', type: 'boolLiteral', optional: true },
    ],
    build: ([t, s, l, u]) => {
      const target = str(g(t));
      const startG = g(s);
      const lengthG = g(l);
      const utf8Safe = lit<boolean>(u, false);
      return (c) => {
        const start = startG(c) as bigint;
        if (start < 0n) throw new OttlRuntimeError(`invalid start for substring function, ${start} cannot be negative`);
        const length = lengthG(c) as bigint;
        if (length <= 0n)
          throw new OttlRuntimeError(`invalid length for substring function, ${length} cannot be negative or zero`);
        const v = target(c);
        const n = BigInt(isAscii(v) ? v.length : utf8Len(v));
        if (start > n || length > n - start)
          throw new OttlRuntimeError(
            `invalid range for substring function, start(${start})+length(${length}) cannot be greater than the length of target string(${n})`,
          );
        let bs = Number(start);
        let be = Number(start + length);
        if (isAscii(v)) return v.slice(bs, be);
        const b = Buffer.from(v, 'utf8');
        if (utf8Safe) {
          while (bs < b.length && !runeStart(b, bs)) bs++;
          while (bs < be && be < b.length && !runeStart(b, be)) be--;
          if (be < bs) be = bs;
        }
        return utf8Slice(v, bs, be);
      };
    },
  },
  ToLowerCase: {
    params: [{ name: 'target', type: 'string' }],
    build: ([t]) => {
      const target = str(g(t));
      return (c) => target(c).toLowerCase();
    },
  },
  ToUpperCase: {
    params: [{ name: 'target', type: 'string' }],
    build: ([t]) => {
      const target = str(g(t));
      return (c) => target(c).toUpperCase();
    },
  },
  Split: {
    params: [
      { name: 'target', type: 'string' },
      { name: 'delimiter', type: 'string' },
    ],
    build: ([t, d]) => {
      const target = str(g(t));
      const delimiter = str(g(d));
      return (c) => {
        const v = target(c);
        const dl = delimiter(c);
        // Go's strings.Split with "" splits into UTF-8 sequences (one per code point)
        return dl === '' ? [...v] : v.split(dl);
      };
    },
  },
  Int: {
    params: [{ name: 'target', type: 'intLike' }],
    build: ([t]) => {
      const target = g(t);
      return (c) => intLike(target(c)) ?? null;
    },
  },
  Double: {
    params: [{ name: 'target', type: 'floatLike' }],
    build: ([t]) => {
      const target = g(t);
      return (c) => floatLike(target(c)) ?? null;
    },
  },
  String: {
    params: [{ name: 'target', type: 'stringLike' }],
    build: ([t]) => {
      const target = g(t);
      return (c) => stringLike(target(c)) ?? null;
    },
  },
  Len: {
    params: [{ name: 'target', type: 'getter' }],
    build: ([t]) => {
      const target = g(t);
      return (c) => {
        const v = target(c);
        if (typeof v === 'string') return BigInt(isAscii(v) ? v.length : utf8Len(v));
        if (v instanceof OMap) return BigInt(v.kvs.length);
        if (v instanceof OSlice) return BigInt(v.values.length);
        if (Array.isArray(v) || v instanceof Uint8Array) return BigInt(v.length);
        throw new OttlRuntimeError(`Len: unsupported target type ${typeName(v)}`);
      };
    },
  },
  IsString: typeCheck((v) => typeof v === 'string'),
  IsInt: typeCheck((v) => typeof v === 'bigint'),
  IsDouble: typeCheck((v) => typeof v === 'number'),
  IsBool: typeCheck((v) => typeof v === 'boolean'),
  IsMap: typeCheck((v) => v instanceof OMap),
  IsList: typeCheck((v) => v instanceof OSlice || Array.isArray(v)),
  Hex: {
    params: [{ name: 'target', type: 'bytesLike' }],
    build: ([t]) => {
      const target = g(t);
      return (c) => {
        const b = bytesLike(target(c));
        return b === undefined ? '' : Buffer.from(b).toString('hex');
      };
    },
  },
  HasPrefix: {
    params: [
      { name: 'target', type: 'string' },
      { name: 'prefix', type: 'string' },
    ],
    build: ([t, p]) => {
      const target = str(g(t));
      const prefix = str(g(p));
      return (c) => target(c).startsWith(prefix(c));
    },
  },
  HasSuffix: {
    params: [
      { name: 'target', type: 'string' },
      { name: 'suffix', type: 'string' },
    ],
    build: ([t, p]) => {
      const target = str(g(t));
      const suffix = str(g(p));
      return (c) => target(c).endsWith(suffix(c));
    },
  },
};

/** IsString & co: a TypeError of the getter means false; other errors propagate. */
function typeCheck(ok: (v: Value) => boolean): FnDef {
  return {
    params: [{ name: 'target', type: 'getter' }],
    build: ([t]) => {
      const target = g(t);
      return (c) => ok(target(c));
    },
  };
}

export function editor(name: string): FnDef | undefined {
  return Object.hasOwn(EDITORS, name) ? EDITORS[name] : undefined;
}
export function converter(name: string): FnDef | undefined {
  return Object.hasOwn(CONVERTERS, name) ? CONVERTERS[name] : undefined;
}
export const EDITOR_NAMES = Object.keys(EDITORS);
export const CONVERTER_NAMES = Object.keys(CONVERTERS);
