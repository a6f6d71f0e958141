import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.js';
import { sha256, type Hash } from '../../src/crypto/hash.js';
import {
  MAX_PROOF_SIBLINGS,
  SmtBuilder,
  SmtError,
  SparseMerkleTree,
  stateProofFromJson,
  stateProofToJson,
  verifyStateProof,
  type StateProof,
} from '../../src/ledger/smt.js';

// ---------------------------------------------------------------------------------------
// The reference: the root straight from the definition in smt.ts, over the whole entry set.

const ZERO = new Uint8Array(32);
const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

/** hex key -> value */
type Model = Map<string, Uint8Array>;

function bit(path: Uint8Array, depth: number): number {
  return (path[depth >> 3]! >> (7 - (depth & 7))) & 1;
}

interface Item {
  readonly path: Hash;
  readonly value: Uint8Array;
}

function refHash(items: readonly Item[], depth: number): Hash {
  if (items.length === 0) return ZERO;
  if (items.length === 1) return sha256(LEAF, items[0]!.path, sha256(items[0]!.value));
  return sha256(
    NODE,
    refHash(
      items.filter((i) => bit(i.path, depth) === 0),
      depth + 1,
    ),
    refHash(
      items.filter((i) => bit(i.path, depth) === 1),
      depth + 1,
    ),
  );
}

function refRoot(model: Model): string {
  return toHex(refHash([...model].map(([k, v]) => ({ path: sha256(fromHex(k)), value: v })), 0));
}

/** What an attacker computes to make a forged proof match: the verifier's fold. */
function fold(path: Hash, terminal: Hash, siblings: readonly Hash[]): Hash {
  let h = terminal;
  for (let d = siblings.length - 1; d >= 0; d--) h = bit(path, d) === 1 ? sha256(NODE, siblings[d]!, h) : sha256(NODE, h, siblings[d]!);
  return h;
}

function contents(tree: SparseMerkleTree): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of tree.entries()) out.set(toHex(k), toHex(v));
  return out;
}

function modelContents(model: Model): Map<string, string> {
  return new Map([...model].map(([k, v]) => [k, toHex(v)]));
}

function flip(h: Uint8Array, byte: number): Uint8Array {
  const out = Uint8Array.from(h);
  out[byte % out.length]! ^= 0x80;
  return out;
}

// ---------------------------------------------------------------------------------------
// Arbitraries: a small key space makes overwrites, deletes of present keys and shared
// path prefixes common; longer random keys make the rest.

const key = fc.oneof(
  fc.integer({ min: 0, max: 24 }).map((i) => Uint8Array.of(i)),
  fc.uint8Array({ maxLength: 40 }),
);
const value = fc.uint8Array({ maxLength: 24 });

type Op = { readonly kind: 'set'; readonly key: Uint8Array; readonly value: Uint8Array } | { readonly kind: 'delete'; readonly key: Uint8Array };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('set' as const), key, value }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), key }), weight: 1 },
);

function apply(tree: SparseMerkleTree, model: Model, o: Op): SparseMerkleTree {
  if (o.kind === 'set') {
    model.set(toHex(o.key), Uint8Array.from(o.value));
    return tree.set(o.key, o.value);
  }
  model.delete(toHex(o.key));
  return tree.delete(o.key);
}

/** Distinct-key entries. */
const entryList = fc.uniqueArray(fc.tuple(key, value), { maxLength: 60, selector: ([k]) => toHex(k) });

function numbered(n: number, prefix = 1): [Uint8Array, Uint8Array][] {
  return Array.from({ length: n }, (_, i) => [Uint8Array.of(prefix, i & 0xff, (i >> 8) & 0xff, i >> 16), utf8(`value ${i}`)]);
}

// ---------------------------------------------------------------------------------------

