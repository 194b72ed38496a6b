/**
 * Compiles parsed OTTL (./parser.ts) into closures over a TransformContext, once at config load:
 * paths become accessors, function calls are bound to their parameters (types checked, literals
 * folded, regexes compiled), conditions become predicates. Errors carry the offset of the node.
 */
import {
  type Accessor,
  CONST_KEY,
  type ContextName,
  type KeyGetter,
  mapGet,
  PathError,
  pathContext,
  resolvePath,
  type TransformContext,
} from './contexts.js';
import {
  type Bound,
  CONVERTER_NAMES,
  converter,
  EDITOR_NAMES,
  editor,
  type FnDef,
  type FnEnv,
  type Getter,
  type Param,
} from './functions.js';
import {
  type ArgNode,
  type BoolNode,
  OttlSyntaxError,
  parseConditionAst,
  parseStatement,
  type StatementNode,
  type ValueNode,
} from './parser.js';
import {
  asInt,
  asMap,
  asString,
  bytesLike,
  compare,
  floatLike,
  fromAnyValue,
  intLike,
  OMap,
  OSlice,
  OttlRuntimeError,
  stringLike,
  toAnyValue,
  typeName,
  type Value,
  wrapInt64,
} from './values.js';

export type Predicate = (c: TransformContext) => boolean;
/** An editor invocation guarded by its `where` clause. Throws OttlRuntimeError on failure. */
export type Statement = (c: TransformContext) => void;

export const ENUMS: Record<string, bigint> = {
  SPAN_KIND_UNSPECIFIED: 0n,
  SPAN_KIND_INTERNAL: 1n,
  SPAN_KIND_SERVER: 2n,
  SPAN_KIND_CLIENT: 3n,
  SPAN_KIND_PRODUCER: 4n,
  SPAN_KIND_CONSUMER: 5n,
  STATUS_CODE_UNSET: 0n,
  STATUS_CODE_OK: 1n,
  STATUS_CODE_ERROR: 2n,
  METRIC_DATA_TYPE_NONE: 0n,
  METRIC_DATA_TYPE_GAUGE: 1n,
  METRIC_DATA_TYPE_SUM: 2n,
  METRIC_DATA_TYPE_HISTOGRAM: 3n,
  METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM: 4n,
  METRIC_DATA_TYPE_SUMMARY: 5n,
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0n,
  AGGREGATION_TEMPORALITY_DELTA: 1n,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2n,
  FLAG_NONE: 0n,
  FLAG_NO_RECORDED_VALUE: 1n,
};
[
  'UNSPECIFIED',
  'TRACE',
  'TRACE2',
  'TRACE3',
  'TRACE4',
  'DEBUG',
  'DEBUG2',
  'DEBUG3',
  'DEBUG4',
  'INFO',
  'INFO2',
  'INFO3',
  'INFO4',
  'WARN',
  'WARN2',
  'WARN3',
  'WARN4',
  'ERROR',
  'ERROR2',
  'ERROR3',
  'ERROR4',
  'FATAL',
  'FATAL2',
  'FATAL3',
  'FATAL4',
].forEach((s, i) => {
  ENUMS[`SEVERITY_NUMBER_${s}`] = BigInt(i);
});

const NO_HASHER: FnEnv = {
  hasher() {
    throw new OttlRuntimeError('no hash key configured');
  },
};

class Compiler {
  constructor(
    readonly ctx: ContextName,
    readonly env: FnEnv,
  ) {}

  fail(msg: string, pos: number): never {
    throw new OttlSyntaxError(msg, pos);
  }

  value(n: ValueNode): Getter {
    switch (n.type) {
      case 'string':
      case 'int':
      case 'float':
      case 'bool':
      case 'bytes': {
        const v = n.value;
        return literal(v);
      }
      case 'nil':
        return literal(null);
      case 'ident': {
        const e = ENUMS[n.name];
        if (e === undefined) {
          if (converter(n.name))
            this.fail(`${n.name} is a converter: call it with arguments, e.g. ${n.name}(...)`, n.pos);
          this.fail(`unknown enum symbol ${n.name}`, n.pos);
        }
        return literal(e);
      }
      case 'path':
        return this.path(n).get;
      case 'call':
        return this.call(n);
      case 'list': {
        const items = n.items.map((i) => this.value(i));
        if (items.every(isLiteral)) return literal(items.map((i) => i(undefined as never)));
        return (c) => items.map((i) => i(c));
      }
      case 'map': {
        const entries = n.entries.map((e) => ({ key: e.key, get: this.value(e.value) }));
        return (c) => new OMap(entries.map((e) => ({ key: e.key, value: toAnyValue(e.get(c)) })));
      }
      case 'neg': {
        const operand = this.value(n.operand);
        return (c) => {
          const v = operand(c);
          if (typeof v === 'bigint') return wrapInt64(-v);
          if (typeof v === 'number') return -v;
          throw new OttlRuntimeError(`unsupported unary minus operation on type ${typeName(v)}`);
        };
      }
      case 'math': {
        const l = this.value(n.left);
        const r = this.value(n.right);
        const op = n.op;
        return (c) => math(l(c), r(c), op);
      }
    }
  }

