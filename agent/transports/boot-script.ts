import { shellQuote } from './shell-quote.js';

/** Lines the server side of the boot conversation prints start with this; anything else (a chatty ~/.bashrc) is skipped. */
export const BOOT_TAG = 'tether-boot';

export interface BootScriptOptions {
  /** TETHER_HOME on the server (ssh_config `SetEnv TETHER_HOME=…`); default ~/.tether. */
  remoteHome?: string;
  /** The Node runtime this laptop ships (`v22.…`): used on the server when it has no node ≥ MIN itself. */
  runtimeVersion: string;
  minNodeMajor: number;
  /** `tether attach …` arguments (the laptop's public key and name: nothing secret). */
  attachArgs: string[];
}

// Reads exactly $2 bytes of stdin into $1 (a fresh 0700 file): head -c is not exact everywhere, node is.
const READ_EXACT = `const fs=require("fs");let n=+process.argv[2];const fd=fs.openSync(process.argv[1],"wx",0o700);const b=Buffer.alloc(65536);const w=new Int32Array(new SharedArrayBuffer(4));while(n>0){let r;try{r=fs.readSync(0,b,0,Math.min(n,b.length),null)}catch(e){if(e.code==="EAGAIN"){Atomics.wait(w,0,0,2);continue}throw e}if(!r)process.exit(1);fs.writeSync(fd,b,0,r);n-=r}fs.closeSync(fd)`;
const SHA256 = `process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))`;

/**
 * The one shell command a laptop runs over SSH: it says what the server has (`probe`), then
 * takes steps from stdin — `runtime SIZE` (a gzipped Node binary), `bundle SIZE` (the server
 * bundle), `attach` — and finally becomes `tether attach --stdio`, whose stdio carries the link.
 * One SSH session does it all, so one TCP connection and one login per connect. POSIX sh only.
 */
export function bootScript(opts: BootScriptOptions): string {
  const home = opts.remoteHome ? `TETHER_HOME=${shellQuote(opts.remoteHome)}; export TETHER_HOME; ` : '';
  // One line: csh and tcsh (login shells on some clusters) refuse a newline inside quotes.
  const parts = [
    `${home}H="\${TETHER_HOME:-$HOME/.tether}";`,
    `say() { printf '${BOOT_TAG} %s\\n' "$*"; };`,
    `R="$H/runtime/node-${opts.runtimeVersion}/bin/node"; N=; V=;`,
    'if command -v node >/dev/null 2>&1; then V=$(node --version 2>/dev/null); fi;',
    'M=${V#v}; M=${M%%.*}; [ "$M" -eq "$M" ] 2>/dev/null || M=0;',
    `if [ "$M" -ge ${opts.minNodeMajor} ]; then N=node; elif [ -x "$R" ]; then N="$R"; V=$("$R" --version 2>/dev/null); fi;`,
    'S=; if [ -f "$H/bin/tether" ]; then',
    'S=$(sha256sum < "$H/bin/tether" 2>/dev/null || shasum -a 256 < "$H/bin/tether" 2>/dev/null); S=${S%% *};',
    `if [ -z "$S" ] && [ -n "$N" ]; then S=$("$N" -e ${shellQuote(SHA256)} "$H/bin/tether" 2>/dev/null); fi;`,
    'fi;',
    'L=$(getconf GNU_LIBC_VERSION 2>/dev/null); L=${L#glibc };',
    'if [ -z "$L" ] && ldd --version 2>&1 | grep -qi musl; then L=musl; fi;',
    'say probe "os=$(uname -s)" "arch=$(uname -m)" "node=$V" "bundle=$S" "libc=$L";',
    'umask 077;',
    'while read -r STEP SIZE; do case "$STEP" in',
    `runtime) mkdir -p "$H/runtime/node-${opts.runtimeVersion}/bin" && chmod 700 "$H" "$H/runtime"; T="$H/runtime/.node.$$.tmp";`,
    'if head -c "$SIZE" | gzip -dc > "$T" && chmod 700 "$T" && "$T" --version >/dev/null 2>&1 && mv -f "$T" "$R";',
    'then N="$R"; V=$("$R" --version); say ok "node=$V";',
    'else rm -f "$T"; say fail "the Node runtime did not install or does not run here"; exit 1; fi;;',
    'bundle) mkdir -p "$H/bin" && chmod 700 "$H" "$H/bin"; T="$H/bin/.tether.$$.tmp"; rm -f "$T";',
    `if "$N" -e ${shellQuote(READ_EXACT)} "$T" "$SIZE" && mv -f "$T" "$H/bin/tether"; then say ok; else rm -f "$T"; say fail "cannot write $H/bin/tether"; exit 1; fi;;`,
    `attach) exec "$N" "$H/bin/tether" ${opts.attachArgs.map(shellQuote).join(' ')} --stdio;;`,
    '*) say fail "unknown step"; exit 1;;',
    'esac; done',
  ];
  return `sh -c ${shellQuote(parts.join(' '))}`;
}
