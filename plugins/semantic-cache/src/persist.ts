import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname } from 'node:path';
import { IndexFileError } from './errors.js';
import type { SemanticIndex } from './semantic-index.js';

const MAGIC = 'FGSEMIX1';
/** Bumped when the partition key or the entry layout changes: an older file is then ignored. */
export const FORMAT_VERSION = 1;

interface Header {
  version: number;
  embedder: string;
  dimensions: number;
  savedAt: number;
  /** [partition, key, question, addedAt, expiresAt], in the order of the vectors. */
  entries: [string, string, string, number, number][];
}

/**
 * Writes the index to `path`: a magic string, a JSON header (embedder id, dimensions, the entries)
 * and the vectors as little-endian float32 rows. Written to a temporary file and renamed, so a crash
 * mid-write leaves the previous file intact. The snapshot is taken synchronously: calls indexing
 * meanwhile are not half in it.
 */
export async function saveIndex(path: string, index: SemanticIndex, embedder: string, now: number): Promise<number> {
  if (endianness() !== 'LE') throw new IndexFileError(path, 'saving is supported on little-endian machines only');
  const entries: Header['entries'] = [];
  const vectors: Float32Array[] = [];
  for (const [e, v] of index.snapshot()) {
    if (e.expiresAt <= now) continue;
    entries.push([e.partition, e.key, e.question, e.addedAt, e.expiresAt]);
    vectors.push(v);
  }
  const header: Header = { version: FORMAT_VERSION, embedder, dimensions: index.dimensions, savedAt: now, entries };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = 8 + 4 + json.length;
  const vectorStart = Math.ceil(headerEnd / 4) * 4;
  const buf = Buffer.alloc(vectorStart + vectors.length * index.dimensions * 4);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(json.length, 8);
  json.copy(buf, 12);
  const rows = new Float32Array(buf.buffer, buf.byteOffset + vectorStart, vectors.length * index.dimensions);
  for (const [i, v] of vectors.entries()) rows.set(v, i * index.dimensions);
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, buf);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new IndexFileError(path, `cannot write: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  return entries.length;
}

export interface LoadResult {
  /** Entries restored. */
  loaded: number;
  /** Entries left out because they expired while the file was on disk. */
  expired: number;
}

/**
 * Reads a file written by `saveIndex` into `index` (added to what it holds). Resolves with
 * `undefined` when there is no file; rejects with `IndexFileError` when the file is corrupt, of
 * another format version, or made by another embedder (its vectors mean nothing to this one).
 */
export async function loadIndex(
  path: string,
  index: SemanticIndex,
  embedder: string,
  now: number,
): Promise<LoadResult | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IndexFileError(path, `cannot read: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  if (endianness() !== 'LE') throw new IndexFileError(path, 'loading is supported on little-endian machines only');
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC)
    throw new IndexFileError(path, 'not a semantic index file');
  const length = buf.readUInt32LE(8);
  if (12 + length > buf.length) throw new IndexFileError(path, 'truncated header');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + length)) as Header;
  } catch (err) {
    throw new IndexFileError(path, 'corrupt header', err);
  }
  if (header.version !== FORMAT_VERSION) {
    throw new IndexFileError(path, `format version ${String(header.version)}, expected ${FORMAT_VERSION}`);
  }
  if (header.embedder !== embedder || header.dimensions !== index.dimensions) {
    throw new IndexFileError(
      path,
      `made by embedder "${header.embedder}" (${header.dimensions} dimensions), not "${embedder}" (${index.dimensions})`,
    );
  }
  const d = header.dimensions;
  const vectorStart = Math.ceil((12 + length) / 4) * 4;
  if (!Array.isArray(header.entries) || buf.length !== vectorStart + header.entries.length * d * 4) {
    throw new IndexFileError(path, 'the vectors do not match the entries (truncated file?)');
  }
  // Copy into an aligned buffer: the file's bytes may not start at a multiple of 4.
  const rows = new Float32Array(header.entries.length * d);
  new Uint8Array(rows.buffer).set(buf.subarray(vectorStart));
  let loaded = 0;
  let expired = 0;
  for (const [i, e] of header.entries.entries()) {
    const [partition, key, question, addedAt, expiresAt] = e;
    if (typeof partition !== 'string' || typeof key !== 'string' || typeof question !== 'string') {
      throw new IndexFileError(path, `entry ${i} is malformed`);
    }
    if (!(expiresAt > now)) {
      expired++;
      continue;
    }
    index.add(partition, key, question, rows.subarray(i * d, (i + 1) * d), addedAt, expiresAt);
    loaded++;
    // Building a graph of 100k entries takes seconds: let the process breathe meanwhile.
    if (loaded % 1000 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { loaded, expired };
}
