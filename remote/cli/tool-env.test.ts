import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../protocol/index.js';
import { defaultShell, formatEnvironment, litellmLines, providersWithHelpers, toolEnvironment } from './tool-env.js';

const proxyUrl = 'http://127.0.0.1:4000';
const lease = (name: string, provider = name) => ({ name, provider, token: `tth_${name}`, proxyUrl });
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join('/tmp', 'tt-env-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('toolEnvironment', () => {
  it('sets what each provider\'s clients read and removes what would win over it', () => {
    const vars = toolEnvironment([lease('anthropic'), lease('gemini'), lease('openai')]);
    expect(vars).toEqual({
      ANTHROPIC_AUTH_TOKEN: undefined,
      ANTHROPIC_BASE_URL: `${proxyUrl}/anthropic`,
      ANTHROPIC_API_BASE: `${proxyUrl}/anthropic`,
      ANTHROPIC_API_KEY: 'tth_anthropic',
      GOOGLE_API_KEY: undefined,
      GOOGLE_GEMINI_BASE_URL: `${proxyUrl}/gemini`,
      GEMINI_API_BASE: `${proxyUrl}/gemini/v1beta`,
      GEMINI_API_KEY: 'tth_gemini',
      OPENAI_BASE_URL: `${proxyUrl}/openai/v1`,
      OPENAI_API_BASE: `${proxyUrl}/openai/v1`,
      OPENAI_API_KEY: 'tth_openai',
    });
  });

  // What LiteLLM (so aider) reads, and what it appends (BerriAI/litellm: `get_secret_str("…_API_BASE")`
  // and each provider's URL builder): the value must be the base under which those paths exist.
  it.each([
    ['gemini', 'GEMINI_API_BASE', '/gemini/v1beta', 'GEMINI_API_KEY'], // + /models/{model}:generateContent
    ['groq', 'GROQ_API_BASE', '/groq/openai/v1', 'GROQ_API_KEY'], // + /chat/completions
    ['mistral', 'MISTRAL_API_BASE', '/mistral/v1', 'MISTRAL_API_KEY'],
    ['deepseek', 'DEEPSEEK_API_BASE', '/deepseek/v1', 'DEEPSEEK_API_KEY'],
    ['xai', 'XAI_API_BASE', '/xai/v1', 'XAI_API_KEY'],
    ['openrouter', 'OPENROUTER_API_BASE', '/openrouter/v1', 'OPENROUTER_API_KEY'],
    ['azure-openai', 'AZURE_API_BASE', '/azure-openai', 'AZURE_API_KEY'], // the openai SDK's AzureOpenAI adds /openai/deployments/…
    ['anthropic', 'ANTHROPIC_API_BASE', '/anthropic', 'ANTHROPIC_API_KEY'], // + /v1/messages
    ['openai', 'OPENAI_API_BASE', '/openai/v1', 'OPENAI_API_KEY'],
  ])('%s: sets LiteLLM\'s %s and its key', (provider, baseVar, path, keyVar) => {
    const vars = toolEnvironment([lease(provider)]);
    expect(vars[baseVar]).toBe(`${proxyUrl}${path}`);
    expect(vars[keyVar]).toBe(`tth_${provider}`);
    expect(PROVIDERS[provider]!.litellm).toMatchObject({ baseUrl: baseVar, apiKey: keyVar });
  });

  it('keeps each SDK\'s own base URL where LiteLLM\'s differs', () => {
    expect(toolEnvironment([lease('groq')]).GROQ_BASE_URL).toBe(`${proxyUrl}/groq`); // groq SDK: + /openai/v1/…
    expect(toolEnvironment([lease('gemini')]).GOOGLE_GEMINI_BASE_URL).toBe(`${proxyUrl}/gemini`); // @google/genai: + /v1beta/…
    expect(toolEnvironment([lease('work-gemini', 'gemini')])).toMatchObject({ GEMINI_API_BASE: `${proxyUrl}/work-gemini/v1beta` });
  });

  it('every LiteLLM route names variables its registry entry sets', () => {
    for (const spec of Object.values(PROVIDERS)) {
      if (!spec.litellm) continue;
      expect(spec.env.baseUrl, spec.id).toContain(spec.litellm.baseUrl);
      expect(spec.env.apiKey, spec.id).toContain(spec.litellm.apiKey);
    }
  });

  it('prints one line per provider for `tether setup aider`', () => {
    const lines = litellmLines(proxyUrl);
    expect(lines).toContain(`gemini: --model gemini/MODEL reads GEMINI_API_BASE=${proxyUrl}/gemini/v1beta and GEMINI_API_KEY`);
    expect(lines).toContain(`groq: --model groq/MODEL reads GROQ_API_BASE=${proxyUrl}/groq/openai/v1 and GROQ_API_KEY`);
    expect(lines).toContain(`azure-openai: --model azure/MODEL reads AZURE_API_BASE=${proxyUrl}/azure-openai and AZURE_API_KEY`);
    // Subscription logins are for their vendor's own CLI, not for LiteLLM.
    expect(lines).toHaveLength(Object.values(PROVIDERS).filter((p) => p.id !== 'custom' && !p.subscription).length);
    expect(lines.join('\n')).not.toContain('tth_');
  });

  it('a Claude subscription: the lease in CLAUDE_CODE_OAUTH_TOKEN, API-key variables that would win over it removed', () => {
    expect(toolEnvironment([lease('claude-subscription', 'claude-subscription')])).toEqual({
      ANTHROPIC_API_KEY: undefined,
      ANTHROPIC_AUTH_TOKEN: undefined,
      CLAUDE_CODE_OAUTH_REFRESH_TOKEN: undefined,
      ANTHROPIC_BASE_URL: `${proxyUrl}/claude-subscription`,
      CLAUDE_CODE_OAUTH_TOKEN: 'tth_claude-subscription',
    });
  });

  it('a Google login: the lease in GOOGLE_CLOUD_ACCESS_TOKEN, GOOGLE_GENAI_USE_GCA=true, Code Assist at the proxy', () => {
    expect(toolEnvironment([lease('gemini-subscription', 'gemini-subscription')])).toEqual({
      GEMINI_API_KEY: undefined,
      GOOGLE_API_KEY: undefined,
      GOOGLE_GEMINI_BASE_URL: undefined,
      GOOGLE_GENAI_USE_VERTEXAI: undefined,
      GOOGLE_GENAI_USE_GCA: 'true',
      CODE_ASSIST_ENDPOINT: `${proxyUrl}/gemini-subscription`,
      GOOGLE_CLOUD_ACCESS_TOKEN: 'tth_gemini-subscription',
    });
  });

  it('names a custom credential\'s variables after it', () => {
    expect(toolEnvironment([lease('my-vllm', 'custom')])).toEqual({ MY_VLLM_BASE_URL: `${proxyUrl}/my-vllm/v1`, MY_VLLM_API_KEY: 'tth_my-vllm' });
  });

  it('never sets a key variable that would override a configured helper', () => {
    const vars = toolEnvironment([lease('anthropic')], new Set(['anthropic']));
    expect(vars.ANTHROPIC_API_KEY).toBeUndefined();
    expect('ANTHROPIC_API_KEY' in vars).toBe(true);
    expect(vars.ANTHROPIC_BASE_URL).toBe(`${proxyUrl}/anthropic`);
  });

  it('every registry entry has a key variable, a base URL variable and a known error shape', () => {
    for (const spec of Object.values(PROVIDERS)) {
      expect(spec.env.apiKey.length, spec.id).toBeGreaterThan(0);
      expect(spec.env.baseUrl.length, spec.id).toBeGreaterThan(0);
      expect(['openai', 'anthropic', 'gemini']).toContain(spec.errorShape);
    }
    for (const id of ['anthropic', 'openai', 'gemini', 'openrouter', 'groq', 'mistral', 'deepseek', 'xai', 'azure-openai', 'custom']) expect(PROVIDERS[id], id).toBeDefined();
    expect(PROVIDERS['azure-openai']!.keyHeader).toBe('api-key');
  });
});

