import fs from 'node:fs';
import { once } from 'node:events';

/** Profiles the demo generates; here, not in demo.ts, so that `outflow demo --help` need not load the stores. */
export const DEMO_DEFAULT_ROWS = 100_000;

const FIRST = ['Ada', 'Grace', 'Linus', 'Zoë', 'José', 'Björn', 'Amélie', 'Chidi', 'Mei', 'Olu', 'Sven', 'Priya', 'Łukasz', 'Noor', 'Kenji'];
const LAST = ['Lovelace', 'Hopper', "O'Neil", 'Müller', 'García', 'Nakamura', 'Okafor', 'Dubois', 'Kowalski', 'Singh', 'Smith, Jr.', 'Ivanova'];
const COUNTRIES = ['NL', 'DE', 'FR', 'US', 'GB', 'ES', 'JP', 'NG', 'IN', 'PL'];
const CITIES: Record<string, string[]> = {
  NL: ['Amsterdam', 'Rotterdam', "'s-Hertogenbosch"],
  DE: ['Berlin', 'München', 'Köln'],
  FR: ['Paris', 'Lyon', 'Saint-Étienne'],
  US: ['New York', 'Austin', 'Portland, OR'],
  GB: ['London', 'Leeds', 'Bristol'],
  ES: ['Madrid', 'A Coruña', 'Sevilla'],
  JP: ['東京', '大阪', 'Sapporo'],
  NG: ['Lagos', 'Abuja', 'Ibadan'],
  IN: ['Mumbai', 'Bengaluru', 'Delhi'],
  PL: ['Kraków', 'Łódź', 'Gdańsk'],
};

/** A small deterministic generator (mulberry32), so that the demo and benchmarks make the same data every time. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export const CUSTOMER_HEADER = ['profile_id', 'email', 'first_name', 'last_name', 'country', 'city', 'lifetime_value', 'orders', 'signup_date', 'vip', 'notes'];

/**
 * Writes `rows` generated customer profiles as CSV. About one row in fifty carries a value that tests CSV
 * handling (a quote, a comma, a line break), and one in two hundred has no e-mail or a malformed one.
 */
export async function writeCustomersCsv(file: string, rows: number, seed = 42, mode = 0o644): Promise<void> {
  const next = random(seed);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const out = fs.createWriteStream(file, { highWaterMark: 1 << 20, mode });
  out.write(CUSTOMER_HEADER.join(',') + '\n');
  let buffer = '';
  for (let i = 1; i <= rows; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const country = pick(COUNTRIES);
    const roll = next();
    const email = roll < 0.003 ? '' : roll < 0.005 ? `${first.toLowerCase()}.at.example.com` : `${first}.${last.replace(/[^A-Za-z]/g, '')}${i}@Example.com`.toLowerCase();
    const value = (Math.floor(next() * 200_000) / 100).toFixed(2);
    const orders = Math.floor(next() * next() * 40);
    const day = new Date(Date.UTC(2018, 0, 1) + Math.floor(next() * 2900) * 86_400_000).toISOString().slice(0, 10);
    const notesRoll = next();
    const notes = notesRoll < 0.01 ? 'said "call me later", twice' : notesRoll < 0.02 ? 'line one\nline two' : notesRoll < 0.5 ? '' : 'ok';
    buffer += [String(i), email, first, last, country, pick(CITIES[country]!), value, String(orders), day, next() < 0.05 ? 'true' : 'false', notes].map(csvField).join(',') + '\n';
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}
