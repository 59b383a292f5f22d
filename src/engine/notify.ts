import { ValidationError } from '../domain/errors.ts';
import type { Run } from '../domain/model.ts';
import { privateAddressOf, type Lookup } from '../lib/private-address.ts';
import { sleep as realSleep } from '../lib/rate-limit.ts';
import { getNotify, type StoredNotify } from '../store/metadata/notify.ts';
import { listRuns } from '../store/metadata/runs.ts';
import type { Services } from './services.ts';

/**
 * When a webhook fires:
 * - `"failed"`: a run failed;
 * - `"recovered"`: a run succeeded and the export's previous finished run had failed;
 * - `{ "rejections-above": 5 }`: a run rejected more than 5 % of the records it handled (sent + rejected).
 */
export type NotifyEvent = 'failed' | 'recovered' | { 'rejections-above': number };

export interface NotifyConfig {
  url: string;
  on: NotifyEvent[];
}

export const NOTIFY_DEFAULT_EVENTS: NotifyEvent[] = ['failed', 'recovered'];
const MASK = '***';

/** Parses `notify` as the export config and the API take it; `where` names it in messages. */
export function parseNotifyConfig(value: unknown, where: string): NotifyConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`${where} must be an object such as {"url": "https://hooks.slack.com/services/…", "on": ["failed", "recovered", {"rejections-above": 5}]}.`);
  }
  const { url, on, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new ValidationError(`${where} takes "url" and "on", not ${unknown.map((k) => `"${k}"`).join(', ')}.`);
  return { url: parseWebhookUrl(url, where), on: parseEvents(on ?? NOTIFY_DEFAULT_EVENTS, where) };
}

function parseWebhookUrl(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(`${where} needs "url": the webhook to post to (https://…).`);
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    // Never echo the value: it holds the webhook's secret.
    throw new ValidationError(`${where}: "url" is not a valid URL. Give the full webhook address, starting with https://.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValidationError(`${where}: "url" must start with https:// (or http:// on a private network).`);
  if (url.toString().includes(MASK)) {
    throw new ValidationError(`${where}: "url" is the masked address Outflow shows; give the full webhook address, or leave "notify" out to keep the current one.`);
  }
  return url.toString();
}

export function parseEvents(value: unknown, where: string): NotifyEvent[] {
  if (!Array.isArray(value) || value.length === 0) throw new ValidationError(`${where}: "on" must be a non-empty list of "failed", "recovered" and {"rejections-above": <percent>}.`);
  return value.map((event): NotifyEvent => {
    if (event === 'failed' || event === 'recovered') return event;
    if (typeof event === 'object' && event !== null && !Array.isArray(event) && Object.keys(event).length === 1 && 'rejections-above' in event) {
      const percent = (event as Record<string, unknown>)['rejections-above'];
      if (typeof percent === 'number' && Number.isFinite(percent) && percent >= 0 && percent < 100) return { 'rejections-above': percent };
      throw new ValidationError(`${where}: "rejections-above" is a percent of a run's records, from 0 up to (not including) 100.`);
    }
    throw new ValidationError(`${where}: "on" takes "failed", "recovered" and {"rejections-above": <percent>}, not ${JSON.stringify(event)}.`);
  });
}

/** `failed,recovered,rejections-above=5`, the CLI's form, as the JSON list. */
export function parseEventList(text: string): unknown[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const match = /^rejections-above=(.+)$/.exec(item);
      return match ? { 'rejections-above': Number(match[1]) } : item;
    });
}

/**
 * The URL as views and logs show it: scheme, host and the first path segment; the rest of the path (Slack's
 * `T…/B…/token`), any query string and any user info are masked.
 */
export function maskWebhookUrl(value: string): string {
  const url = new URL(value);
  const segments = url.pathname.split('/').filter(Boolean);
  const path = segments.length === 0 ? '/' : segments.length === 1 ? `/${segments[0]}` : `/${segments[0]}/${MASK}`;
  return `${url.protocol}//${url.username || url.password ? `${MASK}@` : ''}${url.host}${path}${url.search ? `?${MASK}` : ''}`;
}

export interface AlertBody {
  /** Slack's field: a line a person reads. */
  text: string;
  events: Array<'failed' | 'recovered' | 'rejections-above'>;
  export: string;
  runId: string;
  status: Run['status'];
  counts: { rows: number | null; sent: number; rejected: number; notAttempted: number };
  rejectedPercent: number;
  threshold?: number;
  error?: { code: string; message: string };
  startedAt: string | null;
  finishedAt: string | null;
}

