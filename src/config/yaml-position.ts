import { isMap, isScalar, isSeq, type LineCounter, type Node, type parseDocument } from 'yaml';

/**
 * Line and column of the node at `path` in a parsed YAML document, or of its deepest existing
 * ancestor; with `preferKey`, of the last segment's key (where an unknown or misplaced key is).
 */
export function yamlPosition(
  doc: ReturnType<typeof parseDocument>,
  lc: LineCounter,
  path: readonly (string | number)[],
  preferKey = false,
): { line: number; col: number } {
  let cur: unknown = doc.contents;
  let best = cur as Node | undefined;
  for (const [i, seg] of path.entries()) {
    if (isMap(cur)) {
      const pair = cur.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      if (preferKey && i === path.length - 1) {
        best = pair.key as Node;
        break;
      }
      cur = pair.value;
      best = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(cur) && typeof seg === 'number') {
      cur = cur.items[seg];
      if (cur == null) break;
      best = cur as Node;
    } else break;
  }
  return lc.linePos(best?.range?.[0] ?? 0);
}
