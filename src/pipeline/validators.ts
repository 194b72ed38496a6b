/**
 * Checks that tell PII from look-alikes once a detector's regex has matched: checksums (Luhn,
 * ISO 13616 mod-97), card networks' number ranges, phone number shapes, and the words around a match.
 */

export function luhn(m: string): boolean {
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

/**
 * Issuer ranges and lengths of the card networks (Visa, Mastercard incl. 2-series, Amex, Discover,
 * JCB, Diners, UnionPay, Maestro, Mir). Numbers outside them — epoch timestamps in ms/µs/ns (which
 * start with 1 until 2033), ISBNs (978/979), most order ids — are not cards even when Luhn-valid.
 */
export function cardNetwork(digits: string): boolean {
  const n = digits.length;
  const d1 = digits.charCodeAt(0) - 48;
  const p2 = Number(digits.slice(0, 2));
  const p4 = Number(digits.slice(0, 4));
  switch (d1) {
    case 4: // Visa
      return n === 13 || n === 16 || n === 19;
    case 5: // Mastercard 51–55; Maestro 50, 56–58 (16–19: shorter Maestro numbers are rare, counters are not)
      return p2 >= 51 && p2 <= 55 ? n === 16 : n >= 16;
    case 2: // Mastercard 2221–2720, Mir 2200–2204
      return ((p4 >= 2221 && p4 <= 2720) || (p4 >= 2200 && p4 <= 2204)) && n === 16;
    case 3: // Amex 34/37, JCB 3528–3589, Diners 300–305/36/38/39
      if (p2 === 34 || p2 === 37) return n === 15;
      if (p4 >= 3528 && p4 <= 3589) return n >= 16;
      return (p2 === 30 || p2 === 36 || p2 === 38 || p2 === 39) && n >= 14;
    case 6: // Discover, UnionPay, Maestro, RuPay
      return n >= 16;
    default:
      return false;
  }
}

export function ibanValid(m: string): boolean {
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

/** Loopback, unspecified and broadcast addresses name no one. */
export function ipv4Personal(m: string): boolean {
  return !(m.startsWith('127.') || m === '0.0.0.0' || m === '255.255.255.255');
}

const first1 = (m: string) => m.charCodeAt(0) === 49;

const DATE_START = /^(?:19|20)\d\d[-./ ](?:0[1-9]|1[0-2])[-./ ](?:0[1-9]|[12]\d|3[01])\b/;

const PHONE_WORDS =
  /\b(?:phone|phones|tel|telephone|mobile|mob|cell|cellphone|call|called|calling|sms|text|fax|whatsapp|msisdn|dial|ring|ph|telefon|telefono|teléfono|téléphone|handy|móvil|movil)\b/i;

/** a phone word within a few words before or after the match */
export function nearPhoneWord(s: string, at: number, len: number): boolean {
  const before = s.slice(Math.max(0, at - 28), at);
  const after = s.slice(at + len, at + len + 12);
  return PHONE_WORDS.test(before) || PHONE_WORDS.test(after);
}

/**
 * Is a candidate (digits in groups, as the phone regex found them) written like a phone number?
 * International form (`+CC`, `00CC`): 8–15 digits, E.164 may be unseparated. National form: 9–13
 * digits in at least two groups, not shaped like something else: thousands (`612 345 678` without a
 * phone word nearby), an SSN (`123-45-6789`), a dotted version/IPv4/coordinate (dots are accepted
 * only as the one separator of 3+ groups of 2+ digits, `415.555.0132`), a date (`2024-01-15 10`), or
 * an ISBN (a one-digit last group).
 */
export function phoneShape(raw: string, s: string, at: number): boolean {
  const m = raw.replace(/%20/g, ' ').replace(/%2B/gi, '+');
  let rest = m;
  let intl = false;
  if (rest.startsWith('+')) {
    intl = true;
    rest = rest.slice(1);
  } else if (rest.startsWith('00') && /^00\d{1,3}[ .-]/.test(rest)) {
    intl = true;
    rest = rest.slice(2);
  }
  const groups = rest.match(/\d+/g) ?? [];
  let digits = 0;
  for (const g of groups) digits += g.length;
  if (intl ? digits < 8 || digits > 15 : digits < 9 || digits > 13) return false;
  const last = groups[groups.length - 1] ?? '';
  if (last.length < 2) return false;
  const hasParen = rest.includes('(');
  if (!intl && DATE_START.test(m)) return false;
  if (groups.length === 1) {
    if (intl) return true;
    // unseparated national numbers: never an epoch timestamp (10/13 digits starting with 1 until 2033);
    // 11 digits starting with 1 is a NANP number with its country code
    if (first1(m) && m.length !== 11) return false;
    return nearPhoneWord(s, at, raw.length);
  }
  // separators between groups, after the international prefix's country code
  const seps = rest.replace(/^\d+/, '').match(/[ .-]/g) ?? [];
  const body = intl ? rest.replace(/^\d{1,3}[ .-]?/, '') : rest;
  if (body.includes('.')) {
    const bodySeps = body.match(/[ .-]/g) ?? [];
    const bodyGroups = body.match(/\d+/g) ?? [];
    if (bodySeps.some((c) => c !== '.') || bodyGroups.length < 3 || bodyGroups.some((g) => g.length < 2)) return false;
    if (!intl && bodyGroups.length === 4 && bodyGroups.every((g) => g.length <= 3)) return false;
  }
  if (intl || hasParen) return true;
  if (/^\d{3}-\d{2}-\d{4}$/.test(m)) return false;
  const first = groups[0] as string;
  const thousands =
    first.length <= 3 && first[0] !== '0' && groups.slice(1).every((g) => g.length === 3) && new Set(seps).size === 1;
  if (thousands) return nearPhoneWord(s, at, raw.length);
  return true;
}
