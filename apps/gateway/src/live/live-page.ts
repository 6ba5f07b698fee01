import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Response } from 'express';

/** One file of the live page, as the gateway serves it. */
export interface PageFile {
  readonly body: string;
  readonly contentType: string;
  /** A hash of the body: a browser that holds this version is answered 304 without it. */
  readonly etag: string;
}

/**
 * The page loads no script or style from anywhere but the gateway, and runs no inline one: food
 * names are user input, and the script inserts them as text; this makes it so even if it did not.
 */
const CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The live page's files (page/), read once when the gateway starts: a file the build did not copy
 * stops the start, not a viewer's request. The build copies page/ next to the compiled code.
 */
@Injectable()
export class LivePage {
  readonly html = readPageFile('index.html', 'text/html; charset=utf-8');
  readonly css = readPageFile('live.css', 'text/css; charset=utf-8');
  readonly script = readPageFile('live.js', 'text/javascript; charset=utf-8');
}

function readPageFile(name: string, contentType: string): PageFile {
  const body = readFileSync(join(__dirname, 'page', name), 'utf8');
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
}

/**
 * Puts the file's headers on the reply and gives its body to send. `no-cache` means "ask each time":
 * the page and its script change together with a deploy, so a browser must never mix the old one with
 * the new one; when nothing changed the answer is a 304 with no body (Express compares If-None-Match).
 */
export function servePageFile(res: Response, file: PageFile): string {
  res.set({
    'Content-Type': file.contentType,
    'Cache-Control': 'no-cache',
    ETag: file.etag,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  });
  return file.body;
}
