import http from 'node:http';
import { ActivityEvent, ApprovalEvent, CONTROL_EVENTS_PATH, CONTROL_HEADER, CONTROL_VERSION, LinkEvent, SshPromptEvent, type ControlEvent } from '../../protocol/control.js';

const SCHEMAS = { link: LinkEvent, approval: ApprovalEvent, activity: ActivityEvent, 'ssh-prompt': SshPromptEvent } as const;

/**
 * Follows the agent's `GET /v1/events` (server-sent events) and hands each validated event to
 * `onEvent`. Returns a function that stops following. `onEnd` is called if the agent goes away.
 * `answersSshPrompts`: this follower shows SSH's questions to a person (a UI), so the agent
 * routes them here while it follows.
 */
export function followEvents(
  socketPath: string,
  onEvent: (e: ControlEvent) => void,
  onEnd: (err?: Error) => void = () => {},
  opts: { answersSshPrompts?: boolean } = {},
): { ready: Promise<void>; stop: () => void } {
  let stopped = false;
  let readyResolve!: () => void;
  let readyReject!: (err: Error) => void;
  const ready = new Promise<void>((res, rej) => ((readyResolve = res), (readyReject = rej)));
  const req = http.request({ socketPath, method: 'GET', path: opts.answersSshPrompts ? `${CONTROL_EVENTS_PATH}?answer=ssh-prompts` : CONTROL_EVENTS_PATH, headers: { [CONTROL_HEADER]: String(CONTROL_VERSION) } }, (res) => {
    if (res.statusCode !== 200) {
      res.resume();
      const err = new Error(`the agent refused the event stream (${res.statusCode})`);
      readyReject(err);
      onEnd(err);
      return;
    }
    readyResolve();
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = parseBlock(block);
        if (event) onEvent(event);
      }
    });
    res.on('end', () => !stopped && onEnd());
  });
  req.on('error', (err) => {
    readyReject(err);
    if (!stopped) onEnd(err);
  });
  req.end();
  ready.catch(() => {});
  return {
    ready,
    stop: () => {
      stopped = true;
      req.destroy();
    },
  };
}

function parseBlock(block: string): ControlEvent | undefined {
  let kind = '';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) kind = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (!(kind in SCHEMAS)) return undefined;
  try {
    const parsed = SCHEMAS[kind as keyof typeof SCHEMAS].safeParse(JSON.parse(data));
    return parsed.success ? ({ event: kind, data: parsed.data } as ControlEvent) : undefined;
  } catch {
    return undefined;
  }
}