  path(n: Extract<ValueNode, { type: 'path' }>): Accessor {
    const text = n.segments.map((s) => s.name).join('.');
    const segs = n.segments.map((s) => ({ name: s.name, keys: s.keys.map((k) => this.key(k)) }));
    try {
      return resolvePath(this.ctx, segs, text);
    } catch (err) {
      if (err instanceof PathError) this.fail(err.message, n.pos);
      throw err;
    }
  }

  key(k: ValueNode): KeyGetter {
    if (k.type === 'string' || k.type === 'int') {
      const v = k.value;
      const f: KeyGetter & { [CONST_KEY]?: true } = () => v;
      f[CONST_KEY] = true;
      return f;
    }
    return this.value(k);
  }

  call(n: Extract<ValueNode, { type: 'call' }>): Getter {
    const def = converter(n.name);
    if (!def) {
      if (/^[a-z_]/.test(n.name)) {
        const upper = CONVERTER_NAMES.find((c) => c.toLowerCase() === n.name.toLowerCase());
        this.fail(
          `converter names must start with an uppercase letter but got '${n.name}'${upper ? ` (did you mean ${upper}?)` : editor(n.name) ? ` (${n.name} is an editor: it can only start a statement)` : ''}`,
          n.pos,
        );
      }
      this.fail(`undefined function "${n.name}" (Sieve's converters: ${CONVERTER_NAMES.join(', ')})`, n.pos);
    }
    const fn = this.invoke(n.name, def, n.args, n.pos);
    if (n.keys.length === 0) return fn;
    const keys = n.keys.map((k) => this.key(k));
    return (c) => {
      const v = fn(c);
      const ks = keys.map((k) => k(c));
      return indexValue(v, ks);
    };
  }

  invoke(name: string, def: FnDef, args: ArgNode[], pos: number): Getter {
    const params = def.params;
    const required = params.filter((p) => !p.optional).length;
    if (args.length < required || args.length > params.length)
      this.fail(
        `error while parsing arguments for call to "${name}": incorrect number of arguments. Expected: ${params.length} Received: ${args.length} (${name}(${params
          .map((p) => (p.optional ? `[${p.name}]` : p.name))
          .join(
            ', ',
          )}))${name === 'Concat' && args.length > 2 ? '; to join values write Concat([a, b, …], "delimiter")' : ''}`,
        pos,
      );
    const bound: Bound[] = params.map(() => ({ kind: 'absent' }));
    args.forEach((a, i) => {
      let idx = i;
      if (a.name !== undefined) {
        idx = params.findIndex((p) => p.name === a.name);
        if (idx < 0)
          this.fail(`error while parsing arguments for call to "${name}": no such parameter: ${a.name}`, a.pos);
      }
      bound[idx] = this.bind(name, params[idx] as Param, a.value);
    });
    params.forEach((p, i) => {
      if (!p.optional && bound[i]?.kind === 'absent')
        this.fail(`error while parsing arguments for call to "${name}": missing argument ${p.name}`, pos);
    });
    try {
      return def.build(bound, this.env);
    } catch (err) {
      if (err instanceof OttlRuntimeError) this.fail(`couldn't create function: ${err.message}`, pos);
      throw err;
    }
  }

