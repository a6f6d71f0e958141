/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), written from
 * the format's rules, so tests check what a scraper would accept rather than trusting
 * the library that wrote it. It throws, naming the line, on anything a scraper would
 * reject or misread:
 *
 * - `# HELP name text` and `# TYPE name type` (type: counter, gauge, histogram, summary,
 *   untyped), at most once per family, TYPE before the family's samples;
 * - samples `name{label="value",...} value [timestamp]` with valid metric and label names,
 *   escaped label values (\\, \", \n), and a float value (or +Inf, -Inf, NaN);
 * - a family's samples contiguous; histogram samples are `_bucket` (with `le`), `_sum`
 *   and `_count`; per label set, buckets are cumulative (non-decreasing as `le` grows),
 *   end at le="+Inf", and that bucket equals `_count`.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: string;
  help: string | undefined;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `text` at `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: unterminated labels`);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`);
    if (Object.hasOwn(labels, name)) throw new Error(`${where}: label ${name} repeated`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label ${name} value is not quoted`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const next = text[j + 1];
        if (next === '\\' || next === '"') value += next;
        else if (next === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${next ?? ''}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected , or } after label ${name}`);
  }
}

/** The family a sample name belongs to, given the declared types. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name);
  if (exact !== undefined && exact.type !== 'histogram') return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = families.get(name.slice(0, -suffix.length));
    if (base === undefined) continue;
    if (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket')) return base;
  }
  return undefined;
}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  let current: Family | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const where = `line ${index + 1}`;
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (match === null) return; // a plain comment
      const [, keyword, name, rest = ''] = match as unknown as [string, string, string, string | undefined];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${JSON.stringify(name)}`);
      let family = families.get(name);
      if (family === undefined) {
        family = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, family);
      } else if (family.samples.length > 0 && keyword === 'TYPE') {
        throw new Error(`${where}: TYPE for ${name} after its samples`);
      }
      if (keyword === 'HELP') {
        if (family.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        family.help = rest;
      } else {
        if (!TYPES.has(rest)) throw new Error(`${where}: bad type ${JSON.stringify(rest)}`);
        if (family.type !== 'untyped') throw new Error(`${where}: second TYPE for ${name}`);
        family.type = rest;
      }
      return;
    }
    const nameEnd = line.search(/[{\s]/);
    if (nameEnd < 0) throw new Error(`${where}: a sample needs a value`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${JSON.stringify(name)}`);
    let labels: Record<string, string> = {};
    let rest = line.slice(nameEnd);
    if (rest.startsWith('{')) {
      const parsed = parseLabels(line, nameEnd, where);
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    }
    const fields = rest.trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === '') throw new Error(`${where}: expected a value and an optional timestamp`);
    const value = parseValue(fields[0] as string, where);
    if (fields.length === 2 && !/^-?\d+$/.test(fields[1] as string)) throw new Error(`${where}: bad timestamp`);

    let family = familyOf(name, families);
    if (family === undefined) {
      family = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, family);
    }
    if (family !== current) {
      if (current !== undefined) finished.add(current.name);
      if (finished.has(family.name)) throw new Error(`${where}: samples of ${family.name} are not contiguous`);
      current = family;
    }
    if (family.type === 'histogram' && name.endsWith('_bucket') && labels['le'] === undefined) throw new Error(`${where}: bucket without le`);
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function labelKey(labels: Readonly<Record<string, string>>, without: string): string {
  return JSON.stringify(Object.entries(labels).filter(([k]) => k !== without).sort());
}

function checkHistogram(family: Family): void {
  const buckets = new Map<string, { le: number; value: number }[]>();
  const counts = new Map<string, number>();
  for (const s of family.samples) {
    const key = labelKey(s.labels, 'le');
    if (s.name === `${family.name}_bucket`) {
      const list = buckets.get(key) ?? [];
      list.push({ le: parseValue(s.labels['le'] as string, `${family.name} le`), value: s.value });
      buckets.set(key, list);
    } else if (s.name === `${family.name}_count`) {
      counts.set(key, s.value);
    }
  }
  for (const [key, list] of buckets) {
    for (let i = 1; i < list.length; i++) {
      const [a, b] = [list[i - 1]!, list[i]!];
      if (!(b.le > a.le)) throw new Error(`${family.name}: buckets out of order`);
      if (b.value < a.value) throw new Error(`${family.name}: buckets are not cumulative`);
    }
    const last = list[list.length - 1]!;
    if (last.le !== Infinity) throw new Error(`${family.name}: no le="+Inf" bucket`);
    if (counts.get(key) !== last.value) throw new Error(`${family.name}: +Inf bucket ${last.value} differs from _count ${counts.get(key)}`);
  }
}

/** The value of the one sample named `name` whose labels include `labels`; undefined if none. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
