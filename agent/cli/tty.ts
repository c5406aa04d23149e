/** Reading secrets: from a pipe, or from the terminal without echo. Never from argv. */

export async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Prompts on stderr and reads one line with echo off (on, for a yes/no that is no secret).
 * `signal` withdraws the question (it was answered elsewhere): rejects with 'withdrawn'.
 */
export function promptHidden(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WritableStream = process.stderr, echo = false, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('withdrawn'));
    // Echo off before the question shows: what is typed as soon as it appears must not echo.
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    output.write(question);
    let value = '';
    input.resume();
    const onAbort = () => finish(new Error('withdrawn'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (err?: Error) => {
      signal?.removeEventListener('abort', onAbort);
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') {
          if (echo && value) output.write('\b \b');
          value = value.slice(0, -1);
        } else if (ch >= ' ') {
          value += ch;
          if (echo) output.write(ch);
        }
      }
    };
    input.on('data', onData);
  });
}

/** The secret for `creds add`: stdin when piped, a hidden prompt at a terminal. */
export async function readSecret(label: string, input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (input.isTTY) return (await promptHidden(`${label}: `, input)).trim();
  return (await readAll(input)).trim();
}
