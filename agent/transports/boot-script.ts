import { shellQuote } from './shell-quote.js';

/** Lines the server side of the boot conversation prints start with this; anything else (a chatty ~/.bashrc) is skipped. */
export const BOOT_TAG = 'tether-boot';

export interface BootScriptOptions {
  /** TETHER_HOME on the server (ssh_config `SetEnv TETHER_HOME=…`); default ~/.tether. */
  remoteHome?: string;
  /** The Node runtime this laptop brings (`v24.…`): used on the server when it has no node ≥ MIN itself. */
  runtimeVersion: string;
  minNodeMajor: number;
  /** `tether attach …` arguments (the laptop's public key and name: nothing secret). */
  attachArgs: string[];
}

// Reads exactly $2 bytes of stdin into $1 (a fresh 0700 file): head -c is not exact everywhere, node is.
const READ_EXACT = `const fs=require("fs");let n=+process.argv[2];const fd=fs.openSync(process.argv[1],"wx",0o700);const b=Buffer.alloc(65536);const w=new Int32Array(new SharedArrayBuffer(4));while(n>0){let r;try{r=fs.readSync(0,b,0,Math.min(n,b.length),null)}catch(e){if(e.code==="EAGAIN"){Atomics.wait(w,0,0,2);continue}throw e}if(!r)process.exit(1);fs.writeSync(fd,b,0,r);n-=r}fs.closeSync(fd)`;
const SHA256 = `process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))`;

/**
 * `$H/bin/tether` on the server: a POSIX sh launcher for the bundle beside it (`tether.cjs`),
 * so `tether` works where there is no `node` on PATH. The rule is the boot script's: the
 * runtime a laptop brought when it is there, else `node` from PATH, so the CLI runs on the
 * daemon's Node and costs no extra `node --version` per call. Paths are relative to the
 * file itself (a symlink to it on PATH is followed), so it holds nothing of this server.
 */
export function launcherScript(runtimeVersion: string): string[] {
  return [
    '#!/bin/sh',
    '# tether, as a laptop running tether installed it: runs tether.cjs (beside this file) with the',
    `# Node runtime a laptop brought (../runtime/node-${runtimeVersion}), else with node from PATH.`,
    'P=$0',
    'for _ in 1 2 3 4 5 6 7 8; do [ -h "$P" ] || break; L=$(readlink "$P") || break; case $L in /*) P=$L ;; *) P=${P%/*}/$L ;; esac; done',
    'case $P in */*) D=${P%/*} ;; *) D=. ;; esac',
    `R=$D/../runtime/node-${runtimeVersion}/bin/node`,
    '[ -x "$R" ] && exec "$R" "$D/tether.cjs" "$@"',
    'command -v node >/dev/null 2>&1 && exec node "$D/tether.cjs" "$@"',
    'echo "tether: no Node here (none on PATH, none in $D/../runtime): connect to this server once from a laptop running tether, which brings one, or install Node 18 or later" >&2',
    'exit 127',
  ];
}

/**
 * The one shell command a laptop runs over SSH: it says what the server has (`probe`), then
 * takes steps from stdin — `runtime SIZE SHA256` (a gzipped Node binary and the sha256 it must
 * have unpacked), `bundle SIZE` (the server bundle), then `attach` (becomes `tether attach
 * --stdio`, whose stdio carries the link) or `answer` (prints the attach answer and exits: the
 * built-in client forwards the daemon's socket itself). One SSH session does it all, so one
 * TCP connection and one login per connect. POSIX sh only.
 *
 * Server layout under $H: `bin/tether` (the launcher), `bin/tether.cjs` (the bundle, whose
 * sha256 the probe reports), `runtime/node-VERSION/bin/node`. Files arrive as temp files
 * beside their place, are checked, then renamed over it.
 */
