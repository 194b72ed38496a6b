/**
 * Generates the labeled PII corpus test/corpus/pii-corpus.jsonl from a seed:
 *
 *   node --import tsx test/corpus/generate-pii-corpus.ts [--seed 1414] [--out file] [--check]
 *
 * Positives: PII of every built-in detector (src/pipeline/detectors.ts) written the way services
 * write it — bare values, sentences, URLs (query strings, %-encoding), JSON bodies, log lines,
 * headers, env assignments, code in prompts — in international formats; plus attributes whose key
 * alone says "identifier" (hashed) or "credential" (deleted), in every spelling.
 * Negatives: look-alikes that must survive byte for byte (order ids, UUIDs, trace ids, hashes, epoch
 * timestamps, versions, prices, coordinates, ISBNs, paths, base64, Kubernetes names, dates, …).
 * The formats come from the sources' own documentation (ITU national numbering plans, ISO 13616
 * IBAN lengths, card networks' IIN ranges, providers' key prefixes), not from the detectors.
 * `--check` exits 1 when the committed file differs from what the seed generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CORPUS_FILE, type CorpusEntry } from './corpus.js';
import { base64url, fill, ibanCheckDigits, LOWER, luhnCheckDigit, luhnValid, Rng, UPPER } from './random.js';

export const DEFAULT_SEED = 1414;

const FIRST = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'olivia',
  'peggy',
  'rupert',
  'sybil',
  'trent',
  'victor',
  'wendy',
  'amir',
  'chen',
  'priya',
  'kenji',
  'fatima',
  'lucas',
  'sofia',
  'mateo',
  'aisha',
  'yuki',
  'lars',
  'ingrid',
  'omar',
  'zoe',
  'noah',
  'emma',
  'liam',
  'mia',
] as const;
const LAST = [
  'smith',
  'jones',
  'garcia',
  'nguyen',
  'kim',
  'patel',
  'mueller',
  'rossi',
  'dubois',
  'silva',
  'kowalski',
  'johansson',
  'tanaka',
  'wang',
  'okafor',
  'hernandez',
  'obrien',
  'van-der-berg',
  'schmidt',
  'ivanova',
] as const;
const DOMAINS = [
  'example.com',
  'example.org',
  'gmail.com',
  'outlook.com',
  'yahoo.co.uk',
  'corp.example.io',
  'mail.example.de',
  'acme-inc.com',
  'university.edu',
  'example.co.jp',
  'startup.dev',
  'shop.example.fr',
  'example.com.br',
  'proton.me',
  'example.museum',
  'sub.dept.example.gov',
  'example.technology',
  'icloud.com',
  'web.de',
  'qq.com',
] as const;
/** internationalised local parts and domains (RFC 6531 / IDNA), as users really type them */
const INTL_EMAILS = [
  'müller@beispiel.de',
  'josé.garcía@correo.es',
  'zoë@exämple.com',
  'françois@exemple.fr',
  'søren@eksempel.dk',
  'łukasz@przykład.pl',
  'ñandú@ejemplo.com.ar',
  'renée.dupont@société.fr',
] as const;

// ---- value generators (each returns the clear-text PII as written) ----

function email(rng: Rng): string {
  if (rng.chance(0.04)) return rng.pick(INTL_EMAILS);
  const f = rng.pick(FIRST);
  const l = rng.pick(LAST);
  const local = rng.pick([
    `${f}.${l}`,
    `${f}_${l}`,
    `${f}${rng.int(1, 9999)}`,
    `${f[0]}${l}`,
    `${f}.${l}+${rng.pick(['news', 'billing', 'test', 'shop'])}`,
    `${f}-${l}`,
    `${l}.${f}${rng.int(70, 99)}`,
    `${f}`,
  ]);
  const d = rng.pick(DOMAINS);
  const e = `${local}@${d}`;
  return rng.chance(0.08) ? e.replace(/^./, (c) => c.toUpperCase()).replace(/@.*/, (m) => m.toUpperCase()) : e;
}

/** national numbering plans: `+CC` forms and national forms with trunk prefixes */
const PHONE_TEMPLATES: readonly string[] = [
  // North America (NANP): area and exchange codes start 2–9
  '(N##) N##-####',
  'N##-N##-####',
  'N##.N##.####',
  '+1 N## N##-####',
  '+1-N##-N##-####',
  '+1 (N##) N##-####',
  '1-800-N##-####',
  '+1N##N######',
  '+1 N##.N##.####',
  // United Kingdom
  '+44 20 #### ####',
  '020 #### ####',
  '+44 7### ######',
  '07### ######',
  '+44 (0)20 #### ####',
  '+447#########',
  '+44 161 ### ####',
  // Germany
  '+49 30 ########',
  '030 ########',
  '+49 151 ########',
  '0151 ########',
  '+49 (0)30 ########',
  '+49 89 #######',
  '+4915#########',
  '+49 30 ### ### ##',
  '0049 30 ########',
  // France
  '+33 N ## ## ## ##',
  '0N ## ## ## ##',
  '0N.##.##.##.##',
  '+33N########',
  '+33 (0)N ## ## ## ##',
  // Spain, Italy, Netherlands, Switzerland, Sweden, Poland, Ireland
  '+34 6## ## ## ##',
  '+34 6## ### ###',
  '+34 9## ### ###',
  '+39 06 #### ####',
  '+39 3## ### ####',
  '06 #### ####',
  '+31 20 ### ####',
  '+31 6 ########',
  '06-########',
  '020-#######',
  '+41 44 ### ## ##',
  '044 ### ## ##',
  '+46 8 ### ### ##',
  '08-### ### ##',
  '+48 ## ### ## ##',
  '+48 5## ### ###',
  '+353 1 ### ####',
  '+353 8# ### ####',
  // India, Japan, China, Korea, Singapore
  '+91 9#### #####',
  '+91-9#########',
  '+91 98###-#####',
  '+81 3-####-####',
  '03-####-####',
  '090-####-####',
  '+81 90-####-####',
  '+86 1## #### ####',
  '+86 10 #### ####',
  '+82 2-###-####',
  '010-####-####',
  '+82 10-####-####',
  '+65 6### ####',
  '+65 9### ####',
  // Brazil, Mexico, Argentina
  '+55 11 9####-####',
  '(11) 9####-####',
  '+55 (11) 9####-####',
  '+52 55 #### ####',
  '+52 1 55 #### ####',
  '+54 9 11 ####-####',
  // Australia, South Africa, Nigeria, Russia
  '+61 2 #### ####',
  '+61 4## ### ###',
  '04## ### ###',
  '(02) #### ####',
  '+27 21 ### ####',
  '021 ### ####',
  '+234 803 ### ####',
  '+7 495 ###-##-##',
  '8 (495) ###-##-##',
  '+7 9## ###-##-##',
];

function phone(rng: Rng): string {
  return fill(rng, rng.pick(PHONE_TEMPLATES));
}

/** card networks' IIN prefixes and lengths; `groups` is how the number is printed on the card */
const CARD_NETWORKS = [
  { prefixes: ['4'], lengths: [16, 16, 16, 13, 19], name: 'visa' },
  { prefixes: ['51', '52', '53', '54', '55', '2221', '2300', '2720', '2500'], lengths: [16], name: 'mastercard' },
  { prefixes: ['34', '37'], lengths: [15], name: 'amex' },
  { prefixes: ['6011', '65', '644', '649'], lengths: [16, 19], name: 'discover' },
  { prefixes: ['3528', '3530', '3589'], lengths: [16], name: 'jcb' },
  { prefixes: ['36', '300', '305', '38'], lengths: [14], name: 'diners' },
  { prefixes: ['62'], lengths: [16, 17, 18, 19], name: 'unionpay' },
  { prefixes: ['5018', '5020', '6759', '6761'], lengths: [16, 19], name: 'maestro' },
] as const;

