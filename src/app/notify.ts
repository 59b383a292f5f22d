import { ValidationError } from '../domain/errors.ts';
import { assertAdmin } from '../engine/services.ts';
import { checkWebhookTarget, maskWebhookUrl, parseEvents, parseNotifyConfig, type NotifyEvent } from '../engine/notify.ts';
import { deleteNotify, getNotify, putNotify } from '../store/metadata/notify.ts';
import { audit } from './audit.ts';
import { permit } from './refusals.ts';
import type { Home } from './home.ts';
import { changeSetting, checkSettingPrecondition, settingETag, type Precondition } from './versions.ts';

/** A webhook as anyone sees it: the URL masked (its secret part never leaves the secret box but to be posted to). */
export interface NotifyView {
  url: string;
  on: NotifyEvent[];
  updatedBy: string;
  updatedAt: string;
  /** The version of the home's alert setting: send it as If-Match to change or remove exactly this one. */
  etag: string;
}

const HOME = 'home';

/** The home's default webhook, used by every export without its own; `null` when none is set. */
export async function showHomeNotify(home: Home): Promise<NotifyView | null> {
  assertAdmin(home.actor, 'see the alert webhook');
  const stored = await getNotify(home.db, home.box, HOME);
  return stored ? { url: stored.shownUrl, on: parseEvents(stored.on, 'notify'), updatedBy: stored.updatedBy, updatedAt: stored.updatedAt, etag: await settingETag(home.db, 'notify') } : null;
}

/** The version of the home's alert setting, set or not (turning it off is an edit too). */
export async function homeNotifyETag(home: Home): Promise<string> {
  assertAdmin(home.actor, 'see the alert webhook');
  return settingETag(home.db, 'notify');
}

const WHAT = "The home's alert webhook";

export async function setHomeNotify(home: Home, input: unknown, precondition?: Precondition): Promise<NotifyView> {
  await permit(home, 'notify.set', { type: 'notify' }, () => assertAdmin(home.actor, 'set the alert webhook'));
  // A stale change fails before the URL is checked (a DNS look-up), and again in the write if it became stale meanwhile.
  await checkSettingPrecondition(home.db, precondition, 'notify', WHAT);
  const config = parseNotifyConfig(input, 'The alert webhook');
  await checkWebhookTarget(config.url, home, 'The alert webhook');
  const shownUrl = maskWebhookUrl(config.url);
  await changeSetting(home.db, precondition, 'notify', WHAT, (tx) => putNotify(tx, home.box, { scope: HOME, url: config.url, shownUrl, on: config.on, by: home.actor.name }));
  await audit(home, 'notify.set', { type: 'home', name: 'notify' }, { url: shownUrl, on: config.on });
  return (await showHomeNotify(home))!;
}

export async function removeHomeNotify(home: Home, precondition?: Precondition): Promise<{ removed: boolean; etag: string }> {
  await permit(home, 'notify.off', { type: 'notify' }, () => assertAdmin(home.actor, 'turn the alert webhook off'));
  const removed = await changeSetting(home.db, precondition, 'notify', WHAT, (tx) => deleteNotify(tx, HOME));
  await audit(home, 'notify.off', { type: 'home', name: 'notify' }, { removed });
  return { removed, etag: await settingETag(home.db, 'notify') };
}

/**
 * An export's own webhook lives in its config as `notify`. The config keeps only the masked URL (so views,
 * `export show` and the update merge never hold the secret); the full URL goes to the secret box. Giving the
 * masked URL back (an update of other keys, or of `on` only) keeps the stored one.
 */
export async function prepareExportNotify(
  home: Home,
  config: Record<string, unknown>,
  exportId: string | undefined,
): Promise<{ config: Record<string, unknown>; save: (exportId: string) => Promise<void> }> {
  const raw = config.notify;
  if (raw === undefined) return { config, save: async (id) => void (await deleteNotify(home.db, `export:${id}`)) };
  const current = exportId ? await getNotify(home.db, home.box, `export:${exportId}`) : null;
  const given = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).url : undefined;
  let url: string;
  let on: NotifyEvent[];
  if (current && typeof given === 'string' && given === current.shownUrl) {
    url = current.url;
    const { url: _url, ...rest } = raw as Record<string, unknown>;
    on = parseNotifyConfig({ ...rest, url }, 'The export config\'s "notify"').on;
  } else {
    ({ url, on } = parseNotifyConfig(raw, 'The export config\'s "notify"'));
    await checkWebhookTarget(url, home, 'The export config\'s "notify"');
  }
  const shownUrl = maskWebhookUrl(url);
  if (!shownUrl) throw new ValidationError('The export config\'s "notify" needs a URL.');
  return {
    config: { ...config, notify: { url: shownUrl, on } },
    save: (id) => putNotify(home.db, home.box, { scope: `export:${id}`, url, shownUrl, on, by: home.actor.name }),
  };
}
