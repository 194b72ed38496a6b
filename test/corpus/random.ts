/** Seeded randomness for the PII corpus generator (mulberry32): the same seed gives the same corpus. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  from(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
  digits(n: number): string {
    return this.from('0123456789', n);
  }
  hex(n: number): string {
    return this.from('0123456789abcdef', n);
  }
  alnum(n: number): string {
    return this.from(ALNUM, n);
  }
  b64url(n: number): string {
    return this.from(`${ALNUM}_-`, n);
  }
  b64(n: number): string {
    return this.from(`${ALNUM}+/`, n);
  }
}

export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const ALNUM = `${UPPER}${LOWER}0123456789`;

/** Fills a template: `#` any digit, `N` a digit 2–9, `A` an uppercase letter, `a` lowercase, `x` hex. */
export function fill(rng: Rng, template: string): string {
  let out = '';
  for (const c of template) {
    if (c === '#') out += rng.digits(1);
    else if (c === 'N') out += String(rng.int(2, 9));
    else if (c === 'A') out += rng.from(UPPER, 1);
    else if (c === 'a') out += rng.from(LOWER, 1);
    else if (c === 'x') out += rng.hex(1);
    else out += c;
  }
  return out;
}

export function luhnCheckDigit(body: string): string {
  let sum = 0;
  let dbl = true;
  for (let i = body.length - 1; i >= 0; i--) {
    let d = body.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return String((10 - (sum % 10)) % 10);
}

export function luhnValid(digits: string): boolean {
  return luhnCheckDigit(digits.slice(0, -1)) === digits.slice(-1);
}

/** ISO 13616 check digits for a country code and BBAN. */
export function ibanCheckDigits(country: string, bban: string): string {
  const rearranged = `${bban}${country}00`;
  let rem = 0;
  for (const ch of rearranged) {
    const c = ch.charCodeAt(0);
    const v = c >= 65 ? String(c - 55) : ch;
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return String(98 - rem).padStart(2, '0');
}

export function base64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}
