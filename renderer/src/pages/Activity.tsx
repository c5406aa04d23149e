import { useEffect, useState } from 'react';
import type { AuditLine } from '../../../protocol/bridge.js';
import type { AgentStatus } from '../../../protocol/control.js';
import { call } from '../bridge.js';

/** Live leases (revocable) and recent requests from the audit log. */
export function Activity(props: { status: AgentStatus | undefined; tick: number; onChanged: () => void }) {
  const [entries, setEntries] = useState<AuditLine[]>([]);
  const [filter, setFilter] = useState('');
  const [kind, setKind] = useState('');
  const [error, setError] = useState<string>();

  useEffect(() => {
    call('audit', { limit: 200 })
      .then((r) => setEntries(r.entries))
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, [props.tick]);

  const leases = (props.status?.servers ?? []).flatMap((s) => s.leases.map((l) => ({ ...l, server: s.server })));
  const needle = filter.trim().toLowerCase();
  const shown = entries.filter((e) => (!kind || e.event === kind) && (!needle || JSON.stringify(e).toLowerCase().includes(needle)));
  const revoke = async (leaseId: string) => {
    try {
      await call('revokeLease', { leaseId });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
    props.onChanged();
  };

  return (
    <section aria-labelledby="activity-title">
      <h1 id="activity-title">Activity</h1>
      <h2>Live leases</h2>
      {leases.length === 0 ? <p className="muted">No live leases.</p> : null}
      <ul className="cards" aria-label="live leases">
        {leases.map((l) => (
          <li key={l.leaseId} className="card row">
            <span>
              <strong>{l.credential}</strong> on <span className="mono">{l.server}</span> · {l.scope === 'once' ? 'once' : 'while connected'}
            </span>
            <button type="button" onClick={() => void revoke(l.leaseId)} aria-label={`Revoke ${l.credential} lease on ${l.server}`}>
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <h2>Recent requests</h2>
      <div className="row filters">
        <label>
          Show{' '}
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">everything</option>
            <option value="lease">lease requests</option>
            <option value="relay">relayed calls</option>
            <option value="revoke">revocations</option>
            <option value="link">connections</option>
          </select>
        </label>
        <label>
          Filter <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="server, provider, command…" />
        </label>
      </div>
      <table>
        <caption className="sr-only">Recent audit entries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Server</th>
            <th scope="col">Credential</th>
            <th scope="col">Outcome</th>
            <th scope="col">Process</th>
          </tr>
        </thead>
        <tbody>
          {shown.slice(0, 50).map((e, i) => (
            <tr key={`${e.time}-${i}`}>
              <td>{new Date(e.time).toLocaleTimeString()}</td>
              <td>{e.event}</td>
              <td className="mono">{e.server}</td>
              <td>{e.name ?? e.provider ?? ''}</td>
              <td>{e.decision ?? String(e.status ?? '')}</td>
              <td className="mono">{e.process ? `${e.process.pid} ${e.process.cmdline.join(' ')}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {error ? <p role="alert" className="error">{error}</p> : null}
    </section>
  );
}
