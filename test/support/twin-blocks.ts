import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A run of lines found in a file of each tree. */
export interface TwinBlock {
  a: { file: string; line: number };
  b: { file: string; line: number };
  lines: number;
}

export interface SourceFile {
  file: string;
  text: string;
}

/**
 * A line as compared: indentation, runs of spaces and trailing ` // comments` gone, comment
 * and blank lines skipped,
 * so re-indenting or re-commenting a copy does not hide it. Lines of brackets alone are kept
 * but never start a block (they match everywhere).
 */
function normalised(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let inBlockComment = false;
  text.split('\n').forEach((raw, i) => {
    let line = raw.trim();
    if (inBlockComment) {
      if (!line.includes('*/')) return;
      line = line.slice(line.indexOf('*/') + 2).trim();
      inBlockComment = false;
    }
    if (line.startsWith('/*')) {
      if (!line.includes('*/')) inBlockComment = true;
      return;
    }
    if (line.startsWith('//') || line.startsWith('*') || line === '') return;
    out.push({ line: i + 1, text: line.replace(/\s+\/\/ .*$/, '').replace(/\s+/g, ' ') });
  });
  return out;
}

const TRIVIAL = /^[\s{}()[\];,]*$/;

/** Every maximal run of at least `minLines` normalised lines that appears in a file of `a` and a file of `b`. */
export function twinBlocks(a: readonly SourceFile[], b: readonly SourceFile[], minLines = 10): TwinBlock[] {
  const windows = new Map<string, { file: string; at: number }[]>();
  const linesOf = new Map<string, { line: number; text: string }[]>();
  for (const { file, text } of a) {
    const lines = normalised(text);
    linesOf.set(file, lines);
    for (let i = 0; i + minLines <= lines.length; i++) {
      if (TRIVIAL.test(lines[i]!.text)) continue;
      const key = lines.slice(i, i + minLines).map((l) => l.text).join('\n');
      windows.set(key, [...(windows.get(key) ?? []), { file, at: i }]);
    }
  }
  const found: TwinBlock[] = [];
  for (const { file, text } of b) {
    const lines = normalised(text);
    for (let j = 0; j + minLines <= lines.length; j++) {
      if (TRIVIAL.test(lines[j]!.text)) continue;
      const hits = windows.get(lines.slice(j, j + minLines).map((l) => l.text).join('\n'));
      if (!hits) continue;
      const { file: aFile, at } = hits[0]!;
      const aLines = linesOf.get(aFile)!;
      let n = minLines;
      while (at + n < aLines.length && j + n < lines.length && aLines[at + n]!.text === lines[j + n]!.text) n++;
      found.push({ a: { file: aFile, line: aLines[at]!.line }, b: { file, line: lines[j]!.line }, lines: n });
      j += n - 1; // report a long twin once
    }
  }
  return found;
}

/** The TypeScript files under `dir` (recursively), paths relative to `root`. */
export function sourceFiles(root: string, dir: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name)) out.push({ file: relative(root, path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(join(root, dir));
  return out;
}
