import { describe, expect, it } from 'vitest';
import { StatField, procStatFields, readProcStat } from './proc-stat.js';

describe('/proc/PID/stat', () => {
  it('counts fields from the last parenthesis, so a name with spaces and ")" does not shift them', () => {
    const stat = '4242 (evil) Z 7 (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 25 7 0 0 20 0 1 0 987654 1000 10 18446744073709551615\n';
    const fields = procStatFields(stat);
    expect(fields[StatField.state]).toBe('S');
    expect(fields[StatField.ppid]).toBe('1');
    expect(fields[StatField.utime]).toBe('25');
    expect(fields[StatField.stime]).toBe('7');
    expect(fields[StatField.nice]).toBe('0');
    expect(fields[StatField.starttime]).toBe('987654');
    expect(fields.at(-1)).toBe('18446744073709551615');
  });

  it.runIf(process.platform === 'linux')('reads this process, and nothing for one that is not there', () => {
    expect(readProcStat(process.pid)?.[StatField.ppid]).toBe(String(process.ppid));
    expect(readProcStat(0x7fffffff)).toBeUndefined();
  });
});
