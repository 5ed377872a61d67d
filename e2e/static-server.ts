import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

/**
 * A plain static file server, as a static host is: `dir` served under `prefix` and nothing
 * else (every other path is a 404, so an absolute asset URL in the build fails loudly). No
 * SPA fallback, no rewriting, no special headers beyond the content type.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

export async function serveStatic(dir: string, prefix: string): Promise<{ origin: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const root = normalize(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    if (!path.startsWith(prefix)) return void res.writeHead(404).end('not found');
    const file = normalize(join(root, path.slice(prefix.length) || 'index.html'));
    if (file !== root && !file.startsWith(root + sep)) return void res.writeHead(403).end();
    let target = file;
    try {
      if (statSync(target).isDirectory()) target = join(target, 'index.html');
      statSync(target);
    } catch {
      return void res.writeHead(404).end('not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream' });
    createReadStream(target).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, server, requests };
}
