import { accessSync, chmodSync, constants, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * "Install command line tool" (as VS Code's "Install 'code' command in PATH"): a small launcher
 * named `tether` in a PATH folder that runs the app's own CLI (`tether.mjs` in the app folder)
 * with the app's Electron as Node, so every laptop command talks to the agent the tray hosts.
 */

/** The launcher's second line: a `tether` carrying it is ours to replace, anything else is not. */
export const LAUNCHER_MARK = '# tether-launcher: written by the Tether app';

export type CliInstallErrorCode = 'unsupported' | 'not-ours' | 'no-folder';

export class CliInstallError extends Error {
  override readonly name = 'CliInstallError';
  constructor(
    readonly code: CliInstallErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What the launcher runs: the app's executable (Electron) and its bundled CLI. */
export interface CliTarget {
  electron: string;
  cli: string;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function launcherScript(target: CliTarget): string {
  return [
    '#!/bin/sh',
    `${LAUNCHER_MARK} ("Install command line tool"): its CLI, run by its Electron as Node.`,
    `ELECTRON_RUN_AS_NODE=1 exec ${shellQuote(target.electron)} ${shellQuote(target.cli)} "$@"`,
    '',
  ].join('\n');
}

export interface CliInstallOptions {
  target: CliTarget;
  platform: NodeJS.Platform;
  homeDir: string;
  env: NodeJS.ProcessEnv;
  /** Folders tried in order; default {@link defaultCliFolders}. */
  folders?: string[];
}

export interface CliInstalled {
  path: string;
  /** False when the folder is not on $PATH: the person has to add it. */
  onPath: boolean;
}

/**
 * ~/.local/bin when it is on $PATH already (no system folder touched), else /usr/local/bin when
 * writable (VS Code's choice), else ~/.local/bin, created (the person is told to add it to PATH).
 */
export function defaultCliFolders(homeDir: string, env: NodeJS.ProcessEnv): string[] {
  const user = join(homeDir, '.local', 'bin');
  const onPath = (env.PATH ?? '').split(delimiter).includes(user);
  return onPath ? [user] : ['/usr/local/bin', user];
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Our launcher, absent, or someone else's file (`false`). */
function replaceable(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').split('\n', 2)[1]?.startsWith(LAUNCHER_MARK) ?? false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Writes the launcher into the first usable folder; refuses to replace a `tether` it did not write. */
export function installCli(opts: CliInstallOptions): CliInstalled {
  if (opts.platform === 'win32') throw new CliInstallError('unsupported', 'Install command line tool is not available on Windows yet: install the npm package for a `tether` command (README, Install)');
  // An AppImage runs from a new mount point each start: a launcher would point at nothing tomorrow.
  if (opts.env.APPIMAGE) throw new CliInstallError('unsupported', 'an AppImage moves on every start, so no launcher can point at it: install the .deb (it puts `tether` on the PATH) or the npm package (README, Install)');
  const folders = opts.folders ?? defaultCliFolders(opts.homeDir, opts.env);
  const last = folders[folders.length - 1];
  for (const folder of folders) {
    // The last folder is ours to create (~/.local/bin); a system one must exist already.
    if (folder === last) {
      try {
        mkdirSync(folder, { recursive: true, mode: 0o755 });
      } catch {
        // not creatable: the writable check below says so
      }
    }
    if (!writable(folder)) continue;
    const file = join(folder, 'tether');
    if (!replaceable(file)) {
      throw new CliInstallError('not-ours', `${file} exists and was not written by Tether (an npm install?): remove it, or use that one`);
    }
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, launcherScript(opts.target), { mode: 0o755 });
    chmodSync(tmp, 0o755);
    renameSync(tmp, file);
    const onPath = (opts.env.PATH ?? '').split(delimiter).includes(folder);
    return { path: file, onPath };
  }
  throw new CliInstallError('no-folder', `none of ${folders.join(', ')} is writable: create ${last} and try again`);
}
