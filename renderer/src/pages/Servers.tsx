import { useState } from 'react';
import type { AgentStatus, ServerView } from '../../../protocol/control.js';
import { call } from '../bridge.js';

const STATE_LABEL: Record<ServerView['state'], string> = {
  CONNECTING: 'connecting',
  HANDSHAKING: 'connecting',
  READY: 'connected',
  CLOSED: 'disconnected',
};

/** Servers this agent knows this session: connect, disconnect, add by URL, forget. */
export function Servers(props: { status: AgentStatus | undefined; known: string[]; onKnown: (names: string[]) => void; onChanged: () => void }) {
  const [url, setUrl] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const live = new Map((props.status?.servers ?? []).map((s) => [s.server, s]));
  const names = [...new Set([...props.known, ...live.keys()])];

  const act = async (what: string, fn: () => Promise<unknown>) => {
    setBusy(what);
    try {
      await fn();
      setError(undefined);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(undefined);
      props.onChanged();
    }
  };

  return (
    <section aria-labelledby="servers-title">
      <div className="row">
        <h1 id="servers-title">Servers</h1>
        <button type="button" disabled={busy !== undefined || live.size === 0} onClick={() => void act('all', () => call('disconnect', {}))}>
          Disconnect all
        </button>
      </div>
      {names.length === 0 ? <p className="muted">No servers yet: add one below.</p> : null}
      <ul className="cards" aria-label="servers">
        {names.map((name) => {
          const s = live.get(name);
          const state = s ? STATE_LABEL[s.state] : 'disconnected';
          const connected = s?.state === 'READY';
          return (
            <li key={name} className="card" data-server={name} data-state={state}>
              <div className="row">
                <strong className="mono">{name}</strong>
                <span className={`pill ${state}`}>{state}</span>
              </div>
              {s?.fingerprint ? <div className="muted mono">{s.fingerprint}</div> : null}
              {s?.reason && !connected ? <div className="muted">{s.reason}</div> : null}
              <div className="muted">
                {s?.leases.length ?? 0} live lease{s?.leases.length === 1 ? '' : 's'}
                {s?.lending.length ? ` · lending ${s.lending.join(', ')}` : ''}
              </div>
              <div className="actions">
                {connected ? (
                  <button type="button" disabled={busy !== undefined} onClick={() => void act(name, () => call('disconnect', { server: name }))} aria-label={`Disconnect ${name}`}>
                    Disconnect
                  </button>
                ) : (
                  <>
                    <button type="button" disabled={busy !== undefined} onClick={() => void act(name, () => call('connect', { server: name }))} aria-label={`Connect ${name}`}>
                      Connect
                    </button>
                    <button type="button" className="quiet" onClick={() => props.onKnown(props.known.filter((k) => k !== name))} aria-label={`Remove ${name}`}>
                      Remove
                    </button>
                  </>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          const target = url.trim();
          if (!target) return;
          props.onKnown([...new Set([...props.known, target])]);
          setUrl('');
          void act(target, () => call('connect', { server: target }));
        }}
      >
        <label htmlFor="server-url">Add server</label>
        <input id="server-url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="unix:/path/to/tether.sock" />
        <button type="submit">Connect</button>
      </form>
      {error ? <p role="alert" className="error">{error}</p> : null}
    </section>
  );
}