function cardDigits(rng: Rng): { digits: string; network: string } {
  const n = rng.pick(CARD_NETWORKS);
  const prefix = rng.pick(n.prefixes);
  const len = rng.pick(n.lengths);
  const body = prefix + rng.digits(len - prefix.length - 1);
  return { digits: body + luhnCheckDigit(body), network: n.name };
}

function formatCard(rng: Rng, d: string, network: string): string {
  const style = rng.int(0, 3);
  if (style === 0) return d;
  const sep = style === 1 || style === 3 ? ' ' : '-';
  if (network === 'amex' && d.length === 15) return [d.slice(0, 4), d.slice(4, 10), d.slice(10)].join(sep);
  if (network === 'diners' && d.length === 14) return [d.slice(0, 4), d.slice(4, 10), d.slice(10)].join(sep);
  return d.match(/.{1,4}/g)?.join(sep) ?? d;
}

function card(rng: Rng): string {
  if (rng.chance(0.05)) return rng.pick(['4111 1111 1111 1111', '5555555555554444', '4242-4242-4242-4242']);
  const c = cardDigits(rng);
  return formatCard(rng, c.digits, c.network);
}

function ipv4(rng: Rng): string {
  const first = rng.pick([10, 172, 192, 203, 198, 100, 81, 5, 31, 62, 77, 88, 91, 109, 151, 185, 212, 217, 23, 45]);
  const rest = () => rng.int(0, 255);
  if (first === 192) return `192.168.${rest()}.${rng.int(1, 254)}`;
  if (first === 172) return `172.${rng.int(16, 31)}.${rest()}.${rng.int(1, 254)}`;
  return `${first}.${rest()}.${rest()}.${rng.int(1, 254)}`;
}

function ipv6(rng: Rng): string {
  const g = () => rng.int(0, 0xffff).toString(16);
  const forms = [
    () => Array.from({ length: 8 }, () => rng.int(0, 0xffff).toString(16).padStart(4, '0')).join(':'),
    () => `2001:db8:${g()}::${g()}:${g()}`,
    () => `2001:db8::${g()}`,
    () => `2a02:${g()}:${g()}:${g()}::${g()}`,
    () => `fe80::${g()}:${g()}:${g()}:${g()}`,
    () => `fe80::${g()}%eth0`,
    () => `::ffff:${ipv4(rng)}`,
    () => `2600:1f18:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}`,
    () => `2001:DB8:${g().toUpperCase()}::${g().toUpperCase()}`,
    () => `2001:db8:${g()}:${g()}::`,
    () => `2a00:1450:4001:${g()}::200e`,
    () => `fd00::${g()}:${g()}`,
  ];
  return rng.pick(forms)();
}

