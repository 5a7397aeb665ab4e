import luaparse from 'luaparse';
import { z } from 'zod';
import { definePlugin } from './definition.js';
import { notServed } from './native-common.js';

/**
 * Kong's pre-function and post-function plugins (kong/plugins/pre-function/_schema.lua, 3.x):
 * Lua run per request, one array of chunks per phase. Envoy runs them (its Lua filter, LuaJIT) in
 * a sandbox whose `kong` is the part of Kong's PDK Envoy can give: SERVED below, by phase. Each
 * chunk must parse as LuaJIT's Lua, and every `kong.*` it names must be served in its phase, so a
 * file that asks for more is refused where it asks, not answered 500 at its first request; `ngx`
 * is nginx's, not Envoy's, and is refused by name. rewrite and access run on the request,
 * header_filter on the response's headers, body_filter on its whole body (Envoy buffers it: the
 * last of Kong's body_filter calls, the one whose kong.response.get_raw_body has the body); the
 * other phases are refused.
 */

const REQUEST_READS = [
  'get_scheme', 'get_host', 'get_port', 'get_http_version', 'get_method', 'get_path', 'get_raw_path', 'get_path_with_query',
  'get_raw_query', 'get_query', 'get_query_arg', 'get_header', 'get_headers',
].map((f) => `kong.request.${f}`);
const CLIENT = ['get_ip', 'get_forwarded_ip', 'get_port', 'get_consumer', 'get_credential'].map((f) => `kong.client.${f}`);
const LOG = ['err', 'warn', 'notice', 'info', 'debug', 'crit', 'alert', 'emerg'].map((f) => `kong.log.${f}`);
const SERVICE_REQUEST = ['set_header', 'add_header', 'clear_header', 'set_headers', 'set_method', 'set_path', 'set_raw_query', 'set_query', 'set_raw_body']
  .map((f) => `kong.service.request.${f}`);
const RESPONSE_HEADERS = ['get_status', 'set_status', 'get_header', 'get_headers', 'set_header', 'add_header', 'clear_header', 'set_headers']
  .map((f) => `kong.response.${f}`);

type Phase = 'rewrite' | 'access' | 'header_filter' | 'body_filter';

/** The PDK functions each served phase's code may call (kong.ctx.shared and kong.ctx.plugin in every phase). */
export const SERVED: Readonly<Record<Phase, ReadonlySet<string>>> = {
  rewrite: new Set([...REQUEST_READS, 'kong.request.get_raw_body', ...CLIENT, ...LOG, ...SERVICE_REQUEST, 'kong.response.exit']),
  access: new Set([...REQUEST_READS, 'kong.request.get_raw_body', ...CLIENT, ...LOG, ...SERVICE_REQUEST, 'kong.response.exit']),
  header_filter: new Set([...REQUEST_READS, ...CLIENT, ...LOG, ...RESPONSE_HEADERS]),
  body_filter: new Set([...REQUEST_READS, ...CLIENT, ...LOG, 'kong.response.get_status', 'kong.response.get_raw_body', 'kong.response.set_raw_body']),
};

/** The PDK's tables: naming one (`local req = kong.request`) is allowed; what is called through it is checked when it runs. */
const NAMESPACES: ReadonlySet<string> = new Set(['kong', 'kong.request', 'kong.client', 'kong.service', 'kong.service.request', 'kong.response', 'kong.log', 'kong.ctx']);

const REFUSED_PHASES = ['certificate', 'log', 'ws_handshake', 'ws_client_frame', 'ws_upstream_frame', 'ws_close'] as const;

interface LuaNode {
  type: string;
  [k: string]: unknown;
}

/** The dotted name of a member chain rooted at an identifier (`kong.request.get_header`), or undefined. */
function dotted(n: LuaNode): string | undefined {
  if (n.type === 'Identifier') return n.name as string;
  if (n.type === 'MemberExpression') {
    const base = dotted(n.base as LuaNode);
    return base === undefined ? undefined : `${base}.${(n.identifier as LuaNode).name as string}`;
  }
  return undefined;
}

