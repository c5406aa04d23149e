import { useEffect, useState } from 'react';
import type { AppSettings, SettingsPatch } from '../../../protocol/bridge.js';
import { call } from '../bridge.js';

/** The app's preferences, kept by the agent (settings.json) and applied as soon as they are saved. */
export function Settings() {
  const [settings, setSettings] = useState<AppSettings>();
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    call('settings', {})
      .then(setSettings)
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, []);

  const save = async (patch: SettingsPatch) => {
    // Shown at once; the agent's answer (what it stored) replaces it.
    setSettings((current) => (current ? { ...current, ...patch } : current));
    try {
      setSettings(await call('saveSettings', patch));
      setSaved(true);
      setError(undefined);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      {settings ? (
        <form className="stack" onSubmit={(e) => e.preventDefault()}>
          <fieldset className="choices">
            <legend>When a server asks for a credential</legend>
            {(
              [
                ['ask', 'Ask me each time'],
                ['allow', 'Allow without asking'],
                ['deny', 'Deny without asking'],
              ] as const
            ).map(([value, label]) => (
              <label key={value}>
                <input type="radio" name="approval-default" value={value} checked={settings.approvalDefault === value} onChange={() => void save({ approvalDefault: value })} /> {label}
              </label>
            ))}
          </fieldset>
          <label>
            Deny unanswered requests after (seconds){' '}
            <input
              type="number"
              min={5}
              max={600}
              defaultValue={settings.approvalTimeoutS}
              onBlur={(e) => {
                const v = Number(e.target.value);
                if (Number.isInteger(v) && v >= 5 && v <= 600 && v !== settings.approvalTimeoutS) void save({ approvalTimeoutS: v });
              }}
            />
          </label>
          <label>
            Heartbeat (seconds){' '}
            <input
              type="number"
              min={1}
              max={60}
              defaultValue={settings.heartbeatS}
              aria-describedby="heartbeat-hint"
              onBlur={(e) => {
                const v = Number(e.target.value);
                if (Number.isInteger(v) && v >= 1 && v <= 60 && v !== settings.heartbeatS) void save({ heartbeatS: v });
              }}
            />
          </label>
          <span id="heartbeat-hint" className="muted">
            Leases die within three heartbeats of this laptop going silent. A server whose daemon runs with another heartbeat restarts it on the next connect, once no other laptop is linked.
          </span>
          <label>
            <input type="checkbox" checked={settings.reconnectOnWake} onChange={(e) => void save({ reconnectOnWake: e.target.checked })} /> Reconnect to servers after sleep or
            screen lock
          </label>
          <label>
            <input type="checkbox" checked={settings.startAtLogin} onChange={(e) => void save({ startAtLogin: e.target.checked })} /> Start Tether when I log in
          </label>
        </form>
      ) : null}
      {saved && !error ? (
        <p role="status" className="muted">
          Saved.
        </p>
      ) : null}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </section>
  );
}