function jwt(rng: Rng): string {
  const alg = rng.pick(['HS256', 'RS256', 'ES256', 'none']);
  const header = base64url(JSON.stringify(alg === 'none' ? { alg } : { alg, typ: 'JWT', kid: rng.hex(8) }));
  const now = 1_700_000_000 + rng.int(0, 60_000_000);
  const claims: Record<string, unknown> = {
    sub: rng.chance(0.5) ? String(rng.int(1, 9_999_999)) : `auth0|${rng.hex(24)}`,
    iat: now,
    exp: now + 3600,
  };
  if (rng.chance(0.6)) claims.email = email(rng);
  if (rng.chance(0.5)) claims.name = `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
  if (rng.chance(0.5)) claims.scope = 'openid profile email';
  const payload = base64url(JSON.stringify(claims));
  const sigLen = alg === 'none' ? 0 : alg === 'RS256' ? 342 : alg === 'ES256' ? 86 : 43;
  return `${header}.${payload}.${rng.b64url(sigLen)}`;
}

function opaqueToken(rng: Rng): string {
  return rng.pick([
    () => rng.b64url(rng.int(24, 64)),
    () => rng.hex(40),
    () => `ya29.${rng.b64url(rng.int(90, 160))}`,
    () => `${rng.alnum(8)}-${rng.alnum(4)}-${rng.alnum(12)}`,
    () => rng.b64(rng.int(20, 40)),
  ])();
}

/** provider API key shapes as the providers document them */
const API_KEYS: readonly ((rng: Rng) => string)[] = [
  (r) => `sk-${r.alnum(48)}`, // OpenAI (legacy)
  (r) => `sk-proj-${r.b64url(156)}`, // OpenAI project key
  (r) => `sk-svcacct-${r.b64url(120)}`,
  (r) => `sk-ant-api03-${r.b64url(93)}AA`, // Anthropic
  (r) => `AKIA${r.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`, // AWS access key id
  (r) => `ASIA${r.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`, // AWS temporary key id
  (r) => `ghp_${r.alnum(36)}`, // GitHub classic PAT
  (r) => `${r.pick(['gho', 'ghu', 'ghs', 'ghr'])}_${r.alnum(36)}`,
  (r) => `github_pat_${r.alnum(22)}_${r.alnum(59)}`, // GitHub fine-grained PAT
  (r) => `glpat-${r.b64url(20)}`, // GitLab
  (r) => `xoxb-${r.digits(12)}-${r.digits(13)}-${r.alnum(24)}`, // Slack bot
  (r) => `xoxp-${r.digits(12)}-${r.digits(12)}-${r.digits(13)}-${r.hex(32)}`, // Slack user
  (r) => `xapp-1-A${r.from(UPPER, 10)}-${r.digits(13)}-${r.hex(64)}`, // Slack app-level
  (r) => `AIza${r.b64url(35)}`, // Google API key
  (r) => `sk_live_${r.alnum(r.int(24, 99))}`, // Stripe secret
  (r) => `sk_test_${r.alnum(r.int(24, 99))}`,
  (r) => `rk_live_${r.alnum(r.int(24, 99))}`, // Stripe restricted
  (r) => `whsec_${r.alnum(32)}`, // Stripe webhook secret
  (r) => `SG.${r.b64url(22)}.${r.b64url(43)}`, // SendGrid
  (r) => `npm_${r.alnum(36)}`, // npm
  (r) => `hf_${r.from(UPPER + LOWER, 34)}`, // Hugging Face
  (r) => `gsk_${r.alnum(52)}`, // Groq
  (r) => `xai-${r.alnum(80)}`, // xAI
  (r) => `pplx-${r.alnum(48)}`, // Perplexity
  (r) => `r8_${r.alnum(37)}`, // Replicate
  (r) => `sk-or-v1-${r.hex(64)}`, // OpenRouter
  (r) => `dop_v1_${r.hex(64)}`, // DigitalOcean
  (r) => `shpat_${r.hex(32)}`, // Shopify
];

function apiKey(rng: Rng): string {
  return rng.pick(API_KEYS)(rng);
}

function ssn(rng: Rng): string {
  let area: number;
  do area = rng.int(1, 899);
  while (area === 666);
  return `${String(area).padStart(3, '0')}-${String(rng.int(1, 99)).padStart(2, '0')}-${String(rng.int(1, 9999)).padStart(4, '0')}`;
}

/** ISO 13616 BBAN formats: n digit, a letter, c alphanumeric */
const IBAN_FORMATS: Record<string, string> = {
  DE: '18n',
  GB: '4a14n',
  FR: '10n11c2n',
  NL: '4a10n',
  ES: '20n',
  IT: '1a10n12c',
  CH: '5n12c',
  BE: '12n',
  AT: '16n',
  PL: '24n',
  SE: '20n',
  NO: '11n',
  IE: '4a14n',
  PT: '21n',
  SA: '2n18c',
  AE: '19n',
  BR: '23n1a1c',
  DK: '14n',
  FI: '14n',
  LU: '3n13c',
  CZ: '20n',
  HU: '24n',
  RO: '4a16c',
  GR: '7n16c',
  MT: '4a5n18c',
  TR: '5n1n16c',
};

function bban(rng: Rng, format: string): string {
  let out = '';
  for (const m of format.matchAll(/(\d+)([nac])/g)) {
    const n = Number(m[1]);
    const kind = m[2];
    out += kind === 'n' ? rng.digits(n) : kind === 'a' ? rng.from(UPPER, n) : rng.from(`${UPPER}0123456789`, n);
  }
  return out;
}

function iban(rng: Rng): string {
  const country = rng.pick(Object.keys(IBAN_FORMATS));
  const b = bban(rng, IBAN_FORMATS[country] as string);
  const compact = `${country}${ibanCheckDigits(country, b)}${b}`;
  return rng.chance(0.45) ? (compact.match(/.{1,4}/g)?.join(' ') ?? compact) : compact;
}

// ---- contexts: how a value is written into an attribute ----

interface Written {
  key: string;
  value: string;
  context: string;
  /** the clear-text as it appears in value (e.g. %-encoded), when it differs from the raw PII */
  pii?: string;
  /** when the key itself decides (a cookie header is a credential: deleted) */
  expect?: 'deleted';
}

const SENTENCE_KEYS = [
  'message',
  'log.message',
  'exception.message',
  'error.message',
  'note',
  'description',
  'comment',
  'event.detail',
  'gen_ai.prompt',
  'gen_ai.completion',
  'llm.input_messages',
  'otel.status_description',
  'customer.note',
] as const;
const BARE_KEYS = ['value', 'arg.0', 'input', 'target', 'field.value', 'param', 'tool.argument', 'search.query'];
const JSON_KEYS = ['http.request.body', 'http.response.body', 'payload', 'messaging.message.body', 'tool.output'];
const LOG_KEYS = ['log', 'log.record.original', 'body', 'event.original', 'message'];
const URL_KEYS = ['url.full', 'http.url', 'url.query', 'http.target', 'http.request.header.referer', 'url.original'];

function sentence(rng: Rng, templates: readonly string[], v: string): Written {
  return { key: rng.pick(SENTENCE_KEYS), value: rng.pick(templates).replace('{}', v), context: 'sentence' };
}
function bare(rng: Rng, v: string): Written {
  return { key: rng.pick(BARE_KEYS), value: v, context: 'bare' };
}
function json(rng: Rng, field: string, v: string): Written {
  const other = rng.pick([
    { plan: 'pro', seats: rng.int(1, 50) },
    { order_id: `ORD-${rng.digits(8)}`, total: 129.5 },
    { status: 'pending', retries: rng.int(0, 3) },
    { locale: 'en-GB', ts: 1_700_000_000_000 + rng.int(0, 1e9) },
  ]);
  const body = rng.chance(0.5) ? { ...other, [field]: v } : { user: { [field]: v, ...other } };
  return { key: rng.pick(JSON_KEYS), value: JSON.stringify(body), context: 'json' };
}
function logLine(rng: Rng, templates: readonly string[], v: string): Written {
  const ts = new Date(Date.UTC(2025, rng.int(0, 11), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59), rng.int(0, 59)));
  const prefix = rng.pick([
    `${ts.toISOString()} INFO `,
    `${ts.toISOString()} WARN [${rng.pick(['auth', 'billing', 'api', 'worker'])}] `,
    `level=info ts=${ts.toISOString()} `,
    `[${ts.toISOString().replace('T', ' ').slice(0, 19)}] ERROR `,
    '',
  ]);
  return { key: rng.pick(LOG_KEYS), value: prefix + rng.pick(templates).replace('{}', v), context: 'log' };
}
function url(rng: Rng, templates: readonly string[], v: string, encoded = v): Written {
  return {
    key: rng.pick(URL_KEYS),
    value: rng.pick(templates).replace('{}', encoded),
    context: 'url',
    ...(encoded !== v ? { pii: encoded } : {}),
  };
}

// ---- positives per detector ----

type Positive = (rng: Rng) => Written & { raw: string };

const POSITIVES: Record<string, Positive> = {
  email(rng) {
    const e = email(rng);
    const w = rng.pick<(r: Rng) => Written>([
      (r) =>
        sentence(
          r,
          [
            'Password reset link sent to {}',
            'Invite accepted by {} (workspace acme)',
            'Please contact {} for access',
            'Bounce: mailbox {} unavailable',
            'Summarise the thread from {} about the refund',
            'User <{}> signed up via Google',
            'Cc: {}; subject "Q3 invoice"',
          ],
          e,
        ),
      (r) => bare(r, e),
      (r) => json(r, r.pick(['email', 'contact', 'to', 'from', 'recipient']), e),
      (r) =>
        logLine(r, ['login ok user={} method=password', 'smtp: queued message to=<{}> size=5321', 'sent to {}'], e),
      (r) =>
        url(
          r,
          [
            'https://app.example.com/api/v1/users/lookup?email={}&active=1',
            'https://shop.example.com/unsubscribe?e={}',
            'mailto:{}?subject=Hello',
            'https://api.example.com/v2/users/{}/preferences',
          ],
          e,
          r.chance(0.5) && !/[^\x20-\x7e]/.test(e) ? e.replace('@', '%40').replace('+', '%2B') : e,
        ),
      (r) => ({
        key: r.pick(['http.request.header.from', 'messaging.destination', 'rpc.request']),
        value: e,
        context: 'header',
      }),
    ])(rng);
    return { ...w, raw: e };
  },
  phone(rng) {
    const p = phone(rng);
    const w = rng.pick<(r: Rng) => Written>([
      (r) =>
        sentence(
          r,
          [
            'Customer called from {} about the late delivery',
            'SMS verification code sent to {}',
            'Call me back on {} after 5pm',
            'Tel: {}',
            'Contact number {} (mobile)',
            'Driver will ring {} on arrival',
            'Phone: {}, ext 12',
            'WhatsApp {} for updates',
          ],
          p,
        ),
      (r) => bare(r, p),
      (r) => json(r, r.pick(['phone', 'mobile', 'tel', 'phoneNumber', 'contact_phone', 'msisdn']), p),
      (r) =>
        logLine(r, ['twilio: message queued to={} status=accepted', 'otp sent to {}', 'callback number {} stored'], p),
      (r) =>
        url(
          r,
          ['tel:{}', 'https://api.example.com/v1/verify?phone={}&channel=sms', 'https://wa.me/{}'],
          p,
          r.chance(0.5) ? p.replace(/^\+/, '%2B').replace(/ /g, '%20') : p,
        ),
    ])(rng);
    return { ...w, raw: p };
  },
  payment_card(rng) {
    const c = card(rng);
    const w = rng.pick<(r: Rng) => Written>([
      (r) =>
        sentence(
          r,
          [
            'card {} declined: insufficient funds',
            'Charge failed for card number {}',
            'My card {} was charged twice, please refund',
            'PAN {} flagged by fraud rules',
            'Visa {} exp 04/27',
          ],
          c,
        ),
      (r) => bare(r, c),
      (r) => json(r, r.pick(['card_number', 'pan', 'cc', 'number', 'cardNumber']), c),
      (r) => logLine(r, ['payment attempt card={} amount=42.00 currency=EUR', 'tokenize failed for {}'], c),
      (r) => url(r, ['https://pay.example.com/checkout?cc={}&amount=1999', 'https://legacy.example.com/pay/{}'], c),
    ])(rng);
    return { ...w, raw: c };
  },
  ipv4(rng) {
    const ip = ipv4(rng);
    const w = rng.pick<(r: Rng) => Written>([
      (r) =>
        sentence(
          r,
          [
            'Login from new device at {}',
            'Blocked {} after 5 failed attempts',
            'client {} connected',
            'Request forwarded for {}, 10.0.0.1',
          ],
          ip,
        ),
      (r) => bare(r, ip),
      (r) => json(r, r.pick(['ip', 'client_addr', 'remote', 'source']), ip),
      (r) =>
        logLine(
          r,
          [
            '{} - - [15/Jan/2025:10:30:00 +0000] "GET /health HTTP/1.1" 200 2',
            'accepted connection from {}:54321',
            'src={} dst=10.0.3.4 proto=tcp',
            'ssh: Accepted publickey for deploy from {} port 50522',
          ],
          ip,
        ),
      (r) => url(r, ['http://{}:8080/metrics', 'https://{}/admin/login?next=/', 'http://{}/'], ip),
      () => ({ key: 'http.request.header.x-forwarded-for', value: `${ip}, 70.41.3.18`, context: 'header' }),
    ])(rng);
    return { ...w, raw: ip };
  },
  ipv6(rng) {
    const ip = ipv6(rng);
    const w = rng.pick<(r: Rng) => Written>([
      (r) => sentence(r, ['Login from new device at {}', 'client {} connected', 'Blocked {} (rate limit)'], ip),
      (r) => bare(r, ip),
      (r) => json(r, r.pick(['ip', 'client_addr', 'remote']), ip),
      (r) => logLine(r, ['accepted connection from {} port 443', 'src={} proto=udp', 'peer [{}]:443 closed'], ip),
      (r) =>
        ip.includes('%') ? bare(r, ip) : url(r, ['http://[{}]:8080/metrics', 'https://[{}]/', 'http://[{}]/api'], ip),
    ])(rng);
    return { ...w, raw: ip };
  },
  jwt(rng) {
    const t = jwt(rng);
    const w = rng.pick<(r: Rng) => Written>([
      (r) =>
        logLine(r, ['Authorization: Bearer {}', 'token validation failed for {}: expired', 'cookie session={}'], t),
      (r) => bare(r, t),
      (r) => json(r, r.pick(['access_token', 'id_token', 'token', 'jwt']), t),
      (r) =>
        url(
          r,
          ['https://app.example.com/callback#id_token={}&state=af0ifjsldkj', 'https://api.example.com/ws?token={}'],
          t,
        ),
      () => ({
        key: 'http.request.header.cookie',
        value: `theme=dark; session=${t}; lang=en`,
        context: 'header',
        expect: 'deleted',
      }),
      (r) => sentence(r, ['Decode this token for me: {}', 'JWT {} rejected (kid unknown)'], t),
    ])(rng);
    return { ...w, raw: t };
  },
  bearer_token(rng) {
    const t = opaqueToken(rng);
    const scheme = rng.pick(['Bearer', 'Bearer', 'Bearer', 'bearer', 'BEARER']);
    const w = rng.pick<(r: Rng) => Written>([
      (r) =>
        logLine(r, [`Authorization: ${scheme} {}`, `upstream request headers: {"authorization":"${scheme} {}"}`], t),
      (r) => ({
        key: r.pick(['rpc.grpc.request.metadata', 'http.header.auth']),
        value: `${scheme} ${t}`,
        context: 'header',
      }),
      (r) =>
        sentence(
          r,
          [`curl -H "Authorization: ${scheme} {}" https://api.example.com/v1/me`, `use ${scheme} {} to call it`],
          t,
        ),
      (r) => json(r, 'Authorization', `${scheme} ${t}`),
      (r) => url(r, [`https://api.example.com/v1/export?auth=${scheme}%20{}`], t),
    ])(rng);
    return { ...w, raw: t };
  },
  api_key(rng) {
    const k = apiKey(rng);
    const w = rng.pick<(r: Rng) => Written>([
      (r) =>
        ({
          key: r.pick(['process.command_line', 'container.env', 'shell.command']),
          value: r
            .pick(['OPENAI_API_KEY={} python agent.py', 'export GITHUB_TOKEN={}', 'docker run -e API_KEY={} app'])
            .replace('{}', k),
          context: 'env',
        }) as Written,
      (r) => bare(r, k),
      (r) => json(r, r.pick(['api_key', 'apiKey', 'key', 'secret', 'credentials']), k),
      (r) => logLine(r, ['auth failed with key {}', 'x-api-key: {}', 'using token {} for upload'], k),
      (r) =>
        url(
          r,
          ['https://maps.example.com/api/geocode?address=Berlin&key={}', 'https://api.example.com/v1/x?api_key={}'],
          k,
        ),
      (r) =>
        ({
          key: r.pick(['gen_ai.prompt', 'llm.input_messages', 'code.snippet']),
          value: r.pick(['client = OpenAI(api_key="{}")', 'Why does this fail? key = "{}"']).replace('{}', k),
          context: 'code',
        }) as Written,
    ])(rng);
    return { ...w, raw: k };
  },
  us_ssn(rng) {
    const s = ssn(rng);
    const w = rng.pick<(r: Rng) => Written>([
      (r) => sentence(r, ['SSN {} on file', 'Applicant social security number {} verified', 'ssn: {}'], s),
      (r) => bare(r, s),
      (r) => json(r, r.pick(['ssn', 'tax_id', 'national_id']), s),
      (r) => logLine(r, ['kyc check ssn={} result=pass', 'W-9 received, TIN {}'], s),
    ])(rng);
    return { ...w, raw: s };
  },
  iban(rng) {
    const i = iban(rng);
    const w = rng.pick<(r: Rng) => Written>([
      (r) => sentence(r, ['Refund to IBAN {} approved', 'Please pay into {} by Friday', 'Payee account: {}'], i),
      (r) => bare(r, i),
      (r) => json(r, r.pick(['iban', 'account', 'creditor_account', 'debtorIban']), i),
      (r) => logLine(r, ['sepa transfer iban={} amount=120.00', 'mandate created for {}'], i),
      (r) =>
        url(
          r,
          ['https://bank.example.com/transfer?to={}&amount=50', 'https://pay.example.eu/sepa/{}/confirm'],
          i.replace(/ /g, ''),
        ),
    ])(rng);
    return { ...w, raw: w.context === 'url' ? i.replace(/ /g, '') : i };
  },
};

