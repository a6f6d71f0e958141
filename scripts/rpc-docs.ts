/**
 * The README's RPC reference, generated from the method table (src/rpc/methods.ts
 * describeMethods, and the WebSocket-only subscription methods), so the docs cannot drift
 * from the code: `npm run docs:rpc` rewrites the marked section of README.md, and
 * test/docs/readme.test.ts fails when the section differs from what this produces.
 */
import { describeMethods, type MethodDoc } from '../src/rpc/methods.js';
import { subscriptionMethods } from '../src/rpc/websocket.js';

export const START_MARKER = '<!-- rpc-reference:start -->';
export const END_MARKER = '<!-- rpc-reference:end -->';

/** A table cell: pipes escaped, newlines flattened. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function defaultText(value: unknown): string {
  if (value === undefined) return '—';
  return `\`${JSON.stringify(value)}\``;
}

function renderMethod(m: MethodDoc): string {
  const lines = [`#### \`${m.name}\``, '', m.description, ''];
  if (m.params.length === 0) {
    lines.push('No params.', '');
    return lines.join('\n');
  }
  lines.push('| param | type | required | default | description |', '|---|---|---|---|---|');
  for (const p of m.params) {
    lines.push(`| \`${p.name}\` | ${cell(p.type)} | ${p.optional ? 'no' : 'yes'} | ${p.optional ? cell(defaultText(p.default)) : '—'} | ${cell(p.description)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

function index(methods: readonly MethodDoc[]): string[] {
  return methods.map((m) => `[\`${m.name}\`](#${m.name.replace(/[^a-z0-9_-]/g, '')})`);
}

/** The generated section, markers included. */
export function renderRpcReference(): string {
  const http = describeMethods();
  // The subscription methods act on a connection; describing them needs none.
  const ws = describeMethods(subscriptionMethods({ subscribe: () => '', unsubscribe: () => false, unsubscribeAll: () => 0 }));
  return [
    START_MARKER,
    '<!-- Generated from src/rpc/methods.ts by `npm run docs:rpc`; edit the method table, not this section. -->',
    '',
    `Methods (${http.length}): ${index(http).join(', ')}.`,
    '',
    ...http.map(renderMethod),
    '#### WebSocket only',
    '',
    `Over \`GET /websocket\` every method above works too, plus: ${index(ws).join(', ')}. See docs/websocket.md for the events.`,
    '',
    ...ws.map(renderMethod),
    END_MARKER,
  ].join('\n');
}

export type ReadmeUpdate = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

/** README text with its marked section replaced by `section` (which includes the markers). */
export function replaceSection(readme: string, section: string): ReadmeUpdate {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) return { ok: false, error: `README.md has no ${START_MARKER} ... ${END_MARKER} section` };
  if (readme.indexOf(START_MARKER, start + 1) >= 0) return { ok: false, error: `README.md has ${START_MARKER} twice` };
  return { ok: true, text: readme.slice(0, start) + section + readme.slice(end + END_MARKER.length) };
}

/** The marked section as it stands in the README (markers included), or undefined. */
export function currentSection(readme: string): string | undefined {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start, end + END_MARKER.length);
}
