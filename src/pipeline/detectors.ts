/**
 * Sieve's built-in PII detectors. Each detector has a cheap pre-filter (character counts computed once
 * per string) before its regex runs, and an optional validator (Luhn, mod-97, isIPv6) that removes
 * look-alikes such as order ids, version strings and UUIDs. Regexes are compiled once.
 */
import { isIPv6 } from 'node:net';

export const DETECTOR_NAMES = [
  'email',
  'phone',
  'payment_card',
  'ipv4',
  'ipv6',
  'jwt',
  'bearer_token',
  'api_key',
  'us_ssn',
  'iban',
] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

interface Stats {
  digits: number;
  at: boolean;
  dot: boolean;
  colons: number;
  dash: boolean;
  under: boolean;
  /** longest run of digits with at most one ' ' or '-' between consecutive digits */
  digitRun: number;
  /** a digit directly followed by ' ', '.' or '-' */
  digitSep: boolean;
  paren: boolean;
  upper: boolean;
}

export interface Detector {
  name: string;
  re: RegExp;
  pre(s: string, st: Stats): boolean;
  valid?(m: string): boolean;
  /** capture group to replace instead of the whole match */
  group?: number;
}

function luhn(m: string): boolean {
  let sum = 0;
  let n = 0;
  let dbl = false;
  for (let i = m.length - 1; i >= 0; i--) {
    const c = m.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    n++;
    let d = c;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return n >= 13 && n <= 19 && sum % 10 === 0;
}

function ibanValid(m: string): boolean {
  const s = m.replace(/ /g, '');
  if (s.length < 15 || s.length > 34) return false;
  const r = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < r.length; i++) {
    const c = r.charCodeAt(i);
    const v = c >= 65 ? String(c - 55) : String(c - 48);
    for (let j = 0; j < v.length; j++) rem = (rem * 10 + (v.charCodeAt(j) - 48)) % 97;
  }
  return rem === 1;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

export const BUILTIN_DETECTORS: Record<DetectorName, Detector> = {
  email: {
    name: 'email',
    re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
    pre: (_s, st) => st.at,
  },
  jwt: {
    name: 'jwt',
    re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/g,
    pre: (s, st) => st.dot && s.length >= 28 && s.includes('eyJ'),
  },
  bearer_token: {
    name: 'bearer_token',
    re: /\b(?:[Bb]earer|BEARER)\s+([A-Za-z0-9._~+/=-]{8,})/g,
    pre: (s) => s.length >= 15 && (s.includes('earer') || s.includes('EARER')),
    group: 1,
  },
  api_key: {
    name: 'api_key',
    re: /\b(?:sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})/g,
    // shortest match: xox?- + 10 = 15 chars; sk-/xox need '-', gh?_ needs '_'
    pre: (s, st) =>
      s.length >= 15 &&
      (((st.dash || st.under) &&
        (s.includes('sk-') ||
          s.includes('p_') ||
          s.includes('o_') ||
          s.includes('u_') ||
          s.includes('s_') ||
          s.includes('r_') ||
          s.includes('xox'))) ||
        s.includes('AKIA') ||
        s.includes('AIza')),
  },
  payment_card: {
    name: 'payment_card',
    re: /(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w.-])/g,
    pre: (_s, st) => st.digitRun >= 13,
    valid: luhn,
  },
  us_ssn: {
    name: 'us_ssn',
    re: /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/g,
    pre: (_s, st) => st.digits >= 9 && st.dash,
  },
  iban: {
    name: 'iban',
    re: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g,
    pre: (s, st) => st.upper && st.digits >= 8 && s.length >= 15,
    valid: ibanValid,
  },
  phone: {
    name: 'phone',
    // +CC optional, then groups separated by space, dot or dash (or a (area) group); 9–15 digits.
    re: /(?<![\w.+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}(?![\w.-])/g,
    pre: (_s, st) => st.digits >= 9 && (st.digitSep || st.paren),
    valid: (m) => {
      const d = m.replace(/\D/g, '').length;
      return d >= 9 && d <= 15;
    },
  },
  ipv4: {
    name: 'ipv4',
    re: new RegExp(`(?<![\\w./-])(?:${OCTET}\\.){3}${OCTET}(?![\\w-]|\\.\\w)`, 'g'),
    pre: (_s, st) => st.digitSep && st.digits >= 4,
  },
  ipv6: {
    name: 'ipv6',
    re: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?![\w:])/g,
    pre: (_s, st) => st.colons >= 2,
    valid: (m) => isIPv6(m) && m !== '::',
  },
};

// One reusable Stats object: scrubString is synchronous and not re-entrant, so no per-string allocation.
const ST: Stats = {
  digits: 0,
  at: false,
  dot: false,
  colons: 0,
  dash: false,
  under: false,
  digitRun: 0,
  digitSep: false,
  paren: false,
  upper: false,
};
function stats(s: string): Stats {
  let digits = 0;
  let at = false;
  let dot = false;
  let colons = 0;
  let dash = false;
  let under = false;
  let run = 0;
  let maxRun = 0;
  let prevDigit = false;
  let digitSep = false;
  let paren = false;
  let upper = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      run++;
      if (run > maxRun) maxRun = run;
      prevDigit = true;
      continue;
    }
    if (c === 32 || c === 45) {
      if (prevDigit) digitSep = true;
      else run = 0;
      if (c === 45) dash = true;
    } else {
      run = 0;
      if (c === 46) {
        dot = true;
        if (prevDigit) digitSep = true;
      } else if (c === 64) at = true;
      else if (c === 58) colons++;
      else if (c === 95) under = true;
      else if (c === 40) paren = true;
      else if (c >= 65 && c <= 90) upper = true;
    }
    prevDigit = false;
  }
  ST.digits = digits;
  ST.at = at;
  ST.dot = dot;
  ST.colons = colons;
  ST.dash = dash;
  ST.under = under;
  ST.digitRun = maxRun;
  ST.digitSep = digitSep;
  ST.paren = paren;
  ST.upper = upper;
  return ST;
}

export interface DetectionHit {
  detector: string;
}

/**
 * Replaces every detected match in `s` with `replace(match)`. Returns the new string, or `s` itself
 * (same reference) when nothing matched. `onHit` is called once per replaced match.
 */
export function scrubString(
  s: string,
  detectors: readonly Detector[],
  replace: (match: string) => string,
  onHit?: (detector: string) => void,
): string {
  if (s.length < 6) return s;
  const st = stats(s);
  let out = s;
  for (const d of detectors) {
    if (!d.pre(out, st)) continue;
    d.re.lastIndex = 0;
    if (!d.re.test(out)) continue;
    d.re.lastIndex = 0;
    out = out.replace(d.re, (m: string, ...groups: unknown[]) => {
      if (d.valid && !d.valid(m)) return m;
      onHit?.(d.name);
      if (d.group != null) {
        const g = groups[d.group - 1];
        if (typeof g === 'string') return m.slice(0, m.length - g.length) + replace(g);
      }
      return replace(m);
    });
  }
  return out;
}

export function customDetector(name: string, pattern: string): Detector {
  return { name, re: new RegExp(pattern, 'g'), pre: () => true };
}

export function detectorsByName(names: readonly string[]): Detector[] {
  // Order matters: tokens and keys first so their digits are not taken by card/phone detectors.
  const order: DetectorName[] = [
    'jwt',
    'bearer_token',
    'api_key',
    'email',
    'iban',
    'payment_card',
    'us_ssn',
    'phone',
    'ipv6',
    'ipv4',
  ];
  return order.filter((n) => names.includes(n)).map((n) => BUILTIN_DETECTORS[n]);
}
