// `node --import ./register.mjs app/main.mjs`: resolves `electron` to the double named by
// $ELECTRON_DOUBLE_MODULE (a file URL) before the app's first import.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url, { data: { url: process.env.ELECTRON_DOUBLE_MODULE } });
