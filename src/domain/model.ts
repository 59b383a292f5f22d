import { z } from 'zod';
import type { DestinationId } from '../destinations/kit/define.ts';
import type { ErrorCode } from './errors.ts';
import type { RunStatus } from './run-state.ts';

export const roles = ['admin', 'contributor', 'viewer'] as const;
export type Role = (typeof roles)[number];

/**
 * Who is acting: recorded on connections (consent), exports, runs and the audit log. `via` and `address`
 * say where the request came from, for the audit log.
 */
export interface Actor {
  name: string;
  role: Role;
  /** `apply`: a change made by `outflow apply` (or its API operation) from a configuration file. */
  via?: 'cli' | 'api' | 'apply';
  address?: string;
}

export type UsableBy = 'admins' | 'admins-and-contributors';

export interface PrivacyConsent {
  acceptedBy: string;
  acceptedAt: string;
}

export interface Connection {
  id: string;
  name: string;
  type: DestinationId;
  /** Non-secret settings, as validated by the destination's schema. */
  config: Record<string, unknown>;
  /** Names of the secret settings that hold a value (the values stay encrypted in the store). */
  secretKeys: string[];
  /** Facts recorded by checks: host key fingerprint, last verification. */
  state: Record<string, unknown>;
  usableBy: UsableBy;
  consent: PrivacyConsent;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** Advances with every edit (see src/app/versions.ts). */
  version: number;
}

export interface Segment {
  id: string;
  name: string;
  entity: string;
  filter: string;
  createdBy: string;
  createdAt: string;
  refreshedAt: string | null;
  members: number | null;
  /** Advances with every edit of the definition, not with refreshes (see src/app/versions.ts). */
  version: number;
}

/**
 * What a record export sends each run: `full` every member; `upsert` members who joined or whose mapped values
 * changed; `mirror` the same plus removals of members who left (and of a member's old identity).
 */
export const syncModes = ['full', 'upsert', 'mirror'] as const;
export type SyncMode = (typeof syncModes)[number];

/** The part of an export's config the engine owns; destination settings sit beside these keys. */
export const exportConfigBase = z.object({
  mapping: z.record(z.string(), z.string().min(1)).default({}),
  syncMode: z.enum(syncModes).default('full'),
});

export interface Export {
  id: string;
  name: string;
  connectionId: string;
  sourceKind: 'segments' | 'entities';
  sources: string[];
  /** `mapping`, `syncMode` and the destination's own settings. */
  config: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** Advances with every edit (see src/app/versions.ts). */
  version: number;
}

export { runStatuses, type RunStatus } from './run-state.ts';

export interface FileResult {
  path: string;
  rows: number;
  bytes: number;
}

/** What one run did for one segment or entity. */
export interface SourceResult {
  name: string;
  rows: number;
  files?: FileResult[];
  sent?: number;
  rejected?: number;
  removed?: number;
  /** Mirror and upsert: members sent because they joined, because their values changed, and members skipped unchanged. */
  added?: number;
  updated?: number;
  unchanged?: number;
}

export interface RunRejection {
  source: string;
  key: string;
  code: string;
  reason: string;
}

/** Where a record run can pick up again: sources before `sourceIndex` are done, and so is every key ≤ `afterKey`. */
export interface RunCheckpoint {
  sourceIndex: number;
  phase: 'remove' | 'add';
  afterKey: string | null;
  /** The run whose membership snapshot this run (and every resume of it) works on. */
  snapshot?: string;
  /** `export run --full-resync`: every member is sent and the delivered state rebuilt; a resume keeps it. */
  fullResync?: boolean;
  /**
   * File runs: the renames planned once every part was staged, recorded before the first one starts, so that
   * a run interrupted among them is finished (rolled forward) by its resume instead of leaving half a set.
   */
  commit?: PlannedCommit;
}

/** A staged file set about to be published: the renames, and the manifest written last. */
export interface PlannedCommit {
  files: Array<{ tempPath: string; path: string }>;
  /** The run's results as they will be recorded once the renames are done. */
  sources: SourceResult[];
  /** One manifest per source: its final name and its content. */
  manifests: Array<{ name: string; content: string }>;
}

export interface Run {
  id: string;
  exportId: string;
  exportName: string;
  connectionId: string;
  status: RunStatus;
  trigger: 'manual' | 'refresh' | 'resume' | 'recovery';
  startedBy: string;
  resumedFrom: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  rowsTotal: number | null;
  rowsDone: number;
  sent: number;
  rejected: number;
  notAttempted: number;
  sources: SourceResult[];
  checkpoint: RunCheckpoint | null;
  warnings: string[];
  error: { code: ErrorCode; message: string } | null;
}