describe('SparseMerkleTree', () => {
  it('is empty to begin with: zero root, no entries', () => {
    const t = SparseMerkleTree.empty();
    expect(t.root).toEqual(ZERO);
    expect(t.size).toBe(0);
    expect([...t.entries()]).toEqual([]);
    expect(t.get(utf8('a'))).toBeUndefined();
  });

  it('a single entry is a leaf at the root (shortcut), not a 256-deep path', () => {
    const t = SparseMerkleTree.empty().set(utf8('k'), utf8('v'));
    expect(toHex(t.root)).toBe(toHex(sha256(LEAF, sha256(utf8('k')), sha256(utf8('v')))));
    expect(t.prove(utf8('k'))).toEqual({ kind: 'member', siblings: [] });
  });

  it('matches roots computed independently (Python hashlib)', () => {
    let t = SparseMerkleTree.empty();
    for (const [k, v] of [['alice', '1'], ['bob', '2'], ['carol', '3']] as const) t = t.set(utf8(k), utf8(v));
    expect(toHex(t.root)).toBe('8e0538a8f7d7d490cb03f94bcc29326f897ba6b003b0dada58aa63ee034a2fec');
    const hundred = Array.from({ length: 100 }, (_, i): [Uint8Array, Uint8Array] => [Uint8Array.of(i), Uint8Array.of(i, i)]);
    expect(toHex(SparseMerkleTree.fromEntries(hundred).root)).toBe('e5bf79463db1043f643464c87108bc6482c70e1b6ca43dfb58d1f220d9aafeeb');
  });

  it('matches the reference after any sequence of sets, overwrites and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const model: Model = new Map();
        let tree = SparseMerkleTree.empty();
        for (const o of ops) tree = apply(tree, model, o);
        expect(toHex(tree.root)).toBe(refRoot(model));
        expect(tree.size).toBe(model.size);
        expect(contents(tree)).toEqual(modelContents(model));
        for (const o of ops) {
          const want = model.get(toHex(o.key));
          expect(tree.get(o.key)).toEqual(want);
          expect(tree.has(o.key)).toBe(want !== undefined);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('has a canonical root: the same entries give the same root in any order, whatever came and went', () => {
    fc.assert(
      fc.property(
        entryList.chain((entries) =>
          fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length }), fc.array(fc.tuple(key, value), { maxLength: 20 })),
        ),
        ([entries, shuffled, detours]) => {
          let a = SparseMerkleTree.empty();
          for (const [k, v] of entries) a = a.set(k, v);
          // The same entries shuffled, after junk that is then overwritten or deleted again.
          let b = SparseMerkleTree.empty();
          for (const [k, v] of detours) b = b.set(k, v);
          for (const [k, v] of shuffled) b = b.set(k, Uint8Array.of(...v, 0xee)).set(k, v);
          const keep = new Set(entries.map(([k]) => toHex(k)));
          for (const [k] of detours) if (!keep.has(toHex(k))) b = b.delete(k);
          expect(b.size).toBe(a.size);
          expect(toHex(b.root)).toBe(toHex(a.root));
          expect(toHex(SparseMerkleTree.fromEntries(shuffled).root)).toBe(toHex(a.root));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is persistent: every earlier version keeps its root and its entries', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 50 }), fc.array(fc.boolean(), { maxLength: 50 }), (ops, readEarly) => {
        const model: Model = new Map();
        let tree = SparseMerkleTree.empty();
        const versions: { tree: SparseMerkleTree; model: Model }[] = [{ tree, model: new Map() }];
        ops.forEach((o, i) => {
          tree = apply(tree, model, o);
          // Some versions get hashed before later versions derive from them, some after.
          if (readEarly[i] === true) void tree.root;
          versions.push({ tree, model: new Map(model) });
        });
        for (const v of versions) {
          expect(toHex(v.tree.root)).toBe(refRoot(v.model));
          expect(v.tree.size).toBe(v.model.size);
          expect(contents(v.tree)).toEqual(modelContents(v.model));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('forks stay independent (speculative execution of competing blocks)', () => {
    const base = SparseMerkleTree.fromEntries(numbered(500));
    const baseRoot = toHex(base.root);
    const forkA = base.set(Uint8Array.of(9), utf8('a')).delete(numbered(1)[0]![0]);
    const forkB = base.set(Uint8Array.of(9), utf8('b'));
    expect(toHex(forkA.root)).not.toBe(toHex(forkB.root));
    expect(toHex(base.root)).toBe(baseRoot);
    expect(base.get(Uint8Array.of(9))).toBeUndefined();
    expect(forkA.get(Uint8Array.of(9))).toEqual(utf8('a'));
    expect(forkB.get(Uint8Array.of(9))).toEqual(utf8('b'));
    expect([forkA.size, forkB.size, base.size]).toEqual([500, 501, 500]);
  });

  it('returns the same tree for a set that changes nothing and for deleting an absent key', () => {
    const t = SparseMerkleTree.fromEntries(numbered(10));
    expect(t.set(numbered(10)[3]![0], numbered(10)[3]![1])).toBe(t);
    expect(t.delete(utf8('absent'))).toBe(t);
    expect(SparseMerkleTree.empty().delete(utf8('x'))).toBe(SparseMerkleTree.empty());
  });

  it('copies: neither mutating a read value nor the caller mutating its input changes the tree', () => {
    const k = utf8('key');
    const v = utf8('value');
    const t = SparseMerkleTree.empty().set(k, v);
    const root = toHex(t.root);
    v[0] = 0;
    k[0] = 0;
    t.get(utf8('key'))![0] = 0;
    for (const [ek, ev] of t.entries()) {
      ek[0] = 0;
      ev[0] = 0;
    }
    expect(t.get(utf8('key'))).toEqual(utf8('value'));
    expect(toHex(t.root)).toBe(root);
    expect([...t.entries()]).toEqual([[utf8('key'), utf8('value')]]);
  });

  it('treats the empty key and the empty value as ordinary (an empty value is not absence)', () => {
    const t = SparseMerkleTree.empty().set(new Uint8Array(0), new Uint8Array(0));
    expect(t.size).toBe(1);
    expect(t.get(new Uint8Array(0))).toEqual(new Uint8Array(0));
    const proof = t.prove(new Uint8Array(0));
    expect(verifyStateProof(t.root, new Uint8Array(0), new Uint8Array(0), proof)).toBe(true);
    expect(verifyStateProof(t.root, new Uint8Array(0), undefined, proof)).toBe(false);
  });

  it('stores large keys and values', () => {
    const big = new Uint8Array(20_000).map((_, i) => i * 7);
    const t = SparseMerkleTree.fromEntries([[big, big]]).set(utf8('k'), big);
    expect(t.get(big)).toEqual(big);
    expect(t.get(utf8('k'))).toEqual(big);
    expect(toHex(t.root)).toBe(refRoot(new Map([[toHex(big), big], [toHex(utf8('k')), big]])));
  });

  it('keeps depth near log2(n) (leaf shortcutting)', () => {
    const n = 4096;
    const t = SparseMerkleTree.fromEntries(numbered(n));
    let total = 0;
    let max = 0;
    for (const [k] of numbered(n)) {
      const depth = t.prove(k).siblings.length;
      total += depth;
      max = Math.max(max, depth);
    }
    expect(total / n).toBeLessThan(Math.log2(n) + 3);
    expect(max).toBeLessThan(3 * Math.log2(n));
  });
});

describe('fromEntries / SmtBuilder', () => {
  it('equals incremental sets, the last value of a repeated key winning', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 80 }), (entries) => {
        let incremental = SparseMerkleTree.empty();
        const model: Model = new Map();
        for (const [k, v] of entries) {
          incremental = incremental.set(k, v);
          model.set(toHex(k), v);
        }
        const bulk = SparseMerkleTree.fromEntries(entries);
        expect(bulk.size).toBe(incremental.size);
        expect(toHex(bulk.root)).toBe(toHex(incremental.root));
        expect(toHex(bulk.root)).toBe(refRoot(model));
        expect(contents(bulk)).toEqual(contents(incremental));
        // And the bulk-built tree behaves like any other afterwards.
        const [k0] = entries[0] ?? [utf8('none')];
        expect(toHex(bulk.delete(k0).root)).toBe(toHex(incremental.delete(k0).root));
      }),
      { numRuns: 300 },
    );
  });

  it('builds 70,000 entries (16-bit buckets) like incremental inserts and the reference', () => {
    const entries = numbered(70_000, 2);
    let incremental = SparseMerkleTree.empty();
    for (const [k, v] of entries) incremental = incremental.set(k, v);
    const bulk = SparseMerkleTree.fromEntries([...entries].reverse());
    expect(bulk.size).toBe(70_000);
    expect(toHex(bulk.root)).toBe(toHex(incremental.root));
    const model: Model = new Map(entries.map(([k, v]) => [toHex(k), v]));
    expect(toHex(bulk.root)).toBe(refRoot(model));
  });

  it('streams through SmtBuilder, which cannot be reused', () => {
    const builder = new SmtBuilder();
    for (const [k, v] of numbered(100)) builder.add(k, v);
    builder.add(numbered(1)[0]![0], utf8('again'));
    expect(builder.count).toBe(101);
    const tree = SparseMerkleTree.fromBuilder(builder);
    expect(tree.size).toBe(100);
    expect(tree.get(numbered(1)[0]![0])).toEqual(utf8('again'));
    expect(toHex(tree.root)).toBe(toHex(SparseMerkleTree.fromEntries([...numbered(100), [numbered(1)[0]![0], utf8('again')]]).root));
    expect(() => builder.add(utf8('x'), utf8('y'))).toThrow(expect.objectContaining({ code: 'builder-spent' }));
    expect(() => SparseMerkleTree.fromBuilder(builder)).toThrow(SmtError);
    expect(SparseMerkleTree.fromEntries([]).root).toEqual(ZERO);
  });
});

