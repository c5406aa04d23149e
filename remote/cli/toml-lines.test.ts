import { describe, expect, it } from 'vitest';
import { replaceTable, setTopLevel, tomlString } from './toml-lines.js';

const table = ['base_url = "http://127.0.0.1:1/openai/v1"', 'wire_api = "responses"'];

describe('toml lines', () => {
  it('adds a top-level key before any table, replaces it in place the second time', () => {
    const start = '# mine\nmodel = "o3"\n\n[mcp_servers.docs]\ncommand = "docs"\n';
    const once = setTopLevel(start, 'model_provider', tomlString('tether'));
    expect(once).toBe('model_provider = "tether"\n# mine\nmodel = "o3"\n\n[mcp_servers.docs]\ncommand = "docs"\n');
    expect(setTopLevel(once, 'model_provider', tomlString('tether'))).toBe(once);
    expect(setTopLevel('model_provider = "ollama"\nmodel = "x"\n', 'model_provider', '"tether"')).toBe('model_provider = "tether"\nmodel = "x"\n');
  });

  it('does not take a key inside a table for a top-level one', () => {
    const text = '[profiles.fast]\nmodel_provider = "other"\n';
    expect(setTopLevel(text, 'model_provider', '"tether"')).toBe('model_provider = "tether"\n[profiles.fast]\nmodel_provider = "other"\n');
  });

  it('replaces a table wholly and puts it last; idempotent; other tables untouched', () => {
    const text = '[model_providers.tether]\nbase_url = "old"\nextra = 1\n\n[mcp_servers.docs]\ncommand = "docs"\n';
    const once = replaceTable(text, 'model_providers.tether', table);
    expect(once).toBe(`[mcp_servers.docs]\ncommand = "docs"\n\n[model_providers.tether]\n${table.join('\n')}\n`);
    expect(replaceTable(once, 'model_providers.tether', table)).toBe(once);
    expect(replaceTable('', 'model_providers.tether', table)).toBe(`[model_providers.tether]\n${table.join('\n')}\n`);
  });

  it('quotes strings as TOML basic strings', () => {
    expect(tomlString('a "b" \\ c')).toBe('"a \\"b\\" \\\\ c"');
  });
});
