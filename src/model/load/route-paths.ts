import type { z } from 'zod';
import { diag } from '../../errors.js';
import type { routeSchema } from '../entities.js';
import { convertLegacyPath, regexProblem } from '../paths.js';
import type { Origin } from '../types.js';
import type { Child, Found } from './flat-config.js';
import type { Reporter } from './reporter.js';

/** A 1.1 or 2.1 file whose routes hold regex paths: a warning saying how many paths were converted. */
export function warnConvertedPaths(rep: Reporter, legacy: ReadonlyMap<string, string>, routes: readonly Found<Child>[]): void {
  for (const [file, from] of legacy) {
    const n = routes.filter((r) => r.origin.file === file).reduce((acc, r) => acc + (Array.isArray(r.value.paths) ? r.value.paths.filter((p) => typeof p === 'string' && convertLegacyPath(p) !== p).length : 0), 0);
    if (n > 0) rep.at({ file, path: ['_format_version'] }, diag('FD_FORMAT_CONVERTED', ['_format_version'], from, n));
  }
}

/**
 * A route's paths (converted as `deck convert` does when the file is older than 3.0) and its
 * header patterns: each path starts with `/` or is a `~` regex, and each regex is one Envoy's
 * RE2 accepts. Returns the paths, or undefined when one of them (or a header pattern) is refused.
 */
export function routePaths(rep: Reporter, origin: Origin, r: z.infer<typeof routeSchema>, legacy: boolean): string[] | undefined {
  let bad = false;
  const paths = (r.paths ?? []).map((p, i) => {
    const converted = legacy ? convertLegacyPath(p) : p;
    if (!converted.startsWith('/') && !converted.startsWith('~')) {
      rep.at(origin, diag('FD_ROUTE_PATH_SLASH', [...origin.path, 'paths', i], p));
      bad = true;
    } else if (converted.startsWith('~')) {
      const problem = regexProblem(converted.slice(1));
      if (problem) { rep.at(origin, diag('FD_BAD_REGEX', [...origin.path, 'paths', i], converted.slice(1), problem)); bad = true; }
    }
    return converted;
  });
  for (const [h, values] of Object.entries(r.headers ?? {})) {
    values.forEach((v, i) => {
      if (v.startsWith('~*')) {
        const problem = regexProblem(v.slice(2));
        if (problem) { rep.at(origin, diag('FD_BAD_REGEX', [...origin.path, 'headers', h, i], v.slice(2), problem)); bad = true; }
      }
    });
  }
  return bad ? undefined : paths;
}
