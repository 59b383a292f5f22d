import { describe, expect, it } from 'vitest';
import type { Run } from '../domain/model.ts';
import { decideAlert, maskWebhookUrl, parseEventList, parseNotifyConfig } from './notify.ts';

const run = (over: Partial<Run>): Run => ({
  id: 'run_b',
  exportId: 'exp_1',
  exportName: 'gold',
  connectionId: 'con_1',
  status: 'succeeded',
  trigger: 'manual',
  startedBy: 'ada',
  resumedFrom: null,
  queuedAt: '2026-11-29T06:00:00.000Z',
  startedAt: '2026-11-29T06:00:00.000Z',
  finishedAt: '2026-11-29T06:01:00.000Z',
  rowsTotal: 200,
  rowsDone: 200,
  sent: 190,
  rejected: 10,
  notAttempted: 0,
  sources: [],
  checkpoint: null,
  warnings: [],
  error: null,
  ...over,
});

describe('alert webhooks', () => {
  it('masks the secret part of a URL: the path past its first segment, the query, user info', () => {
    expect(maskWebhookUrl('https://hooks.slack.com/services/T000/B000/XXXXSECRET')).toBe('https://hooks.slack.com/services/***');
    expect(maskWebhookUrl('https://example.com/hook?token=abc')).toBe('https://example.com/hook?***');
    expect(maskWebhookUrl('https://user:pw@example.com/')).toBe('https://***@example.com/');
  });

  it('parses the config shape and the CLI list, refusing what it does not know without echoing the URL', () => {
    expect(parseNotifyConfig({ url: 'https://h.example/x/y', on: ['failed', { 'rejections-above': 5 }] }, 'notify')).toEqual({ url: 'https://h.example/x/y', on: ['failed', { 'rejections-above': 5 }] });
    expect(parseNotifyConfig({ url: 'https://h.example/x' }, 'notify').on).toEqual(['failed', 'recovered']);
    expect(parseEventList('failed, recovered,rejections-above=2.5')).toEqual(['failed', 'recovered', { 'rejections-above': 2.5 }]);
    expect(() => parseNotifyConfig({ url: 'not a url SECRET', on: ['failed'] }, 'notify')).toThrow(/not a valid URL/);
    expect(() => parseNotifyConfig({ url: 'not a url SECRET', on: ['failed'] }, 'notify')).not.toThrow(/SECRET/);
    expect(() => parseNotifyConfig({ url: 'https://h.example/x', on: [{ 'rejections-above': 150 }] }, 'notify')).toThrow(/percent/);
    expect(() => parseNotifyConfig({ url: 'https://h.example/x', every: 1 }, 'notify')).toThrow(/not "every"/);
  });

  it('fires on failure, on recovery after a failure, and above the rejected share only', () => {
    const failedBefore = run({ id: 'run_a', status: 'failed' });
    expect(decideAlert(run({ status: 'failed', error: { code: 'auth_failed', message: 'bad key' } }), ['failed'], null)?.events).toEqual(['failed']);
    expect(decideAlert(run({}), ['failed', 'recovered'], failedBefore)?.events).toEqual(['recovered']);
    expect(decideAlert(run({}), ['failed', 'recovered'], run({ id: 'run_a' }))).toBeNull();
    expect(decideAlert(run({ sent: 189, rejected: 11 }), [{ 'rejections-above': 5 }], null)).toMatchObject({ events: ['rejections-above'], rejectedPercent: 5.5, threshold: 5 } as never);
    expect(decideAlert(run({}), [{ 'rejections-above': 5 }], null)).toBeNull(); // 10 of 200 is 5 %, not above 5 %
  });
});
