import { useEffect, useState } from 'react';
import type { AgentStatus, ApprovalView } from '../../../protocol/control.js';
import { call } from '../bridge.js';

/** The nearest ancestors say the most; the rest is behind "and N more" (full line in the tooltip). */
const MAX_PARENTS = 4;

type Decision = 'allow-once' | 'allow' | 'deny';

/** Keys a person can answer with; Deny is the default: Escape, and Enter unless another button has the focus. */
const SHORTCUTS: Record<string, Decision> = { o: 'allow-once', w: 'allow', d: 'deny', Escape: 'deny', Enter: 'deny' };

/** `10 min`, `1 h 30 min`, `45 s`: how long an allowed lease lives. */
export function spokenDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return [h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean).join(' ');
}

/** A piece longer than this may break anywhere (it could not fit a line of the prompt otherwise). */
const UNBREAKABLE_UP_TO = 40;

/**
 * A command line as text that wraps between words, and inside a word only after a `/` (a path
 * longer than the line), never in the middle of a name: the browser's own break after a hyphen
 * would split `--max-old-space-size`.
 */
function Wrapped(props: { words: string[] }) {
  return (
    <>
      {props.words.map((word, i) => (
        <span key={i}>
          {i > 0 ? ' ' : ''}
          {word.split(/(?<=\/)/).map((part, j) => (
            <span key={j} className={part.length > UNBREAKABLE_UP_TO ? 'piece long' : 'piece'}>
              {j > 0 ? <wbr /> : null}
              {part}
            </span>
          ))}
        </span>
      ))}
    </>
  );
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/**
 * The approval prompt: the oldest waiting request, with everything needed to judge it.
 * Several requests queue; answering one shows the next, none is lost.
 */
export function ApprovalPrompt(props: { approvals: ApprovalView[]; status: AgentStatus | undefined; onAnswered: () => void }) {
  const { approvals, status } = props;
  const current = [...approvals].sort((a, b) => a.createdAt - b.createdAt)[0];
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const now = useNow(500);

  const answer = async (decision: Decision) => {
    if (!current || busy) return;
    setBusy(true);
    try {
      await call('approve', { id: current.id, decision });
      setError(undefined);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
      props.onAnswered();
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const decision = SHORTCUTS[e.key];
      // Enter on a focused Allow button is that button's own click.
      if (e.key === 'Enter' && document.activeElement instanceof HTMLButtonElement && !document.activeElement.classList.contains('default')) return;
      if (decision) {
        e.preventDefault();
        void answer(decision);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  // The window's title says who asks, by the name this laptop knows the server by.
  useEffect(() => {
    document.title = current ? `Tether: ${current.provider} requested on ${current.server}` : 'Tether: no requests waiting';
  }, [current?.provider, current?.server]);

  if (!current) {
    return (
      <section className="prompt" aria-labelledby="prompt-title">
        <h1 id="prompt-title">No requests waiting</h1>
        <p className="muted">When a process on a server asks for a credential, it shows up here.</p>
      </section>
    );
  }
  const server = status?.servers.find((s) => s.server === current.server);
  const left = Math.max(0, Math.ceil((current.expiresAt - now) / 1000));
  const p = current.process;
  const ttl = current.leaseTtlMs !== undefined ? spokenDuration(current.leaseTtlMs) : undefined;
  return (
    <section className="prompt" role="alertdialog" aria-labelledby="prompt-title" aria-describedby="prompt-what">
      <h1 id="prompt-title">
        <span className="provider">{current.provider}</span> requested on{' '}
        <span className="server">
          <Wrapped words={[current.server]} />
        </span>
      </h1>
      <div className="details">
        <p id="prompt-what" className="muted">
          A process on this server wants a lease for your <strong>{current.provider}</strong>{' '}
          {current.subscription ? <>login: your {current.subscription}.</> : 'credential.'}
          {current.asks > 1 ? ` It has asked ${current.asks} times.` : ''}
        </p>
        <dl className="facts">
          <dt>Server key</dt>
          <dd className="mono">{server?.fingerprint ?? 'unknown'}</dd>
          <dt>Command</dt>
          <dd className="mono" data-testid="cmdline">
            <Wrapped words={p.cmdline} />
          </dd>
          <dt>Working dir</dt>
          <dd className="mono">{p.cwd ? <Wrapped words={[p.cwd]} /> : '—'}</dd>
          <dt>User / pid</dt>
          <dd className="mono">
            {p.user ?? `uid ${p.uid}`} · pid {p.pid}
          </dd>
          <dt>Started by</dt>
          <dd data-testid="parents">
            <ol className="parents mono">
              {p.parents.slice(0, MAX_PARENTS).map((parent) => (
                <li key={parent.pid} title={parent.cmdline.join(' ')}>
                  {parent.pid} <Wrapped words={parent.cmdline.length ? parent.cmdline : ['?']} />
                </li>
              ))}
            </ol>
            {p.parents.length > MAX_PARENTS ? <span className="muted">and {p.parents.length - MAX_PARENTS} more</span> : null}
          </dd>
        </dl>
      </div>
      <p className="muted lifetime" data-testid="lifetime">
        Allow once: one lease{ttl ? ` that lives ${ttl}` : ''}. Allow while connected: {current.provider} for this server, without asking, until it disconnects or this laptop sleeps or locks.
      </p>
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void answer('allow-once')} aria-keyshortcuts="o">
          Allow <u>o</u>nce
        </button>
        <button type="button" disabled={busy} onClick={() => void answer('allow')} aria-keyshortcuts="w">
          Allow <u>w</u>hile connected
        </button>
        <button type="button" className="danger default" disabled={busy} onClick={() => void answer('deny')} aria-keyshortcuts="d Enter Escape" autoFocus>
          <u>D</u>eny
        </button>
      </div>
      <p className="muted countdown" role="timer" aria-live="off">
        Denied automatically in {left} s{approvals.length > 1 ? ` · ${approvals.length - 1} more waiting` : ''}
      </p>
      {error ? <p role="alert" className="error">{error}</p> : null}
    </section>
  );
}
