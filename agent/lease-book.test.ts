import { describe, expect, it } from 'vitest';
import { LeaseBook } from './lease-book.js';

describe('LeaseBook', () => {
  it('renews connection leases at about 2/3 of their TTL and lets once leases lapse', async () => {
    const renewals: string[] = [];
    let renewed!: () => void;
    const firstRenewal = new Promise<void>((r) => (renewed = r));
    const book = new LeaseBook((id) => {
      renewals.push(id);
      renewed();
    });
    book.add({ leaseId: 'ls_conn', credential: 'openai', scope: 'connection', ttlMs: 60 });
    book.add({ leaseId: 'ls_once', credential: 'openai', scope: 'once', ttlMs: 60 });
    const lapsed = new Promise<string>((r) => book.once('dropped', (l, reason) => r(`${l.leaseId} ${reason}`)));
    await firstRenewal;
    expect(renewals).toEqual(['ls_conn']);
    expect(await lapsed).toBe('ls_once expired');
    expect(book.get('ls_conn')).toBeDefined();
    book.clear('link closed');
    expect(book.size).toBe(0);
  });
});
