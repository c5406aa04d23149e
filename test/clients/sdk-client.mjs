// A tool as it would run on a server: the official SDK, configured only by the environment
// that `tether exec` / `tether env` set (base URL at the proxy, lease token as the key).
// Usage: node sdk-client.mjs openai|anthropic|gemini plain|stream [model]
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';

const [provider, mode, model = 'mock-1'] = process.argv.slice(2);
const stream = mode === 'stream';
let text = '';
let events = 0;

try {
  if (provider === 'openai') {
    const client = new OpenAI({ maxRetries: 0 });
    const messages = [{ role: 'user', content: 'Say hello' }];
    if (stream) {
      for await (const chunk of await client.chat.completions.create({ model, messages, stream: true })) {
        events += 1;
        text += chunk.choices[0]?.delta?.content ?? '';
      }
    } else {
      const res = await client.chat.completions.create({ model, messages });
      text = res.choices[0]?.message?.content ?? '';
    }
  } else if (provider === 'anthropic') {
    const client = new Anthropic({ maxRetries: 0 });
    const params = { model, max_tokens: 64, messages: [{ role: 'user', content: 'Say hello' }] };
    if (stream) {
      for await (const event of client.messages.stream(params)) {
        events += 1;
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      }
    } else {
      const res = await client.messages.create(params);
      text = res.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    }
  } else if (provider === 'gemini') {
    // GEMINI_API_KEY and GOOGLE_GEMINI_BASE_URL come from the environment, as in Gemini CLI.
    const client = new GoogleGenAI({});
    const params = { model, contents: 'Say hello' };
    if (stream) {
      for await (const chunk of await client.models.generateContentStream(params)) {
        events += 1;
        text += chunk.text ?? '';
      }
    } else {
      text = (await client.models.generateContent(params)).text ?? '';
    }
  } else {
    throw new Error(`unknown provider ${provider}`);
  }
  process.stdout.write(JSON.stringify({ ok: true, text, events }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, status: err.status ?? null, name: err.constructor?.name, message: String(err.message) }) + '\n');
  process.exitCode = 7;
}
