import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, ValidationError } from '../domain/errors.ts';
import { assertAdmin } from '../engine/services.ts';
import { SCHEMA_VERSION } from '../store/metadata/db.ts';
import { POSTGRES_BACKUP_ADVICE } from '../store/postgres-backup.ts';
import { createSecretBox, keyCheck, keyFromText } from '../store/secret-box.ts';
import { readServerFile } from '../server/server-file.ts';
import { audit } from './audit.ts';
import { openHome, resolveHomeDir, type Home } from './home.ts';
import { reapStaleRuns } from './runs.ts';

/**
 * `outflow backup` and `outflow restore`. A backup is a folder: `metadata.sqlite` (SQLite's online backup),
 * `profiles.duckdb` (DuckDB's COPY FROM DATABASE, one snapshot), `secret.key` unless left out, and
 * `backup.json` saying what it holds. Both copies are taken while the server serves and runs run: neither
 * store is locked for longer than its own snapshot.
 */

export const BACKUP_MANIFEST = 'backup.json';
const FORMAT = 'outflow-backup';

export interface BackupManifest {
  format: typeof FORMAT;
  version: 1;
  takenAt: string;
  /** The metadata schema version of the copy (the restored home is upgraded from it like any home). */
  schemaVersion: string;
  files: Array<{ name: string; bytes: number }>;
  /** `included`: secret.key is in the backup; `left-out`: `--without-key`; `environment`: OUTFLOW_SECRET_KEY. */
  key: 'included' | 'left-out' | 'environment';
  /** An HMAC of a fixed text under the key: restore checks the key it is given without decrypting anything. */
  keyCheck: string;
}

export interface BackupResult extends BackupManifest {
  path: string;
  /** What to keep in mind about the key (always said: a backup without its key cannot decrypt the connections). */
  keyNote: string;
  /** Runs that were in progress: the copy holds them `running`; a restore marks them interrupted for a resume. */
  runsInProgress: string[];
}

function keyNote(key: BackupManifest['key']): string {
  if (key === 'included') return 'The secret key is in the backup (secret.key): keep the backup as private as the home.';
  if (key === 'environment') return 'The secret key comes from OUTFLOW_SECRET_KEY and is not in the backup: restore with the same OUTFLOW_SECRET_KEY, or the connections cannot be decrypted.';
  return 'The secret key is NOT in the backup (--without-key): keep <home>/secret.key apart, and give it to `outflow restore --key-file`; without it the connections cannot be decrypted.';
}

/** An empty folder, or one to create; anything else is refused before anything is written. */
function prepareTarget(target: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ValidationError(`Cannot use ${target} for the backup (${(error as NodeJS.ErrnoException).code}). Pass a new or empty folder.`);
  }
  if (stat && !stat.isDirectory()) throw new ValidationError(`${target} is a file. A backup is a folder: pass a new or empty folder.`);
  if (stat && fs.readdirSync(target).length > 0) throw new ValidationError(`${target} is not empty. Pass a new or empty folder, so no earlier backup is mixed into this one.`);
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
}

