import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { shellQuote } from './shell-quote.js';
import { classifyPrompt, type SshPrompter } from './ssh-prompt.js';

// ssh runs $SSH_ASKPASS with the prompt as its argument and reads the answer from its stdout.
// This client hands the prompt to the agent over a socket and prints what a person answered:
// the answer passes through two pipes and is never written to a file or an argv.
const CLIENT = [
  'const s=require("net").connect(process.env.TETHER_ASKPASS_SOCKET);let b="";',
  's.on("connect",()=>s.write(JSON.stringify({token:process.env.TETHER_ASKPASS_TOKEN,prompt:process.argv[1]||"",mode:process.env.SSH_ASKPASS_PROMPT||""})+"\\n"));',
  's.on("data",d=>{b+=d;const i=b.indexOf("\\n");if(i<0)return;let r;try{r=JSON.parse(b.slice(0,i))}catch{process.exit(1)}',
  'if(typeof r.answer==="string"){process.stdout.write(r.answer+"\\n",()=>process.exit(0))}else process.exit(1)});',
  's.on("error",()=>process.exit(1));s.on("close",()=>process.exit(1));',
].join('');

/** The askpass program: a tiny sh wrapper that runs the client with this process's Node (Electron as Node in the tray). */
export function askpassScript(nodePath = process.execPath): string {
  return `#!/bin/sh\nELECTRON_RUN_AS_NODE=1 exec ${shellQuote(nodePath)} -e ${shellQuote(CLIENT)} -- "$@"\n`;
}

/** Writes the askpass program into the agent's 0700 run folder (once per content) and returns its path. */
export function installAskpass(runDir: string): string {
  const file = join(runDir, 'ssh-askpass');
  const body = askpassScript();
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // first use
  }
  if (current !== body) writeFileSync(file, body, { mode: 0o700 });
  return file;
}

/**
 * One ssh process's prompts: a Unix socket in the run folder that the askpass program talks
 * to, with a token only that ssh's environment carries. Each prompt goes to `prompter`;
 * `none` (a FIDO key's "confirm user presence", which ssh dismisses itself) is only shown.
 */
export class AskpassBroker {
  readonly socketPath: string;
  private readonly token = randomBytes(16).toString('hex');
  private readonly server: net.Server;
  /** Every prompt ssh showed, in order (host-key prompts carry the fingerprint for error lines). */
  readonly asked: string[] = [];
  /** How many of them nobody answered (no terminal or window, cancelled, expired). */
  unanswered = 0;
  /** Askpass programs still waiting: withdrawn when this ssh's login is over. */
  private readonly live = new Set<net.Socket>();

  private constructor(
    runDir: string,
    private readonly host: string,
    private readonly prompter: SshPrompter | undefined,
    private readonly notice: ((line: string) => void) | undefined,
  ) {
    this.socketPath = join(runDir, `askpass-${randomBytes(6).toString('hex')}.sock`);
    this.server = net.createServer((conn) => this.serve(conn));
  }

  static async open(runDir: string, host: string, prompter: SshPrompter | undefined, notice?: (line: string) => void): Promise<AskpassBroker> {
    const broker = new AskpassBroker(runDir, host, prompter, notice);
    await new Promise<void>((resolve, reject) => {
      broker.server.once('error', reject);
      broker.server.listen(broker.socketPath, () => resolve());
    });
    return broker;
  }

  /** The variables that make ssh ask through us, never at a terminal of its own. */
  env(askpassProgram: string): Record<string, string> {
    return { SSH_ASKPASS: askpassProgram, SSH_ASKPASS_REQUIRE: 'force', TETHER_ASKPASS_SOCKET: this.socketPath, TETHER_ASKPASS_TOKEN: this.token };
  }

  /** The login is over (ssh exited or the link is up): questions still open are withdrawn. */
  close(): void {
    this.server.close();
    for (const conn of this.live) conn.destroy();
    rmSync(this.socketPath, { force: true });
  }

  private serve(conn: net.Socket): void {
    let buffer = '';
    this.live.add(conn);
    conn.on('close', () => this.live.delete(conn));
    conn.on('error', () => conn.destroy());
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) {
        if (buffer.length > 16_384) conn.destroy();
        return;
      }
      conn.removeAllListeners('data');
      let request: { token?: unknown; prompt?: unknown; mode?: unknown };
      try {
        request = JSON.parse(buffer.slice(0, nl)) as typeof request;
      } catch {
        return void conn.destroy();
      }
      if (request.token !== this.token || typeof request.prompt !== 'string') return void conn.destroy();
      void this.answer(conn, request.prompt.slice(0, 4096), typeof request.mode === 'string' ? request.mode : '');
    });
  }

  private async answer(conn: net.Socket, text: string, mode: string): Promise<void> {
    const attempt = this.asked.filter((t) => t === text).length + 1;
    this.asked.push(text);
    if (mode === 'none') {
      // ssh kills the program once the key was touched; nothing to answer.
      this.notice?.(`${this.host}: ${text.trim()}`);
      return;
    }
    const prompt = { ...classifyPrompt(text, this.host, mode), ...(attempt > 1 ? { attempt } : {}) };
    // ssh gone (it kills its askpass) or the login over: nobody needs the answer any more.
    const gone = new AbortController();
    conn.once('close', () => gone.abort());
    let answer: string | undefined;
    try {
      answer = await this.prompter?.(prompt, gone.signal);
    } catch {
      answer = undefined;
    }
    if (answer === undefined) this.unanswered += 1;
    if (conn.destroyed) return;
    conn.end(JSON.stringify(answer === undefined ? { refused: true } : { answer }) + '\n');
  }
}
