import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, DaemonControlClient } from './control-client.js';
import { ExitCode } from './exit-codes.js';
import { lineDiff } from './text-diff.js';
import { replaceTable, setTopLevel, tomlString } from './toml-lines.js';
import { litellmLines } from './tool-env.js';

type Json = Record<string, unknown>;

interface Plan {
  notes: string[];
  /** A config file the tool reads, and how to change it. Never given a secret: only URLs and commands. */
  file?: { path: string; update(current: Json): { next: Json; removed: string[] } };
  /** The same for a file that is not JSON (Codex's config.toml): its new text from its current text. */
  text?: { path: string; update(current: string): string };
}

interface Context {
  proxyUrl: string;
  /** The shell command that runs this `tether` (see selfCommand). */
  self: string;
  /** The credential name the user chose with --name, if any. */
  name: string | undefined;
  env: NodeJS.ProcessEnv;
}

const home = (env: NodeJS.ProcessEnv) => env.HOME || os.homedir();
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(v as Json) } : {});
const PORT_NOTE = 'The proxy port is the same on every daemon start (derived from your uid and TETHER_HOME); run this again only if the daemon runs with another `--proxy-port`.';

const RECIPES: Record<string, { title: string; plan(ctx: Context): Plan }> = {
  'claude-code': {
    title: 'Claude Code',
    plan({ proxyUrl, self, name = 'anthropic', env }) {
      const helper = `${self} token ${name}`;
      return {
        notes: [
          `Claude Code runs \`${helper}\` (apiKeyHelper) at start, again on a 401 and every 5 minutes, and sends what it prints as x-api-key and Authorization: Bearer.`,
          'The helper names this node and this tether by their full paths: Claude Code runs it in a shell that has not read your profile, so ~/.tether/bin need not be on its PATH. Run this again if either moves.',
          'Do not also set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN: Claude Code prefers them to the helper (`tether env` leaves them unset once this is set up).',
          PORT_NOTE,
        ],
        file: {
          path: path.join(env.CLAUDE_CONFIG_DIR || path.join(home(env), '.claude'), 'settings.json'),
          update(current) {
            const settings: Json = { ...current, apiKeyHelper: helper };
            const vars = obj(current.env);
            // A key here would win over the helper, and is a secret on the server's disk.
            const removed = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'].filter((k) => k in vars);
            for (const k of removed) delete vars[k];
            settings.env = { ...vars, ANTHROPIC_BASE_URL: `${proxyUrl}/${name}` };
            return { next: settings, removed: removed.map((k) => `env.${k}`) };
          },
        },
      };
    },
  },
  opencode: {
    title: 'opencode',
    plan({ proxyUrl, env }) {
      const dir = env.XDG_CONFIG_HOME || path.join(home(env), '.config');
      return {
        notes: ['Start it as `tether exec -- opencode`: the keys (leases) come from the environment, the addresses from opencode.json.', PORT_NOTE],
        file: {
          path: path.join(dir, 'opencode', 'opencode.json'),
          update(current) {
            const providers = obj(current.provider);
            for (const id of ['anthropic', 'openai']) {
              const entry = obj(providers[id]);
              entry.options = { ...obj(entry.options), baseURL: `${proxyUrl}/${id}/v1` };
              providers[id] = entry;
            }
            return { next: { $schema: 'https://opencode.ai/config.json', ...current, provider: providers }, removed: [] };
          },
        },
      };
    },
  },
  codex: {
    title: 'Codex CLI',
    plan({ proxyUrl, name = 'openai', env }) {
      // Codex ignores OPENAI_BASE_URL (openai/codex#16720) and takes no key from OPENAI_API_KEY for its
      // built-in provider; a provider of its own in config.toml reads both: the address from the file,
      // the key (a lease) from the variable `tether exec` sets. It also speaks plain HTTP to it (no WebSocket).
      const table = [`name = ${tomlString('OpenAI through Tether')}`, `base_url = ${tomlString(`${proxyUrl}/${name}/v1`)}`, `env_key = ${tomlString('OPENAI_API_KEY')}`, `wire_api = ${tomlString('responses')}`];
      return {
        notes: ['Start it as `tether exec --provider openai -- codex` (or `codex exec …`): the key (a lease) comes from OPENAI_API_KEY, the address from the `tether` model provider in config.toml.', PORT_NOTE],
        text: {
          path: path.join(env.CODEX_HOME || path.join(home(env), '.codex'), 'config.toml'),
          update: (current) => replaceTable(setTopLevel(current, 'model_provider', tomlString('tether')), 'model_providers.tether', table),
        },
      };
    },
  },
  'gemini-cli': {
    title: 'Gemini CLI (and @google/genai)',
    plan({ env }) {
      return {
        notes: [
          'Start it as `tether exec --provider gemini -- gemini`: it reads GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY (GOOGLE_API_KEY, which would win, is removed).',
          // With a base URL set and no auth type chosen, Gemini CLI picks its "gateway" type, which `gemini -p` refuses.
          'settings.json chooses the Gemini API key as its auth type; without it, `gemini -p` stops with "Invalid auth method selected".',
        ],
        file: {
          path: path.join(env.GEMINI_CLI_HOME || home(env), '.gemini', 'settings.json'),
          update(current) {
            const security = obj(current.security);
            security.auth = { ...obj(security.auth), selectedType: 'gemini-api-key' };
            return { next: { ...current, security }, removed: [] };
          },
        },
      };
    },
  },
  aider: {
    title: 'aider (and LiteLLM-style clients)',
    plan: ({ proxyUrl }) => ({
      notes: [
        'Start it as `tether exec -- aider --model PREFIX/MODEL`: for each provider the laptop lends, tether sets the variables LiteLLM reads (the key is a lease). Nothing to write.',
        ...litellmLines(proxyUrl),
        'Azure: `--model azure/DEPLOYMENT`, and AZURE_API_VERSION is yours to set. A custom credential (my-vllm → MY_VLLM_…): `eval "$(tether env --provider my-vllm)"`, then `aider --model openai/MODEL --openai-api-base "$MY_VLLM_BASE_URL" --openai-api-key "$MY_VLLM_API_KEY"`.',
        PORT_NOTE,
      ],
    }),
  },
};
const ALIASES: Record<string, string> = { claude: 'claude-code', gemini: 'gemini-cli' };

