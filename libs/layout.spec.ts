import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The layout tells the architecture: each library imports only the ones below it, the contracts
 * carry no runtime, and the gateway, which owns no database, imports no database library.
 */
const ROOT = join(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
    .map((file) => join(dir, file));
}

function importsOf(files: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of files) {
    for (const [, module] of readFileSync(join(ROOT, file), 'utf8').matchAll(/from '([^']+)'|require\('([^']+)'\)/g)) {
      if (module && !module.startsWith('.')) found.set(module, [...(found.get(module) ?? []), relative(ROOT, join(ROOT, file))]);
    }
  }
  return found;
}

const LIBRARIES = ['contracts', 'platform', 'database', 'participant'];

describe('layout', () => {
  it('keeps libs/contracts free of transport and database code', () => {
    const modules = [...importsOf(sources('libs/contracts/src')).keys()];
    const runtime = modules.filter((m) =>
      /^(typeorm|mysql2|amqplib|amqp-connection-manager|@nestjs\/microservices|@nestjs\/typeorm|@app\/)/.test(m),
    );
    expect(runtime).toEqual([]);
  });

  it.each(LIBRARIES.map((lib, i) => [lib, LIBRARIES.slice(i + 1)]))('has %s import none of the libraries above it (%j)', (lib, above) => {
    const modules = [...importsOf(sources(`libs/${lib}/src`)).keys()];
    expect(modules.filter((m) => above.some((other) => m === `@app/${other}`) || m === `@app/${lib}`)).toEqual([]);
  });

  it('keeps every database library and driver out of the gateway', () => {
    const modules = [...importsOf(sources('apps/gateway/src')).keys()];
    expect(modules.filter((m) => /^(@app\/(database|participant)|typeorm|mysql2|@nestjs\/typeorm)$/.test(m))).toEqual([]);
  });
});
