// Clients the compatibility suite runs on the "server", configured only by the environment
// `tether exec` / `tether env` set. Prints one JSON line {ok, status, text, events}.
// Usage: node compat-client.mjs MODE [plain|stream]
//   custom:NAME    the openai SDK at $NAME_BASE_URL with $NAME_API_KEY (a custom credential)
//   azure          the openai SDK's AzureOpenAI: AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, a deployment
//   gemini-rest    Google's REST recipe: `…/v1beta/models/M:streamGenerateContent?key=$GEMINI_API_KEY&alt=sse`, no key header
//   litellm-gemini LiteLLM with GEMINI_API_BASE: `$GEMINI_API_BASE/models/M:streamGenerateContent?alt=sse`, x-goog-api-key
import OpenAI, { AzureOpenAI } from 'openai';

const [mode = '', how = 'plain'] = process.argv.slice(2);
const stream = how === 'stream';
const say = (out) => process.stdout.write(JSON.stringify(out) + '\n');
const messages = [{ role: 'user', content: 'Say hello' }];

async function viaSdk(client, model) {
  let text = '';
  let events = 0;
  if (stream) {
    for await (const chunk of await client.chat.completions.create({ model, messages, stream: true })) {
      events += 1;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
  } else {
    text = (await client.chat.completions.create({ model, messages })).choices[0]?.message?.content ?? '';
  }
  return { ok: true, text, events };
}

/** Gemini's SSE: every `data:` line is a whole GenerateContentResponse. */
async function geminiSse(url, headers) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] }) });
  const body = await res.text();
  if (!res.ok) return { ok: false, status: res.status, message: body.slice(0, 300) };
  let text = '';
  let events = 0;
  for (const line of body.split(/\r?\n/)) {
    if (!line.startsWith('data: ')) continue;
    events += 1;
    text += JSON.parse(line.slice(6)).candidates?.[0]?.content?.parts?.map((p) => p.text ?? '').join('') ?? '';
  }
  return { ok: true, status: res.status, text, events };
}

try {
  const env = process.env;
  if (mode.startsWith('custom:')) {
    const prefix = mode.slice('custom:'.length).toUpperCase().replace(/[^A-Z0-9]/g, '_');
    say(await viaSdk(new OpenAI({ baseURL: env[`${prefix}_BASE_URL`], apiKey: env[`${prefix}_API_KEY`], maxRetries: 0 }), 'mock-1'));
  } else if (mode === 'azure') {
    // endpoint and key from AZURE_OPENAI_ENDPOINT / AZURE_OPENAI_API_KEY; the API version is the user's choice.
    say(await viaSdk(new AzureOpenAI({ apiVersion: '2024-10-21', deployment: 'mock-deploy', maxRetries: 0 }), 'mock-deploy'));
  } else if (mode === 'gemini-rest') {
    say(await geminiSse(`${env.GOOGLE_GEMINI_BASE_URL}/v1beta/models/mock-1:streamGenerateContent?key=${encodeURIComponent(env.GEMINI_API_KEY ?? '')}&alt=sse`, {}));
  } else if (mode === 'litellm-gemini') {
    say(await geminiSse(`${env.GEMINI_API_BASE}/models/mock-1:streamGenerateContent?alt=sse`, { 'x-goog-api-key': env.GEMINI_API_KEY ?? '' }));
  } else {
    say({ ok: false, message: `unknown mode ${mode}` });
    process.exitCode = 2;
  }
} catch (err) {
  say({ ok: false, status: err.status ?? null, name: err.constructor?.name, message: String(err.message) });
  process.exitCode = 7;
}
