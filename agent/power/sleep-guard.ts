import { EventEmitter } from 'node:events';

/** What the guard needs of the agent (the Agent class has all of it). */
export interface GuardedAgent {
  readyServers(): string[];
  revoke(server?: string): { servers: string[]; leases: number };
  /** `bye` to every server: the daemon revokes that link's leases as it reads it. */
  disconnect(server?: string): Promise<void>;
  connect(server: string): Promise<unknown>;
}

export type PowerEvent = 'suspend' | 'lock' | 'resign-active' | 'resume' | 'unlock';
export type GuardState = 'AWAKE' | 'ASLEEP';

export interface SleepGuardEvents {
  slept: [{ trigger: PowerEvent; servers: string[]; leases: number }];
  woke: [{ trigger: PowerEvent; reconnected: string[]; failed: { server: string; message: string }[] }];
}

/**
 * Revokes every lease and drops every link before the laptop sleeps or locks; on wake or
 * unlock reconnects the servers that were connected (if the user wants that), with fresh
 * links, so no old lease comes back. Used by the tray (Electron power events) and by
 * `tether agent` (logind signals).
 */
export class SleepGuard extends EventEmitter<SleepGuardEvents> {
  state: GuardState = 'AWAKE';
  private toReconnect = new Set<string>();
  private sleeping: Promise<void> | undefined;

  constructor(
    private readonly agent: GuardedAgent,
    private readonly reconnectOnWake: () => boolean = () => true,
  ) {
    super();
  }

  /**
   * Revocation and `bye` go out synchronously, before this returns a promise; the promise
   * resolves once every daemon has closed the link (its leases are gone by then).
   */
  sleep(trigger: PowerEvent): Promise<void> {
    const servers = this.agent.readyServers();
    for (const s of servers) this.toReconnect.add(s);
    this.state = 'ASLEEP';
    const { leases } = this.agent.revoke();
    const closing = this.agent.disconnect().then(() => {
      this.emit('slept', { trigger, servers, leases });
    });
    this.sleeping = closing;
    return closing;
  }

  /** Reconnects what sleep dropped; errors are reported per server, never thrown. */
  async wake(trigger: PowerEvent): Promise<string[]> {
    if (this.state !== 'ASLEEP') return [];
    await this.sleeping;
    this.state = 'AWAKE';
    const servers = [...this.toReconnect];
    this.toReconnect.clear();
    if (!this.reconnectOnWake()) {
      this.emit('woke', { trigger, reconnected: [], failed: [] });
      return [];
    }
    const failed: { server: string; message: string }[] = [];
    const reconnected: string[] = [];
    await Promise.all(
      servers.map(async (server) => {
        try {
          await this.agent.connect(server);
          reconnected.push(server);
        } catch (err) {
          failed.push({ server, message: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
    this.emit('woke', { trigger, reconnected, failed });
    return reconnected;
  }

  /** Routes one power or session event. */
  handle(event: PowerEvent): Promise<unknown> {
    return event === 'resume' || event === 'unlock' ? this.wake(event) : this.sleep(event);
  }
}
