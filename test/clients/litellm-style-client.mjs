// A client configured the way LiteLLM (and so aider) and the openai SDK v0 are: it reads only
// OPENAI_API_BASE / ANTHROPIC_API_BASE and the *_API_KEY variables, never *_BASE_URL, and calls
// the API with fetch. Usage: node litellm-style-client.mjs openai|anthropic
// Prints one JSON line {ok, status, text}.
const provider = process.argv[2];
const say = (out) => process.stdout.write(JSON.stringify(out) + '\n');

let url;
let init;
if (provider === 'openai') {
  // openai v0: the base includes /v1; the key goes as a Bearer token.
  url = `${process.env.OPENAI_API_BASE}/chat/completions`;
  init = {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.OPENAI_API_KEY}` },
    body: JSON.stringify({ model: 'mock-1', messages: [{ role: 'user', content: 'Say hello' }] }),
  };
} else if (provider === 'anthropic') {
  // LiteLLM: ANTHROPIC_API_BASE is the host; it appends /v1/messages and sends x-api-key.
  url = `${process.env.ANTHROPIC_API_BASE}/v1/messages`;
  init = {
    headers: { 'content-type': 'application/json', 'x-api-key': process.env.ANTHROPIC_API_KEY, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'mock-1', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello' }] }),
  };
} else {
  say({ ok: false, message: `unknown provider ${provider}` });
  process.exit(2);
}

try {
  const res = await fetch(url, { method: 'POST', ...init });
  const body = await res.json();
  const text = provider === 'openai' ? body.choices?.[0]?.message?.content : body.content?.map((b) => b.text ?? '').join('');
  say({ ok: res.ok, status: res.status, text: text ?? '' });
} catch (err) {
  say({ ok: false, message: err instanceof Error ? err.message : String(err) });
}
