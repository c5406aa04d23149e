import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { shellQuote } from './shell-quote.js';
import { classifyPrompt, type SshPrompter } from './ssh-prompt.js';

// ssh runs $SSH_ASKPASS with the prompt as its argument and reads the answer from its stdout.
// This client hands the prompt to the agent over a socket and prints what a person answered:
// the answer passes through two pipes and is never written to a file or an argv.
// It finds its broker from its own arguments: the environment is ssh's, which its ProxyCommand shares.
const CLIENT = [
  'const [,sock,token,prompt]=process.argv;const s=require("net").connect(sock);let b="";',
  's.on("connect",()=>s.write(JSON.stringify({token,prompt:prompt||"",mode:process.env.SSH_ASKPASS_PROMPT||""})+"\\n"));',
  's.on("data",d=>{b+=d;const i=b.indexOf("\\n");if(i<0)return;let r;try{r=JSON.parse(b.slice(0,i))}catch{process.exit(1)}',
  'if(typeof r.answer==="string"){process.stdout.write(r.answer+"\\n",()=>process.exit(0))}else process.exit(1)});',
  's.on("error",()=>process.exit(1));s.on("close",()=>process.exit(1));',
].join('');

/** One ssh's askpass program: a tiny sh wrapper that runs the client with this process's Node (Electron as Node in the tray). */
export function askpassScript(socketPath: string, token: string, nodePath = process.execPath): string {
  return `#!/bin/sh\nELECTRON_RUN_AS_NODE=1 exec ${shellQuote(nodePath)} -e ${shellQuote(CLIENT)} -- ${shellQuote(socketPath)} ${shellQuote(token)} "$@"\n`;
}

/**
 * One ssh process's prompts: a Unix socket in the run folder that the askpass program talks
 * to, with a token only that ssh's own askpass program holds. Each prompt goes to `prompter`;
 * `none` (a FIDO key's "confirm user presence", which ssh dismisses itself) is only shown.
 */
export class AskpassBroker {
  readonly socketPath: string;
  /** The askpass program for this ssh alone (0700, in the run folder; gone with the broker). */
  readonly program: string;
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
    const id = randomBytes(6).toString('hex');
    this.socketPath = join(runDir, `askpass-${id}.sock`);
    this.program = join(runDir, `askpass-${id}`);
    this.server = net.createServer((conn) => this.serve(conn));
  }

  static async open(runDir: string, host: string, prompter: SshPrompter | undefined, notice?: (line: string) => void): Promise<AskpassBroker> {
    const broker = new AskpassBroker(runDir, host, prompter, notice);
    await new Promise<void>((resolve, reject) => {
      broker.server.once('error', reject);
      broker.server.listen(broker.socketPath, () => resolve());
    });
    writeFileSync(broker.program, askpassScript(broker.socketPath, broker.token), { mode: 0o700 });
    return broker;
  }

  /** The variables that make ssh ask through us, never at a terminal of its own. */
  env(): Record<string, string> {
    return { SSH_ASKPASS: this.program, SSH_ASKPASS_REQUIRE: 'force' };
  }

  /** The login is over (ssh exited or the link is up): questions still open are withdrawn. */
  close(): void {
    this.server.close();
    for (const conn of this.live) conn.destroy();
    rmSync(this.socketPath, { force: true });
    rmSync(this.program, { force: true });
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