/** Every outermost `kong.*` / `ngx.*` name the code mentions, with its line and column in the chunk. */
function pdkNames(ast: LuaNode): Array<{ name: string; line: number; column: number }> {
  const out: Array<{ name: string; line: number; column: number }> = [];
  const visit = (n: unknown, insideChain: boolean) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x, false);
      return;
    }
    const node = n as LuaNode;
    if (typeof node.type !== 'string') return;
    if (!insideChain && (node.type === 'MemberExpression' || node.type === 'Identifier')) {
      const name = dotted(node);
      const root = name?.split('.')[0];
      if (name && (root === 'kong' || root === 'ngx')) {
        const loc = node.loc as { start: { line: number; column: number } } | undefined;
        out.push({ name, line: loc?.start.line ?? 1, column: (loc?.start.column ?? 0) + 1 });
        return;
      }
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === 'loc' || k === 'range') continue;
      visit(v, node.type === 'MemberExpression' && k === 'base');
    }
  };
  visit(ast, false);
  return out;
}

/** Why one chunk of one phase cannot be served, or undefined. */
export function chunkProblem(phase: Phase, code: string): string | undefined {
  let ast: LuaNode;
  try {
    ast = luaparse.parse(code, { luaVersion: 'LuaJIT', locations: true, comments: false }) as unknown as LuaNode;
  } catch (e) {
    const err = e as { line?: number; column?: number; message: string };
    return `the Lua does not parse: ${err.message.replace(/^\[\d+:\d+\] /, '')} (line ${err.line ?? '?'}, column ${(err.column ?? 0) + 1} of the code)`;
  }
  for (const { name, line, column } of pdkNames(ast)) {
    const at = `(line ${line}, column ${column} of the code)`;
    if (name.split('.')[0] === 'ngx') return notServed(`${name} ${at}`, 'Envoy runs the code, not nginx: use the kong PDK functions docs/plugins.md lists (kong.request.get_header, kong.service.request.set_header, kong.response.exit, ...)');
    if (NAMESPACES.has(name) || SERVED[phase].has(name) || /^kong\.ctx\.(shared|plugin)(\.|$)/.test(name)) continue;
    const elsewhere = (Object.keys(SERVED) as Phase[]).filter((p) => p !== phase && SERVED[p].has(name));
    return elsewhere.length
      ? `${name} ${at} cannot be called in ${phase}; it is served in ${elsewhere.join(' and ')}`
      : notServed(`${name} ${at}`, 'use the kong PDK functions docs/plugins.md lists');
  }
  return undefined;
}

const chunkList = (phase: Phase) => z.array(z.string()).default([]).superRefine((list, ctx) => {
  list.forEach((code, i) => {
    const why = chunkProblem(phase, code);
    if (why) ctx.addIssue({ code: 'custom', path: [i], message: why });
  });
});

const refusedPhase = (phase: string) => z.array(z.string()).default([]).superRefine((list, ctx) => {
  if (list.length) ctx.addIssue({ code: 'custom', message: notServed(`the ${phase} phase`, 'move the code to access, header_filter or body_filter, or remove it') });
});

/** One of the two plugins' config: Kong's phases, each an array of Lua chunks (default none). */
export const serverlessConfigSchema = z.strictObject({
  rewrite: chunkList('rewrite'),
  access: chunkList('access'),
  header_filter: chunkList('header_filter'),
  body_filter: chunkList('body_filter'),
  ...Object.fromEntries(REFUSED_PHASES.map((p) => [p, refusedPhase(p)])) as Record<(typeof REFUSED_PHASES)[number], ReturnType<typeof refusedPhase>>,
});

export type ServerlessConfig = z.output<typeof serverlessConfigSchema>;

/** The IR feature: the code of the served phases (the refused ones are empty once loaded). */
export interface ServerlessFeature {
  rewrite: string[];
  access: string[];
  header_filter: string[];
  body_filter: string[];
}

const fields = { applied: ['rewrite', 'access', 'header_filter', 'body_filter'], refused: [...REFUSED_PHASES] };
const feature = (c: ServerlessConfig): ServerlessFeature => ({ rewrite: c.rewrite, access: c.access, header_filter: c.header_filter, body_filter: c.body_filter });

/** Kong's pre-function (priority 1,000,000): before every other plugin on the request, first on the response. */
export const preFunctionPlugin = definePlugin({
  name: 'pre-function', config: serverlessConfigSchema, scopes: ['global', 'service', 'route'], fields, enforcers: () => ['envoy'], feature,
});

/** Kong's post-function (priority -1,000): after every other plugin on the request, last on the response. */
export const postFunctionPlugin = definePlugin({
  name: 'post-function', config: serverlessConfigSchema, scopes: ['global', 'service', 'route'], fields, enforcers: () => ['envoy'], feature,
});
