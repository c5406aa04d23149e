import { resolve } from 'node:path';
import { PINNED_NODE_VERSION, isRuntimeArch, RUNTIME_ARCHES, type RuntimeArch } from '../runtime/pinned-node.js';
import { fetchRuntime } from '../runtime/runtime-fetch.js';
import { listRuntimes, runtimeCacheDir } from '../runtime/runtime-store.js';
import { parseCommand, UsageError } from './args.js';
import type { CliContext } from './context.js';

export const RUNTIME_HELP = `  tether runtime list [--json]      the Node runtimes this laptop brings to servers without Node 18+
  tether runtime fetch [--arch x64|arm64|all] [--from FILE.tgz|DIR] [--into DIR]
                                    get the pinned Node (${PINNED_NODE_VERSION}) for Linux servers with npm
                                    (\`npm pack node-linux-ARCH\`), check its sha256, keep it gzipped in the
                                    cache; --from: a tarball or package folder you already have`;

export async function runtimeCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list':
    case undefined:
      return list(rest, ctx);
    case 'fetch':
      return fetch(rest, ctx);
    default:
      throw new UsageError(`tether runtime: unknown subcommand "${sub}" (list or fetch)`);
  }
}

async function list(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommand('runtime list', args, { json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError(`tether runtime list: unexpected argument "${positionals[0]}"`);
  const runtimes = await listRuntimes({ env: ctx.env });
  if (values.json) {
    ctx.out(JSON.stringify({ version: PINNED_NODE_VERSION, cache: runtimeCacheDir({ env: ctx.env }), runtimes }, null, 2));
    return 0;
  }
  ctx.out(`Node ${PINNED_NODE_VERSION} for servers without Node 18+ (cache: ${runtimeCacheDir({ env: ctx.env })}):`);
  for (const r of runtimes) {
    const what =
      r.state === 'ok'
        ? `${((r.bytes ?? 0) / 1e6).toFixed(1)} MB  ${r.file} (${r.where})`
        : r.state === 'bad'
          ? `refused: ${r.problem}; run \`tether runtime fetch --arch ${r.arch}\``
          : `missing: run \`tether runtime fetch --arch ${r.arch}\``;
    ctx.out(`  linux-${r.arch.padEnd(6)} ${what}`);
  }
  return 0;
}

async function fetch(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommand('runtime fetch', args, { arch: { type: 'string' }, from: { type: 'string' }, into: { type: 'string' } });
  if (positionals.length) throw new UsageError(`tether runtime fetch: unexpected argument "${positionals[0]}"`);
  const arch = values.arch ?? 'all';
  if (arch !== 'all' && !isRuntimeArch(arch)) throw new UsageError(`tether runtime fetch: --arch ${arch}: say x64, arm64 or all`);
  if (values.from !== undefined && arch === 'all') throw new UsageError('tether runtime fetch: --from holds one architecture: say --arch x64 or --arch arm64');
  const arches: RuntimeArch[] = arch === 'all' ? [...RUNTIME_ARCHES] : [arch];
  const into = values.into !== undefined ? resolve(values.into) : runtimeCacheDir({ env: ctx.env });
  for (const a of arches) {
    const got = await fetchRuntime(a, { into, env: ctx.env, ...(values.from !== undefined ? { from: resolve(values.from) } : {}) });
    const mb = (got.runtime.bytes / 1e6).toFixed(1);
    ctx.out(got.already ? `linux-${a}: Node ${got.runtime.version} is already in ${got.runtime.file} (${mb} MB, checked)` : `linux-${a}: Node ${got.runtime.version} checked and kept in ${got.runtime.file} (${mb} MB gzipped)`);
  }
  return 0;
}
