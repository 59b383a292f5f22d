import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Gather } from './gather.ts';

async function piecesOf(chunks: Buffer[], pieceBytes: number): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  for await (const piece of Readable.from(chunks, { objectMode: false }).pipe(new Gather(pieceBytes))) pieces.push(piece as Buffer);
  return pieces;
}

describe('Gather', () => {
  it('passes the bytes on unchanged, in pieces of at least its size but the last', async () => {
    // 64 KiB reads, as a FIFO gives them, and a few odd sizes.
    const chunks = [...Array.from({ length: 19 }, (_, i) => Buffer.alloc(64 * 1024, i)), Buffer.alloc(1000, 'a'), Buffer.alloc(70_000, 'b')];
    const pieces = await piecesOf(chunks, 256 * 1024);
    expect(Buffer.concat(pieces).equals(Buffer.concat(chunks))).toBe(true);
    for (const piece of pieces.slice(0, -1)) expect(piece.length).toBeGreaterThanOrEqual(256 * 1024);
    // 1,316,184 bytes: four pieces of 256 KiB, then the last 64 KiB reads with the odd chunks.
    expect(pieces.map((p) => p.length)).toEqual([262144, 262144, 262144, 262144, 267608]);
  });

  it('hands a chunk at least its size on as it is, and a short stream on at its end', async () => {
    const big = Buffer.alloc(300_000, 'x');
    expect((await piecesOf([big], 256 * 1024))[0]).toBe(big);
    expect((await piecesOf([Buffer.from('a,b\n'), Buffer.from('1,2\n')], 256 * 1024)).map(String)).toEqual(['a,b\n1,2\n']);
    expect(await piecesOf([], 256 * 1024)).toEqual([]);
  });
});
