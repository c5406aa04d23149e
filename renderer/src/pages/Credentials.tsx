import type { AgentStatus } from '../../../protocol/control.js';

/** What this laptop lends; never a secret (the agent has none to give the UI). */
export function Credentials(props: { status: AgentStatus | undefined }) {
  const creds = props.status?.credentials ?? [];
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
            <th scope="col">Added</th>
          </tr>
        </thead>
        <tbody>
          {creds.map((c) => (
            <tr key={c.name}>
              <td className="mono">{c.name}</td>
              <td>{c.provider}</td>
              <td>{c.store}</td>
              <td className="mono">{c.baseUrl ?? 'default'}</td>
              <td>{c.addedAt ? new Date(c.addedAt).toLocaleDateString() : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        Add one with <code>tether creds add PROVIDER</code>: the key is read into your keychain, never shown here.
      </p>
    </section>
  );
}
