import { RE2JS } from 're2js';

/**
 * Route path helpers: Kong 2.x → 3.0 conversion and a check that a regex is one Envoy's RE2
 * accepts (checked with RE2JS, a port of RE2 itself, so the answer matches Envoy's).
 */

/** As `deck convert` does: a 2.x path holding regex characters becomes a `~` regex path. */
export function convertLegacyPath(path: string): string {
  if (path.startsWith('~')) return path;
  return /^[a-zA-Z0-9.\-_~/%]*$/.test(path) ? path : `~${path}`;
}

/** Answers so far (a load checks every regex path again): bounded, dropped whole when full. */
const checked = new Map<string, string | undefined>();
const MAX_CHECKED = 20_000;

/** Why `re` is not a valid RE2 pattern, or undefined when it is. */
export function regexProblem(re: string): string | undefined {
  if (checked.has(re)) return checked.get(re);
  let problem: string | undefined;
  try {
    RE2JS.compile(re);
  } catch (e) {
    problem = (e as Error).message.replace(/^error parsing regexp: /, '');
  }
  if (checked.size >= MAX_CHECKED) checked.clear();
  checked.set(re, problem);
  return problem;
}
