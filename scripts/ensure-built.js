// Builds dist/ when it is missing or older than any source file (the live page's HTML, CSS and
// script too), so `npm start` and `npm run check` work straight after `npm ci`.
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.built');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|html|css|js)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = ['apps', 'libs', 'scripts', 'bench'].map((d) => newestSource(join(root, d)));
if (!existsSync(stamp) || Math.max(...sources) > statSync(stamp).mtimeMs) {
  console.log('Building...');
  execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });
}
