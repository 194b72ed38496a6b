/**
 * Go regexp (RE2) and gobwas/glob semantics on JavaScript RegExp, as the Collector's OTTL functions
 * use them: pattern translation, `$1` / `${name}` replacement templates (regexp.Expand) and
 * ReplaceAllString's handling of empty matches.
 */
import { OttlRuntimeError } from './values.js';

/**
 * Compiles a Go RE2 pattern as a JS RegExp: `(?P<name>` → `(?<name>`, leading inline flags
 * `(?i)` / `(?s)` / `(?m)` → RegExp flags, `\A` → `^`, `\z` → `$`. Throws on patterns JS rejects.
 */
export function goRegExp(pattern: string, global = false): RegExp {
  let src = pattern;
  let flags = global ? 'gu' : 'u';
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1] as string) {
      if (f === 'U') throw new Error('the (?U) flag is not supported');
      if (!flags.includes(f)) flags += f;
    }
    src = src.slice(lead[0].length);
  }
  src = src
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$');
  try {
    return new RegExp(src, flags);
  } catch {
    // some valid RE2 patterns (e.g. `\-` outside a class) are invalid in unicode mode
    return new RegExp(src, flags.replace('u', ''));
  }
}

/** regexp.Expand: `$$` → `$`, `$1` / `${1}` / `$name` / `${name}` → the group (names as long as possible). */
export function goExpand(template: string, m: RegExpExecArray): string {
  if (!template.includes('$')) return template;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, d);
    i = d + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    if (template[i] === '{') {
      const close = template.indexOf('}', i);
      const n = close < 0 ? '' : template.slice(i + 1, close);
      if (close > 0 && /^[A-Za-z0-9_]+$/.test(n)) {
        name = n;
        i = close + 1;
      }
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(template.slice(i));
      if (mm) {
        name = mm[0];
        i += name.length;
      }
    }
    if (name === undefined) {
      out += '$'; // malformed: the $ is kept as text
      continue;
    }
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? '';
    else out += m.groups?.[name] ?? '';
  }
  return out;
}

/** All non-overlapping matches, skipping an empty match right after a previous match (Go's rule). */
const globalOf = new WeakMap<RegExp, RegExp>();

export function goMatches(re: RegExp, s: string): RegExpExecArray[] {
  let g = re.global ? re : globalOf.get(re);
  if (g === undefined) {
    g = new RegExp(re.source, `${re.flags}g`);
    globalOf.set(re, g);
  }
  g.lastIndex = 0;
  const out: RegExpExecArray[] = [];
  let prevEnd = -1;
  for (;;) {
    const m = g.exec(s);
    if (!m) break;
    const end = m.index + m[0].length;
    if (m[0].length === 0) {
      if (m.index !== prevEnd) out.push(m);
      g.lastIndex =
        m.index + (s.codePointAt(m.index) !== undefined && (s.codePointAt(m.index) as number) > 0xffff ? 2 : 1);
      if (m.index >= s.length) break;
    } else {
      out.push(m);
      prevEnd = end;
    }
  }
  return out;
}

/** regexp.ReplaceAllString with a template, or with a function of the expanded template. */
export function goReplaceAll(re: RegExp, s: string, template: string, fn?: (expanded: string) => string): string {
  const ms = goMatches(re, s);
  if (ms.length === 0) return s;
  let out = '';
  let last = 0;
  for (const m of ms) {
    const expanded = goExpand(template, m);
    out += s.slice(last, m.index) + (fn ? fn(expanded) : expanded);
    last = m.index + m[0].length;
  }
  return out + s.slice(last);
}

/** gobwas/glob without separators: `*`, `?`, `[abc]`, `[!a-z]`, `{a,b}`, `\` escapes; the whole string must match. */
export function globRegExp(glob: string): RegExp {
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    switch (c) {
      case '\\': {
        const n = glob[++i];
        if (n === undefined) throw new OttlRuntimeError(`bad glob ${JSON.stringify(glob)}: trailing backslash`);
        out += escapeRe(n);
        break;
      }
      case '*':
        out += '[\\s\\S]*';
        break;
      case '?':
        out += '[\\s\\S]';
        break;
      case '[': {
        const close = glob.indexOf(']', i + 1);
        if (close < 0) throw new OttlRuntimeError(`bad glob ${JSON.stringify(glob)}: unclosed [`);
        let body = glob.slice(i + 1, close);
        const neg = body.startsWith('!');
        if (neg) body = body.slice(1);
        out += `[${neg ? '^' : ''}${body.replace(/[\\\]^]/g, (x) => `\\${x}`)}]`;
        i = close;
        break;
      }
      case '{':
        depth++;
        out += '(?:';
        break;
      case '}':
        if (depth === 0) throw new OttlRuntimeError(`bad glob ${JSON.stringify(glob)}: unmatched }`);
        depth--;
        out += ')';
        break;
      case ',':
        out += depth > 0 ? '|' : ',';
        break;
      default:
        out += escapeRe(c);
    }
  }
  if (depth !== 0) throw new OttlRuntimeError(`bad glob ${JSON.stringify(glob)}: unclosed {`);
  return new RegExp(`^(?:${out})$`, 'u');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
