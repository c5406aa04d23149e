import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { SshPromptView } from '../../../protocol/control.js';
import { call } from '../bridge.js';

const WHAT: Record<SshPromptView['kind'], string> = {
  passphrase: 'asks for the passphrase of your SSH key',
  password: 'asks for your password',
  otp: 'asks for a one-time code',
  'host-key': 'presents an unknown host key',
  confirm: 'asks you to confirm',
  text: 'asks a question',
};

const FIELD: Record<SshPromptView['kind'], string> = {
  passphrase: 'Passphrase',
  password: 'Password',
  otp: 'One-time code',
  'host-key': 'Answer',
  confirm: 'Answer',
  text: 'Answer',
};

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/**
 * What an SSH login asks, oldest first: a passphrase, a password or a one-time code in a
 * password field (its value is cleared the moment it is sent and is never kept in state),
 * or an unknown host key with its fingerprint to compare, answered yes or no.
 */
export function SshPrompt(props: { prompts: SshPromptView[]; onAnswered: () => void }) {
  const current = [...props.prompts].sort((a, b) => a.createdAt - b.createdAt)[0];
  if (!current) return null;
  // A fresh form per question: nothing typed for one can be sent to the next.
  return <SshQuestion key={current.id} prompt={current} more={props.prompts.length - 1} onAnswered={props.onAnswered} />;
}

function SshQuestion(props: { prompt: SshPromptView; more: number; onAnswered: () => void }) {
  const p = props.prompt;
  const field = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const now = useNow(500);
  const left = Math.max(0, Math.ceil((p.expiresAt - now) / 1000));

  const send = async (channel: 'answerSshPrompt' | 'cancelSshPrompt', answer?: string) => {
    if (busy) return;
    setBusy(true);
    try {
      if (channel === 'answerSshPrompt') await call('answerSshPrompt', { id: p.id, answer: answer ?? '' });
      else await call('cancelSshPrompt', { id: p.id });
      setError(undefined);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
      props.onAnswered();
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const input = field.current;
    if (!input) return;
    const answer = input.value;
    input.value = '';
    void send('answerSshPrompt', answer);
  };

  const yesNo = p.kind === 'host-key' || p.kind === 'confirm';
  return (
    <section className="prompt ssh-prompt" role="alertdialog" aria-labelledby="ssh-prompt-title" aria-describedby="ssh-prompt-text">
      <h1 id="ssh-prompt-title">
        <span className="server">{p.server || 'SSH'}</span> {WHAT[p.kind]}
      </h1>
      {p.attempt > 1 ? (
        <p role="status" className="error">
          The last answer was refused: ssh asks again (attempt {p.attempt}).
        </p>
      ) : null}
      <p id="ssh-prompt-text" className="mono ssh-text" data-testid="ssh-text">
        {p.text}
      </p>
      {p.kind === 'host-key' ? (
        <div className="host-key">
          <p className="muted">This server's key is in none of your known_hosts files. Its fingerprint:</p>
          <p className="fingerprint mono" data-testid="fingerprint">
            {p.keyType ? `${p.keyType} ` : ''}
            {p.fingerprint ?? 'not shown by ssh'}
          </p>
          <p className="muted">
            Trust it only if it matches the server's own key (on the server: <code>ssh-keygen -lf /etc/ssh/ssh_host_{(p.keyType ?? 'ed25519').toLowerCase()}_key.pub</code>). ssh then adds it to your known_hosts.
          </p>
        </div>
      ) : null}
      {yesNo ? (
        <div className="actions">
          <button type="button" disabled={busy} onClick={() => void send('answerSshPrompt', 'yes')}>
            {p.kind === 'host-key' ? 'Trust and connect' : 'Allow'}
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => void (p.kind === 'host-key' ? send('answerSshPrompt', 'no') : send('cancelSshPrompt'))} autoFocus>
            {p.kind === 'host-key' ? "Don't connect" : 'Deny'}
          </button>
        </div>
      ) : (
        <form className="stack" onSubmit={submit}>
          <label>
            {FIELD[p.kind]}
            <input ref={field} type={p.echo ? 'text' : 'password'} name="ssh-answer" autoComplete="off" spellCheck={false} autoFocus disabled={busy} />
          </label>
          <div className="actions">
            <button type="submit" disabled={busy}>
              Send
            </button>
            <button type="button" className="quiet" disabled={busy} onClick={() => void send('cancelSshPrompt')}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <p className="muted countdown" role="timer" aria-live="off">
        Cancelled in {left} s if not answered{props.more > 0 ? ` · ${props.more} more waiting` : ''}
      </p>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </section>
  );
}
