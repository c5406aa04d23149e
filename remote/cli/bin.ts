import { runRemoteCli } from './main.js';

runRemoteCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
