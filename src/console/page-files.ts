// The console's page: static files from page/ beside this module (src/console/page; `npm run build`
// copies it to dist/console/page), read once; served with their types, never from outside the folder.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

export interface PageFile {
  type: string;
  body: Buffer;
}

/** name -> file, for the page's own files only (no subfolders, no paths from the request). */
export function readPageFiles(dir = PAGE_DIR): Map<string, PageFile> {
  const files = new Map<string, PageFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return files;
}
