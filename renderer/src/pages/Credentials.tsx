import { useRef, useState, type FormEvent } from 'react';
import type { AgentStatus, CredentialView } from '../../../protocol/control.js';
import { PROVIDERS } from '../../../protocol/providers.js';
import { call } from '../bridge.js';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Checkboxes for an allow-list; none ticked means every server. */
function ServerChoice(props: { legend: string; servers: string[]; chosen: string[]; onChange: (next: string[]) => void }) {
  if (props.servers.length === 0) return <p className="muted">Lent to every server (no servers known yet to limit it to).</p>;
  return (
    <fieldset className="choices">
      <legend>{props.legend}</legend>
      {props.servers.map((s) => (
        <label key={s} className="mono">
          <input
            type="checkbox"
            checked={props.chosen.includes(s)}
            onChange={(e) => props.onChange(e.target.checked ? [...props.chosen, s] : props.chosen.filter((x) => x !== s))}
          />{' '}
          {s}
        </label>
      ))}
      <span className="muted">None ticked: every server may use it.</span>
    </fieldset>
  );
}

/** One credential's allow-list, edited in place. */
function ServersCell(props: { cred: CredentialView; servers: string[]; onChanged: () => void; onError: (m: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [chosen, setChosen] = useState<string[]>(props.cred.servers ?? []);
  const label = props.cred.servers?.length ? props.cred.servers.join(', ') : 'every server';
  if (!editing) {
    return (
      <>
        <span className="mono">{label}</span>{' '}
        <button type="button" className="quiet" onClick={() => (setChosen(props.cred.servers ?? []), setEditing(true))} aria-label={`Choose servers for ${props.cred.name}`}>
          Change
        </button>
      </>
    );
  }
  const all = [...new Set([...props.servers, ...(props.cred.servers ?? [])])];
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        call('credentialServers', { name: props.cred.name, servers: chosen.length ? chosen : null })
          .then(() => setEditing(false))
          .catch((err: unknown) => props.onError(message(err)))
          .finally(props.onChanged);
      }}
    >
      <ServerChoice legend={`Servers that may use ${props.cred.name}`} servers={all} chosen={chosen} onChange={setChosen} />
      <button type="submit">Save</button>{' '}
      <button type="button" className="quiet" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}

/**
 * What this laptop lends. The secret is typed into a password field and crosses the bridge once,
 * into the agent's vault; the page keeps no copy and the agent never sends it back.
 */
export function Credentials(props: { status: AgentStatus | undefined; servers: string[]; onChanged: () => void }) {
  const creds = props.status?.credentials ?? [];
  const secretRef = useRef<HTMLInputElement>(null);
  const [provider, setProvider] = useState('openai');
  const [name, setName] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const [only, setOnly] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const input = secretRef.current;
    const secret = input?.value ?? '';
    // Cleared before the call: the key must not sit in the page while the agent stores it.
    if (input) input.value = '';
    if (!secret) return setError('Paste the API key into the key field.');
    setBusy(true);
    try {
      const { credential } = await call('addCredential', {
        provider,
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(baseUrl.trim() ? { baseUrl: baseUrl.trim() } : {}),
        secret,
        ...(only.length ? { servers: only } : {}),
      });
      setNotice(`Added ${credential.name} (${credential.store} store).`);
      setError(undefined);
      setName('');
      setBaseUrl('');
      setOnly([]);
    } catch (err) {
      setError(message(err));
      setNotice(undefined);
    } finally {
      setBusy(false);
      props.onChanged();
    }
  };

  const remove = async (credName: string) => {
    try {
      await call('removeCredential', { name: credName });
      setNotice(`Removed ${credName}.`);
    } catch (err) {
      setError(message(err));
    }
    props.onChanged();
  };

  return (
    <section aria-labelledby="creds-title">
      <h1 id="creds-title">Credentials</h1>
      {creds.length === 0 ? <p className="muted">Nothing to lend yet.</p> : null}
      <table>
        <caption className="sr-only">Credentials this laptop lends</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Provider</th>
            <th scope="col">Stored in</th>
            <th scope="col">Endpoint</th>
            <th scope="col">Servers</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {creds.map((c) => (
            <tr key={c.name} data-credential={c.name}>
              <td className="mono">{c.name}</td>
              <td>{c.provider}</td>
              <td>{c.store}</td>
              <td className="mono">{c.baseUrl ?? 'default'}</td>
              <td>
                <ServersCell cred={c} servers={props.servers} onChanged={props.onChanged} onError={setError} />
              </td>
              <td>
                <button type="button" className="danger" onClick={() => void remove(c.name)} aria-label={`Remove ${c.name}`}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2 id="add-cred-title">Add a credential</h2>
      <form className="stack" aria-labelledby="add-cred-title" onSubmit={(e) => void add(e)} autoComplete="off">
        <div className="field">
          <label htmlFor="cred-provider">Provider</label>
          <select id="cred-provider" value={provider} onChange={(e) => setProvider(e.target.value)}>
            {Object.values(PROVIDERS).map((p) => (
              <option key={p.id} value={p.id}>
                {p.title}
              </option>
            ))}
          </select>
        </div>
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} placeholder={provider} pattern="[a-z0-9][a-z0-9_\-]*" />
        </label>
        <label>
          Endpoint <input type="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} placeholder={PROVIDERS[provider]?.defaultBaseUrl || 'https://…'} />
        </label>
        <label>
          API key <input ref={secretRef} type="password" autoComplete="new-password" spellCheck={false} required />
        </label>
        <ServerChoice legend="Only these servers may use it" servers={props.servers} chosen={only} onChange={setOnly} />
        <div>
          <button type="submit" disabled={busy}>
            Add credential
          </button>
        </div>
      </form>
      <p className="muted">The key goes into your keychain (or the encrypted vault where there is none); Tether never shows it again.</p>
      {notice ? <p role="status">{notice}</p> : null}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </section>
  );
}
