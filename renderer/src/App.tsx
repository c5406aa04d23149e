import { useEffect, useState } from 'react';
import { useAgentState } from './agent-state.js';
import { Activity } from './pages/Activity.js';
import { ApprovalPrompt } from './pages/ApprovalPrompt.js';
import { Credentials } from './pages/Credentials.js';
import { Servers } from './pages/Servers.js';
import { Settings } from './pages/Settings.js';
import { SshPrompt } from './pages/SshPrompt.js';

const PAGES = ['servers', 'credentials', 'activity', 'settings'] as const;
type Page = (typeof PAGES)[number];
const KNOWN_KEY = 'tether.knownServers';

function readKnown(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(KNOWN_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The prompt window (`#prompt`) shows SSH's questions first (a login waits on them), then the
 * approval prompt; the main window has the pages.
 */
export function App() {
  const agent = useAgentState();
  const [view, setView] = useState(() => location.hash.slice(1));
  const [known, setKnown] = useState(readKnown);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const onHash = () => setView(location.hash.slice(1));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  // Remember every server seen, so a disconnected one keeps its Connect button.
  useEffect(() => {
    const seen = agent.status?.servers.map((s) => s.server) ?? [];
    if (seen.some((s) => !known.includes(s))) setKnown((k) => [...new Set([...k, ...seen])]);
  }, [agent.status, known]);
  useEffect(() => localStorage.setItem(KNOWN_KEY, JSON.stringify(known)), [known]);

  const changed = () => {
    setTick((t) => t + 1);
    void agent.refresh();
  };

  if (view === 'prompt') {
    return (
      <main className="prompt-window">
        {agent.sshPrompts.length ? <SshPrompt prompts={agent.sshPrompts} onAnswered={changed} /> : <ApprovalPrompt approvals={agent.approvals} status={agent.status} onAnswered={changed} />}
      </main>
    );
  }
  const page: Page = (PAGES as readonly string[]).includes(view) ? (view as Page) : 'servers';
  return (
    <div className="shell">
      <nav aria-label="Tether">
        <div className="brand" aria-hidden="true">
          Tether
        </div>
        <ul>
          {PAGES.map((p) => (
            <li key={p}>
              <a href={`#${p}`} aria-current={p === page ? 'page' : undefined}>
                {p[0]!.toUpperCase() + p.slice(1)}
              </a>
            </li>
          ))}
        </ul>
        {agent.sshPrompts.length ? (
          <a className="badge" href="#prompt" role="status">
            SSH login waiting for you
          </a>
        ) : null}
        {agent.approvals.length ? (
          <a className="badge" href="#prompt" role="status">
            {agent.approvals.length} request{agent.approvals.length > 1 ? 's' : ''} waiting
          </a>
        ) : null}
      </nav>
      <main>
        {agent.error ? (
          <p role="alert" className="error">
            {agent.error}
          </p>
        ) : null}
        {page === 'servers' ? <Servers status={agent.status} known={known} onKnown={setKnown} onChanged={changed} /> : null}
        {page === 'credentials' ? <Credentials status={agent.status} servers={[...new Set([...known, ...(agent.status?.servers.map((s) => s.server) ?? [])])]} onChanged={changed} /> : null}
        {page === 'activity' ? <Activity status={agent.status} tick={tick + agent.activity.length} onChanged={changed} /> : null}
        {page === 'settings' ? <Settings /> : null}
      </main>
    </div>
  );
}
