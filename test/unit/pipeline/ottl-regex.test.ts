/** Go regexp and glob semantics the OTTL functions rely on (regexp.Expand, ReplaceAllString, gobwas/glob). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globRegExp, goExpand, goRegExp, goReplaceAll } from '../../../src/pipeline/ottl/regex.js';

test('Go patterns: (?P<name>…), leading (?i), \\A and \\z', () => {
  assert.equal(goReplaceAll(goRegExp('(?P<user>[a-z]+)@'), 'bob@x', '${user}-'), 'bob-x');
  assert.ok(goRegExp('(?i)^ACME$').test('acme'));
  assert.ok(goRegExp('\\Aab\\z').test('ab'));
  assert.ok(!goRegExp('\\Aab\\z').test('xab'));
});

test('regexp.Expand: $1, ${1}, $name, $$, and names as long as possible ($1x is group "1x")', () => {
  const m = /(?<a>x)(y)/.exec('xy') as RegExpExecArray;
  assert.equal(goExpand('$2$1', m), 'yx');
  assert.equal(goExpand('${2}z', m), 'yz');
  assert.equal(goExpand('$1z', m), ''); // Go reads "1z" as one (unknown) name
  assert.equal(goExpand('$a-$$-$', m), 'x-$-$');
});

test('ReplaceAllString skips an empty match right after a match, as Go does', () => {
  assert.equal(goReplaceAll(goRegExp('a*'), 'baaac', '-'), '-b-c-');
  assert.equal(goReplaceAll(goRegExp('\\d+'), 'a1b22c', '#'), 'a#b#c');
});

test('glob: *, ?, classes, negation, alternatives, escapes; whole string', () => {
  const g = (p: string, s: string) => globRegExp(p).test(s);
  assert.ok(g('GET /users/*', 'GET /users/42/x'));
  assert.ok(!g('GET /users/*', 'POST /users/42'));
  assert.ok(g('plan?er', 'planner'));
  assert.ok(g('[a-c]x', 'bx') && !g('[!a-c]x', 'bx'));
  assert.ok(g('{sk,pk}-*', 'pk-123') && !g('{sk,pk}-*', 'rk-1'));
  assert.ok(g('a\\*b', 'a*b') && !g('a\\*b', 'axb'));
});
