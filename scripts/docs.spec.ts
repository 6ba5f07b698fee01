import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * The README and the pages of docs/ link each other and name the repository's files: a page moved,
 * a heading renamed or a file moved must not leave a reader at a dead link, a missing anchor or a
 * path that is no longer there.
 */
const ROOT = join(__dirname, '..');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((file) => file.endsWith('.md'))
  .map((file) => `docs/${file}`);
const PAGES = ['README.md', ...DOCS];

const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');

/** A page's text outside fenced code blocks. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** GitHub's anchor for a heading: code marks and punctuation dropped, lower case, each space a hyphen. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings; a repeated heading gets -1, -2, ... as on GitHub. */
function anchorsOf(page: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(read(page)).matchAll(/^#{1,6} +(.+)$/gm)) {
    const base = slug(heading);
    const repeats = seen.get(base) ?? 0;
    anchors.add(repeats === 0 ? base : `${base}-${repeats}`);
    seen.set(base, repeats + 1);
  }
  return anchors;
}

/** The relative link targets of a page (links and images), as written. */
function linksOf(page: string): string[] {
  return [...prose(read(page)).matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target).filter((target) => !/^[a-z]+:/i.test(target));
}

/** What is wrong with one link of `page`, or undefined when it resolves. */
function brokenLink(page: string, target: string): string | undefined {
  const [path, anchor] = target.split('#');
  const file = path === '' ? page : normalize(join(dirname(page), path));
  if (!existsSync(join(ROOT, file))) return `${page}: ${target}: no file ${file}`;
  if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(file).has(anchor))
    return `${page}: ${target}: no heading #${anchor} in ${file}`;
  return undefined;
}

/** Repository paths a page names in code spans (`apps/store/src/...`), placeholders like <app> left out. */
function pathsNamedBy(page: string): string[] {
  return [...prose(read(page)).matchAll(/`((?:apps|libs|scripts|test|bench|docs|docker)\/[\w./-]*)`/g)].map(([, path]) => path);
}

describe('the README and docs/', () => {
  it.each(PAGES)('%s: every relative link and anchor resolves', (page) => {
    expect(
      linksOf(page)
        .map((target) => brokenLink(page, target))
        .filter(Boolean),
    ).toEqual([]);
  });

  it.each(PAGES)('%s: every repository path it names exists', (page) => {
    expect(pathsNamedBy(page).filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });

  it('links every page of docs/ from the README', () => {
    const linked = new Set(linksOf('README.md').map((target) => normalize(target.split('#')[0])));
    expect(DOCS.filter((page) => !linked.has(page))).toEqual([]);
  });
});