// ---- positives by key name alone ----

/** identifier keys as services spell them; values that no detector would recognise */
const IDENTIFIER_KEYS = [
  'user_id',
  'userId',
  'UserID',
  'user-id',
  'USER_ID',
  'user.id',
  'userid',
  'end_user_id',
  'enduser.id',
  'app.user.id',
  'customer_id',
  'customerId',
  'customer.id',
  'account_id',
  'accountId',
  'member_id',
  'patient_id',
  'session_id',
  'sessionId',
  'session.id',
  'x-session-id',
  'device_id',
  'deviceId',
  'visitor_id',
  'anonymous_id',
  'user_email',
  'customer_email',
  'customerEmail',
  'billing.email',
  'email',
  'Email',
  'email_address',
  'emailAddress',
  'contact-email',
  'user_name',
  'username',
  'userName',
  'first_name',
  'lastName',
  'full_name',
  'phone',
  'phone_number',
  'phoneNumber',
  'mobile',
  'client_ip',
  'clientIp',
  'clientIP',
  'client.address',
  'remote_ip',
  'ip_address',
  'ipAddress',
  'x-forwarded-for',
  'x-real-ip',
  'net.peer.ip',
  'ssn',
  'date_of_birth',
  'dob',
  'birthDate',
  'street_address',
  'shipping.address',
  'card_number',
  'iban',
  'passport_number',
  'tax_id',
  'national_id',
  'user.email',
  'user.name',
  'http.request.header.x-user-id',
];
/** credential keys: deleted whatever the value */
const CREDENTIAL_KEYS = [
  'password',
  'Password',
  'db.password',
  'DB_PASSWORD',
  'dbPassword',
  'user_password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'client_secret',
  'clientSecret',
  'app.secret',
  'x-api-key',
  'api_key',
  'apiKey',
  'API-KEY',
  'apikey',
  'openai.api_key',
  'access_token',
  'accessToken',
  'x-access-token',
  'refresh_token',
  'refreshToken',
  'id_token',
  'auth_token',
  'authToken',
  'x-auth-token',
  'session_token',
  'csrf_token',
  'x-csrf-token',
  'bearer_token',
  'private_key',
  'privateKey',
  'secret_key',
  'aws_secret_access_key',
  'authorization',
  'Authorization',
  'http.request.header.authorization',
  'proxy-authorization',
  'cookie',
  'http.request.header.cookie',
  'http.response.header.set-cookie',
  'Set-Cookie',
  'credentials',
  'credential',
  'connection_string',
  'connectionString',
  'db.connection_string',
  'cvv',
  'card.cvc',
  'x-amz-security-token',
];

