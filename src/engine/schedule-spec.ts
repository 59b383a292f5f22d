import { Cron } from 'croner';
import { ValidationError } from '../domain/errors.ts';
import { closestMatch } from '../lib/edit-distance.ts';

/**
 * When something fires: 5-field cron expressions read in an IANA time zone. The days/times form
 * (`--days mon-fri --times 06:00,18:00`) compiles to this, one expression per distinct minute.
 *
 * DST follows Vixie cron, through croner's `fixedTimeRule: 'no-wildcard'`: a job whose minute and hour have no
 * wildcard or step is a fixed-time job: a time in the hour that spring-forward skips (02:30 in Europe/Paris on
 * the last Sunday of March) fires once at the first valid instant after the gap (03:00), and a time that
 * fall-back repeats (01:30 in America/New_York on the first Sunday of November) fires once, at its first
 * occurrence. Jobs with a wildcard or step (`*\/30 * * * *`) keep their rhythm in elapsed time instead.
 */
export interface ScheduleSpec {
  crons: string[];
  timeZone: string;
}

const DAY_NUMBERS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const DAY_ALIASES: Record<string, number> = {
  ...DAY_NUMBERS,
  sunday: 0, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6,
  tues: 2, wednes: 3, thur: 4, thurs: 4,
};
const EVERY_DAY = new Set(['daily', 'every-day', 'everyday', '*', 'all']);

/** Checks an IANA zone name and returns its canonical spelling (`europe/paris` → `Europe/Paris`). */
export function checkTimeZone(zone: string | undefined): string {
  const name = zone?.trim();
  if (!name) throw new ValidationError('A schedule needs a time zone: pass --tz with an IANA name such as Europe/Paris or America/New_York.');
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    const guess = closestMatch(name, Intl.supportedValuesOf('timeZone'));
    throw new ValidationError(
      `"${name}" is not an IANA time zone${guess ? `; did you mean ${guess}?` : '.'} Use a name such as Europe/Paris, America/New_York or UTC.`,
      [{ path: 'timeZone', message: 'unknown time zone' }],
    );
  }
}

function cronFor(expression: string, timeZone: string): Cron {
  return new Cron(expression, { timezone: timeZone, mode: '5-part', fixedTimeRule: 'no-wildcard', paused: true });
}

/** Checks a 5-field cron expression (minute hour day-of-month month day-of-week) in a zone. */
export function checkCron(expression: string | undefined, zone: string | undefined): ScheduleSpec {
  const timeZone = checkTimeZone(zone);
  const cron = expression?.trim().replace(/\s+/g, ' ');
  if (!cron) throw new ValidationError('Give the cron expression, e.g. --cron "0 6 * * 1-5" (minute hour day-of-month month day-of-week).');
  let job: Cron;
  try {
    job = cronFor(cron, timeZone);
  } catch (error) {
    // croner's messages end with a full stop of their own; ours adds one after the reason.
    const reason = (error as Error).message.replace(/^CronPattern:\s*/, '').replace(/[.\s]+$/, '');
    throw new ValidationError(
      `"${cron}" is not a cron expression Outflow takes: ${reason}. Give 5 fields: minute hour day-of-month month day-of-week, e.g. "0 6 * * 1-5".`,
      [{ path: 'cron', message: 'invalid cron expression' }],
    );
  }
  if (!job.nextRun(new Date())) throw new ValidationError(`"${cron}" never fires (no such date). Check the day-of-month and month fields.`, [{ path: 'cron', message: 'never fires' }]);
  return { crons: [cron], timeZone };
}

/** Parses `mon-fri`, `mon,wed,fri`, `sat-sun`, `fri-mon` (wraps) or `daily` into day-of-week numbers. */
export function parseDays(days: string | undefined): number[] {
  const text = days?.trim().toLowerCase();
  if (!text) throw new ValidationError('Give the days, e.g. --days mon-fri, --days mon,wed,fri or --days daily.');
  if (EVERY_DAY.has(text)) return [0, 1, 2, 3, 4, 5, 6];
  const day = (name: string): number => {
    const n = DAY_ALIASES[name.trim()];
    if (n === undefined) {
      const guess = closestMatch(name.trim(), Object.keys(DAY_NUMBERS));
      throw new ValidationError(`"${name.trim()}" is not a day${guess ? `; did you mean ${guess}?` : '.'} Use mon, tue, wed, thu, fri, sat, sun, ranges such as mon-fri, or daily.`, [
        { path: 'days', message: 'unknown day' },
      ]);
    }
    return n;
  };
  const picked = new Set<number>();
  for (const part of text.split(',')) {
    if (!part.trim()) continue;
    const [from, to, ...rest] = part.split('-');
    if (rest.length > 0) throw new ValidationError(`"${part.trim()}" is not a day or a range of days such as mon-fri.`, [{ path: 'days', message: 'bad range' }]);
    if (to === undefined) {
      picked.add(day(from!));
      continue;
    }
    const start = day(from!);
    const end = day(to);
    for (let d = start; ; d = (d + 1) % 7) {
      picked.add(d);
      if (d === end) break;
    }
  }
  if (picked.size === 0) throw new ValidationError('Give at least one day, e.g. --days mon-fri.', [{ path: 'days', message: 'empty' }]);
  return [...picked].sort((a, b) => a - b);
}

