import type { IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, setHeader } from '../builders.js';
import { when } from './kong-replies.js';
import type { HttpFilter, ReplyRule } from './registry.js';

const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';
const RBAC_PER_ROUTE = 'envoy.extensions.filters.http.rbac.v3.RBACPerRoute';

/**
 * A plugin that answers every OPTIONS request itself with Kong's fixed 200 "OK" and headers
 * (grpc-web's and grpc-gateway's CORS_HEADERS): an RBAC filter refuses OPTIONS on the routes
 * `headersOf` names, and kong-replies turns that 403 into the plugin's answer.
 */
export function optionsAnswerFilter(name: string, plugin: string, headersOf: (r: IrRoute) => Record<string, string> | undefined): HttpFilter {
  const on = (r: IrRoute) => (r.service ? headersOf(r) : undefined);
  const used = (l: IrListener) => l.routes.some((r) => on(r) !== undefined);
  return {
    name,
    httpFilter(l) {
      return used(l) ? { name, disabled: true, typed_config: anyMessage(RBAC, {}) } : undefined;
    },
    perRoute(r) {
      if (!on(r)) return undefined;
      return anyMessage(RBAC_PER_ROUTE, {
        rbac: {
          rules: {
            action: 'DENY',
            policies: { [`${plugin}-options`]: { permissions: [{ header: { name: ':method', string_match: { exact: 'OPTIONS' } } }], principals: [{ any: true }] } },
          },
        },
      });
    },
    replies(r): ReplyRule[] {
      const headers = on(r);
      if (!headers) return [];
      const { 'content-type': contentType, ...others } = headers;
      return [{
        plugin,
        when: when.and(when.status(403), when.header(':method', 'OPTIONS')),
        status: 200,
        body: 'OK',
        ...(contentType ? { contentType } : {}),
        headers: Object.entries(others).map(([k, v]) => setHeader(k, v)),
      }];
    },
  };
}
