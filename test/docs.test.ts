import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEMO_DEFAULT_ROWS, DEMO_ROWS_PER_FILE } from '../src/demo/demo.ts';
import { CUSTOMER_HEADER } from '../src/demo/generate.ts';
import { listDestinations } from '../src/destinations/index.ts';
import { exportConfigBase } from '../src/domain/model.ts';
import { planParts } from '../src/engine/files.ts';
import { splitExportConfig } from '../src/engine/run-export.ts';

/** What the README and examples/ promise, checked against the code so they cannot rot. */

const README = fs.readFileSync(path.resolve('README.md'), 'utf8');
const EXAMPLES = path.resolve('examples');

function readExample(destination: string, file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(EXAMPLES, destination, file), 'utf8'));
}

describe('examples/', () => {
  for (const destination of listDestinations()) {
    describe(destination.id, () => {
      it('has a connection config the destination schema accepts, with no unknown settings', () => {
        const config = readExample(destination.id, 'connection.json');
        const schema = destination.connection.schema;
        expect(Object.keys(config).filter((key) => !(key in schema.shape))).toEqual([]);
        // Microsoft's refresh token comes from `outflow connection authorize`, which takes this file without one.
        const pending = destination.id === 'microsoft-advertising' ? schema.partial({ refreshToken: true } as never) : schema;
        const parsed = pending.safeParse(config);
        expect(parsed.error?.issues ?? []).toEqual([]);
      });

      it('has an export config the destination accepts, mapping columns of the demo data', () => {
        const config = readExample(destination.id, 'export.json');
        expect(exportConfigBase.safeParse(config).success).toBe(true);
        const { mapping, settings, rowsPerFile } = splitExportConfig(config);
        const kind = destination.export;
        const settingsShape = (kind.settings as z.ZodObject).shape;
        expect(Object.keys(settings).filter((key) => !(key in settingsShape))).toEqual([]);
        const parsed = kind.settings.safeParse(settings);
        expect(parsed.error?.issues ?? []).toEqual([]);
        if (kind.kind === 'files') {
          expect(mapping).toEqual({});
          if (rowsPerFile !== undefined) expect(Number.isInteger(rowsPerFile) && rowsPerFile > 0).toBe(true);
          return;
        }
        expect(rowsPerFile).toBeUndefined();
        for (const [target, spec] of Object.entries(kind.fields)) if (spec.required) expect(mapping).toHaveProperty(target);
        if (!kind.extraFields) expect(Object.keys(mapping).filter((target) => !(target in kind.fields))).toEqual([]);
        expect(Object.values(mapping).filter((column) => !CUSTOMER_HEADER.includes(column))).toEqual([]);
      });
    });
  }

  it('has a folder for every destination and nothing else', () => {
    expect(fs.readdirSync(EXAMPLES).filter((entry) => fs.statSync(path.join(EXAMPLES, entry)).isDirectory()).sort()).toEqual(listDestinations().map((d) => d.id).sort());
  });
});

describe('README', () => {
  it('says how many gzip parts the demo really writes', () => {
    const parts = planParts({ name: 'Customer', source: { kind: 'entity', entity: 'Customer' } }, DEMO_DEFAULT_ROWS, { stamp: 'x', extension: '.csv.gz', rowsPerPart: DEMO_ROWS_PER_FILE }).length;
    const words = ['zero', 'one', 'two', 'three', 'four', 'five'];
    expect(README).toContain(`the whole entity as ${words[parts]} gzip parts`);
  });

  it('documents every exit code the CLI uses', async () => {
    const { exitCodes } = await import('../src/cli/exit.ts');
    for (const code of Object.values(exitCodes)) expect(README).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('documents the DuckDB memory settings with the defaults the code uses', async () => {
    const memory = await import('../src/store/profile/duckdb-memory.ts');
    expect(README).toContain(`| \`${memory.MEMORY_SETTING}\` | \`${memory.DEFAULT_MEMORY}\` |`);
    expect(README).toContain(`| \`${memory.STREAMING_MEMORY_SETTING}\` | \`${memory.DEFAULT_STREAMING_MEMORY}\` |`);
    expect(README).toContain(`| \`${memory.TEMP_MAX_SETTING}\` |`);
  });
});

describe('examples/outflow.yaml', () => {
  it('is a configuration file whose connections and exports the destinations accept, mapping demo columns', async () => {
    const { parseConfigText } = await import('../src/app/config-file/source.ts');
    const { document } = parseConfigText(fs.readFileSync(path.join(EXAMPLES, 'outflow.yaml'), 'utf8'), 'outflow.yaml');
    const types = new Map((document.connections ?? []).map((c) => [c.name, c.type]));
    for (const connection of document.connections ?? []) {
      const schema = listDestinations().find((d) => d.id === connection.type)!.connection.schema;
      // References stand for strings: any value passes where one is written.
      const config = Object.fromEntries(Object.entries(connection.config).map(([k, v]) => [k, typeof v === 'string' && v.startsWith('${') ? 'x' : v]));
      expect(schema.safeParse(config).error?.issues ?? []).toEqual([]);
    }
    for (const exp of document.exports ?? []) {
      const kind = listDestinations().find((d) => d.id === types.get(exp.connection))!.export;
      const { mapping, settings } = splitExportConfig(exp.config);
      expect(kind.settings.safeParse(settings).error?.issues ?? []).toEqual([]);
      expect(Object.values(mapping).filter((column) => !CUSTOMER_HEADER.includes(column))).toEqual([]);
    }
    for (const segment of document.segments ?? []) {
      const { compileFilter } = await import('../src/store/profile/filter.ts');
      expect(() => compileFilter(segment.where, CUSTOMER_HEADER.map((name) => ({ name, type: name === 'lifetime_value' ? 'DOUBLE' : 'VARCHAR' })) as never)).not.toThrow();
    }
  });
});