function identifierValue(rng: Rng, key: string): { value: string; type?: 'int' } {
  const k = key.toLowerCase();
  if (k.includes('mail')) return { value: email(rng) };
  if (k.includes('ip') || (k.includes('address') && k.includes('client')) || k.includes('forwarded'))
    return { value: ipv4(rng) };
  if (k.includes('phone') || k.includes('mobile')) return { value: phone(rng) };
  if (k.includes('name')) return { value: `${rng.pick(FIRST)}${rng.chance(0.5) ? ` ${rng.pick(LAST)}` : ''}` };
  if (k.includes('birth') || k === 'dob') return { value: `19${rng.int(50, 99)}-0${rng.int(1, 9)}-${rng.int(10, 28)}` };
  if (k.includes('address'))
    return { value: `${rng.int(1, 200)} ${rng.pick(['High St', 'Main Street', 'Rue de la Paix'])}` };
  if (k === 'ssn') return { value: ssn(rng) };
  if (k.includes('card')) return { value: card(rng) };
  if (k === 'iban') return { value: iban(rng) };
  if (rng.chance(0.25)) return { value: String(rng.int(1000, 99_999_999)), type: 'int' };
  return {
    value: rng.pick([
      () => `u_${rng.digits(6)}`,
      () => `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-${rng.pick(['8', '9', 'a', 'b'])}${rng.hex(3)}-${rng.hex(12)}`,
      () => `cus_${rng.alnum(14)}`,
      () => `${rng.pick(FIRST)}${rng.int(1, 999)}`,
      () => rng.hex(24),
    ])(),
  };
}

function credentialValue(rng: Rng, key: string): string {
  const k = key.toLowerCase();
  if (k.includes('cookie')) return `sid=${rng.b64url(32)}; Path=/; HttpOnly`;
  if (k.includes('authorization'))
    return `Basic ${Buffer.from(`${rng.pick(FIRST)}:${rng.alnum(12)}`).toString('base64')}`;
  if (k.includes('connection')) return `postgres://app:${rng.alnum(14)}@db.internal:5432/orders`;
  if (k.includes('cvv') || k.includes('cvc')) return rng.digits(3);
  return rng.pick([
    () => `${rng.pick(['Summer', 'Winter', 'hunter', 'P@ss'])}${rng.int(1, 2025)}!`,
    () => rng.b64url(rng.int(16, 48)),
    () => rng.hex(32),
    () => `-----BEGIN PRIVATE KEY-----\\n${rng.b64(64)}\\n-----END PRIVATE KEY-----`,
  ])();
}

// ---- negatives: look-alikes that must survive byte for byte ----

function failingLuhn(rng: Rng, len: number, first: string): string {
  let d: string;
  do d = first + rng.digits(len - first.length);
  while (luhnValid(d));
  return d;
}

const ts = (rng: Rng) => 1_000_000_000 + rng.int(0, 1_200_000_000); // 2001 … 2039 in seconds
const epochS = (rng: Rng) => String(ts(rng));
const epochMs = (rng: Rng) => `${ts(rng)}${rng.digits(3)}`;
const epochUs = (rng: Rng) => `${ts(rng)}${rng.digits(6)}`;
const epochNs = (rng: Rng) => `${ts(rng)}${rng.digits(9)}`;
const uuid4 = (rng: Rng) =>
  `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-${rng.pick(['8', '9', 'a', 'b'])}${rng.hex(3)}-${rng.hex(12)}`;
