// YAML config files of the loader (AI dialects, pricing): parsed with positions so that every error
// names file, line, column and key, as the pipeline config does (src/config/errors.ts).
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue, pathToString } from '../../config/errors.js';
import { yamlPosition } from '../../config/yaml-position.js';

type Path = readonly (string | number)[];

export class YamlFile {
  readonly issues: ConfigIssue[] = [];
  private readonly lc = new LineCounter();
  private readonly doc: ReturnType<typeof parseDocument>;
  readonly root: unknown;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) {
      const p = e.linePos?.[0] ?? this.lc.linePos(e.pos[0]);
      this.issues.push({ file, line: p.line, column: p.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
    }
    this.root = this.doc.errors.length ? undefined : this.doc.toJS();
  }

  /** Position of the node at `path` (or of its deepest existing ancestor). */
  private pos(path: Path, preferKey: boolean): { line: number; col: number } {
    return yamlPosition(this.doc, this.lc, path, preferKey);
  }

  add(path: Path, message: string, preferKey = false): void {
    const p = this.pos(path, preferKey);
    this.issues.push({ file: this.file, line: p.line, column: p.col, path: pathToString(path), message });
  }

  /** Validates `value` (found at `path`) with zod; issues are recorded with positions. */
  parse<T>(schema: z.ZodType<T>, value: unknown, path: Path = []): T | undefined {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    for (const iss of r.error.issues) {
      const p = [...path, ...(iss.path as (string | number)[])];
      if (iss.code === 'unrecognized_keys')
        for (const k of iss.keys) this.add([...p, k], `unknown key ${JSON.stringify(k)}`, true);
      else this.add(p, iss.message);
    }
    return undefined;
  }

  /** Throws a ConfigError with every recorded issue. */
  throwIfIssues(): void {
    if (this.issues.length) throw new ConfigError(this.issues);
  }
}
