// `node --import ./opened-files.mjs app.mjs`: writes every file the process asks for, by path, to
// $TETHER_OPENED_FILES (one JSON line each: {path, ok}) — modules it imports or requires (native
// ones included) and files it reads or probes through node:fs. A test compares that list with a
// package's contents: what the app opened from its folder must be in the package.
import { appendFileSync } from 'node:fs';
import fs from 'node:fs';
import Module, { register, syncBuiltinESMExports } from 'node:module';
import { fileURLToPath } from 'node:url';

const out = process.env.TETHER_OPENED_FILES;
const write = appendFileSync;
const record = (path, ok) => {
  if (typeof path !== 'string' && !(path instanceof URL)) return;
  write(out, JSON.stringify({ path: path instanceof URL ? fileURLToPath(path) : path, ok }) + '\n');
};

if (out) {
  // ES modules: a resolve hook sees every import (in the hooks thread, which writes the same file).
  register('./opened-files-hooks.mjs', import.meta.url, { data: { out } });

  // CommonJS requires, .node addons among them.
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    try {
      const file = resolveFilename.call(this, request, parent, ...rest);
      if (file.startsWith('/')) record(file, true);
      return file;
    } catch (err) {
      if (parent?.filename && (request.startsWith('.') || request.startsWith('/'))) record(new URL(request, `file://${parent.filename}`), false);
      throw err;
    }
  };

  // node:fs, by path: the sync forms the app uses, and the callback and promise opens.
  const probes = ['existsSync'];
  const throwing = ['readFileSync', 'openSync', 'statSync', 'lstatSync', 'readdirSync', 'accessSync', 'realpathSync', 'createReadStream'];
  for (const name of probes) {
    const real = fs[name];
    fs[name] = function (path, ...rest) {
      const ok = real.call(this, path, ...rest);
      record(path, ok);
      return ok;
    };
  }
  for (const name of throwing) {
    const real = fs[name];
    fs[name] = function (path, ...rest) {
      try {
        const value = real.call(this, path, ...rest);
        record(path, true);
        return value;
      } catch (err) {
        record(path, false);
        throw err;
      }
    };
  }
  for (const name of ['readFile', 'open', 'stat', 'access']) {
    const real = fs.promises[name];
    fs.promises[name] = async function (path, ...rest) {
      try {
        const value = await real.call(this, path, ...rest);
        record(path, true);
        return value;
      } catch (err) {
        record(path, false);
        throw err;
      }
    };
  }
  // `import { readFileSync } from 'node:fs'` in the app sees the wrapped functions too.
  syncBuiltinESMExports();
}
