import type { HttpFilter } from './registry.js';
import { routerFilter } from './router.js';

/** Every HTTP filter Frontdesk can put in a chain, in chain order. */
export const HTTP_FILTERS: readonly HttpFilter[] = [routerFilter].sort((a, b) => a.order - b.order);