  bind(fn: string, p: Param, n: ValueNode): Bound {
    const where = `error while parsing arguments for call to "${fn}": ${p.name}`;
    switch (p.type) {
      case 'getSetter':
      case 'pmapSetter': {
        if (n.type !== 'path') this.fail(`${where} must be a path (e.g. attributes["key"]), not a ${n.type}`, n.pos);
        const a = this.path(n);
        if (!a.set) this.fail(`${where}: path is read-only`, n.pos);
        if (p.type === 'pmapSetter' && !a.isMap) {
          // attributes["k"] may hold a map: checked per item
          return { kind: 'accessor', acc: { get: (c) => asMap(a.get(c)), set: a.set } };
        }
        return { kind: 'accessor', acc: a };
      }
      case 'int64Literal': {
        if (n.type !== 'int') this.fail(`${where} must be an integer literal`, n.pos);
        return { kind: 'literal', value: n.value };
      }
      case 'stringLiteral': {
        if (n.type !== 'string') this.fail(`${where} must be a string literal`, n.pos);
        return { kind: 'literal', value: n.value };
      }
      case 'boolLiteral': {
        if (n.type !== 'bool') this.fail(`${where} must be true or false`, n.pos);
        return { kind: 'literal', value: n.value };
      }
      case 'stringLiteralList': {
        if (n.type !== 'list' || n.items.some((i) => i.type !== 'string'))
          this.fail(`${where} must be a list of string literals, e.g. ["a", "b"]`, n.pos);
        return { kind: 'literal', value: n.items.map((i) => (i as { value: string }).value) };
      }
      case 'stringGetterList': {
        if (n.type !== 'list') this.fail(`${where} must be a list, e.g. ["a", "b"]`, n.pos);
        return { kind: 'list', items: n.items.map((i) => this.bind(fn, { name: p.name, type: 'string' }, i)) };
      }
      case 'stringLikeSlice': {
        if (n.type === 'list')
          return { kind: 'list', items: n.items.map((i) => this.bind(fn, { name: p.name, type: 'stringLike' }, i)) };
        if (n.type !== 'path' && n.type !== 'call') this.fail(`${where} must be a list, e.g. [a, b]`, n.pos);
        return { kind: 'getter', get: this.value(n), isLiteral: false };
      }
      case 'function': {
        if (n.type !== 'ident') this.fail(`${where} must be a converter name such as SHA256`, n.pos);
        const def = converter(n.name);
        if (!def) this.fail(`${where}: undefined function ${n.name}`, n.pos);
        const first = def.params[0];
        if (
          def.params.filter((x) => !x.optional).length !== 1 ||
          (first?.type !== 'string' && first?.type !== 'stringLike')
        )
          this.fail(`${where}: ${n.name} cannot be used here: it must take one string argument`, n.pos);
        // the function runs on each replacement: bind it once to a cell holding the current input
        const cell = { input: '' };
        const run = def.build([{ kind: 'getter', get: () => cell.input, isLiteral: false }], this.env);
        return {
          kind: 'function',
          fn: (s: string) => {
            cell.input = s;
            return run(undefined as never);
          },
        };
      }
      default: {
        const get = this.value(n);
        const check = TYPED[p.type];
        if (!check)
          return {
            kind: 'getter',
            get,
            isLiteral: isLiteral(get),
            literal: isLiteral(get) ? get(undefined as never) : null,
          };
        if (isLiteral(get)) {
          // the Collector converts literals at parse time: a wrong literal type fails the statement
          let v: Value;
          try {
            v = check(get(undefined as never));
          } catch (err) {
            if (err instanceof OttlRuntimeError) this.fail(`${where}: ${err.message}`, n.pos);
            throw err;
          }
          return { kind: 'getter', get: literal(v), isLiteral: true, literal: v };
        }
        return { kind: 'getter', get: (c) => check(get(c)), isLiteral: false };
      }
    }
  }

  cond(b: BoolNode): Predicate {
    switch (b.type) {
      case 'or': {
        const items = b.items.map((i) => this.cond(i));
        return (c) => items.some((f) => f(c));
      }
      case 'and': {
        const items = b.items.map((i) => this.cond(i));
        return (c) => items.every((f) => f(c));
      }
      case 'not': {
        const inner = this.cond(b.operand);
        return (c) => !inner(c);
      }
      case 'const': {
        if (b.value.type === 'bool') {
          const v = b.value.value;
          return () => v;
        }
        const get = this.value(b.value);
        const name = b.value.type === 'call' ? b.value.name : '';
        return (c) => {
          const v = get(c);
          if (typeof v !== 'boolean')
            throw new OttlRuntimeError(
              `value returned from Converter ${name} in constant expression must be bool but got ${typeName(v)}`,
            );
          return v;
        };
      }
      case 'compare': {
        const l = this.value(b.left);
        const r = this.value(b.right);
        const op = b.op;
        return (c) => compare(l(c), r(c), op);
      }
    }
  }

  statement(s: StatementNode): Statement {
    const def = editor(s.editor.name);
    if (!def) {
      if (converter(s.editor.name))
        this.fail(`editor names must start with a lowercase letter but got '${s.editor.name}'`, s.editor.pos);
      this.fail(`undefined function "${s.editor.name}" (Sieve's editors: ${EDITOR_NAMES.join(', ')})`, s.editor.pos);
    }
    const run = this.invoke(s.editor.name, def, s.editor.args, s.editor.pos);
    if (!s.where) return (c) => void run(c);
    const where = this.cond(s.where);
    return (c) => {
      if (where(c)) run(c);
    };
  }
}

