import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { kongMessage } from '../../kong-message.js';
import { anyMessage, type JsonObject } from '../builders.js';
import { KONG_BOT_RULES, searchAny } from './bot-detection-rules.js';
import { JSON_CONTENT_TYPE, when } from './kong-replies.js';
import type { HttpFilter, Predicate, ReplyRule } from './registry.js';

type BotDetection = FeatureOf<'bot-detection'>;

/**
 * Kong's bot-detection (kong/plugins/bot-detection/handler.lua): a request whose User-Agent
 * matches a pattern of `allow` goes on; else one matching `deny`, or one of Kong's own bot
 * rules, is refused with 403 {"message":"Forbidden"}; a request without a User-Agent goes on.
 * An RBAC filter per route denies exactly that set (each list one RE2 searched anywhere in the
 * header, as Kong's `ngx.re.find`), and kong-replies turns its 403 into Kong's answer. Kong's
 * priority (2500) puts it before cors and every auth plugin.
 */

export const BOT_DETECTION_FILTER = 'frontdesk.bot_detection';

/** Kong's answer to a refused request: `kong.response.error(403)`, whose default message for 403 is "Forbidden". */
const STATUS = 403;
const MESSAGE = 'Forbidden';

const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';
const RBAC_PER_ROUTE = 'envoy.extensions.filters.http.rbac.v3.RBACPerRoute';
const USER_AGENT = 'user-agent';
/** Kong's bot rules, searched as one regex (2,256 RE2 instructions: see runtime/bootstrap.ts). */
const BOTS = searchAny(KONG_BOT_RULES);

function configOf(r: IrRoute): BotDetection | undefined {
  return r.service ? r.plugins['bot-detection']?.feature : undefined;
}

function used(l: IrListener): boolean {
  return l.routes.some((r) => configOf(r) !== undefined);
}

function userAgentMatches(regex: string): JsonObject {
  return { header: { name: USER_AGENT, string_match: { safe_regex: { regex } } } };
}

/** The RBAC permission of a refused request: no allow pattern found, and a deny pattern or a bot rule found. */
function refused(c: BotDetection): JsonObject {
  const denied = userAgentMatches(c.deny.length ? searchAny([...c.deny, ...KONG_BOT_RULES]) : BOTS);
  return c.allow.length ? { and_rules: { rules: [{ not_rule: userAgentMatches(searchAny(c.allow)) }, denied] } } : denied;
}

/** The same set, as a predicate of the custom_response matcher. */
function refusedRequest(c: BotDetection): Predicate {
  const denied = when.headerMatches(USER_AGENT, c.deny.length ? searchAny([...c.deny, ...KONG_BOT_RULES]) : BOTS);
  return c.allow.length ? when.and(when.not(when.headerMatches(USER_AGENT, searchAny(c.allow))), denied) : denied;
}

export const botDetectionFilter: HttpFilter = {
  name: BOT_DETECTION_FILTER,
  httpFilter(l) {
    return used(l) ? { name: BOT_DETECTION_FILTER, disabled: true, typed_config: anyMessage(RBAC, {}) } : undefined;
  },
  perRoute(r) {
    const c = configOf(r);
    if (!c) return undefined;
    return anyMessage(RBAC_PER_ROUTE, {
      rbac: { rules: { action: 'DENY', policies: { 'bot-detection': { permissions: [refused(c)], principals: [{ any: true }] } } } },
    });
  },
  replies(r): ReplyRule[] {
    const c = configOf(r);
    if (!c) return [];
    return [{
      plugin: 'bot-detection',
      when: when.and(when.status(403), refusedRequest(c)),
      status: STATUS,
      body: kongMessage(MESSAGE),
      contentType: JSON_CONTENT_TYPE,
    }];
  },
};
