/**
 * OTTL (OpenTelemetry Transformation Language) lexer and parser, following the grammar of the
 * Collector's pkg/ottl (grammar.go): statements `editor(args) where <condition>`, conditions with
 * `and` / `or` / `not` / comparisons, values (paths with keys, converters, literals, math, lists,
 * maps, enums, named arguments, function names as arguments). Produces an AST with the offset of
 * every node, so errors can point at the exact column of the statement. Pure: no I/O.
 */

export class OttlSyntaxError extends Error {
  constructor(
    message: string,
    /** 0-based offset in the statement text */
    readonly offset: number,
  ) {
    super(message);
  }
}

// ---------- AST ----------

export interface PathSegment {
  name: string;
  keys: ValueNode[];
}
export type ValueNode =
  | { type: 'string'; value: string; pos: number }
  | { type: 'int'; value: bigint; pos: number }
  | { type: 'float'; value: number; pos: number }
  | { type: 'bool'; value: boolean; pos: number }
  | { type: 'nil'; pos: number }
  | { type: 'bytes'; value: Uint8Array; pos: number }
  /** an Uppercase identifier not called: an enum symbol, or a function name passed as an argument */
  | { type: 'ident'; name: string; pos: number }
  | { type: 'path'; segments: PathSegment[]; pos: number }
  | { type: 'call'; name: string; args: ArgNode[]; keys: ValueNode[]; pos: number }
  | { type: 'list'; items: ValueNode[]; pos: number }
  | { type: 'map'; entries: { key: string; value: ValueNode }[]; pos: number }
  | { type: 'math'; op: '+' | '-' | '*' | '/'; left: ValueNode; right: ValueNode; pos: number }
  | { type: 'neg'; operand: ValueNode; pos: number };

export interface ArgNode {
  name?: string;
  value: ValueNode;
  pos: number;
}

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type BoolNode =
  | { type: 'or'; items: BoolNode[]; pos: number }
  | { type: 'and'; items: BoolNode[]; pos: number }
  | { type: 'not'; operand: BoolNode; pos: number }
  | { type: 'compare'; op: CompareOp; left: ValueNode; right: ValueNode; pos: number }
  | { type: 'const'; value: ValueNode; pos: number };

export interface StatementNode {
  editor: { name: string; args: ArgNode[]; pos: number };
  where?: BoolNode;
}

// ---------- lexer ----------

type TokKind = 'bytes' | 'float' | 'int' | 'string' | 'ident' | 'op' | 'eof';
interface Token {
  kind: TokKind;
  text: string;
  pos: number;
}

const TOKEN =
  /\s*(?:(0x[a-fA-F0-9]+)|((?:\d+\.\d*|\d*\.\d+)(?:[eE][-+]?\d+)?)|(\d+)|("(?:\\.|[^\\"])*")|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|>=|<=|=>|[<>=+\-*/(){}:,.[\]]))/y;

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  for (;;) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) {
      const rest = src.slice(pos);
      const lead = rest.length - rest.trimStart().length;
      if (rest.trim() === '') break;
      throw new OttlSyntaxError(`unexpected character ${JSON.stringify(rest.trimStart()[0])}`, pos + lead);
    }
    const start = m.index + (m[0].length - m[0].trimStart().length);
    const kind: TokKind = m[1] ? 'bytes' : m[2] ? 'float' : m[3] ? 'int' : m[4] ? 'string' : m[5] ? 'ident' : 'op';
    out.push({ kind, text: m[0].trimStart(), pos: start });
    pos = TOKEN.lastIndex;
  }
  out.push({ kind: 'eof', text: '', pos: src.length });
  return out;
}

