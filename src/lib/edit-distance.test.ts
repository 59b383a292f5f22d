import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from './edit-distance.ts';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions, and a swap of neighbours as one edit', () => {
    expect(editDistance('compresion', 'compression')).toBe(1);
    expect(editDistance('emial', 'email')).toBe(1);
    expect(editDistance('host', 'port')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('closestMatch', () => {
  it('suggests the nearest candidate for a likely typo, ignoring case', () => {
    expect(closestMatch('compresion', ['compression', 'delimiter', 'folder'])).toBe('compression');
    expect(closestMatch('FOLDR', ['compression', 'folder'])).toBe('folder');
  });

  it('suggests nothing when no candidate is close', () => {
    expect(closestMatch('colour', ['host', 'port', 'username'])).toBeUndefined();
  });
});
