/**
 * The translation before one rewrite per route, rebuilt from today's Envoy routes so a bench can
 * run both in one run (bench/propagation/envoy-apply.ts, bench/request-path/run.ts): for the
 * bench configs it gives the RouteConfiguration the translation made before, byte for byte.
 */
type Route = { name?: string; match?: { headers?: unknown[] } & Record<string, unknown>; route?: Record<string, unknown> };
type Rewrite = { pattern: { regex: string }; substitution: string };

/**
 * A route as the translation made it before one rewrite per route (src/ir/build.ts rewriteFor):
 * strip_path `^(?:R(?:\.\.?)?(/|$)|(/)R')` → `Bb\1\2` was `^R(?:/|\.\.?/)?` → `Bb/` after a
 * route for the exact path R → Bb; with service path "/", `^R(?:/|\.\.?(?:/|$))?` was
 * `^R(?:/|\.\.?/)?` after R → "/"; without strip_path, `^(?:/$|(/))` → `B\1` was `^/` → `B/`
 * after "/" → B.
 */
export function twinsBefore<R extends Route>(r: R): R[] {
  const rw = r.route?.regex_rewrite as Rewrite | undefined;
  if (!rw || !r.route) return [r];
  const twin = (path: string, to: string, main: Rewrite): R[] => [
    { ...r, name: `${r.name}:exact`, match: { path, ...(r.match?.headers ? { headers: r.match.headers } : {}) } as Route['match'], route: { ...r.route, regex_rewrite: { pattern: { regex: '^.*$' }, substitution: to } } },
    { ...r, route: { ...r.route, regex_rewrite: main } },
  ];
  const literal = (head: string) => head.replace(/\\(.)/g, '$1');
  const one = /^\^\(\?:(.*)\(\?:\\\.\\\.\?\)\?\(\/\|\$\)\|\(\/\)(.*)\)$/.exec(rw.pattern.regex);
  if (one && rw.substitution.endsWith('\\1\\2')) {
    const bare = rw.substitution.slice(0, -4);
    return twin(literal(one[1]!), bare, { pattern: { regex: `^${one[1]}(?:/|\\.\\.?/)?` }, substitution: `${bare}/` });
  }
  const root = /^\^(.*)\(\?:\/\|\\\.\\\.\?\(\?:\/\|\$\)\)\?$/.exec(rw.pattern.regex);
  if (root && rw.substitution === '/') return twin(literal(root[1]!), '/', { pattern: { regex: `^${root[1]}(?:/|\\.\\.?/)?` }, substitution: '/' });
  if (rw.pattern.regex === '^(?:/$|(/))') {
    const base = rw.substitution.slice(0, -2);
    return twin('/', base, { pattern: { regex: '^/' }, substitution: `${base}/` });
  }
  return [r];
}

