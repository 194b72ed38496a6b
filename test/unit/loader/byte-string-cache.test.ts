// The span encoder's string cache: a cached string is always the text of the bytes asked for, whatever
// was cached before in the same slot (keys of equal length, other messages' buffers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ByteStringCache } from '../../../src/loader/byte-string-cache.js';

test('ByteStringCache gives the UTF-8 text of the bytes asked for, across buffers and slot collisions', () => {
  for (const intern of [true, false]) {
    const cache = new ByteStringCache(intern);
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { minLength: 1, maxLength: 40 }),
        fc.nat(8),
        (words, pad) => {
          // each word at an offset of its own in a fresh buffer, as keys sit in a message
          for (const word of words) {
            const bytes = Buffer.from(word, 'utf8');
            if (bytes.length > ByteStringCache.WIDTH) continue;
            const buf = Buffer.concat([Buffer.alloc(pad, 0x61), bytes, Buffer.from('tail')]);
            assert.equal(cache.get(buf, pad, bytes.length), word);
          }
        },
      ),
      { numRuns: 300 },
    );
  }
});

test('ByteStringCache: equal bytes in a later buffer come back as the same string', () => {
  const cache = new ByteStringCache(true);
  const first = cache.get(Buffer.from('xx gen_ai.request.model'), 3, 20);
  const again = cache.get(Buffer.from('gen_ai.request.model!'), 0, 20);
  assert.equal(first, 'gen_ai.request.model');
  assert.equal(again, first);
  // same length, other bytes: not the cached string
  assert.equal(cache.get(Buffer.from('gen_ai.request.mode_'), 0, 20), 'gen_ai.request.mode_');
});