// ---------------------------------------------------------------------------------------

/** A tree with entries plus keys it does not hold (never inserted, or deleted). */
const scenario = fc
  .tuple(entryList, fc.array(key, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 5 }))
  .map(([entries, others, deleteAt]) => {
    let tree = SparseMerkleTree.fromEntries(entries);
    const model: Model = new Map(entries.map(([k, v]) => [toHex(k), v]));
    const absent: Uint8Array[] = others.filter((k) => !model.has(toHex(k)));
    for (const i of deleteAt) {
      if (entries.length === 0) break;
      const [k] = entries[i % entries.length]!;
      tree = tree.delete(k);
      if (model.delete(toHex(k))) absent.push(k);
    }
    return { tree, model, absent };
  });

describe('state proofs', () => {
  it('prove a held key with its value, and only with its value', () => {
    fc.assert(
      fc.property(scenario, value, ({ tree, model }, wrong) => {
        const root = tree.root;
        for (const [hk, v] of model) {
          const k = fromHex(hk);
          const proof = tree.prove(k);
          expect(proof.kind).toBe('member');
          expect(verifyStateProof(root, k, v, proof)).toBe(true);
          expect(verifyStateProof(root, k, undefined, proof)).toBe(false);
          if (toHex(wrong) !== toHex(v)) expect(verifyStateProof(root, k, wrong, proof)).toBe(false);
          // Nor for another key.
          expect(verifyStateProof(root, Uint8Array.of(...k, 0), v, proof)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('prove absence of keys never inserted and of deleted keys, and only absence', () => {
    fc.assert(
      fc.property(scenario, value, ({ tree, absent }, v) => {
        const root = tree.root;
        for (const k of absent) {
          const proof = tree.prove(k);
          expect(proof.kind === 'empty' || proof.kind === 'other-leaf').toBe(true);
          expect(verifyStateProof(root, k, undefined, proof)).toBe(true);
          expect(verifyStateProof(root, k, v, proof)).toBe(false);
          // Relabelled as membership it proves nothing either.
          expect(verifyStateProof(root, k, v, { kind: 'member', siblings: proof.siblings })).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('covers both kinds of absence, and absence in the empty tree', () => {
    const tree = SparseMerkleTree.fromEntries(numbered(64));
    const kinds = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const k = utf8(`absent ${i}`);
      const proof = tree.prove(k);
      kinds.add(proof.kind);
      expect(verifyStateProof(tree.root, k, undefined, proof)).toBe(true);
    }
    expect([...kinds].sort()).toEqual(['empty', 'other-leaf']);
    const empty = SparseMerkleTree.empty();
    expect(empty.prove(utf8('x'))).toEqual({ kind: 'empty', siblings: [] });
    expect(verifyStateProof(empty.root, utf8('x'), undefined, empty.prove(utf8('x')))).toBe(true);
  });

  it('rejects tampering: a changed sibling, a truncated or padded list, a changed leaf, the wrong root', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), fc.nat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), ({ tree, model, absent }, which, byte, extra) => {
        const root = tree.root;
        const claims: [Uint8Array, Uint8Array | undefined][] = [...[...model].map(([k, v]): [Uint8Array, Uint8Array] => [fromHex(k), v]), ...absent.map((k): [Uint8Array, undefined] => [k, undefined])];
        for (const [k, v] of claims) {
          const proof = tree.prove(k);
          const s = proof.siblings;
          const forged: StateProof[] = [
            { ...proof, siblings: [...s, extra] },
            { ...proof, siblings: [extra, ...s] },
            { ...proof, siblings: [...s, ZERO] },
          ];
          if (s.length > 0) {
            const at = which % s.length;
            forged.push({ ...proof, siblings: s.slice(0, -1) }, { ...proof, siblings: s.slice(1) });
            forged.push({ ...proof, siblings: s.map((h, i) => (i === at ? flip(h, byte) : h)) });
            forged.push({ ...proof, siblings: s.map((h, i) => (i === at ? h.subarray(1) : h)) });
          }
          if (proof.kind === 'other-leaf') {
            forged.push({ ...proof, leafValueHash: flip(proof.leafValueHash, byte) });
            forged.push({ ...proof, leafPath: flip(proof.leafPath, 31 - (byte % 4)) });
            forged.push({ kind: 'empty', siblings: s });
          }
          if (proof.kind === 'empty' && s.length > 0) forged.push({ kind: 'other-leaf', siblings: s, leafPath: extra, leafValueHash: extra });
          for (const f of forged) expect(verifyStateProof(root, k, v, f)).toBe(false);
          expect(verifyStateProof(flip(root, byte), k, v, proof)).toBe(false);
          expect(verifyStateProof(root, k, v, proof)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it(`rejects more than ${MAX_PROOF_SIBLINGS} siblings even when the root is made to match`, () => {
    const k = utf8('k');
    const siblings = Array.from({ length: MAX_PROOF_SIBLINGS + 1 }, (_, i) => sha256(Uint8Array.of(i & 0xff, i >> 8)));
    const root = fold(sha256(k), ZERO, siblings);
    expect(verifyStateProof(root, k, undefined, { kind: 'empty', siblings })).toBe(false);
    // The fold itself is what the verifier computes: 256 siblings are fine.
    const ok = siblings.slice(1);
    expect(verifyStateProof(fold(sha256(k), ZERO, ok), k, undefined, { kind: 'empty', siblings: ok })).toBe(true);
  });

  it('rejects a "different leaf" with the key\'s own path or off the proven prefix, even when the root is made to match', () => {
    fc.assert(
      fc.property(key, fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 12 }), fc.nat(), (k, rawSiblings, at) => {
        const siblings = rawSiblings.map((s) => (s.every((b) => b === 0) ? sha256(s) : s));
        const path = sha256(k);
        const d = siblings.length;
        const valueHash = sha256(utf8('v'));
        const forge = (leafPath: Hash): boolean =>
          verifyStateProof(fold(path, sha256(LEAF, leafPath, valueHash), siblings), k, undefined, { kind: 'other-leaf', siblings, leafPath, leafValueHash: valueHash });
        const flipBit = (p: Hash, b: number): Hash => {
          const out = Uint8Array.from(p);
          out[b >> 3]! ^= 0x80 >> (b & 7);
          return out;
        };
        // Control: a leaf sharing the first d bits and differing below is a valid absence proof.
        expect(forge(flipBit(path, d + (at % (256 - d))))).toBe(true);
        // The key's own path: that would be the key's leaf.
        expect(forge(path)).toBe(false);
        // Off the prefix: differs within the first d bits.
        expect(forge(flipBit(path, at % d))).toBe(false);
      }),
    );
  });

  it('rejects an empty deepest sibling (a non-canonical path) even when the root is made to match', () => {
    const k = utf8('k');
    const v = utf8('v');
    const path = sha256(k);
    const a = sha256(utf8('a'));
    const leaf = sha256(LEAF, path, sha256(v));
    const cases: [StateProof['kind'], Hash, Uint8Array | undefined][] = [
      ['member', leaf, v],
      ['empty', ZERO, undefined],
    ];
    for (const [kind, terminal, value] of cases) {
      const good = [ZERO, a];
      expect(verifyStateProof(fold(path, terminal, good), k, value, { kind, siblings: good } as StateProof)).toBe(true);
      const bad = [a, ZERO];
      expect(verifyStateProof(fold(path, terminal, bad), k, value, { kind, siblings: bad } as StateProof)).toBe(false);
    }
  });

  it('verification never throws on junk', () => {
    const t = SparseMerkleTree.fromEntries(numbered(5));
    const junk = [
      null,
      {},
      { kind: 'member' },
      { kind: 'member', siblings: [1, 2] },
      { kind: 'other-leaf', siblings: [] },
      { kind: 'what', siblings: [] },
    ] as unknown as StateProof[];
    for (const p of junk) expect(verifyStateProof(t.root, utf8('k'), undefined, p)).toBe(false);
    expect(verifyStateProof(new Uint8Array(31), utf8('k'), undefined, { kind: 'empty', siblings: [] })).toBe(false);
  });
});

describe('state proof JSON', () => {
  it('round-trips through JSON text, and still verifies', () => {
    fc.assert(
      fc.property(scenario, ({ tree, model, absent }) => {
        const keys = [...[...model.keys()].map(fromHex), ...absent];
        for (const k of keys) {
          const proof = tree.prove(k);
          const back = stateProofFromJson(JSON.parse(JSON.stringify(stateProofToJson(proof))));
          expect(back).toEqual({ ok: true, value: proof });
          if (back.ok) expect(verifyStateProof(tree.root, k, tree.get(k), back.value)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('emits lowercase hex and only the fields of its kind', () => {
    const tree = SparseMerkleTree.fromEntries(numbered(50));
    const member = stateProofToJson(tree.prove(numbered(1)[0]![0]));
    expect(Object.keys(member).sort()).toEqual(['kind', 'siblings']);
    for (const s of member.siblings) expect(s).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects malformed input with a message, never throwing', () => {
    const h = 'ab'.repeat(32);
    const bad: unknown[] = [
      null,
      undefined,
      42,
      'proof',
      [],
      {},
      { siblings: [] },
      { kind: 'maybe', siblings: [] },
      { kind: 'member' },
      { kind: 'member', siblings: h },
      { kind: 'member', siblings: [h.slice(2)] },
      { kind: 'member', siblings: [h + 'ab'] },
      { kind: 'member', siblings: ['zz'.repeat(32)] },
      { kind: 'member', siblings: [h.slice(1) + 'g'] },
      { kind: 'member', siblings: [32] },
      { kind: 'member', siblings: [null] },
      { kind: 'member', siblings: Array.from({ length: MAX_PROOF_SIBLINGS + 1 }, () => h) },
      { kind: 'member', siblings: [], extra: 1 },
      { kind: 'member', siblings: [], leafPath: h, leafValueHash: h },
      { kind: 'empty', siblings: [], leafPath: h },
      { kind: 'other-leaf', siblings: [] },
      { kind: 'other-leaf', siblings: [], leafPath: h },
      { kind: 'other-leaf', siblings: [], leafPath: h, leafValueHash: 'ab' },
      { kind: 'other-leaf', siblings: [], leafPath: 7, leafValueHash: h },
    ];
    for (const j of bad) {
      const r = stateProofFromJson(j);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(typeof r.error).toBe('string');
    }
    expect(stateProofFromJson({ kind: 'empty', siblings: Array.from({ length: MAX_PROOF_SIBLINGS }, () => h) }).ok).toBe(true);
    expect(stateProofFromJson({ kind: 'other-leaf', siblings: [h], leafPath: h, leafValueHash: h }).ok).toBe(true);
  });
});