const uuid7 = (rng: Rng) => {
  const ms = (BigInt(ts(rng)) * 1000n).toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${rng.hex(3)}-${rng.pick(['8', '9', 'a', 'b'])}${rng.hex(3)}-${rng.hex(12)}`;
};
const isoDate = (rng: Rng) => new Date((ts(rng) + rng.int(0, 86_399)) * 1000 + rng.int(0, 999)).toISOString();

function isbn13(rng: Rng): string {
  const body = `978${rng.digits(9)}`;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (body.charCodeAt(i) - 48) * (i % 2 ? 3 : 1);
  return body + String((10 - (sum % 10)) % 10);
}
function isbn10(rng: Rng): string {
  const body = rng.digits(9);
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (body.charCodeAt(i) - 48) * (10 - i);
  const c = (11 - (sum % 11)) % 11;
  return body + (c === 10 ? 'X' : String(c));
}
const smallVersionPart = (rng: Rng) => String(rng.pick([0, 0, 1, 1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 20, 31, 100, 255]));
const fourPartVersion = (rng: Rng) =>
  `${rng.int(1, 12)}.${smallVersionPart(rng)}.${smallVersionPart(rng)}.${rng.int(0, 250)}`;

type Negative = { key: string; value: string; context: string; type?: 'int' | 'bool' };
const NEGATIVES: Record<string, (rng: Rng) => Negative> = {
  order_id(rng) {
    const id = rng.pick([
      () => failingLuhn(rng, 16, rng.pick(['4', '5', '3', '6'])),
      () => failingLuhn(rng, rng.int(13, 19), String(rng.int(1, 9))),
      () => `${rng.pick(['1', '7', '8', '9'])}${rng.digits(15)}`, // not a card network's IIN
      () => `ORD-${rng.int(2019, 2026)}-${rng.digits(6)}`,
      () => `INV-${rng.digits(9)}`,
      () => `SO${rng.digits(10)}`,
      () => `#${rng.digits(9)}`,
      () => `PO-${rng.digits(5)}/${rng.int(2020, 2026)}`,
    ])();
    return rng.pick([
      () => ({
        key: rng.pick(['order.id', 'order_id', 'invoice.number', 'invoiceNumber', 'shop.order']),
        value: id,
        context: 'bare',
      }),
      () => ({ key: 'message', value: `Order ${id} shipped via DHL`, context: 'sentence' }),
      () => ({
        key: 'http.url',
        value: `https://shop.example.com/orders/${id.replace('#', '')}/invoice.pdf`,
        context: 'url',
      }),
      () => ({ key: 'payload', value: JSON.stringify({ order_id: id, total: 42.5 }), context: 'json' }),
    ])();
  },
  uuid(rng) {
    const u = rng.pick([uuid4, uuid7, (r: Rng) => uuid4(r).toUpperCase(), (r: Rng) => uuid4(r).replace(/-/g, '')])(rng);
    return rng.pick([
      () => ({
        key: rng.pick(['request.id', 'http.request.header.x-request-id', 'idempotency.key', 'job.id']),
        value: u,
        context: 'bare',
      }),
      () => ({ key: 'url.path', value: `/api/v1/documents/${u}/versions`, context: 'url' }),
      () => ({ key: 'log', value: `processing job ${u} attempt=2`, context: 'log' }),
    ])();
  },
  trace_span_id(rng) {
    const t = rng.hex(32);
    const s = rng.hex(16);
    return rng.pick([
      () => ({ key: 'trace_id', value: t, context: 'bare' }),
      () => ({ key: 'parent.span_id', value: s, context: 'bare' }),
      () => ({ key: 'http.request.header.traceparent', value: `00-${t}-${s}-01`, context: 'header' }),
      () => ({ key: 'log', value: `trace_id=${t} span_id=${s} msg="cache miss"`, context: 'log' }),
      () => ({ key: 'otel.link', value: `${t}:${s}`, context: 'bare' }),
    ])();
  },
  hex_hash(rng) {
    const h = rng.pick([() => rng.hex(32), () => rng.hex(40), () => rng.hex(64), () => rng.hex(rng.int(7, 12))])();
    return rng.pick([
      () => ({ key: rng.pick(['file.hash.sha256', 'vcs.commit', 'content.md5', 'etag']), value: h, context: 'bare' }),
      () => ({ key: 'container.image.id', value: `sha256:${rng.hex(64)}`, context: 'bare' }),
      () => ({ key: 'message', value: `deployed commit ${h} to production`, context: 'sentence' }),
    ])();
  },
  epoch_s(rng) {
    return epochNegative(rng, epochS(rng));
  },
  epoch_ms(rng) {
    return epochNegative(rng, epochMs(rng));
  },
  epoch_us(rng) {
    return epochNegative(rng, epochUs(rng));
  },
  epoch_ns(rng) {
    return epochNegative(rng, epochNs(rng));
  },
  semver(rng) {
    const v = rng.pick([
      () => `${rng.int(0, 20)}.${rng.int(0, 40)}.${rng.int(0, 30)}`,
      () => `v${rng.int(0, 9)}.${rng.int(0, 40)}.${rng.int(0, 30)}`,
      () => `${rng.int(1, 5)}.${rng.int(0, 9)}.${rng.int(0, 9)}-${rng.pick(['rc', 'beta', 'alpha'])}.${rng.int(1, 9)}`,
      () => `${rng.int(1, 5)}.${rng.int(0, 9)}.${rng.int(0, 9)}+build.${rng.int(1, 999)}`,
    ])();
    return versionNegative(rng, v);
  },
  four_part_version(rng) {
    return versionNegative(rng, fourPartVersion(rng));
  },
  price(rng) {
    const amount = rng.int(1, 2_000_000) / 100;
    const p = rng.pick([
      () => `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2 })}`,
      () => `€${amount.toFixed(2)}`,
      () => `${amount.toLocaleString('fr-FR', { minimumFractionDigits: 2 })} €`,
      () => `${amount.toLocaleString('de-DE', { minimumFractionDigits: 2 })} EUR`,
      () => `USD ${amount.toFixed(2)}`,
      () => `¥${Math.round(amount * 100).toLocaleString('ja-JP')}`,
      () => `£${rng.int(1, 9)},${rng.digits(3)},${rng.digits(3)}.${rng.digits(2)}`,
      () => `${rng.int(100, 999)} ${rng.digits(3)} ${rng.digits(3)} ₽`,
    ])();
    return rng.pick([
      () => ({ key: rng.pick(['order.total', 'price', 'amount.display']), value: p, context: 'bare' }),
      () => ({ key: 'message', value: `Subscription renewed for ${p} per month`, context: 'sentence' }),
    ])();
  },
  coordinates(rng) {
    const dp = rng.int(4, 8);
    const lat = (rng.next() * 180 - 90).toFixed(dp);
    const lon = (rng.next() * 360 - 180).toFixed(dp);
    return rng.pick([
      () => ({ key: 'geo.location', value: `${lat},${lon}`, context: 'bare' }),
      () => ({ key: 'geo.location', value: `${lat}, ${lon}`, context: 'bare' }),
      () => ({
        key: rng.pick(['geo.lat', 'latitude', 'geo.lon', 'lng']),
        value: rng.chance(0.5) ? lat : lon,
        context: 'bare',
      }),
      () => ({
        key: 'db.query.text',
        value: `SELECT * FROM stores WHERE ST_DWithin(geom, ST_Point(${lon} ${lat}), 500)`,
        context: 'sentence',
      }),
      () => ({ key: 'url.full', value: `https://maps.example.com/?q=${lat},${lon}&z=15`, context: 'url' }),
      () => ({ key: 'payload', value: JSON.stringify({ lat: Number(lat), lon: Number(lon) }), context: 'json' }),
      () => ({ key: 'geo.wkt', value: `POINT(${lon} ${lat})`, context: 'bare' }),
    ])();
  },
  isbn(rng) {
    const i13 = isbn13(rng);
    const i10 = isbn10(rng);
    const v = rng.pick([
      () => i13,
      () => `${i13.slice(0, 3)}-${i13[3]}-${i13.slice(4, 7)}-${i13.slice(7, 12)}-${i13[12]}`,
      () => `${i13.slice(0, 3)} ${i13[3]} ${i13.slice(4, 7)} ${i13.slice(7, 12)} ${i13[12]}`,
      () => i10,
      () => `${i10[0]}-${i10.slice(1, 4)}-${i10.slice(4, 9)}-${i10[9]}`,
    ])();
    return rng.pick([
      () => ({ key: rng.pick(['book.isbn', 'product.isbn', 'isbn13']), value: v, context: 'bare' }),
      () => ({ key: 'message', value: `Added ISBN ${v} to cart`, context: 'sentence' }),
      () => ({ key: 'url.full', value: `https://books.example.com/isbn/${v}`, context: 'url' }),
    ])();
  },
  file_path(rng) {
    const p = rng.pick([
      () => `/var/lib/kubelet/pods/${uuid4(rng)}/volumes/kubernetes.io~projected/kube-api-access-${rng.from(LOWER, 5)}`,
      () => `/usr/lib/python3.${rng.int(8, 13)}/site-packages/${rng.pick(['requests', 'urllib3', 'grpc'])}/__init__.py`,
      () => `C:\\Program Files\\Vendor\\Agent\\${fourPartVersion(rng)}\\bin\\agent.exe`,
      () => `/opt/app/releases/${new Date(ts(rng) * 1000).toISOString().replace(/\D/g, '').slice(0, 14)}/config.yml`,
      () =>
        `s3://logs-bucket/app/${isoDate(rng).slice(0, 10).replace(/-/g, '/')}/part-${rng.digits(5)}-${epochMs(rng)}.log.gz`,
      () => `/home/deploy/.cache/pip/wheels/${rng.hex(2)}/${rng.hex(2)}/${rng.hex(56)}`,
      () => `/data/${isoDate(rng).slice(0, 10)}/events-${rng.digits(4)}.parquet`,
      () => `gs://bucket/exports/${epochS(rng)}/shard-${rng.digits(5)}-of-00064.avro`,
    ])();
    return rng.pick([
      () => ({
        key: rng.pick(['code.filepath', 'file.path', 'process.executable.path', 'log.file.path']),
        value: p,
        context: 'bare',
      }),
      () => ({
        key: 'exception.stacktrace',
        value: `Error: ENOENT\n    at open (${p}:${rng.int(1, 400)}:${rng.int(1, 80)})`,
        context: 'log',
      }),
    ])();
  },
  base64_blob(rng) {
    const raw = rng.pick([
      () => rng.b64(rng.int(6, 50) * 4),
      () => Buffer.from(JSON.stringify({ cursor: rng.int(1, 1e6), ts: Number(epochMs(rng)) })).toString('base64'),
      () => rng.b64url(rng.int(22, 120)),
      () => `data:image/png;base64,iVBORw0KGgo${rng.b64(rng.int(40, 120))}`,
    ])();
    return {
      key: rng.pick(['messaging.kafka.message.key', 'page.cursor', 'http.response.body', 'blob']),
      value: raw,
      context: 'bare',
    };
  },
  kubernetes(rng) {
    const name = rng.pick([
      () =>
        `${rng.pick(['checkout', 'api', 'worker', 'frontend'])}-${rng.from('bcdfghjklmnpqrstvwxz2456789', 10)}-${rng.from('bcdfghjklmnpqrstvwxz2456789', 5)}`,
      () =>
        `ip-10-${rng.int(0, 255)}-${rng.int(0, 255)}-${rng.int(0, 255)}.${rng.pick(['us-west-2', 'eu-central-1'])}.compute.internal`,
      () => `gke-prod-pool-${rng.int(1, 9)}-${rng.hex(8)}-${rng.from(LOWER, 4)}`,
      () => `aks-nodepool1-${rng.digits(8)}-vmss${rng.digits(6)}`,
      () => `${rng.pick(['nginx', 'redis', 'postgres'])}:${rng.int(1, 16)}.${rng.int(0, 9)}.${rng.int(0, 9)}-alpine`,
      () => `registry.example.com/team/app@sha256:${rng.hex(64)}`,
      () => `${rng.pick(['prod', 'staging'])}-${rng.pick(['eu', 'us'])}-${rng.int(1, 3)}`,
      () => `kafka-${rng.int(0, 5)}.kafka-headless.data.svc.cluster.local:9092`,
    ])();
    return {
      key: rng.pick(['k8s.pod.name', 'k8s.node.name', 'container.image.name', 'k8s.namespace.name', 'server.address']),
      value: name,
      context: 'bare',
    };
  },
  date(rng) {
    const d = new Date((ts(rng) + rng.int(0, 86_399)) * 1000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const v = rng.pick([
      () => d.toISOString().slice(0, 10),
      () => d.toISOString(),
      () =>
        d
          .toISOString()
          .replace('Z', `${rng.int(0, 999)}${rng.digits(3)}+01:00`)
          .replace(/\.(\d{3})(\d+)/, '.$1$2'),
      () => `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`,
      () =>
        `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
      () => d.toUTCString(),
      () => d.toISOString().slice(0, 10).replace(/-/g, ''),
      () => `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 23)}`,
      () => `${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)}.${d.getUTCFullYear()}`,
      () =>
        `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`,
    ])();
    return rng.pick([
      () => ({
        key: rng.pick(['created_at', 'event.date', 'http.response.header.date', 'expires']),
        value: v,
        context: 'bare',
      }),
      () => ({ key: 'message', value: `Report generated on ${v} for Q3`, context: 'sentence' }),
    ])();
  },
  host_port(rng) {
    const v = rng.pick([
      () => `localhost:${rng.int(1024, 65535)}`,
      () => `db-${rng.int(1, 9)}.internal:5432`,
      () => `${rng.pick(['api', 'auth'])}.example.com:${rng.pick([443, 8443, 8080])}`,
      () => `0.0.0.0:${rng.int(1024, 65535)}`,
      () => `127.0.0.1:${rng.int(1024, 65535)}`,
    ])();
    return {
      key: rng.pick(['server.address', 'net.host.name', 'db.connection.host', 'otel.exporter.endpoint']),
      value: v,
      context: 'bare',
    };
  },
  numeric_counter(rng) {
    const n = rng.pick([
      () => String(rng.int(0, 10 ** rng.int(1, 9))),
      () => `${rng.int(1, 9)}${rng.digits(rng.int(8, 12))}`,
      () => `${rng.int(1, 999)}.${rng.digits(rng.int(1, 6))}`,
    ])();
    return rng.pick([
      () => ({
        key: rng.pick(['messaging.kafka.offset', 'db.rows_affected', 'http.response.body.size', 'process.pid']),
        value: n,
        context: 'bare',
      }),
      () => ({ key: 'log', value: `flushed ${n} bytes in ${rng.int(1, 999)}ms`, context: 'log' }),
    ])();
  },
  ai_model(rng) {
    const v = rng.pick([
      'gpt-4o-2024-08-06',
      'gpt-4o-mini-2024-07-18',
      'claude-3-5-sonnet-20241022',
      'claude-sonnet-4-20250514',
      'gemini-1.5-pro-002',
      'text-embedding-3-large',
      'llama-3.1-70b-instruct',
      'mistral-large-2411',
      'o1-preview-2024-09-12',
      'anthropic.claude-3-haiku-20240307-v1:0',
      'chatcmpl-AbCdEf123456',
      'msg_01XFDUDYJgAACzvnptvVoYEL',
    ]);
    return rng.pick([
      () => ({
        key: rng.pick(['gen_ai.request.model', 'gen_ai.response.model', 'llm.model_name', 'model']),
        value: v,
        context: 'bare',
      }),
      () => ({ key: 'gen_ai.response.id', value: `chatcmpl-${rng.alnum(29)}`, context: 'bare' }),
      () => ({
        key: rng.pick([
          'gen_ai.usage.input_tokens',
          'gen_ai.usage.output_tokens',
          'llm.token_count.prompt',
          'tokens_prompt',
          'tokens_completion',
          'ai.usage.promptTokens',
        ]),
        value: String(rng.int(1, 200_000)),
        type: 'int',
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['gen_ai.provider.name', 'gen_ai.system', 'provider']),
        value: rng.pick(['openai', 'anthropic', 'aws.bedrock', 'gcp.vertex_ai']),
        context: 'bare',
      }),
      () => ({ key: 'cost_usd', value: (rng.int(1, 100_000) / 10_000).toFixed(4), context: 'bare' }),
    ])();
  },
  key_lookalike(rng) {
    return rng.pick<() => Negative>([
      () => ({
        key: rng.pick(['email_verified', 'emailVerified', 'phone_verified', 'has_password']),
        value: rng.pick(['true', 'false']),
        type: 'bool',
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['email.count', 'email_sent_total', 'password_changed_count']),
        value: String(rng.int(0, 50)),
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['user_agent.original', 'userAgent']),
        value: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/${rng.int(100, 131)}.0.${rng.int(1000, 6999)}.${rng.int(10, 200)} Safari/537.36`,
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['user.role', 'user.roles', 'user.tier']),
        value: rng.pick(['admin', 'viewer', 'billing-admin']),
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['token_type', 'tokenType']),
        value: rng.pick(['Bearer', 'refresh', 'access']),
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['password_changed_at', 'token.expires_at', 'session.duration_ms']),
        value: rng.chance(0.5) ? isoDate(rng) : epochMs(rng),
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['zip_code', 'postal.code']),
        value: rng.pick(['10115', 'SW1A 1AA', '94103', '75008']),
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['ip_version', 'network.type']),
        value: rng.pick(['4', '6', 'ipv4', 'ipv6']),
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['api_key_id', 'apiKeyName', 'secret.name', 'k8s.secret.name']),
        value: `${rng.pick(['prod', 'ci'])}-${rng.from(LOWER, 6)}`,
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['session.count', 'sessions_active', 'user_count']),
        value: String(rng.int(0, 10_000)),
        type: 'int',
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['tip', 'tip_amount', 'skip', 'zip']),
        value: rng.pick(['5.00', 'true', '3']),
        context: 'bare',
      }),
      () => ({
        key: rng.pick(['db.user', 'enduser.role', 'http.request.method']),
        value: rng.pick(['app_rw', 'GET', 'member']),
        context: 'bare',
      }),
      () => ({
        key: rng.pick([
          'gen_ai.usage.input_tokens',
          'gen_ai.usage.cache_read_input_tokens',
          'llm.usage.total_tokens',
          'max_tokens',
        ]),
        value: String(rng.int(1, 128_000)),
        type: 'int',
        context: 'bare',
      }),
    ])();
  },
};

