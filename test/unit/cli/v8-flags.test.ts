// The receiver's young-generation flag: added to a worker's node flags unless the user set a size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SEMI_SPACE_FLAG, withSemiSpaceFlag } from '../../../src/cli/v8-flags.js';

test('the semi-space flag is added once, and never over a size the user chose', () => {
  assert.deepEqual(withSemiSpaceFlag([]), [SEMI_SPACE_FLAG]);
  assert.deepEqual(withSemiSpaceFlag(['--enable-source-maps']), ['--enable-source-maps', SEMI_SPACE_FLAG]);
  assert.deepEqual(withSemiSpaceFlag([SEMI_SPACE_FLAG]), [SEMI_SPACE_FLAG]);
  assert.deepEqual(withSemiSpaceFlag(['--max-semi-space-size=16']), ['--max-semi-space-size=16']);
  assert.deepEqual(withSemiSpaceFlag(['--max_semi_space_size', '8']), ['--max_semi_space_size', '8']);
  assert.deepEqual(withSemiSpaceFlag([], '--max-old-space-size=512 --max-semi-space-size=32'), []);
  assert.deepEqual(withSemiSpaceFlag([], '--max-old-space-size=512'), [SEMI_SPACE_FLAG]);
});
