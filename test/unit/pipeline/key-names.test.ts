import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileKeyRules, keyContext, keyWords, precededByVersionWord } from '../../../src/pipeline/key-names.js';

test('keys are cut into words at separators and camelCase humps', () => {
  const cases: [string, string[]][] = [
    ['user_id', ['user', 'id']],
    ['userId', ['user', 'id']],
    ['UserID', ['user', 'id']],
    ['user-id', ['user', 'id']],
    ['USER_ID', ['user', 'id']],
    ['user.id', ['user', 'id']],
    ['clientIPAddress', ['client', 'ip', 'address']],
    ['x-api-key', ['x', 'api', 'key']],
    ['http.request.header.X-Forwarded-For', ['http', 'request', 'header', 'x', 'forwarded', 'for']],
    ['db.password', ['db', 'password']],
    ['gen_ai.usage.input_tokens', ['gen', 'ai', 'usage', 'input', 'tokens']],
    ['', []],
  ];
  for (const [key, words] of cases) assert.deepEqual(keyWords(key), words, key);
});

const rules = compileKeyRules(
  ['user.id', 'email', 'ip', 'session.id', 'phone', 'client.address', 'forwarded.for', 'card.number'],
  ['password', 'api.key', 'access.token', 'authorization', 'cookie', 'secret', 'session.token'],
);
const verdict = (k: string) => {
  const m = rules(k);
  return m ? `${m.kind}:${m.rule}` : 'none';
};

test('identifier and credential keys match in every spelling, with prefixes, plurals and run-together words', () => {
  const identifiers: [string, string][] = [
    ['user_id', 'user.id'],
    ['userId', 'user.id'],
    ['UserID', 'user.id'],
    ['USER_ID', 'user.id'],
    ['userid', 'user.id'],
    ['end_user_id', 'user.id'],
    ['app.user.id', 'user.id'],
    ['x-user-id', 'user.id'],
    ['user_ids', 'user.id'],
    ['user_id_2', 'user.id'],
    ['customer_email', 'email'],
    ['customerEmail', 'email'],
    ['billing.email', 'email'],
    ['email_address', 'email'],
    ['client_ip', 'ip'],
    ['clientIP', 'ip'],
    ['ipAddress', 'ip'],
    ['x-real-ip', 'ip'],
    ['net.peer.ip', 'ip'],
    ['x-forwarded-for', 'forwarded.for'],
    ['phoneNumber', 'phone'],
    ['cardNumber', 'card.number'],
    ['sessionId', 'session.id'],
  ];
  for (const [k, rule] of identifiers) assert.equal(verdict(k), `identifier:${rule}`, k);
  const credentials: [string, string][] = [
    ['x-api-key', 'api.key'],
    ['apiKey', 'api.key'],
    ['apikey', 'api.key'],
    ['API-KEY', 'api.key'],
    ['accessToken', 'access.token'],
    ['access_token', 'access.token'],
    ['db.password', 'password'],
    ['DB_PASSWORD', 'password'],
    ['user_password', 'password'],
    ['password_value', 'password'],
    ['http.request.header.authorization', 'authorization'],
    ['Set-Cookie', 'cookie'],
    ['client_secret', 'secret'],
    ['sessionToken', 'session.token'],
  ];
  for (const [k, rule] of credentials) assert.equal(verdict(k), `credential:${rule}`, k);
});

test('look-alike keys match no rule', () => {
  for (const k of [
    'email_verified',
    'email.count',
    'emailTemplateId',
    'zip',
    'zip_code',
    'tip',
    'ip_version',
    'api_key_id',
    'apiKeyName',
    'password_changed_at',
    'token_type',
    'session.duration',
    'user_agent.original',
    'user.role',
    'gen_ai.usage.input_tokens',
    'gen_ai.conversation.id',
    'tokens_prompt',
    'order_id',
    'trace_id',
    'microphone',
    'secret.name',
  ])
    assert.equal(verdict(k), 'none', k);
});

test('key context: version keys and time keys', () => {
  for (const k of ['app.version', 'service.version', 'firmwareVersion', 'build', 'agent_version', 'os.release'])
    assert.equal(keyContext(k), 'version', k);
  for (const k of ['timestamp', 'event.time_unix_nano', 'created_at', 'exp', 'ts', 'expiresAt', 'startTime'])
    assert.equal(keyContext(k), 'time', k);
  for (const k of ['message', 'versions_count', 'user.id', 'url.full']) assert.equal(keyContext(k), undefined, k);
});

test('a version word just before a number marks it as a version', () => {
  const at = (s: string, needle: string) => precededByVersionWord(s, s.indexOf(needle));
  assert.ok(at('upgraded to version 1.2.3.4 today', '1.2.3.4'));
  assert.ok(at('starting agent version=10.0.1.2 pid=1', '10.0.1.2'));
  assert.ok(at('{"name":"agent","version":"4.1.0.12"}', '4.1.0.12'));
  assert.ok(at('firmware 3.10.2.1 installed', '3.10.2.1'));
  assert.ok(at('requests==2.31.0.1', '2.31.0.1'));
  assert.ok(!at('login from 10.0.0.12 ok', '10.0.0.12'));
  assert.ok(!at('client=192.168.1.20', '192.168.1.20'));
});
