import { describe, expect, it } from 'vitest';
import { sweepableTempNames, tempNameFor } from './files.ts';

describe('temporary files an interrupted run left', () => {
  const ours = tempNameFor('/out/gold_20261123T101500Z_1of2.csv.gz', 'exp_0mx1abc12345678').slice('/out/'.length);
  const oursManifest = tempNameFor('/out/gold_20261123T101500Z.manifest.json', 'exp_0mx1abc12345678').slice('/out/'.length);
  const another = tempNameFor('/out/gold_20261123T101500Z_1of2.csv.gz', 'exp_0mx1abc123456789').slice('/out/'.length);
  const legacy = '.gold_20261120T060000Z_2of2.csv.0a1b2c3d4e5f.partial';
  const legacyOther = '.silver_20261120T060000Z_1of1.csv.0a1b2c3d4e5f.partial';

  it('are this export’s tagged ones and untagged ones named after its sources; never another export’s or final files', () => {
    expect(ours).toMatch(/^\.gold_20261123T101500Z_1of2\.csv\.gz\.exp_0mx1abc12345678\.[0-9a-f]{12}\.partial$/);
    const names = [ours, oursManifest, another, legacy, legacyOther, 'gold_20261123T101500Z_1of2.csv.gz', 'gold_20261123T101500Z.manifest.json', 'notes.txt'];
    expect(sweepableTempNames(names, 'exp_0mx1abc12345678', ['gold'])).toEqual([ours, oursManifest, legacy]);
  });

  it('never takes a tagged file of another export for an untagged one of a source with the same name', () => {
    expect(sweepableTempNames([another], 'exp_other', ['gold'])).toEqual([]);
  });
});
