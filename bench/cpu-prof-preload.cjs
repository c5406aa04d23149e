// `node --cpu-prof` is not allowed in NODE_OPTIONS, so bench/cpu-per-request.ts --profile
// preloads this instead: the same V8 profile, written as <TETHER_CPU_PROF_DIR>/<pid>.cpuprofile
// when the process exits. An in-thread inspector session answers synchronously, so 'exit' works.
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.TETHER_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
