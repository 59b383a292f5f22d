import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes on unchanged, in pieces of at least `pieceBytes` (the last one may be smaller). A FIFO or a
 * pipe hands over at most 64 KiB a read, and a stage that costs something per chunk rather than per byte pays
 * that on every one: zlib goes to a pool thread and back to the event loop once per chunk. One copy of the
 * bytes is cheaper than the round trips it saves.
 */
export class Gather extends Transform {
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(
    private readonly pieceBytes: number,
    highWaterMark = pieceBytes,
  ) {
    super({ highWaterMark });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= this.pieceBytes) this.release();
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.heldBytes > 0) this.release();
    done();
  }

  private release(): void {
    this.push(this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes));
    this.held = [];
    this.heldBytes = 0;
  }
}