function epochNegative(rng: Rng, v: string): Negative {
  return rng.pick<() => Negative>([
    () => ({
      key: rng.pick(['timestamp', 'event.time', 'ts', 'exp', 'iat', 'time_unix_nano', 'job.scheduled_at']),
      value: v,
      context: 'bare',
    }),
    () => ({
      key: rng.pick(['timestamp', 'event.time_unix_nano', 'start', 'cache.expires']),
      value: v,
      type: 'int',
      context: 'bare',
    }),
    () => ({
      key: rng.pick(['log', 'message']),
      value: `ts=${v} level=info msg="batch flushed" n=${rng.int(1, 512)}`,
      context: 'log',
    }),
    () => ({ key: 'payload', value: JSON.stringify({ event: 'click', ts: Number(v) }), context: 'json' }),
    () => ({ key: 'payload', value: JSON.stringify({ event: 'click', ts: v }), context: 'json' }),
    () => ({ key: 'url.full', value: `https://api.example.com/v1/events?since=${v}&limit=100`, context: 'url' }),
    () => ({ key: 'message', value: `Token expired at ${v}, refreshing`, context: 'sentence' }),
    () => ({ key: rng.pick(['messaging.kafka.message.key', 'cache.key']), value: `evt-${v}`, context: 'bare' }),
    () => ({ key: 'event.time', value: v.length === 10 ? `${v}.${rng.digits(6)}` : v, context: 'bare' }),
  ])();
}

