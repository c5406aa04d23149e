// The ES-module half of opened-files.mjs: records each resolved file: URL, and each that fails.
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let out;

export async function initialize(data) {
  out = data.out;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    const resolved = await nextResolve(specifier, context);
    if (resolved.url.startsWith('file:')) appendFileSync(out, JSON.stringify({ path: fileURLToPath(resolved.url), ok: true }) + '\n');
    return resolved;
  } catch (err) {
    if (context.parentURL?.startsWith('file:') && (specifier.startsWith('.') || specifier.startsWith('/'))) {
      appendFileSync(out, JSON.stringify({ path: fileURLToPath(new URL(specifier, context.parentURL)), ok: false }) + '\n');
    }
    throw err;
  }
}