describe('providersWithHelpers', () => {
  it('finds Claude Code\'s apiKeyHelper in user or project settings', () => {
    const home = tmp();
    const cwd = tmp();
    expect(providersWithHelpers({ HOME: home }, cwd).size).toBe(0);
    fs.mkdirSync(path.join(cwd, '.claude'));
    fs.writeFileSync(path.join(cwd, '.claude/settings.local.json'), JSON.stringify({ apiKeyHelper: 'tether token anthropic' }));
    expect([...providersWithHelpers({ HOME: home }, cwd)]).toEqual(['anthropic']);
    const config = tmp();
    fs.writeFileSync(path.join(config, 'settings.json'), JSON.stringify({ apiKeyHelper: 'tether token anthropic' }));
    expect([...providersWithHelpers({ HOME: home, CLAUDE_CONFIG_DIR: config }, tmp())]).toEqual(['anthropic']);
  });
});

describe('formatEnvironment', () => {
  const vars = { A_KEY: "it's $HOME `x`", GONE: undefined, 'BAD-NAME': 'x' };

  it('writes POSIX lines a real shell evaluates back to the same values', () => {
    const text = formatEnvironment(vars, 'bash');
    expect(text).toBe(`export A_KEY='it'\\''s $HOME \`x\`'\nunset GONE\n`);
    for (const sh of ['sh', 'bash']) {
      const r = spawnSync(sh, ['-c', `GONE=1; eval "$1"; printf '%s|%s' "$A_KEY" "\${GONE-unset}"`, 'sh', text], { encoding: 'utf8' });
      expect(r.stdout).toBe("it's $HOME `x`|unset");
    }
  });

  it('writes fish lines', () => {
    expect(formatEnvironment({ K: "a'b\\c", GONE: undefined }, 'fish')).toBe(`set -gx K 'a\\'b\\\\c'\nset -e GONE\n`);
  });

  it('defaults to fish only for a fish login shell', () => {
    expect(defaultShell({ SHELL: '/usr/bin/fish' })).toBe('fish');
    expect(defaultShell({ SHELL: '/bin/zsh' })).toBe('sh');
    expect(defaultShell({})).toBe('sh');
  });
});