/** Go's strconv.Unquote for a double-quoted literal (the OTTL lexer unquotes strings that way). */
export function goUnquote(lit: string, pos: number): string {
  const body = lit.slice(1, -1);
  if (!body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      '"': '"',
      '\\': '\\',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
    };
    if (e !== undefined && e in simple) {
      out += simple[e];
      continue;
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const h = body.slice(i + 1, i + 1 + hexLen);
      if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== hexLen)
        throw new OttlSyntaxError(`invalid escape \\${e} in string ${lit}`, pos + i);
      const n = Number.parseInt(h, 16);
      // \xHH is a raw byte in Go; Sieve's strings are UTF-16, so bytes ≥ 0x80 map to their code point
      out += String.fromCodePoint(n);
      i += hexLen;
      continue;
    }
    if (e !== undefined && /[0-7]/.test(e)) {
      const o = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(o)) throw new OttlSyntaxError(`invalid octal escape in string ${lit}`, pos + i);
      out += String.fromCharCode(Number.parseInt(o, 8));
      i += 2;
      continue;
    }
    throw new OttlSyntaxError(`invalid escape \\${e ?? ''} in string ${lit}`, pos + i);
  }
  return out;
}

const KEYWORDS = new Set(['nil', 'not', 'and', 'or', 'true', 'false']);
const COMPARE = new Set(['==', '!=', '<', '<=', '>', '>=']);
const isUpper = (s: string) => s.charCodeAt(0) >= 65 && s.charCodeAt(0) <= 90;
const isLower = (s: string) => (s.charCodeAt(0) >= 97 && s.charCodeAt(0) <= 122) || s[0] === '_';

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    readonly src: string,
  ) {}

  peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)] as Token;
  }
  next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  is(text: string, o = 0): boolean {
    const t = this.peek(o);
    return (t.kind === 'op' || t.kind === 'ident') && t.text === text;
  }
  expect(text: string): Token {
    const t = this.next();
    if (t.text !== text || (t.kind !== 'op' && t.kind !== 'ident'))
      throw new OttlSyntaxError(`expected ${JSON.stringify(text)} but found ${describe(t)}`, t.pos);
    return t;
  }
  mark(): number {
    return this.i;
  }
  reset(m: number) {
    this.i = m;
  }
  atEnd(): boolean {
    return this.peek().kind === 'eof';
  }

  statement(): StatementNode {
    const t = this.peek();
    if (t.kind !== 'ident' || KEYWORDS.has(t.text))
      throw new OttlSyntaxError(`a statement starts with an editor such as set(...), found ${describe(t)}`, t.pos);
    if (isUpper(t.text))
      throw new OttlSyntaxError(
        `editor names must start with a lowercase letter but got '${t.text}' (converters such as ${t.text}() return values; editors such as set() change data)`,
        t.pos,
      );
    this.next();
    const args = this.args();
    if (this.is('['))
      throw new OttlSyntaxError(
        `only paths and converters may be indexed, not editors, but got ${t.text}[...]`,
        this.peek().pos,
      );
    const stmt: StatementNode = { editor: { name: t.text, args, pos: t.pos } };
    if (this.is('where')) {
      this.next();
      stmt.where = this.boolExpr();
    }
    this.end();
    return stmt;
  }

  end() {
    const t = this.peek();
    if (t.kind !== 'eof') throw new OttlSyntaxError(`unexpected ${describe(t)}`, t.pos);
  }

  args(): ArgNode[] {
    this.expect('(');
    const out: ArgNode[] = [];
    if (this.is(')')) {
      this.next();
      return out;
    }
    let named = false;
    for (;;) {
      const t = this.peek();
      let name: string | undefined;
      if (t.kind === 'ident' && isLower(t.text) && !KEYWORDS.has(t.text) && this.is('=', 1)) {
        name = t.text;
        this.next();
        this.next();
        named = true;
      } else if (named) throw new OttlSyntaxError('unnamed argument used after named argument', t.pos);
      out.push({ ...(name ? { name } : {}), value: this.value(), pos: t.pos });
      if (this.is(',')) {
        this.next();
        continue;
      }
      this.expect(')');
      return out;
    }
  }

  boolExpr(): BoolNode {
    const pos = this.peek().pos;
    const items = [this.term()];
    while (this.is('or')) {
      this.next();
      items.push(this.term());
    }
    return items.length === 1 ? (items[0] as BoolNode) : { type: 'or', items, pos };
  }
  term(): BoolNode {
    const pos = this.peek().pos;
    const items = [this.boolValue()];
    while (this.is('and')) {
      this.next();
      items.push(this.boolValue());
    }
    return items.length === 1 ? (items[0] as BoolNode) : { type: 'and', items, pos };
  }
  boolValue(): BoolNode {
    const t = this.peek();
    if (this.is('not')) {
      this.next();
      return { type: 'not', operand: this.boolValueInner(), pos: t.pos };
    }
    return this.boolValueInner();
  }
  private boolValueInner(): BoolNode {
    const t = this.peek();
    // comparison first (its left side may start with '(' for math); fall back to a sub-expression
    const m = this.mark();
    let left: ValueNode | undefined;
    let firstErr: OttlSyntaxError | undefined;
    try {
      left = this.value();
    } catch (err) {
      if (!(err instanceof OttlSyntaxError)) throw err;
      firstErr = err;
    }
    if (left && COMPARE.has(this.peek().text) && this.peek().kind === 'op') {
      const op = this.next().text as CompareOp;
      const right = this.value();
      return { type: 'compare', op, left, right, pos: t.pos };
    }
    if (left && (left.type === 'bool' || left.type === 'call')) {
      if (left.type === 'call' && !isUpper(left.name))
        throw new OttlSyntaxError(
          `converter names must start with an uppercase letter but got '${left.name}'`,
          left.pos,
        );
      return { type: 'const', value: left, pos: t.pos };
    }
    this.reset(m);
    if (this.is('(')) {
      this.next();
      const inner = this.boolExpr();
      this.expect(')');
      return inner;
    }
    if (firstErr) throw firstErr;
    const after = this.peek();
    throw new OttlSyntaxError(
      `expected a condition (a comparison such as name == "x", a converter such as IsMatch(...), true or false) but found ${describe(after)}`,
      t.pos,
    );
  }

  value(): ValueNode {
    return this.addSub();
  }
  private addSub(): ValueNode {
    let left = this.mulDiv();
    while ((this.is('+') || this.is('-')) && this.peek().kind === 'op') {
      const op = this.next();
      const right = this.mulDiv();
      checkMath(left, op);
      checkMath(right, op);
      left = { type: 'math', op: op.text as '+' | '-', left, right, pos: left.pos };
    }
    return left;
  }
  private mulDiv(): ValueNode {
    let left = this.unary();
    while ((this.is('*') || this.is('/')) && this.peek().kind === 'op') {
      const op = this.next();
      const right = this.unary();
      checkMath(left, op);
      checkMath(right, op);
      left = { type: 'math', op: op.text as '*' | '/', left, right, pos: left.pos };
    }
    return left;
  }
  private unary(): ValueNode {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      this.next();
      const operand = this.unary();
      checkMath(operand, t);
      if (t.text === '+') return operand;
      if (operand.type === 'int') return { type: 'int', value: -operand.value, pos: t.pos };
      if (operand.type === 'float') return { type: 'float', value: -operand.value, pos: t.pos };
      return { type: 'neg', operand, pos: t.pos };
    }
    if (t.kind === 'op' && t.text === '(') {
      this.next();
      const inner = this.addSub();
      this.expect(')');
      return inner;
    }
    return this.atom();
  }

  private atom(): ValueNode {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return { type: 'string', value: goUnquote(t.text, t.pos), pos: t.pos };
      case 'int': {
        const v = BigInt(t.text);
        if (v > 9223372036854775807n) throw new OttlSyntaxError(`integer ${t.text} out of int64 range`, t.pos);
        return { type: 'int', value: v, pos: t.pos };
      }
      case 'float':
        return { type: 'float', value: Number(t.text), pos: t.pos };
      case 'bytes': {
        const hex = t.text.slice(2);
        if (hex.length % 2 !== 0)
          throw new OttlSyntaxError(
            `byte literals must have an even number of hexadecimal digits, but got ${t.text}`,
            t.pos,
          );
        return { type: 'bytes', value: new Uint8Array(Buffer.from(hex, 'hex')), pos: t.pos };
      }
      case 'ident':
        return this.identAtom(t);
      case 'op':
        if (t.text === '[') return this.list(t);
        if (t.text === '{') return this.map(t);
        throw new OttlSyntaxError(`unexpected ${describe(t)}`, t.pos);
      default:
        throw new OttlSyntaxError('unexpected end of statement', t.pos);
    }
  }

  private identAtom(t: Token): ValueNode {
    if (t.text === 'nil') return { type: 'nil', pos: t.pos };
    if (t.text === 'true' || t.text === 'false') return { type: 'bool', value: t.text === 'true', pos: t.pos };
    if (t.text === 'not' || t.text === 'and' || t.text === 'or')
      throw new OttlSyntaxError(`unexpected keyword ${t.text}`, t.pos);
    if (this.is('(')) {
      const args = this.args();
      const keys = this.keys();
      return { type: 'call', name: t.text, args, keys, pos: t.pos };
    }
    if (isUpper(t.text)) return { type: 'ident', name: t.text, pos: t.pos };
    // a path: segment ('.' segment)*, each segment with optional [key]s
    const segments: PathSegment[] = [{ name: t.text, keys: this.keys() }];
    while (this.is('.')) {
      this.next();
      const s = this.next();
      if (s.kind !== 'ident' || !isLower(s.text))
        throw new OttlSyntaxError(`expected a path segment after "." but found ${describe(s)}`, s.pos);
      segments.push({ name: s.text, keys: this.keys() });
    }
    return { type: 'path', segments, pos: t.pos };
  }

  private keys(): ValueNode[] {
    const keys: ValueNode[] = [];
    while (this.is('[')) {
      this.next();
      const k = this.value();
      if (k.type !== 'string' && k.type !== 'int' && k.type !== 'path' && k.type !== 'call' && k.type !== 'math')
        throw new OttlSyntaxError('a key must be a string, an int, a path or a converter', k.pos);
      keys.push(k);
      this.expect(']');
    }
    return keys;
  }

  private list(open: Token): ValueNode {
    const items: ValueNode[] = [];
    if (this.is(']')) {
      this.next();
      return { type: 'list', items, pos: open.pos };
    }
    for (;;) {
      items.push(this.value());
      if (this.is(',')) {
        this.next();
        continue;
      }
      this.expect(']');
      return { type: 'list', items, pos: open.pos };
    }
  }

  private map(open: Token): ValueNode {
    const entries: { key: string; value: ValueNode }[] = [];
    while (!this.is('}')) {
      const k = this.next();
      if (k.kind !== 'string') throw new OttlSyntaxError(`map keys must be strings, found ${describe(k)}`, k.pos);
      this.expect(':');
      entries.push({ key: goUnquote(k.text, k.pos), value: this.value() });
      if (this.is(',')) this.next();
    }
    this.next();
    return { type: 'map', entries, pos: open.pos };
  }
}

function checkMath(v: ValueNode, op: Token) {
  if (['string', 'bool', 'nil', 'bytes', 'list', 'map', 'ident'].includes(v.type))
    throw new OttlSyntaxError(`operator ${op.text} needs numbers, paths or converters, not a ${v.type} literal`, v.pos);
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the statement';
  return JSON.stringify(t.text);
}

export function parseStatement(src: string): StatementNode {
  const p = new Parser(tokenize(src), src);
  return p.statement();
}

export function parseConditionAst(src: string): BoolNode {
  const p = new Parser(tokenize(src), src);
  if (p.atEnd()) throw new OttlSyntaxError('empty condition', 0);
  const b = p.boolExpr();
  p.end();
  return b;
}
