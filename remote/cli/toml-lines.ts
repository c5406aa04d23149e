/**
 * Just enough TOML editing for `tether setup codex`: set one top-level key and replace one
 * table, line by line, leaving every other line (comments, order, spacing) as the user wrote
 * it. Not a TOML parser: it recognises `key = …` lines and `[table]` headers, which is all the
 * keys it writes need. Values are written as TOML basic strings.
 */

const HEADER = /^\s*\[/;

/** A TOML basic string: JSON's escaping is valid TOML for the URLs and names written here. */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
}

const join = (all: string[]): string => (all.length ? all.join('\n') + '\n' : '');

function keyPattern(key: string): RegExp {
  return new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`);
}

/** `key = value` among the top-level keys (before the first table): replaced where it is, else added first. */
export function setTopLevel(text: string, key: string, value: string): string {
  const all = lines(text);
  const firstTable = all.findIndex((l) => HEADER.test(l));
  const end = firstTable === -1 ? all.length : firstTable;
  const line = `${key} = ${value}`;
  const at = all.slice(0, end).findIndex((l) => keyPattern(key).test(l));
  if (at >= 0) all[at] = line;
  else all.unshift(line);
  return join(all);
}

/** `[name]` with exactly `body` (lines of `key = value`): an existing table of that name is removed, the new one goes last. */
export function replaceTable(text: string, name: string, body: string[]): string {
  const all = lines(text);
  const header = new RegExp(`^\\s*\\[\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\]\\s*(#.*)?$`);
  const start = all.findIndex((l) => header.test(l));
  if (start >= 0) {
    let end = all.findIndex((l, i) => i > start && HEADER.test(l));
    if (end === -1) end = all.length;
    all.splice(start, end - start);
  }
  while (all.length && all.at(-1)!.trim() === '') all.pop();
  if (all.length) all.push('');
  all.push(`[${name}]`, ...body);
  return join(all);
}
