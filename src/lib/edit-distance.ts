/** Levenshtein distance where swapping two neighbouring letters counts as one edit (`emial` → `email`). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const previous = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const removed = (previous[j] as number) + 1;
      const inserted = (row[j - 1] as number) + 1;
      let distance = Math.min(removed, inserted, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(distance);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * The candidate nearest to `name` (case-insensitively), if it is near enough to be a likely typo: one edit
 * for names of up to 3 characters, two up to 6, three beyond.
 *
 * @example
 * closestMatch('compresion', ['compression', 'delimiter']) // 'compression'
 */
export function closestMatch(name: string, candidates: Iterable<string>): string | undefined {
  const target = name.toLowerCase();
  const allowed = target.length <= 3 ? 1 : target.length <= 6 ? 2 : 3;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(target, candidate.toLowerCase());
    if (distance <= allowed && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}