function versionNegative(rng: Rng, v: string): Negative {
  return rng.pick<() => Negative>([
    () => ({
      key: rng.pick([
        'app.version',
        'service.version',
        'telemetry.sdk.version',
        'os.version',
        'version',
        'build.version',
        'deployment.version',
        'browser.version',
        'firmwareVersion',
        'agent_version',
        'k8s.pod.labels.version',
      ]),
      value: v,
      context: 'bare',
    }),
    () => ({
      key: 'message',
      value: `${rng.pick(['version', 'Version', 'upgraded to version', 'release', 'build', 'firmware', 'agent version'])} ${v} ${rng.pick(['installed', 'rolled out', 'is available', 'deployed'])}`,
      context: 'sentence',
    }),
    () => ({ key: 'payload', value: JSON.stringify({ name: 'agent', version: v }), context: 'json' }),
    () => ({
      key: 'log',
      value: `starting ${rng.pick(['collector', 'agent', 'app'])} version=${v} pid=${rng.int(100, 99999)}`,
      context: 'log',
    }),
    () => ({
      key: 'user_agent.original',
      value: `${rng.pick(['MyApp', 'okhttp', 'Agent'])}/${v} (${rng.pick(['Android 14', 'iOS 17.2', 'Linux'])})`,
      context: 'bare',
    }),
    () => ({ key: 'package', value: `${rng.pick(['requests', 'grpcio', 'openssl'])}==${v}`, context: 'bare' }),
  ])();
}

// ---- assembly ----

export function generateCorpus(seed = DEFAULT_SEED): CorpusEntry[] {
  const rng = new Rng(seed);
  const out: CorpusEntry[] = [];
  const perDetector = 320;
  for (const [detector, gen] of Object.entries(POSITIVES)) {
    for (let i = 0; i < perDetector; i++) {
      const w = gen(rng);
      out.push({
        id: `pos-${detector}-${i}`,
        key: w.key,
        value: w.value,
        expect: w.expect ?? 'redacted',
        detector,
        pii: [w.pii ?? w.raw],
        context: w.context,
      });
    }
  }
  for (let i = 0; i < 240; i++) {
    const key = IDENTIFIER_KEYS[i % IDENTIFIER_KEYS.length] as string;
    const v = identifierValue(rng, key);
    out.push({
      id: `pos-identifier_keys-${i}`,
      key,
      value: v.value,
      ...(v.type ? { type: v.type } : {}),
      expect: 'hashed',
      detector: 'identifier_keys',
      pii: [v.value],
      context: 'bare',
    });
  }
  for (let i = 0; i < 160; i++) {
    const key = CREDENTIAL_KEYS[i % CREDENTIAL_KEYS.length] as string;
    const value = credentialValue(rng, key);
    out.push({
      id: `pos-credential_keys-${i}`,
      key,
      value,
      expect: 'deleted',
      detector: 'credential_keys',
      pii: [value],
      context: 'bare',
    });
  }
  const perClass: Record<string, number> = { key_lookalike: 150, ai_model: 100 };
  for (const [cls, gen] of Object.entries(NEGATIVES)) {
    const n = perClass[cls] ?? 80;
    for (let i = 0; i < n; i++) {
      const e = gen(rng);
      out.push({
        id: `neg-${cls}-${i}`,
        key: e.key,
        value: e.value,
        ...(e.type ? { type: e.type } : {}),
        expect: 'kept',
        class: cls,
        context: e.context,
      });
    }
  }
  return out;
}

export function corpusText(entries: CorpusEntry[]): string {
  return `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const seed = Number(arg('--seed') ?? DEFAULT_SEED);
  const file = arg('--out') ?? CORPUS_FILE;
  const text = corpusText(generateCorpus(seed));
  if (process.argv.includes('--check')) {
    const same = readFileSync(file, 'utf8') === text;
    console.log(same ? `${file}: up to date (seed ${seed})` : `${file}: differs from seed ${seed}; regenerate`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(file, text);
  const entries = generateCorpus(seed);
  const pos = entries.filter((e) => e.expect !== 'kept').length;
  console.log(`${file}: ${pos} positives, ${entries.length - pos} negatives (seed ${seed})`);
}
