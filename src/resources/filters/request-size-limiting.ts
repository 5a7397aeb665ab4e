import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { kongMessage } from '../../kong-message.js';
import { anyMessage, type JsonObject } from '../builders.js';
import { decimalGreaterThan, JSON_CONTENT_TYPE, when } from './kong-replies.js';
import type { HttpFilter, ReplyRule } from './registry.js';

type RequestSizeLimiting = FeatureOf<'request-size-limiting'>;

/**
 * Kong's request-size-limiting, in two Envoy filters and Kong's answers:
 * - a request without Content-Length (chunked, or HTTP/2 without one) is held by the buffer
 *   filter, run through the composite filter only for such requests (a body with a
 *   Content-Length is streamed: Envoy's codecs hold it to its declared length). Envoy answers
 *   413 when more than the limit arrives before the end; a body whose last part brings it over
 *   passes the buffer, which then writes its Content-Length;
 * - after it, the gate (an RBAC filter) refuses a Content-Length above the limit (declared, or
 *   written by the buffer) and, with require_content_length, a request without one; for a
 *   declared length that is decided from the headers, before any body byte is read;
 * - kong-replies turns those 403s and 413s into Kong's 413 `Request size limit exceeded` and
 *   411 `A valid Content-Length header is required`; a request that says `Expect: 100-continue`
 *   gets Kong's 417 with the same message instead (nginx refuses to continue such a body).
 *   For the Expect header to reach the filters, the listener's connection manager passes
 *   100-continue on to the upstream (proxy_100_continue) instead of answering it itself, which
 *   would drop the header before any filter sees it; the upstream then sends the 100 Continue.
 */

export const SIZE_GATE_FILTER = 'frontdesk.request_size_limiting';
export const SIZE_BUFFER_FILTER = 'frontdesk.request_size_limiting.buffer';

export const SIZE_EXCEEDED = 'Request size limit exceeded';
export const LENGTH_REQUIRED = 'A valid Content-Length header is required';

/** The largest limit Envoy's buffer filter can hold (max_request_bytes is a uint32). */
export const MAX_BUFFER_BYTES = 4_294_967_295;
/** The end of RBAC's Content-Length range (exclusive): above any body Envoy will see. */
const CONTENT_LENGTH_CEILING = Number.MAX_SAFE_INTEGER;

/** The request asks for a 100 Continue before sending its body (Expect's value is case-insensitive, RFC 9110 10.1.1). */
const EXPECTS_CONTINUE = when.headerMatches('expect', '(?i)100-continue');

const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';
const RBAC_PER_ROUTE = 'envoy.extensions.filters.http.rbac.v3.RBACPerRoute';
const WITH_MATCHER = 'envoy.extensions.common.matching.v3.ExtensionWithMatcher';
const WITH_MATCHER_PER_ROUTE = 'envoy.extensions.common.matching.v3.ExtensionWithMatcherPerRoute';

function configOf(r: IrRoute): RequestSizeLimiting | undefined {
  return r.service ? r.plugins['request-size-limiting']?.feature : undefined;
}

function used(l: IrListener): boolean {
  return l.routes.some((r) => configOf(r) !== undefined);
}

/** Whether a request without Content-Length is let in (and so must be buffered to be measured). */
function buffers(c: RequestSizeLimiting): boolean {
  return !c.requireContentLength;
}

/** The RBAC gate: deny a Content-Length above the limit, and a missing one when required. */
export const requestSizeGateFilter: HttpFilter = {
  name: SIZE_GATE_FILTER,
  httpFilter(l) {
    return used(l) ? { name: SIZE_GATE_FILTER, disabled: true, typed_config: anyMessage(RBAC, {}) } : undefined;
  },
  connectionManager(l) {
    return used(l) ? { proxy_100_continue: true } : undefined;
  },
  perRoute(r) {
    const c = configOf(r);
    if (!c) return undefined;
    const permissions: JsonObject[] = [
      { header: { name: 'content-length', range_match: { start: c.allowedBytes + 1, end: CONTENT_LENGTH_CEILING } } },
    ];
    if (c.requireContentLength) permissions.push({ header: { name: 'content-length', present_match: true, invert_match: true } });
    return anyMessage(RBAC_PER_ROUTE, {
      rbac: { rules: { action: 'DENY', policies: { 'request-size-limiting': { permissions, principals: [{ any: true }] } } } },
    });
  },
  replies(r): ReplyRule[] {
    const c = configOf(r);
    if (!c) return [];
    const limit = c.allowedBytes;
    const rule = (w: ReplyRule['when'], status: number, message: string): ReplyRule => ({
      plugin: 'request-size-limiting', when: w, status, body: kongMessage(message), contentType: JSON_CONTENT_TYPE,
    });
    const rules: ReplyRule[] = [];
    if (c.requireContentLength) rules.push(rule(when.and(when.status(403), when.lacksHeader('content-length')), 411, LENGTH_REQUIRED));
    const tooLong = when.and(when.status(403), when.headerMatches('content-length', decimalGreaterThan(limit)));
    rules.push(rule(when.and(tooLong, EXPECTS_CONTINUE), 417, SIZE_EXCEEDED));
    rules.push(rule(tooLong, 413, SIZE_EXCEEDED));
    // The buffer's own 413 (more than the limit before the end): only a request without Content-Length is buffered.
    if (buffers(c)) {
      const bufferFull = when.and(when.status(413), when.lacksHeader('content-length'));
      rules.push(rule(when.and(bufferFull, EXPECTS_CONTINUE), 417, SIZE_EXCEEDED));
      rules.push(rule(bufferFull, 413, SIZE_EXCEEDED));
    }
    return rules;
  },
};

/** The buffer, run by the composite filter only for a request that has no Content-Length. */
export const requestSizeBufferFilter: HttpFilter = {
  name: SIZE_BUFFER_FILTER,
  httpFilter(l) {
    if (!l.routes.some((r) => { const c = configOf(r); return c !== undefined && buffers(c); })) return undefined;
    return {
      name: SIZE_BUFFER_FILTER,
      disabled: true,
      typed_config: anyMessage(WITH_MATCHER, {
        extension_config: { name: 'composite', typed_config: anyMessage('envoy.extensions.filters.http.composite.v3.Composite', {}) },
      }),
    };
  },
  perRoute(r) {
    const c = configOf(r);
    if (!c || !buffers(c)) return undefined;
    const maxBytes = Math.min(Math.max(c.allowedBytes, 1), MAX_BUFFER_BYTES);
    return anyMessage(WITH_MATCHER_PER_ROUTE, {
      xds_matcher: {
        matcher_list: {
          matchers: [{
            predicate: when.lacksHeader('content-length'),
            on_match: {
              action: {
                name: 'buffer-unsized-body',
                typed_config: anyMessage('envoy.extensions.filters.http.composite.v3.ExecuteFilterAction', {
                  typed_config: { name: 'envoy.filters.http.buffer', typed_config: anyMessage('envoy.extensions.filters.http.buffer.v3.Buffer', { max_request_bytes: maxBytes }) },
                }),
              },
            },
          }],
        },
      },
    });
  },
};

