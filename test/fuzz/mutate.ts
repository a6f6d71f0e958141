/**
 * Input mutators for the fuzz targets: byte-level damage to valid encodings (bit flips,
 * overwrites, insertions, deletions, truncations, u32 overwrites that look like length or
 * count fields) and structural damage to valid JSON documents (a value replaced by one of
 * another type, a key dropped or added, a huge or deep value put in). Each is an
 * fc.Arbitrary of the mutation itself, applied to a valid value, so fast-check can shrink a
 * failure to one small mutation of one small value.
 */
import fc from 'fast-check';

// ---------------------------------------------------------------------------------------
// Bytes

export type ByteMutation =
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'u32'; readonly at: number; readonly value: number };

/** u32 values that break length and count fields: zero, one, the edges, and huge. */
export const INTERESTING_U32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000, 20_000, 20_001, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff];

const arbU32 = fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat({ max: 4096 }), fc.integer({ min: 0, max: 0xffff_ffff }));

export const arbByteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.constantFrom(1, 2, 4, 8, 16, 32, 64, 128, 0xff) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xfe, 0xff) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: arbU32 }),
);

export function mutateBytes(input: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  let bytes = Uint8Array.from(input);
  for (const m of mutations) {
    const n = bytes.length;
    switch (m.kind) {
      case 'flip':
        if (n > 0) bytes[m.at % n]! ^= m.mask;
        break;
      case 'set':
        if (n > 0) bytes[m.at % n] = m.value;
        break;
      case 'insert': {
        const at = m.at % (n + 1);
        const out = new Uint8Array(n + m.bytes.length);
        out.set(bytes.subarray(0, at), 0);
        out.set(m.bytes, at);
        out.set(bytes.subarray(at), at + m.bytes.length);
        bytes = out;
        break;
      }
      case 'delete': {
        if (n === 0) break;
        const at = m.at % n;
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(Math.min(n, at + m.count))]);
        break;
      }
      case 'truncate':
        bytes = bytes.slice(0, m.at % (n + 1));
        break;
      case 'u32':
        if (n >= 4) new DataView(bytes.buffer).setUint32(m.at % (n - 3), m.value >>> 0);
        break;
    }
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------
// JSON

/** Values that stress a JSON reader: wrong types, huge and odd numbers, long and odd strings, depth. */
export const arbHostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      0,
      -0,
      -1,
      1.5,
      1e308,
      -1e308,
      2 ** 53,
      2 ** 53 + 2,
      Number.MAX_SAFE_INTEGER,
      '',
      ' ',
      '0',
      '-1',
      '18446744073709551616',
      '9'.repeat(400),
      'x'.repeat(70_000),
      '\u0000',
      '\uD800',
      '\u202E',
      '💥'.repeat(40),
      '__proto__',
      'constructor',
      [],
      {},
      { __proto__: null },
      [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]],
    ),
  },
  { weight: 1, arbitrary: fc.nat({ max: 1000 }).map((depth) => nest(depth)) },
);

function nest(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

export type JsonMutation =
  | { readonly kind: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'add'; readonly at: number; readonly key: string; readonly value: unknown }
  | { readonly kind: 'duplicate'; readonly at: number };

export const arbJsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: arbHostileJson }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'kind', 'type')),
    value: arbHostileJson,
  }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
);

type Container = Record<string, unknown> | unknown[];

/** Every (container, key) slot in a JSON value, the root's slot first. */
function slots(root: { v: unknown }): [Container, string | number][] {
  const out: [Container, string | number][] = [[root as unknown as Container, 'v']];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        out.push([value, i]);
        walk(item);
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const key of Object.keys(value)) {
        out.push([value as Record<string, unknown>, key]);
        walk((value as Record<string, unknown>)[key]);
      }
    }
  };
  walk(root.v);
  return out;
}

/** Applies structural mutations to a deep copy of `value`. */
export function mutateJson(value: unknown, mutations: readonly JsonMutation[]): unknown {
  const root = { v: JSON.parse(JSON.stringify(value)) as unknown };
  // Inserted values are copied: fast-check hands out its constants by reference, and a
  // later mutation must not grow one of them (a shared constant could even become a cycle).
  const copy = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  for (const m of mutations) {
    const all = slots(root);
    const [container, key] = all[m.at % all.length]!;
    const current = (container as Record<string | number, unknown>)[key];
    switch (m.kind) {
      case 'replace':
        (container as Record<string | number, unknown>)[key] = copy(m.value);
        break;
      case 'delete':
        if (Array.isArray(container)) container.splice(key as number, 1);
        else if (container !== (root as unknown)) delete container[key as string];
        break;
      case 'add':
        if (Array.isArray(current)) current.push(copy(m.value));
        else if (typeof current === 'object' && current !== null) Object.defineProperty(current, m.key, { value: copy(m.value), enumerable: true, writable: true, configurable: true });
        break;
      case 'duplicate':
        if (Array.isArray(container)) container.splice(key as number, 0, JSON.parse(JSON.stringify(current ?? null)));
        break;
    }
  }
  return root.v;
}

export type TextMutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number };

export const arbTextMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\u0000', 'null', '1e999', '\uD800'), fc.string({ maxLength: 4 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
);

export function mutateText(text: string, mutations: readonly TextMutation[]): string {
  let out = text;
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    if (m.kind === 'truncate') out = out.slice(0, at);
    else if (m.kind === 'insert') out = out.slice(0, at) + m.text + out.slice(at);
    else out = out.slice(0, at) + out.slice(at + m.count);
  }
  return out;
}
