/**
 * Sieve's built-in PII detectors. Each detector has a cheap pre-filter (character counts computed once
 * per string) before its regex runs, and a validator that removes look-alikes: checksums (Luhn,
 * mod-97), card networks' ranges, phone shapes, IPv6 parsing, and the words around the match
 * (validators.ts). Regexes are compiled once. Quality on the labeled corpus: `npm run bench -- pii`.
 */
import { isIPv6 } from 'node:net';
import { type KeyContext, precededByVersionWord } from './key-names.js';
import { cardNetwork, ibanValid, ipv4Personal, luhn, phoneShape } from './validators.js';

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
  /** global regex; its candidates are checked by `valid` */
  re: RegExp;
  pre(s: string, st: Stats): boolean;
  /** `m` matched at `at` in `s`: is it really this kind of PII? */
  valid?(m: string, s: string, at: number): boolean;
  /** capture group to replace instead of the whole match (it ends the match) */
  group?: number;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const SEP = '(?:[ .-]|%20)';

/** a secret's random part has a digit or mixed case; words (`authentication`, `booking-service`) do not */
function looksRandom(t: string): boolean {
  return /\d/.test(t) || (/[A-Z]/.test(t) && /[a-z]/.test(t));
}

export const BUILTIN_DETECTORS: Record<DetectorName, Detector> = {
  email: {
    name: 'email',
    // Unicode local parts and domains (RFC 6531), and `%40` for `@` in URLs
    re: /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+(?:@|%40)[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu,
    pre: (s, st) => st.at || s.includes('%40'),
  },
  jwt: {
    name: 'jwt',
    // header.payload.signature; unsigned tokens (alg none) end with an empty signature
    re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
    pre: (s, st) => st.dot && s.length >= 28 && s.includes('eyJ'),
  },
  bearer_token: {
    name: 'bearer_token',
    // `Bearer <token>` anywhere (also `Bearer%20…` in URLs); Basic/Token/Digest after `Authorization:`
    re: /(?:\b(?:[Bb]earer|BEARER)(?:\s+|%20)|\b[Aa]uthorization["']?\s*[:=]\s*["']?(?:Basic|Token|Digest|ApiKey)\s+)([A-Za-z0-9._~+/=-]{8,})/g,
    pre: (s) => s.length >= 15 && (s.includes('earer') || s.includes('EARER') || s.includes('uthorization')),
    valid: (m) => looksRandom(m.replace(/^.*(?:\s|%20)/, '')),
    group: 1,
  },
  api_key: {
    name: 'api_key',
    // Providers' documented shapes: OpenAI, Anthropic, OpenRouter, AWS, GitHub, GitLab, Slack, Google,
    // Stripe, SendGrid, npm, Hugging Face, Groq, xAI, Perplexity, Replicate, DigitalOcean, Shopify
    re: /\b(?:sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-|or-v1-|live-|test-)?[A-Za-z0-9_-]{20,}|(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{24,}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}|npm_[A-Za-z0-9]{36}|hf_[A-Za-z]{30,}|gsk_[A-Za-z0-9]{40,}|xai-[A-Za-z0-9]{40,}|pplx-[A-Za-z0-9]{40,}|r8_[A-Za-z0-9]{30,}|dop_v1_[a-f0-9]{64}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32})/g,
    pre: (s, st) => s.length >= 15 && (st.dash || st.under || st.dot || st.upper),
    // AWS key ids may be all capitals; every other shape has a random part with digits or mixed case
    valid: (m) => /^A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)/.test(m) || looksRandom(m.slice(4)),
  },
  payment_card: {
    name: 'payment_card',
    re: /(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w.-])/g,
    pre: (_s, st) => st.digitRun >= 13,
    valid: (m) => {
      const d = m.replace(/\D/g, '');
      return cardNetwork(d) && luhn(d);
    },
  },
  us_ssn: {
    name: 'us_ssn',
    re: /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/g,
    pre: (_s, st) => st.digits >= 9 && st.dash,
  },
  iban: {
    name: 'iban',
    re: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g,
    pre: (s, st) => st.upper && st.digits >= 2 && s.length >= 15,
    valid: ibanValid,
  },
  phone: {
    name: 'phone',
    // [+CC | 00CC] [(area)] digits, then up to six more groups after a space, dot, dash or %20;
    // phoneShape decides (international 8–15 digits, national 9–13 in a phone number's shape)
    re: new RegExp(
      `(?<![\\w+.%-])(?:(?:\\+|%2[Bb])\\d{1,3}${SEP}?|00\\d{1,3}[ .-])?(?:\\(\\d{1,5}\\)${SEP}?)?\\d{1,12}(?:${SEP}(?:\\(\\d{1,5}\\)${SEP}?)?\\d{1,12}){0,6}(?![\\w%]|[.-]\\w)`,
      'g',
    ),
    pre: (_s, st) => st.digits >= 8,
    valid: phoneShape,
  },
  ipv4: {
    name: 'ipv4',
    // not inside paths (`/v/1.2.3.4`, `\1.2.3.4`) but after `//` (a URL's host); not after a version word
    re: new RegExp(`(?<![\\w.\\\\-])(?<!(?:^|[^/])/)(?:${OCTET}\\.){3}${OCTET}(?![\\w-]|\\.\\w)`, 'g'),
    pre: (_s, st) => st.digitSep && st.digits >= 4,
    valid: (m, s, at) => ipv4Personal(m) && !precededByVersionWord(s, at),
  },
  ipv6: {
    name: 'ipv6',
    re: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})(?![\w:]|\.\d)/g,
    pre: (_s, st) => st.colons >= 2,
    valid: (m) => isIPv6(m) && m !== '::' && m !== '::1',
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
    const re = d.re;
    re.lastIndex = 0;
    let m = re.exec(out);
    if (m === null) continue;
    let result = '';
    let done = 0;
    while (m !== null) {
      const text = m[0];
      if (text.length === 0) {
        re.lastIndex++;
      } else if (d.valid === undefined || d.valid(text, out, m.index)) {
        const end = m.index + text.length;
        const g = d.group != null ? m[d.group] : undefined;
        const start = g ? end - g.length : m.index;
        result += out.slice(done, start) + replace(out.slice(start, end));
        done = end;
        onHit?.(d.name);
      }
      m = re.exec(out);
    }
    if (done > 0) out = result + out.slice(done);
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

/**
 * The detectors worth running on a value, given what its key says: a version key (`app.version`)
 * holds no IPv4 address; a time key (`timestamp`, `created_at`, `exp`) holds no card, phone or SSN.
 */
export function detectorsForKey(detectors: readonly Detector[], ctx: KeyContext): readonly Detector[] {
  if (ctx === 'version') return detectors.filter((d) => d !== BUILTIN_DETECTORS.ipv4);
  if (ctx === 'time') {
    const skip: readonly Detector[] = [
      BUILTIN_DETECTORS.payment_card,
      BUILTIN_DETECTORS.phone,
      BUILTIN_DETECTORS.us_ssn,
    ];
    return detectors.filter((d) => !skip.includes(d));
  }
  return detectors;
}