/** Backs the home up into the folder `target` (new or empty), while it stays in use. Administrators only. */
export async function backupHome(home: Home, input: { target: string; withoutKey?: boolean }): Promise<BackupResult> {
  assertAdmin(home.actor, 'back up the home');
  if (home.metadata.dialect === 'postgres' || home.storage.profiles === 'postgres') throw new ConfigError('invalid_settings', POSTGRES_BACKUP_ADVICE);
  if (typeof input.target !== 'string' || input.target.trim() === '') throw new ValidationError('Give the folder to write the backup to, e.g. `outflow backup /backups/outflow-2026-12-06`.');
  const target = path.resolve(input.target);
  if (target === home.dir || target.startsWith(`${home.dir}${path.sep}`)) throw new ValidationError(`The backup cannot go inside the home it copies (${home.dir}). Pass a folder outside it, ideally on another disk.`);
  prepareTarget(target);
  try {
    const runsInProgress = (await home.db.selectFrom('runs').select('id').where('status', '=', 'running').execute()).map((r) => r.id);
    await home.metadata.backup(path.join(target, 'metadata.sqlite'));
    await home.profiles.backupTo(path.join(target, 'profiles.duckdb'));
    let keyState: BackupManifest['key'] = 'included';
    if (home.storage.key === 'environment') keyState = 'environment';
    else if (input.withoutKey) keyState = 'left-out';
    else fs.copyFileSync(path.join(home.dir, 'secret.key'), path.join(target, 'secret.key'));
    const files = fs
      .readdirSync(target)
      .sort()
      .map((name) => ({ name, bytes: fs.statSync(path.join(target, name)).size }));
    const manifest: BackupManifest = { format: FORMAT, version: 1, takenAt: home.now().toISOString(), schemaVersion: SCHEMA_VERSION, files, key: keyState, keyCheck: home.storage.keyCheck };
    fs.writeFileSync(path.join(target, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await audit(home, 'home.backup', { type: 'home', name: null }, { path: target, key: keyState, files: files.map((f) => f.name), runsInProgress: runsInProgress.length });
    return { ...manifest, path: target, keyNote: keyNote(keyState), runsInProgress };
  } catch (error) {
    // Half a backup must not pass for one.
    fs.rmSync(target, { recursive: true, force: true });
    throw error;
  }
}

export interface RestoreResult {
  home: string;
  from: string;
  takenAt: string;
  schemaVersion: string;
  connections: number;
  segments: number;
  exports: number;
  runs: number;
  /** Runs the copy held `running`: marked interrupted, resumed by the next `outflow serve` or `outflow run resume`. */
  interrupted: string[];
}

/** Files of a home that a restore replaces (with `force`) or that make a home non-empty. */
const HOME_FILES = ['metadata.sqlite', 'metadata.sqlite-wal', 'metadata.sqlite-shm', 'profiles.duckdb', 'profiles.duckdb.wal', 'secret.key'];

/**
 * Restores the backup folder `from` into the home `dir`: an empty home, or (with `force`) one whose data is
 * replaced, never one a server owns. The key comes from the backup, else `keyFile`, else OUTFLOW_SECRET_KEY,
 * and must be the one the backup was taken with. Runs by the restorer (the home's owner), not through a server.
 */
export async function restoreHome(input: { from: string; dir?: string; force?: boolean; keyFile?: string; env?: NodeJS.ProcessEnv }): Promise<RestoreResult> {
  const env = input.env ?? process.env;
  const from = path.resolve(input.from);
  const manifest = readManifest(from);
  if (env.OUTFLOW_DATABASE_URL?.trim() || env.OUTFLOW_PROFILES_URL?.trim()) throw new ConfigError('invalid_settings', `${POSTGRES_BACKUP_ADVICE} Unset OUTFLOW_DATABASE_URL and OUTFLOW_PROFILES_URL to restore an embedded home.`);
  const dir = resolveHomeDir(input.dir, env);
  const server = readServerFile(dir);
  if (server) {
    let answers = false;
    try {
      await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      answers = true;
    } catch {
      // A stale server.json of a server that is gone.
    }
    if (answers) throw new ConfigError('home_locked', `The home ${dir} is served by \`outflow serve\` at ${server.url} (pid ${server.pid}). Stop it before restoring into this home.`);
  }
  const present = HOME_FILES.filter((name) => fs.existsSync(path.join(dir, name)));
  if (present.length > 0 && !input.force) {
    throw new ValidationError(`The home ${dir} is not empty (it has ${present.join(', ')}). Restore into a new or empty home (--home <dir>), or pass --force to replace this home's data with the backup.`);
  }
  // The key first: a wrong one is refused before the home is touched.
  let keyText: string | undefined;
  if (manifest.key === 'included') keyText = fs.readFileSync(path.join(from, 'secret.key'), 'utf8');
  else if (input.keyFile) {
    try {
      keyText = fs.readFileSync(path.resolve(input.keyFile), 'utf8');
    } catch (error) {
      throw new ValidationError(`Cannot read the key file ${input.keyFile} (${(error as NodeJS.ErrnoException).code}).`);
    }
  } else if (!env.OUTFLOW_SECRET_KEY) {
    throw new ValidationError(
      `The backup ${from} does not hold the secret key (${manifest.key === 'environment' ? 'it came from OUTFLOW_SECRET_KEY' : 'it was taken --without-key'}). Pass the key with --key-file <secret.key>, or set OUTFLOW_SECRET_KEY to the key the backup was taken with.`,
    );
  }
  // A key file's text is trimmed (as when a home reads its secret.key); the variable's is taken as it is.
  const key = keyFromText(keyText !== undefined ? keyText.trim() : env.OUTFLOW_SECRET_KEY!);
  if (keyCheck(key) !== manifest.keyCheck) {
    throw new ValidationError('The secret key given is not the one this backup was taken with: the connections could not be decrypted. Pass the right key with --key-file, or set OUTFLOW_SECRET_KEY to it.');
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of HOME_FILES) fs.rmSync(path.join(dir, name), { force: true });
  const previousUmask = process.umask(0o077);
  try {
    for (const name of ['metadata.sqlite', 'profiles.duckdb']) fs.copyFileSync(path.join(from, name), path.join(dir, name));
    if (keyText !== undefined) fs.writeFileSync(path.join(dir, 'secret.key'), `${keyText.trim()}\n`, { mode: 0o600 });
  } finally {
    process.umask(previousUmask);
  }
  // Open it as any command would (an older copy is upgraded here), prove the secrets decrypt, and record it.
  const home = await openHome({ dir, env: { ...env, OUTFLOW_ROLE: '' } });
  try {
    const connections = await home.db.selectFrom('connections').select(['name', 'secrets']).execute();
    const box = createSecretBox(key);
    for (const c of connections) box.open(c.secrets);
    // Nothing executes the runs the copy holds `running`: they are interrupted, resumed like after a crash.
    const interrupted = await reapStaleRuns(home, 0);
    const count = async (table: 'segments' | 'exports' | 'runs') =>
      Number((await home.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const result: RestoreResult = {
      home: dir,
      from,
      takenAt: manifest.takenAt,
      schemaVersion: manifest.schemaVersion,
      connections: connections.length,
      segments: await count('segments'),
      exports: await count('exports'),
      runs: await count('runs'),
      interrupted,
    };
    await audit(home, 'home.restore', { type: 'home', name: null }, { from, takenAt: manifest.takenAt, replaced: present.length > 0, interrupted: interrupted.length });
    return result;
  } finally {
    await home.close();
  }
}

function readManifest(from: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(from, BACKUP_MANIFEST), 'utf8')) as BackupManifest;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ValidationError(
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `${from} is not an Outflow backup (it has no ${BACKUP_MANIFEST}). Pass the folder \`outflow backup\` wrote.`
        : `Cannot read ${path.join(from, BACKUP_MANIFEST)}: ${(error as Error).message}.`,
    );
  }
  if (manifest.format !== FORMAT || manifest.version !== 1) throw new ValidationError(`${from} is not a backup this version of Outflow can restore (format ${String(manifest.format)} ${String(manifest.version)}).`);
  for (const name of ['metadata.sqlite', 'profiles.duckdb', ...(manifest.key === 'included' ? ['secret.key'] : [])]) {
    if (!fs.existsSync(path.join(from, name))) throw new ValidationError(`The backup ${from} is incomplete: ${name} is missing. Use a complete backup.`);
  }
  return manifest;
}
