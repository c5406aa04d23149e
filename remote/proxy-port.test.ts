import { describe, expect, it } from 'vitest';
import { defaultProxyPort } from './proxy-port.js';

describe('defaultProxyPort', () => {
  it('is stable per uid and TETHER_HOME, within 20000–29999', () => {
    const a = defaultProxyPort(1000, undefined);
    expect(defaultProxyPort(1000, undefined)).toBe(a);
    expect(defaultProxyPort(1000, '/tmp/x/../x')).toBe(defaultProxyPort(1000, '/tmp/x'));
    const ports = new Set([a, defaultProxyPort(1001, undefined), defaultProxyPort(1000, '/tmp/x'), defaultProxyPort(1000, '/tmp/y')]);
    expect(ports.size).toBe(4);
    for (const p of ports) expect(p >= 20000 && p <= 29999).toBe(true);
  });
});
