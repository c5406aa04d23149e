import { useEffect, useState } from 'react';
import type { ServerListing } from '../../../protocol/bridge.js';
import type { AgentStatus, ServerView } from '../../../protocol/control.js';
import { call } from '../bridge.js';

const STATE_LABEL: Record<ServerView['state'], string> = {
  CONNECTING: 'connecting',
  HANDSHAKING: 'connecting',
  READY: 'connected',
  CLOSED: 'disconnected',
};

const SOURCE_LABEL: Record<ServerListing['source'], string> = { 'ssh-config': '~/.ssh/config', added: 'added' };

/** Trust on first use: the fingerprint the server presented, to compare with the one its admin gives. */
function HostKeyPrompt(props: { server: string; hostKey: NonNullable<ServerView['hostKey']>; busy: boolean; onTrust: () => void }) {
  const id = `hostkey-${props.server.replace(/[^\w-]/g, '_')}`;
  return (
    <div className="hostkey" role="group" aria-labelledby={id}>
      <strong id={id}>Unknown host key for {props.hostKey.host}{props.hostKey.port === 22 ? '' : `:${props.hostKey.port}`}</strong>
      <div className="mono" data-testid="host-fingerprint">
        {props.hostKey.keyType} {props.hostKey.fingerprint}
      </div>
      <div className="muted">
        Connect only if this matches the server's key (on the server: <code>ssh-keygen -lf /etc/ssh/ssh_host_{props.hostKey.keyType.replace(/^ssh-|-.*$/g, '')}_key.pub</code>).
      </div>
      <div className="actions">
        <button type="button" disabled={props.busy} onClick={props.onTrust} aria-label={`Trust this key and connect ${props.server}`}>
          Trust and connect
        </button>
      </div>
    </div>
  );
}

/** Servers: hosts of ~/.ssh/config, added ones and ones used this session; connect, disconnect, add, remove. */
export function Servers(props: { status: AgentStatus | undefined; known: string[]; onKnown: (names: string[]) => void; onChanged: () => void }) {
  const [url, setUrl] = useState('');
  const [newName, setNewName] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const [listings, setListings] = useState<ServerListing[]>([]);
  const [listed, setListed] = useState(0);
  useEffect(() => {
    call('servers', {})
      .then((r) => setListings(r.servers))
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, [listed]);
  const live = new Map((props.status?.servers ?? []).map((s) => [s.server, s]));
  const listing = new Map(listings.map((l) => [l.name, l]));
  const names = [...new Set([...listings.map((l) => l.name), ...props.known, ...live.keys()])];

  const act = async (what: string, fn: () => Promise<unknown>) => {
    setBusy(what);
    try {
      await fn();
      setError(undefined);
      setListed((n) => n + 1);
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
          const l = listing.get(name);
          return (
            <li key={name} className="card" data-server={name} data-state={state}>
              <div className="row">
                <strong className="mono">{name}</strong>
                <span className={`pill ${state}`}>{state}</span>
              </div>
              {l ? (
                <div className="muted">
                  <span className="mono">{l.url}</span> · {SOURCE_LABEL[l.source]}
                </div>
              ) : null}
              {s?.fingerprint ? <div className="muted mono">{s.fingerprint}</div> : null}
              {s?.reason && !connected ? <div className="muted">{s.reason}</div> : null}
              {s?.hostKey && !connected ? (
                <HostKeyPrompt
                  server={name}
                  hostKey={s.hostKey}
                  busy={busy !== undefined}
                  onTrust={() => void act(name, async () => {
                    await call('trustHostKey', { server: name, fingerprint: s.hostKey!.fingerprint });
                    await call('connect', { server: name });
                  })}
                />
              ) : null}
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
                    {l?.source === 'ssh-config' ? null : (
                      <button
                        type="button"
                        className="quiet"
                        onClick={() => {
                          props.onKnown(props.known.filter((k) => k !== name));
                          if (l?.source === 'added') void act(name, () => call('removeServer', { name }));
                        }}
                        aria-label={`Remove ${name}`}
                      >
                        Remove
                      </button>
                    )}
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
          const name = newName.trim();
          if (!target) return;
          setUrl('');
          setNewName('');
          // ssh:// and wss:// addresses are saved under a name; a Host alias or unix: socket is used as is.
          if (name && /^(ssh|wss):\/\//.test(target)) {
            void act(name, async () => {
              await call('addServer', { name, url: target });
              await call('connect', { server: name });
            });
            return;
          }
          props.onKnown([...new Set([...props.known, target])]);
          void act(target, () => call('connect', { server: target }));
        }}
      >
        <h2 id="add-server-title" className="sr-only">
          Add a server
        </h2>
        <label>
          Name <input value={newName} onChange={(e) => setNewName(e.target.value)} placeholder="gpu-box" className="short" />
        </label>
        <label>
          Address <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="ssh://user@host, a Host alias, or unix:/path" />
        </label>
        <button type="submit">Add and connect</button>
      </form>
      {error ? <p role="alert" className="error">{error}</p> : null}
    </section>
  );
}