/** What to say about a run that ended, if anything, under `on`. */
export function decideAlert(run: Run, on: NotifyEvent[], previous: Run | null): AlertBody | null {
  const events: AlertBody['events'] = [];
  const handled = run.sent + run.rejected;
  const rejectedPercent = handled === 0 ? 0 : Math.round((run.rejected / handled) * 10_000) / 100;
  let threshold: number | undefined;
  for (const event of on) {
    if (event === 'failed' && run.status === 'failed') events.push('failed');
    else if (event === 'recovered' && run.status === 'succeeded' && previous?.status === 'failed') events.push('recovered');
    else if (typeof event === 'object' && (run.status === 'succeeded' || run.status === 'failed') && handled > 0 && (run.rejected / handled) * 100 > event['rejections-above']) {
      if (!events.includes('rejections-above')) events.push('rejections-above');
      threshold = Math.min(threshold ?? Infinity, event['rejections-above']);
    }
  }
  if (events.length === 0) return null;
  const lines: string[] = [];
  if (events.includes('failed')) lines.push(`Outflow: export "${run.exportName}" failed (run ${run.id}): ${run.error?.message ?? 'no reason recorded'}`);
  if (events.includes('recovered')) lines.push(`Outflow: export "${run.exportName}" recovered: run ${run.id} succeeded after the failed run ${previous!.id} (${run.sent.toLocaleString('en-US')} sent).`);
  if (events.includes('rejections-above')) {
    lines.push(
      `Outflow: export "${run.exportName}" rejected ${rejectedPercent} % of its records in run ${run.id} (${run.rejected.toLocaleString('en-US')} of ${handled.toLocaleString('en-US')}), above the ${threshold} % threshold. ` +
        `List them with \`outflow run rejections ${run.id}\`.`,
    );
  }
  return {
    text: lines.join('\n'),
    events,
    export: run.exportName,
    runId: run.id,
    status: run.status,
    counts: { rows: run.rowsTotal, sent: run.sent, rejected: run.rejected, notAttempted: run.notAttempted },
    rejectedPercent,
    ...(threshold !== undefined ? { threshold } : {}),
    ...(run.error ? { error: run.error } : {}),
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}

/**
 * Refuses a webhook on a loopback, private or link-local address (the host itself, or any address its name
 * resolves to) unless the server allows them (`OUTFLOW_WEBHOOKS_ALLOW_PRIVATE=1`). Checked when a webhook is
 * saved and again before each alert is sent (a name can resolve elsewhere later).
 */
export async function checkWebhookTarget(url: string, services: Pick<Services, 'allowPrivateWebhooks'>, where: string, lookup?: Lookup): Promise<void> {
  if (services.allowPrivateWebhooks) return;
  const target = new URL(url);
  const address = await privateAddressOf(target, lookup);
  if (address === null) return;
  const resolved = target.hostname.replace(/^\[|\]$/g, '') === address ? '' : ` (it resolves to ${address})`;
  throw new ValidationError(
    `${where}: "url" points at ${target.hostname}${resolved}, a loopback, private or link-local address. Alerts go to public webhooks; to allow private ones, whoever runs the server sets OUTFLOW_WEBHOOKS_ALLOW_PRIVATE=1.`,
    [{ path: 'url', message: 'private address' }],
  );
}

export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;
const NOTIFY_ATTEMPTS = 3;
const NOTIFY_BACKOFF_MS = 1_000;

/**
 * Posts the alert for a run that just ended, if its export's webhook (or else the home's) asks for one.
 * Never throws and never changes how the run ended: a failed delivery is logged and returned as a warning
 * for the run. Each attempt has a deadline held by a timer that is cleared when the attempt ends.
 */
export async function notifyRunFinished(services: Services, run: Run): Promise<string | null> {
  if (run.status !== 'succeeded' && run.status !== 'failed') return null;
  // A run stopped by a server shutdown resumes by itself when the server starts: not a failure to page anyone for.
  if (run.error?.code === 'interrupted') return null;
  let target: StoredNotify | null;
  try {
    target = (await getNotify(services.db, services.box, `export:${run.exportId}`)) ?? (await getNotify(services.db, services.box, 'home'));
  } catch (error) {
    services.log.error({ runId: run.id, code: (error as { code?: string }).code }, 'cannot read the alert webhook');
    return 'No alert was sent: the stored webhook cannot be read (was the secret key changed?). Set it again with `outflow notify set`.';
  }
  if (!target) return null;
  const on = parseEvents(target.on, 'notify');
  const previous = (await listRuns(services.db, { exportId: run.exportId, limit: 20 })).find(
    (r) => r.id !== run.id && (r.status === 'succeeded' || r.status === 'failed') && r.finishedAt !== null && (run.finishedAt === null || r.finishedAt <= run.finishedAt),
  );
  const body = decideAlert(run, on, previous ?? null);
  if (!body) return null;
  try {
    await checkWebhookTarget(target.url, services, 'The alert webhook');
  } catch (error) {
    services.log.warn({ runId: run.id, webhook: target.shownUrl }, 'alert not sent: the webhook is on a private address');
    return `The alert to ${target.shownUrl} was not sent: ${(error as Error).message}`;
  }
  const timeoutMs = services.notifyTimeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
  const wait = services.retryClock?.sleep ?? realSleep;
  let problem = '';
  for (let attempt = 1; attempt <= NOTIFY_ATTEMPTS; attempt++) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await services.fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Outflow' },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        services.log.info({ runId: run.id, webhook: target.shownUrl, events: body.events }, 'alert sent');
        return null;
      }
      problem = `it answered HTTP ${response.status}`;
      // A 4xx other than 408/429 will not change on a retry (a revoked Slack hook answers 404 or 410).
      if (response.status < 500 && response.status !== 408 && response.status !== 429) break;
    } catch (error) {
      // Only the error's code: a fetch error's text can quote the URL, and the URL holds the secret.
      problem = controller.signal.aborted ? `it did not answer within ${Math.round(timeoutMs / 100) / 10} s` : `it could not be reached (${networkCode(error)})`;
    } finally {
      clearTimeout(timer);
    }
    if (attempt < NOTIFY_ATTEMPTS) await wait(NOTIFY_BACKOFF_MS * 2 ** (attempt - 1)).catch(() => {});
  }
  services.log.warn({ runId: run.id, webhook: target.shownUrl, events: body.events }, `alert not delivered: ${problem}`);
  return `The alert to ${target.shownUrl} was not delivered: ${problem}. The run itself is not affected; check the webhook with \`outflow notify show\`.`;
}

function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}
