import { AUTHZ_FILTERS } from './ext-authz.js';
import { NATIVE_FILTERS } from './native.js';
import { RATELIMIT_FILTERS } from './ratelimit.js';
import type { HttpFilter } from './registry.js';
import { routerFilter } from './router.js';
import { transformFilter } from './transform.js';

/** Every HTTP filter Frontdesk can put in a chain, sorted into chain order by `order`. */
export const HTTP_FILTERS: readonly HttpFilter[] = [
  routerFilter,
  ...AUTHZ_FILTERS, // authz filters
  ...RATELIMIT_FILTERS, // ratelimit filters
  ...NATIVE_FILTERS, // native plugin filters
  transformFilter, // transform companion (ext_proc)
].sort((a, b) => a.order - b.order);
