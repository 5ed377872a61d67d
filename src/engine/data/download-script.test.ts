import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DownloadError, download, extractCifar10, md5 } from '../../../scripts/download-cifar10';
import { makeCifarFixtureArchive, makeCifarFixtureFiles } from './fixture';

describe('scripts/download-cifar10', () => {
  const dir = mkdtempSync(join(tmpdir(), 'c10-dl-'));
  const servers: Server[] = [];
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('extracts the batches flat after a matching MD5, and refuses a mismatch', async () => {
    const archive = makeCifarFixtureArchive({ recordsPerBatch: 2 });
    const written = await extractCifar10('fixture.tar.gz', archive, dir, md5(archive));
    expect(readdirSync(dir).sort()).toEqual([
      'batches.meta.txt',
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
      'test_batch.bin',
    ]);
    expect(written).toHaveLength(7);
    const want = makeCifarFixtureFiles({ recordsPerBatch: 2 }).find((f) => f.name.endsWith('test_batch.bin'))!;
    expect(Buffer.compare(readFileSync(join(dir, 'test_batch.bin')), want.bytes)).toBe(0);
    await expect(extractCifar10('fixture.tar.gz', archive, dir)).rejects.toThrow(/MD5 is [0-9a-f]{32}, expected c32a1d4a/);
  });

  it('gives up on a server that never answers, after the idle timeout', async () => {
    const server = createServer(() => {
      /* accepts and never responds */
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const err = await download(`http://127.0.0.1:${port}/x.tar.gz`, 0.3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/no answer within 0.3 s/);
  });

  it('reports an HTTP error status', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 404;
      res.end('nope');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await expect(download(`http://127.0.0.1:${port}/x.tar.gz`, 5)).rejects.toThrow(/answered 404/);
  });
});