/** Runtime conversions of typed getters (values the Collector rejects throw OttlTypeError). */
const TYPED: Partial<Record<Param['type'], (v: Value) => Value>> = {
  string: (v) => asString(v),
  int: (v) => asInt(v),
  stringLike: (v) => v, // converted by the function (nil has a meaning there)
  intLike: (v) => (intLike(v), v),
  floatLike: (v) => (floatLike(v), v),
  bytesLike: (v) => (bytesLike(v), v),
  pmap: (v) => asMap(v),
};

function literal(v: Value): Getter {
  const f: Getter & { literal?: true } = () => v;
  f.literal = true;
  return f;
}
function isLiteral(g: Getter): boolean {
  return (g as { literal?: true }).literal === true;
}

function indexValue(v: Value, keys: Value[]): Value {
  let cur: Value = v;
  for (const k of keys) {
    if (cur instanceof OMap) {
      cur = mapGet(cur.kvs, [k]);
    } else if (cur instanceof OSlice || Array.isArray(cur)) {
      if (typeof k !== 'bigint')
        throw new OttlRuntimeError(`unable to resolve an integer index in slice: got ${typeName(k)}`);
      const arr = cur instanceof OSlice ? cur.values.map(fromAnyValue) : cur;
      if (k < 0n || k >= BigInt(arr.length)) throw new OttlRuntimeError(`index ${k} out of bounds`);
      cur = arr[Number(k)] as Value;
    } else throw new OttlRuntimeError(`type ${typeName(cur)} does not support indexing`);
  }
  return cur;
}

function math(x: Value, y: Value, op: '+' | '-' | '*' | '/'): Value {
  if (typeof x === 'bigint' && typeof y === 'bigint') {
    switch (op) {
      case '+':
        return wrapInt64(x + y);
      case '-':
        return wrapInt64(x - y);
      case '*':
        return wrapInt64(x * y);
      case '/':
        if (y === 0n) throw new OttlRuntimeError('attempted to divide by 0');
        return wrapInt64(x / y);
    }
  }
  const num = (v: Value, side: string): number => {
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'number') return v;
    throw new OttlRuntimeError(`${side} ${stringLike(v) ?? 'nil'} must be int64 or float64`);
  };
  const a = num(x, 'left operand');
  const b = num(y, 'right operand');
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw new OttlRuntimeError('attempted to divide by 0');
      return a / b;
  }
}

// ---------- public API ----------

export interface CompileOptions {
  env?: FnEnv;
}

/** Parses and compiles one statement for a context. Throws OttlSyntaxError (with offset). */
export function compileStatement(src: string, ctx: ContextName, opts: CompileOptions = {}): Statement {
  return new Compiler(ctx, opts.env ?? NO_HASHER).statement(parseStatement(src));
}

/** Parses and compiles one condition for a context. Throws OttlSyntaxError (with offset). */
export function compileCondition(src: string, ctx: ContextName, opts: CompileOptions = {}): Predicate {
  return new Compiler(ctx, opts.env ?? NO_HASHER).cond(parseConditionAst(src));
}

/**
 * Context names used as the first segment of paths in the statements / conditions, and whether
 * some path names none (`name`, `attributes["k"]`; `cache` belongs to every context).
 */
export function contextsNamed(
  statements: string[],
  conditions: string[],
): { named: Set<ContextName>; unprefixed: boolean } {
  const out = new Set<ContextName>();
  let unprefixed = false;
  const visitValue = (n: ValueNode): void => {
    switch (n.type) {
      case 'path': {
        const first = (n.segments[0] as { name: string }).name;
        const c = pathContext(first, n.segments.length);
        if (c) out.add(c);
        else if (first !== 'cache') unprefixed = true;
        for (const s of n.segments) s.keys.forEach(visitValue);
        return;
      }
      case 'call':
        for (const a of n.args) visitValue(a.value);
        n.keys.forEach(visitValue);
        return;
      case 'list':
        n.items.forEach(visitValue);
        return;
      case 'map':
        for (const e of n.entries) visitValue(e.value);
        return;
      case 'math':
        visitValue(n.left);
        visitValue(n.right);
        return;
      case 'neg':
        visitValue(n.operand);
        return;
    }
  };
  const visitBool = (b: BoolNode): void => {
    switch (b.type) {
      case 'or':
      case 'and':
        b.items.forEach(visitBool);
        return;
      case 'not':
        visitBool(b.operand);
        return;
      case 'const':
        visitValue(b.value);
        return;
      case 'compare':
        visitValue(b.left);
        visitValue(b.right);
    }
  };
  for (const s of statements) {
    const st = parseStatement(s);
    for (const a of st.editor.args) visitValue(a.value);
    if (st.where) visitBool(st.where);
  }
  for (const c of conditions) visitBool(parseConditionAst(c));
  return { named: out, unprefixed };
}
