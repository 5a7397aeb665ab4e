import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { kongMessage } from '../../kong-message.js';

type IpRestriction = FeatureOf<'ip-restriction'>;
import { anyMessage, type JsonObject } from '../builders.js';
import { cidrRange, JSON_CONTENT_TYPE, kongJsonFormat, when } from './kong-replies.js';
import type { HttpFilter, Predicate, ReplyRule } from './registry.js';

/**
 * Kong's ip-restriction: an RBAC filter per route denies the client addresses Kong refuses
 * (those in `deny`, and when `allow` is set those outside it) by Envoy's remote address, which
 * is the peer's address since Frontdesk trusts no X-Forwarded-For hop (Kong's trusted_ips
 * empty). kong-replies turns the filter's 403 into Kong's status and `{"message": ...}`.
 */

export const IP_RESTRICTION_FILTER = 'frontdesk.ip_restriction';

const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';
const RBAC_PER_ROUTE = 'envoy.extensions.filters.http.rbac.v3.RBACPerRoute';

function configOf(r: IrRoute): IpRestriction | undefined {
  return r.service ? r.plugins['ip-restriction']?.feature : undefined;
}

function used(l: IrListener): boolean {
  return l.routes.some((r) => configOf(r) !== undefined);
}

function remoteIp(cidr: string): JsonObject {
  return { remote_ip: cidrRange(cidr) };
}

/** The principals Kong refuses: any of `deny`, and not any of `allow` when it is set. */
function deniedPrincipals(c: IpRestriction): JsonObject[] {
  const out = c.deny.map(remoteIp);
  const allow = c.allow;
  const [only, ...more] = allow;
  if (only !== undefined) out.push({ not_id: more.length ? { or_ids: { ids: allow.map(remoteIp) } } : remoteIp(only) });
  return out;
}

/** The same set of addresses, as a predicate of the custom_response matcher. */
function deniedSource(c: IpRestriction): Predicate {
  const parts: Predicate[] = [];
  if (c.deny.length) parts.push(when.sourceIpIn(c.deny, 'ip_restriction_deny'));
  if (c.allow.length) parts.push(when.not(when.sourceIpIn(c.allow, 'ip_restriction_allow')));
  return when.or(...parts);
}

export const ipRestrictionFilter: HttpFilter = {
  name: IP_RESTRICTION_FILTER,
  httpFilter(l) {
    return used(l) ? { name: IP_RESTRICTION_FILTER, disabled: true, typed_config: anyMessage(RBAC, {}) } : undefined;
  },
  perRoute(r) {
    const c = configOf(r);
    if (!c) return undefined;
    return anyMessage(RBAC_PER_ROUTE, {
      rbac: { rules: { action: 'DENY', policies: { 'ip-restriction': { permissions: [{ any: true }], principals: deniedPrincipals(c) } } } },
    });
  },
  replies(r): ReplyRule[] {
    const c = configOf(r);
    if (!c) return [];
    return [{
      plugin: 'ip-restriction',
      when: when.and(when.status(403), deniedSource(c)),
      status: c.status,
      body: kongMessage(c.message),
      // Kong's default names the connection's address (ngx.var.remote_addr), the one RBAC's remote_ip checks.
      ...(c.appendClientAddress ? { bodyFormat: kongJsonFormat(c.message, '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%') } : {}),
      contentType: JSON_CONTENT_TYPE,
    }];
  },
};
