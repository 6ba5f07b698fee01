#!/usr/bin/env node
// `npm start`: builds when the sources changed since the last build, then runs the whole system.
require('./ensure-built');
require('../dist/scripts/run-system');
