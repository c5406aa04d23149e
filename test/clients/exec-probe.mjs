// A long-lived tool under `tether exec`: the official OpenAI SDK, configured only by the
// environment exec set, asks once per line read on stdin and prints one JSON line per answer
// ({status, ms, message}; never the key). No retries, so the test sees each answer as it came.
import OpenAI from 'openai';
import { createInterface } from 'node:readline';

const client = new OpenAI({ maxRetries: 0 });

for await (const _line of createInterface({ input: process.stdin })) {
  const started = performance.now();
  let answer;
  try {
    const res = await client.chat.completions.create({ model: 'mock-1', messages: [{ role: 'user', content: 'hi' }] });
    answer = { status: 200, message: res.choices[0]?.message?.content ?? '' };
  } catch (err) {
    answer = { status: err?.status ?? 0, message: String(err?.message ?? err) };
  }
  process.stdout.write(JSON.stringify({ ...answer, ms: Math.round(performance.now() - started) }) + '\n');
}