export function bootScript(opts: BootScriptOptions): string {
  const home = opts.remoteHome ? `TETHER_HOME=${shellQuote(opts.remoteHome)}; export TETHER_HOME; ` : '';
  const version = opts.runtimeVersion;
  const attach = `"$N" "$D/tether.cjs" ${opts.attachArgs.map(shellQuote).join(' ')}`;
  // One line: csh and tcsh (login shells on some clusters) refuse a newline inside quotes.
  const parts = [
    `${home}H="\${TETHER_HOME:-$HOME/.tether}"; D="$H/bin"; T=;`,
    `say() { printf '${BOOT_TAG} %s\\n' "$*"; };`,
    'fail() { if [ -n "$T" ]; then rm -f "$T"; fi; say fail "$*"; exit 1; };',
    // Which node runs tether here: the launcher's rule (the runtime a laptop brought, else node ≥ MIN from PATH).
    `R="$H/runtime/node-${version}/bin/node"; N=; V=;`,
    'if [ -x "$R" ] && V=$("$R" --version 2>/dev/null); then N="$R";',
    'elif command -v node >/dev/null 2>&1; then V=$(node --version 2>/dev/null); M=${V#v}; M=${M%%.*}; [ "$M" -eq "$M" ] 2>/dev/null || M=0;',
    `if [ "$M" -ge ${opts.minNodeMajor} ]; then N=node; fi; fi;`,
    'S=; if [ -f "$D/tether.cjs" ]; then',
    'S=$(sha256sum < "$D/tether.cjs" 2>/dev/null || shasum -a 256 < "$D/tether.cjs" 2>/dev/null); S=${S%% *};',
    `if [ -z "$S" ] && [ -n "$N" ]; then S=$("$N" -e ${shellQuote(SHA256)} "$D/tether.cjs" 2>/dev/null); fi;`,
    'fi;',
    'L=$(getconf GNU_LIBC_VERSION 2>/dev/null); L=${L#glibc };',
    'if [ -z "$L" ] && ldd --version 2>&1 | grep -qi musl; then L=musl; fi;',
    'say probe "os=$(uname -s)" "arch=$(uname -m)" "node=$V" "bundle=$S" "libc=$L";',
    'umask 077;',
    'while read -r STEP SIZE SUM; do T=; case "$STEP" in',
    // head -c may read ahead on some systems; harmless, since the laptop sends nothing more until `ok`.
    `runtime) mkdir -p "$H/runtime/node-${version}/bin" && chmod 700 "$H" "$H/runtime" || fail "cannot make $H/runtime";`,
    'T="$H/runtime/.node.$$.tmp"; rm -f "$T";',
    'head -c "$SIZE" | gzip -dc > "$T" || fail "the Node runtime did not arrive whole in $H/runtime (is the disk full?)";',
    'X=$(sha256sum < "$T" 2>/dev/null || shasum -a 256 < "$T" 2>/dev/null); X=${X%% *};',
    '[ -z "$X" ] || [ "$X" = "$SUM" ] || fail "the Node runtime arrived damaged (its sha256 is $X)";',
    `chmod 700 "$T" && [ "$("$T" --version 2>/dev/null)" = ${shellQuote(version)} ] || fail "the Node runtime does not run here";`,
    `mv -f "$T" "$R" || fail "cannot install $R"; N="$R"; V=${shellQuote(version)}; say ok "node=$V";;`,
    'bundle) mkdir -p "$D" && chmod 700 "$H" "$D" || fail "cannot make $D"; T="$D/.tether.$$.tmp"; rm -f "$T";',
    `"$N" -e ${shellQuote(READ_EXACT)} "$T" "$SIZE" && mv -f "$T" "$D/tether.cjs" || fail "cannot write $D/tether.cjs"; say ok;;`,
    // The launcher is rewritten only when it differs, so a second connect writes nothing.
    `attach|answer) W=$(printf '%s\\n' ${launcherScript(version).map(shellQuote).join(' ')});`,
    'if [ "$(cat "$D/tether" 2>/dev/null)" != "$W" ]; then T="$D/.launcher.$$.tmp"; printf \'%s\\n\' "$W" > "$T" && chmod 700 "$T" && mv -f "$T" "$D/tether" || fail "cannot write $D/tether"; fi;',
    `if [ "$STEP" = attach ]; then exec ${attach} --stdio; fi; exec ${attach};;`,
    '*) fail "unknown step";;',
    'esac; done',
  ];
  return `sh -c ${shellQuote(parts.join(' '))}`;
}
