/**
 * The API keys file (`extensions.apikeyauth.keys_file` or SIEVE_API_KEYS_FILE): a YAML list of
 * `{ name, tenant, sha256, created, revoked }`. Only SHA-256 hashes of keys are stored.
 *
 * `sieve keys create|revoke` edit it in place (same inode, so a file bind-mounted into a container
 * sees the change) and never shorten it while writing: a receiver reading it mid-write sees the old
 * or the new list, or YAML that does not parse (it then keeps the keys it has and reads again).
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Document, isSeq, parseDocument } from 'yaml';
import type { ApiKeyEntry } from '../pipeline/api.js';
import { apiKeyListSchema } from './components/schemas.js';
import { pathToString } from './errors.js';

/** Parses the text of a keys file; throws naming the file and the entry at fault. */
export function parseKeysFile(text: string, file: string): ApiKeyEntry[] {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) throw new Error(`${file}: YAML: ${doc.errors[0]?.message.split('\n')[0]}`);
  const parsed = apiKeyListSchema.safeParse(doc.toJS() ?? []);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = pathToString((issue?.path ?? []) as (string | number)[]);
    throw new Error(`${file}: ${where === '' ? '' : `${where}: `}${issue?.message ?? 'invalid keys file'}`);
  }
  return parsed.data;
}

export function readKeysFile(file: string): ApiKeyEntry[] {
  return parseKeysFile(readText(file), file);
}

/** Key names are metric labels and command arguments: keep them plain. */
export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Adds an entry (the file is created with mode 0600 when missing). Throws when the name is taken. */
export function appendKey(
  file: string,
  entry: Required<Pick<ApiKeyEntry, 'name' | 'tenant' | 'sha256' | 'created'>>,
): void {
  if (!KEY_NAME.test(entry.name))
    throw new Error(`key name ${JSON.stringify(entry.name)}: use letters, digits, '.', '_' or '-' (at most 64)`);
  const text = existsSync(file) ? readText(file) : '';
  if (parseKeysFile(text, file).some((e) => e.name === entry.name))
    throw new Error(`${file}: a key named ${JSON.stringify(entry.name)} already exists (names must be unique)`);
  const doc = parseDocument(text);
  const seq = doc.contents;
  const line = `- ${new Document(entry).toString({ collectionStyle: 'flow', lineWidth: 0 }).trim()}\n`;
  if (seq == null || (isSeq(seq) && !seq.flow)) {
    // a block list (or nothing yet): one appended line, written in one call
    const fd = openSync(file, 'a', 0o600);
    try {
      writeSync(fd, text === '' || text.endsWith('\n') ? line : `\n${line}`);
    } finally {
      closeSync(fd);
    }
    return;
  }
  if (!isSeq(seq)) throw new Error(`${file}: the keys file must be a YAML list`);
  (seq as { add(v: unknown): void }).add(doc.createNode(entry));
  rewriteInPlace(file, doc.toString({ lineWidth: 0 }));
}

/** Marks the named key revoked at `at`; returns false when it already was. */
export function revokeKey(file: string, name: string, at: string): boolean {
  const text = readText(file);
  const entries = parseKeysFile(text, file);
  const i = entries.findIndex((e) => e.name === name);
  if (i < 0) throw new Error(`${file}: no key named ${JSON.stringify(name)}`);
  if (entries[i]?.revoked !== undefined) return false;
  const doc = parseDocument(text);
  doc.setIn([i, 'revoked'], at);
  rewriteInPlace(file, doc.toString({ lineWidth: 0 }));
  return true;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read keys file ${file}: ${(err as Error).message}`);
  }
}

/** Overwrites the file from its start, then cuts what is left of a longer old content. */
function rewriteInPlace(file: string, text: string): void {
  const out = Buffer.from(text, 'utf8');
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, out, 0, out.length, 0);
    if (fstatSync(fd).size > out.length) ftruncateSync(fd, out.length);
  } finally {
    closeSync(fd);
  }
}
