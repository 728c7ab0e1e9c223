import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchRow } from './mirror/bench-row.js';

/**
 * The benchmark runner: every bench module beside it (`<group>/*-bench.js`), each exported
 * `run…Bench(options)` in turn, then a table for people and, with `--json`, the rows as one JSON
 * array on the last line.
 *
 *   npm run bench -- [--json] [--quick] [--only preview,mirror] [--sizes S,M,L]
 *
 * Every module gets `{quick, sizes}`: `--quick` shortens timed runs and keeps sizes to S unless
 * `--sizes` says otherwise.
 */
interface BenchOptions {
  quick: boolean;
  sizes?: string[];
}

type BenchFunction = (options: BenchOptions) => Promise<BenchRow[]>;

const here = dirname(fileURLToPath(import.meta.url));

async function benchModules(
  only: Set<string> | null,
): Promise<{ name: string; run: BenchFunction }[]> {
  const found: { name: string; run: BenchFunction }[] = [];
  const groups = (await readdir(here, { withFileTypes: true })).filter((entry) =>
    entry.isDirectory(),
  );

  for (const group of groups.sort((a, b) => a.name.localeCompare(b.name))) {
    if (only !== null && !only.has(group.name)) continue;
    const files = (await readdir(join(here, group.name)))
      .filter((file) => file.endsWith('-bench.js'))
      .sort();

    for (const file of files) {
      const module = (await import(pathToFileURL(join(here, group.name, file)).href)) as Record<
        string,
        unknown
      >;
      for (const [exported, value] of Object.entries(module)) {
        if (typeof value === 'function' && /^run\w*Bench$/.test(exported)) {
          found.push({ name: `${group.name}/${exported}`, run: value as BenchFunction });
        }
      }
    }
  }
  return found;
}

function table(rows: BenchRow[]): string {
  const header = ['name', 'value', 'unit', 'baseline', 'baseline value', 'ratio'];
  const cells = rows.map((row) => [
    row.humanOnly ? `(${row.name})` : row.name,
    String(row.value),
    row.unit,
    row.baseline ?? '-',
    row.baselineValue === null ? '-' : String(row.baselineValue),
    row.ratio === null ? '-' : String(row.ratio),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((line) => line[i]!.length)),
  );
  const format = (line: string[]) =>
    line
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    format(header),
    format(widths.map((width) => '-'.repeat(width))),
    ...cells.map(format),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      sizes: { type: 'string' },
    },
  });
  const only = values.only === undefined ? null : new Set(values.only.split(','));
  const sizes = values.sizes?.split(',') ?? (values.quick ? ['S'] : undefined);
  const options: BenchOptions = { quick: values.quick, sizes };

  const rows: BenchRow[] = [];
  const failures: string[] = [];
  for (const bench of await benchModules(only)) {
    process.stderr.write(`bench: running ${bench.name}\n`);
    try {
      rows.push(...(await bench.run(options)));
    } catch (error) {
      // One broken module must not hide the others' figures; the run still fails at the end.
      failures.push(bench.name);
      process.stderr.write(
        `bench: ${bench.name} failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    }
  }

  process.stdout.write(`${table(rows)}\n`);
  if (failures.length > 0) process.stderr.write(`bench: failed: ${failures.join(', ')}\n`);
  if (values.json) {
    const contract = rows.filter((row) => !row.humanOnly);
    process.stdout.write(`${JSON.stringify(contract)}\n`);
  }
  if (failures.length > 0) process.exitCode = 1;
}

await main();
