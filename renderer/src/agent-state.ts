import { useCallback, useEffect, useRef, useState } from 'react';
import type { ActivityEvent, AgentStatus, ApprovalView, SshPromptView } from '../../protocol/control.js';
import { bridge, call } from './bridge.js';

export interface AgentState {
  status: AgentStatus | undefined;
  approvals: ApprovalView[];
  /** What SSH logins are asking (never an answer). */
  sshPrompts: SshPromptView[];
  activity: (ActivityEvent & { at: number })[];
  error: string | undefined;
  refresh: () => Promise<void>;
}

const MAX_ACTIVITY = 200;

/** The agent as the UI sees it: a status snapshot, refreshed on every event the agent pushes. */
export function useAgentState(): AgentState {
  const [status, setStatus] = useState<AgentStatus>();
  const [approvals, setApprovals] = useState<ApprovalView[]>([]);
  const [sshPrompts, setSshPrompts] = useState<SshPromptView[]>([]);
  const [activity, setActivity] = useState<(ActivityEvent & { at: number })[]>([]);
  const [error, setError] = useState<string>();
  const inFlight = useRef<Promise<void> | undefined>(undefined);

  const refresh = useCallback(async () => {
    // Events arrive in bursts; one refresh at a time, and one more after it if needed.
    const run = async () => {
      try {
        const [s, a, p] = await Promise.all([call('status', {}), call('approvals', {}), call('sshPrompts', {})]);
        setStatus(s);
        setApprovals(a.approvals);
        setSshPrompts(p.prompts);
        setError(undefined);
      } catch (err) {
        setError(err instanceof Error ? err.message : String(err));
      }
    };
    const previous = inFlight.current;
    const next = (previous ?? Promise.resolve()).then(run);
    inFlight.current = next;
    await next;
  }, []);

  useEffect(() => {
    void refresh();
    const off = bridge().onEvent((e) => {
      if (e.event === 'activity') setActivity((list) => [{ ...e.data, at: Date.now() }, ...list].slice(0, MAX_ACTIVITY));
      void refresh();
    });
    // Lease expiry and countdowns happen without events: a slow poll keeps them honest.
    const timer = setInterval(() => void refresh(), 5000);
    return () => {
      off();
      clearInterval(timer);
    };
  }, [refresh]);

  return { status, approvals, sshPrompts, activity, error, refresh };
}
