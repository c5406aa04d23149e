// The layer rule (electron → agent → protocol ← remote) is enforced by lint as an error;
// these prove the rule bites, so a green lint means something.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { ROOT } from './support/tether-process.js';

const eslint = new ESLint({ cwd: ROOT });

async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${filePath}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it.each([
    ['remote/x.ts', "import { createAgent } from '../agent/agent.js';"],
    ['remote/cli/x.ts', "import keytar from 'keytar';"],
    ['agent/x.ts', "import { createDaemon } from '../remote/daemon.js';"],
    ['protocol/x.ts', "import { readFileSync } from 'node:fs';"],
    ['protocol/x.ts', "import { WebSocket } from 'ws';"],
    ['renderer/x.tsx', "import { createAgent } from '../agent/agent.js';"],
    ['protocol/x.ts', "import { x } from './node/x.js';"],
    ['protocol/node/x.ts', "import { createAgent } from '../../agent/agent.js';"],
    ['protocol/node/x.ts', "import { createDaemon } from '../../remote/daemon.js';"],
    ['protocol/node/x.ts', "import { WebSocket } from 'ws';"],
  ])('%s may not %s', async (file, code) => {
    expect(await lint(file, `${code}\nexport {};\n`)).toHaveLength(1);
  });

  it.each([
    ['remote/x.ts', "import { decodeMessage } from '../protocol/index.js';"],
    ['agent/x.ts', "import { decodeMessage } from '../protocol/index.js';"],
    ['agent/x.ts', "import { createServer } from 'node:http';"],
    ['agent/x.ts', "import { x } from '../protocol/node/x.js';"],
    ['remote/x.ts', "import { x } from '../protocol/node/x.js';"],
    ['protocol/node/x.ts', "import { createServer } from 'node:http';"],
    ['protocol/node/x.ts', "import { decodeMessage } from '../index.js';"],
  ])('%s may %s', async (file, code) => {
    expect(await lint(file, `${code}\nexport {};\n`)).toEqual([]);
  });
});
