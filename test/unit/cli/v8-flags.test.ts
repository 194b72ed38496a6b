// The receiver's young-generation flag (added to a worker's node flags unless the user set a size) and
// the loader thread's old-space floor.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  LOADER_OLD_SPACE_FLAG,
  loaderHeapFlag,
  SEMI_SPACE_FLAG,
  withSemiSpaceFlag,
} from '../../../src/cli/v8-flags.js';

test('the semi-space flag is added once, and never over a size the user chose', () => {
  assert.deepEqual(withSemiSpaceFlag([]), [SEMI_SPACE_FLAG]);
  assert.deepEqual(withSemiSpaceFlag(['--enable-source-maps']), ['--enable-source-maps', SEMI_SPACE_FLAG]);
  assert.deepEqual(withSemiSpaceFlag([SEMI_SPACE_FLAG]), [SEMI_SPACE_FLAG]);
  assert.deepEqual(withSemiSpaceFlag(['--max-semi-space-size=16']), ['--max-semi-space-size=16']);
  assert.deepEqual(withSemiSpaceFlag(['--max_semi_space_size', '8']), ['--max_semi_space_size', '8']);
  assert.deepEqual(withSemiSpaceFlag([], '--max-old-space-size=512 --max-semi-space-size=32'), []);
  assert.deepEqual(withSemiSpaceFlag([], '--max-old-space-size=512'), [SEMI_SPACE_FLAG]);
});

test("the loader's old-space floor is set unless the process's flags choose a size", () => {
  assert.equal(loaderHeapFlag([]), LOADER_OLD_SPACE_FLAG);
  assert.equal(loaderHeapFlag(['--max-semi-space-size=64']), LOADER_OLD_SPACE_FLAG);
  assert.equal(loaderHeapFlag(['--max-old-space-size=4096']), LOADER_OLD_SPACE_FLAG);
  assert.equal(loaderHeapFlag(['--initial-old-space-size=64']), null);
  assert.equal(loaderHeapFlag(['--initial_old_space_size', '64']), null);
  assert.equal(loaderHeapFlag(['--initial-heap-size=512']), null);
  assert.equal(loaderHeapFlag([], '--initial-old-space-size=32'), null);
});
