// No code written twice across the two sides: what both need lives once in protocol/ (pure)
// or protocol/node/ (Node), which both may import. A block of 10 lines or more in a file of
// agent/ and a file of remote/ fails here.
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/tether-process.js';
import { sourceFiles, twinBlocks, type SourceFile } from './support/twin-blocks.js';

const ten = Array.from({ length: 10 }, (_, i) => `  const v${i} = compute(${i}, options);`).join('\n');

describe('twin check', () => {
  it('finds no block of 10+ lines in both agent/ and remote/', () => {
    const twins = twinBlocks(sourceFiles(ROOT, 'agent'), sourceFiles(ROOT, 'remote'));
    expect(twins.map((t) => `${t.a.file}:${t.a.line} = ${t.b.file}:${t.b.line} (${t.lines} lines)`)).toEqual([]);
  });

  it('bites: a copied block is found, re-indented and re-commented or not, once with its full length', () => {
    const agent: SourceFile[] = [{ file: 'agent/x.ts', text: `import a from 'a';\n\nexport function f() {\n${ten}\n  return 1;\n}\n` }];
    const copy = ten
      .split('\n')
      .map((l, i) => (i === 4 ? `    ${l.trim()}   // a note\n// another note` : `\t${l.trim()}`))
      .join('\n');
    const remote: SourceFile[] = [{ file: 'remote/y.ts', text: `// a different header\nfunction g() {\n${copy}\n  return 1;\n}\n` }];
    expect(twinBlocks(agent, remote)).toEqual([{ a: { file: 'agent/x.ts', line: 4 }, b: { file: 'remote/y.ts', line: 3 }, lines: 12 }]);
  });

  it('lets 9 shared lines be', () => {
    const nine = ten.split('\n').slice(0, 9).join('\n');
    expect(twinBlocks([{ file: 'a.ts', text: nine }], [{ file: 'b.ts', text: nine }])).toEqual([]);
  });
});
