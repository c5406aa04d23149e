// `npm run demo`: the whole flow on one machine, in temporary folders, with nothing to set up.
// A mock provider plays api.openai.com; one TETHER_HOME plays the server, another the laptop.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startMockProvider } from '../fixtures/mock-provider.js';
import { removeDir, tempDir } from '../support/homes.js';
import { ROOT, SERVER_BIN, TetherProcess, readJsonIfExists, runTether, waitFor } from '../support/tether-process.js';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (n: number, text: string) => console.log(`\n${bold(`[${n}/6]`)} ${text}`);
const fail = (what: string, detail: string) => {
  console.error(`demo failed: ${what}\n${detail}`);
  process.exit(1);
};

const root = tempDir('demo');
const serverHome = join(root, 'server');
const laptopHome = join(root, 'laptop');
const apiKey = `sk-demo-${randomBytes(16).toString('hex')}`;
const laptopEnv = { TETHER_VAULT_PASSPHRASE: randomBytes(12).toString('hex') };
const processes: TetherProcess[] = [];
const mock = await startMockProvider({ keys: { openai: apiKey }, tokenDelayMs: 40 });

try {
  console.log(bold('Tether demo: lend an API key from a "laptop" to a "server", use it, take it back.'));
  console.log(`Everything runs on this machine under ${root}.`);

  step(1, `A mock LLM provider stands in for api.openai.com at ${mock.url}.`);
  console.log(`      Only the laptop knows its API key (${apiKey.slice(0, 12)}…).`);

  step(2, 'Server: the daemon starts (`tether serve`).');
  const daemon = new TetherProcess(['serve', '--proxy-port', '0'], { home: serverHome, bin: SERVER_BIN, logFile: join(root, 'daemon.log') });
  processes.push(daemon);
  const state = await waitFor(() => readJsonIfExists<{ pid: number; socket: string; proxyUrl: string }>(join(serverHome, 'run/daemon.json')), 'the daemon');
  console.log(`      laptops connect to unix:${state.socket}`);
  console.log(`      tools on the server talk to the loopback proxy at ${state.proxyUrl}`);

  step(3, 'Laptop: the key goes into the laptop\'s vault (`tether creds add openai`, key on stdin).');
  const add = await runTether(['creds', 'add', 'openai', '--base-url', mock.url, '--store', 'file'], { home: laptopHome, input: `${apiKey}\n`, env: laptopEnv });
  if (add.code !== 0) fail('creds add', add.stderr);
  console.log(`      ${(await runTether(['creds', 'list'], { home: laptopHome, env: laptopEnv })).stdout.trim().split('\n').join('\n      ')}`);

  step(4, 'Pairing: a one-time code from the server; the laptop\'s agent connects with it.');
  const pair = await runTether(['pair-code', '--json'], { home: serverHome, bin: SERVER_BIN });
  if (pair.code !== 0) fail('pair-code', pair.stderr);
  const { code, fingerprint } = JSON.parse(pair.stdout) as { code: string; fingerprint: string };
  console.log(`      server: tether pair-code  →  ${code}  (daemon key ${fingerprint})`);
  console.log(`      laptop: tether agent --connect unix:${state.socket} --pair ${code} --approve allow`);
  const agent = new TetherProcess(['agent', '--connect', `unix:${state.socket}`, '--pair', code, '--approve', 'allow'], {
    home: laptopHome,
    env: laptopEnv,
    logFile: join(root, 'agent.log'),
  });
  processes.push(agent);
  await waitFor(async () => {
    const s = await runTether(['status', '--json'], { home: serverHome, bin: SERVER_BIN });
    return s.code === 0 && (JSON.parse(s.stdout) as { laptops: unknown[] }).laptops.length > 0 ? true : undefined;
  }, 'the laptop to connect');
  console.log('      connected: the server now offers "openai" to its tools, and holds no key.');

  step(5, 'A tool on the server: `tether exec -- node tool.mjs` (the official openai SDK, streaming).');
  const tool = spawn(process.execPath, [SERVER_BIN, 'exec', '--', process.execPath, join(ROOT, 'test/demo/tool.mjs')], {
    env: { ...process.env, TETHER_HOME: serverHome },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const toolLines = createInterface({ input: tool.stdout! });
  const ready = new Promise<void>((resolve) =>
    toolLines.on('line', (line) => (line === 'READY' ? resolve() : console.log(line))),
  );
  const toolExit = once(tool, 'exit') as Promise<[number | null]>;
  const early = await Promise.race([ready.then(() => false), toolExit.then(() => true)]);
  if (early) fail('the tool exited before its first reply', '');
  const seen = mock.requests.at(-1);
  console.log(`      the provider received: ${seen?.headers.authorization === `Bearer ${apiKey}` ? 'the real key, added on the laptop' : 'SOMETHING ELSE'}`);

  const token = await runTether(['token', 'openai'], { home: serverHome, bin: SERVER_BIN });
  if (token.code !== 0) fail('tether token', token.stderr);
  const lease = token.stdout.trim();
  console.log(`      \`tether token openai\` (what Claude Code's apiKeyHelper runs) → ${lease.slice(0, 8)}…`);

  step(6, 'The laptop leaves (Ctrl-C on the agent: it says bye). The tool and the lease try again.');
  await agent.stop('SIGINT');
  tool.stdin!.end('go\n');
  const [toolCode] = await toolExit;
  if (toolCode !== 0) fail('the tool still got an answer after the laptop left', '');
  const refused = await fetch(`${state.proxyUrl}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${lease}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-1', messages: [{ role: 'user', content: 'hi' }] }),
  });
  const why = ((await refused.json()) as { error?: { message?: string } }).error?.message;
  if (refused.status !== 401) fail('the lease outlived the laptop', `HTTP ${refused.status}`);
  console.log(`      the token's lease now:  HTTP ${refused.status} ${why}`);

  console.log(`\n${bold('Done.')} The key never left the laptop; its leases died with the link.`);
  console.log('Next: README.md (servers over SSH, approvals, the tray app).');
} finally {
  for (const p of processes.reverse()) await p.stop();
  await mock.close();
  removeDir(root);
}