export const SETUP_TOOLS = Object.keys(RECIPES);

/** `tether setup TOOL [--name CREDENTIAL] [--write]`: what a tool needs to use Tether; with --write, applied after showing the diff. */
export async function setupCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { write: { type: 'boolean' }, name: { type: 'string' } }, allowPositionals: true });
  const tool = ALIASES[positionals[0] ?? ''] ?? positionals[0];
  const recipe = tool === undefined ? undefined : RECIPES[tool];
  if (positionals.length !== 1 || !recipe) throw new CliError(ExitCode.usage, `usage: tether setup TOOL [--name CREDENTIAL] [--write], TOOL one of ${SETUP_TOOLS.join(', ')}`);
  const { proxyUrl } = DaemonControlClient.locate().state;
  const plan = recipe.plan({ proxyUrl, self: selfCommand(), name: values.name, env: process.env });
  const out: string[] = [`${recipe.title}:`, ...plan.notes.map((n) => `  ${n}`)];
  const change = plannedChange(plan);
  if (change) {
    const { before, after, removed } = change;
    const target = change.path;
    if (after === before) out.push(`${target} already has this.`);
    else {
      // A removed key is shown as removed, never printed: terminals end up in logs.
      const shown = removed.reduce((text, key) => text.replace(new RegExp(`("${key.split('.').at(-1)}"\\s*:\\s*)"[^"\\n]*"`, 'g'), '$1"(hidden)"'), before);
      out.push('', lineDiff(shown, after, target).trimEnd());
      if (removed.length) out.push(`(removes ${removed.join(', ')}: set, it would be used instead of the helper)`);
      if (values.write) {
        writeAtomic(target, after);
        out.push(`wrote ${target}`);
      } else out.push('', 'Nothing written: run again with --write to apply this change.');
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  return ExitCode.ok;
}

/** One word for `sh`: single-quoted, a `'` inside closed, escaped and reopened. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * This very node and this very bundle (`process.argv[1]`, links resolved), quoted for a shell:
 * what a tool's helper runs must not depend on the PATH of a shell that read no profile.
 */
export function selfCommand(script = process.argv[1], node = process.execPath): string {
  if (!script) throw new CliError(ExitCode.usage, 'cannot tell where this tether bundle lives');
  let resolved: string;
  try {
    resolved = fs.realpathSync(script);
  } catch {
    resolved = path.resolve(script);
  }
  // Installed by a laptop: the launcher beside the bundle picks the Node (a brought runtime may change).
  const launcher = resolved.endsWith('/tether.cjs') ? resolved.slice(0, -'.cjs'.length) : undefined;
  if (launcher && isExecutable(launcher)) return shellQuote(launcher);
  return `${shellQuote(node)} ${shellQuote(resolved)}`;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The file a plan changes: its text now and after the change, and the keys it removes. */
function plannedChange(plan: Plan): { path: string; before: string; after: string; removed: string[] } | undefined {
  if (plan.text) {
    const before = readIfExists(plan.text.path);
    return { path: plan.text.path, before, after: plan.text.update(before), removed: [] };
  }
  if (!plan.file) return undefined;
  const before = readIfExists(plan.file.path);
  let current: Json;
  try {
    current = before === '' ? {} : obj(JSON.parse(before));
  } catch {
    throw new CliError(ExitCode.usage, `${plan.file.path} is not valid JSON: fix it first, then run this again`);
  }
  const { next, removed } = plan.file.update(current);
  return { path: plan.file.path, before, after: JSON.stringify(next, null, 2) + '\n', removed };
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new CliError(ExitCode.usage, `cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Temp file + rename in the same folder; keeps the old file's mode (settings files are often 0600). */
function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let mode = 0o600;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch {
    // new file
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}
