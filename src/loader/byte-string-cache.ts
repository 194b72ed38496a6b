/**
 * A direct-mapped cache of the strings of short byte runs of the message: attribute keys, and the
 * values the GenAI resolution reads (models, providers, operations), repeat from span to span, and
 * decoding one through Buffer#toString costs more than the byte compare that finds it here.
 */
export class ByteStringCache {
  private static readonly SLOTS = 4096;
  static readonly WIDTH = 48;
  private readonly bytes = new Uint8Array(ByteStringCache.SLOTS * ByteStringCache.WIDTH);
  private readonly lengths = new Int32Array(ByteStringCache.SLOTS).fill(-1);
  private readonly strings: string[] = new Array(ByteStringCache.SLOTS).fill('');

  /** `intern`: keep the engine's shared copy of each string (as for property names) */
  constructor(private readonly intern: boolean) {}

  /** src[s, s + n) as UTF-8 (the caller has checked it is valid); n at most WIDTH */
  get(src: Buffer, s: number, n: number): string {
    let h = n;
    for (let i = s; i < s + n; i++) h = Math.imul(h ^ (src[i] as number), 0x01000193);
    const slot = (h ^ (h >>> 13)) & (ByteStringCache.SLOTS - 1);
    const base = slot * ByteStringCache.WIDTH;
    const bytes = this.bytes;
    if (this.lengths[slot] === n) {
      let j = 0;
      while (j < n && bytes[base + j] === src[s + j]) j++;
      if (j === n) return this.strings[slot]!;
    }
    const decoded = src.toString('utf8', s, s + n);
    const str = this.intern ? internalized(decoded) : decoded;
    for (let j = 0; j < n; j++) bytes[base + j] = src[s + j] as number;
    this.lengths[slot] = n;
    this.strings[slot] = str;
    return str;
  }
}
/** The engine's shared copy of `s` (as for property names), so comparing it with a literal key is cheap. */
function internalized(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}