/** Parses `06:00,18:30` into sorted, distinct [hour, minute] pairs. */
export function parseTimes(times: string | string[] | undefined): Array<[number, number]> {
  const items = (Array.isArray(times) ? times : (times ?? '').split(',')).map((t) => t.trim()).filter(Boolean);
  if (items.length === 0) throw new ValidationError('Give the times of day, e.g. --times 06:00,18:00 (24-hour clock, in the --tz zone).');
  const seen = new Map<string, [number, number]>();
  for (const item of items) {
    const match = /^(\d{1,2}):(\d{2})$/.exec(item);
    const hour = match ? Number(match[1]) : NaN;
    const minute = match ? Number(match[2]) : NaN;
    if (!match || hour > 23 || minute > 59) {
      throw new ValidationError(`"${item}" is not a time of day: use HH:MM on a 24-hour clock, 00:00 to 23:59 (e.g. 06:00 or 18:30).`, [{ path: 'times', message: 'bad time' }]);
    }
    seen.set(`${hour}:${minute}`, [hour, minute]);
  }
  return [...seen.values()].sort((a, b) => a[0] * 60 + a[1] - (b[0] * 60 + b[1]));
}

/** Compiles the days/times form to cron expressions: one per distinct minute, with its hours listed. */
export function compileDaysTimes(days: string | undefined, times: string | string[] | undefined, zone: string | undefined): ScheduleSpec & { days: string; times: string[] } {
  const timeZone = checkTimeZone(zone);
  const dayNumbers = parseDays(days);
  const pairs = parseTimes(times);
  const dow = dayNumbers.length === 7 ? '*' : compactList(dayNumbers);
  const byMinute = new Map<number, number[]>();
  for (const [hour, minute] of pairs) byMinute.set(minute, [...(byMinute.get(minute) ?? []), hour]);
  const crons = [...byMinute.entries()].sort((a, b) => a[0] - b[0]).map(([minute, hours]) => `${minute} ${hours.join(',')} * * ${dow}`);
  const names = Object.keys(DAY_NUMBERS);
  return {
    crons,
    timeZone,
    days: dayNumbers.length === 7 ? 'daily' : compactList(dayNumbers, (n) => names[n]!),
    times: pairs.map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
  };
}

/** `[1,2,3,4,5]` → `1-5`; `[0,3,5]` → `0,3,5`. */
function compactList(values: number[], label: (n: number) => string = String): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${label(values[i]!)}-${label(values[j]!)}` : values.slice(i, j + 1).map(label).join(','));
    i = j + 1;
  }
  return parts.join(',');
}

/** The next `count` fire times strictly after `after`, across every expression (an instant fires once). */
export function nextFireTimes(spec: ScheduleSpec, after: Date, count: number): Date[] {
  const all = new Map<number, Date>();
  for (const expression of spec.crons) {
    for (const at of cronFor(expression, spec.timeZone).nextRuns(count, after)) all.set(at.getTime(), at);
  }
  return [...all.values()].sort((a, b) => a.getTime() - b.getTime()).slice(0, count);
}

/**
 * The latest fire time in (`after`, `now`], or null. However many slots passed (a server down for a week),
 * this is one slot: a missed refresh runs once, not once per missed slot.
 */
export function dueSlot(spec: ScheduleSpec, after: Date, now: Date): Date | null {
  const [next] = nextFireTimes(spec, after, 1);
  if (!next || next.getTime() > now.getTime()) return null;
  let latest = next;
  // previousRuns counts a run earlier in the same second as the reference: 1 ms past `now` includes `now`.
  const reference = new Date(now.getTime() + 1);
  for (const expression of spec.crons) {
    const [previous] = cronFor(expression, spec.timeZone).previousRuns(1, reference);
    if (previous && previous.getTime() > latest.getTime() && previous.getTime() <= now.getTime()) latest = previous;
  }
  return latest;
}

/** An instant as the zone's wall clock with its offset, e.g. `2026-03-30T06:00:00+02:00`. */
export function formatInZone(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  const wall = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  const offsetMinutes = Math.round((Date.parse(`${wall}Z`) - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${wall}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
