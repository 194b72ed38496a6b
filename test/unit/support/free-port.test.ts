// The tests' free-port helper: the ports it hands one process are distinct, so a Sieve process started
// on several of them never finds two equal (EADDRINUSE at start).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from '../../support/sieve-process.js';

test('freePort never hands a process the same port twice, and each is free to listen on', async () => {
  // the kernel picks bind(0) ports at random: among 1,000 picks some repeat (birthday odds), which
  // is what this helper must not pass on
  const ports: number[] = [];
  for (let i = 0; i < 1000; i++) ports.push(await freePort());
  assert.equal(new Set(ports).size, ports.length, 'a port was handed out twice');
  const last = ports.at(-1) as number;
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(last, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => srv.close(() => resolve()));
});
