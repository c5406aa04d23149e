// The demo's "tool on the server": the official openai SDK, configured only through the
// environment `tether exec` gives it. It streams one reply, then waits for a line on stdin and
// tries again with the same lease, to show what happens once the laptop has left.
import OpenAI from 'openai';
import { createInterface } from 'node:readline';

const client = new OpenAI({ maxRetries: 0 });
const ask = () =>
  client.chat.completions.create({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'Say hello' }] });

process.stdout.write('      reply: ');
for await (const chunk of await ask()) process.stdout.write(chunk.choices[0]?.delta?.content ?? '');
process.stdout.write('\n');
console.log(`      lease in OPENAI_API_KEY: ${process.env.OPENAI_API_KEY?.slice(0, 8)}… (a lease handle, not the key)`);
console.log('READY');

const lines = createInterface({ input: process.stdin });
for await (const _ of lines) break;
try {
  await ask();
  console.log('      unexpected: the lease still works');
  process.exitCode = 1;
} catch (err) {
  console.log(`      the exec'd tool now:   HTTP ${err.status} ${err.error?.message ?? err.message}`);
}
