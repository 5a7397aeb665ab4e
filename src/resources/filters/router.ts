import { anyMessage } from '../builders.js';
import type { HttpFilter } from './registry.js';

/** envoy.filters.http.router: always present, always last. */
export const routerFilter: HttpFilter = {
  name: 'envoy.filters.http.router',
  httpFilter: () => ({
    name: 'envoy.filters.http.router',
    typed_config: anyMessage('envoy.extensions.filters.http.router.v3.Router', { suppress_envoy_headers: true }),
  }),
};
