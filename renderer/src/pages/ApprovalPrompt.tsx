import { useEffect, useState } from 'react';
import type { AgentStatus, ApprovalView } from '../../../protocol/control.js';
import { call } from '../bridge.js';

/** The nearest ancestors say the most; the rest is behind "and N more" (full line in the tooltip). */
const MAX_PARENTS = 4;

type Decision = 'allow-once' | 'allow' | 'deny';

/** Keys a person can answer with; Deny is the default and also Escape. */
const SHORTCUTS: Record<string, Decision> = { o: 'allow-once', w: 'allow', d: 'deny', Escape: 'deny' };

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
      if (decision) {
        e.preventDefault();
        void answer(decision);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

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
  return (
    <section className="prompt" role="alertdialog" aria-labelledby="prompt-title" aria-describedby="prompt-what">
      <h1 id="prompt-title">
        <span className="provider">{current.provider}</span> requested on <span className="server">{current.server}</span>
      </h1>
      <p id="prompt-what" className="muted">
        A process on this server wants a lease for your <strong>{current.provider}</strong> credential.
        {current.asks > 1 ? ` It has asked ${current.asks} times.` : ''}
      </p>
      <dl className="facts">
        <dt>Server key</dt>
        <dd className="mono">{server?.fingerprint ?? 'unknown'}</dd>
        <dt>Command</dt>
        <dd className="mono" data-testid="cmdline">{p.cmdline.join(' ')}</dd>
        <dt>Working dir</dt>
        <dd className="mono">{p.cwd ?? '—'}</dd>
        <dt>User / pid</dt>
        <dd className="mono">
          {p.user ?? `uid ${p.uid}`} · pid {p.pid}
        </dd>
        <dt>Started by</dt>
        <dd>
          <ol className="parents mono">
            {p.parents.slice(0, MAX_PARENTS).map((parent) => (
              <li key={parent.pid} title={parent.cmdline.join(' ')}>
                {parent.pid} {parent.cmdline.join(' ') || '?'}
              </li>
            ))}
          </ol>
          {p.parents.length > MAX_PARENTS ? <span className="muted">and {p.parents.length - MAX_PARENTS} more</span> : null}
        </dd>
      </dl>
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void answer('allow-once')} aria-keyshortcuts="o">
          Allow <u>o</u>nce
        </button>
        <button type="button" disabled={busy} onClick={() => void answer('allow')} aria-keyshortcuts="w">
          Allow <u>w</u>hile connected
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => void answer('deny')} aria-keyshortcuts="d Escape" autoFocus>
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
