import { healthMethods } from '../grpc-health.js';
import { GRPC_STATUS, serveUnary } from '../grpc-raw.js';
import type { CompanionTracer } from '../companion-tracing.js';
import { envoysOnly, type TlsSource } from '../tls.js';
import type { Logger } from '../logger.js';
import type { LimitAnswer, LimitRequest } from './limiter.js';
import { decodeRateLimitRequest, encodeRateLimitResponse } from './rls-codec.js';

/**
 * Envoy's rate-limit service API over gRPC: envoy.service.ratelimit.v3.RateLimitService/
 * ShouldRateLimit. Requests are decoded and responses encoded by rls-codec.ts (the two messages
 * on the wire format, by hand); the decision itself is the caller's `decide`.
 *
 * The answer's parts, and what Envoy's ratelimit filter does with them:
 * - overall_code OK: the request goes on; response_headers_to_add are added to the response
 *   it gets from upstream (Kong's X-RateLimit-* / RateLimit-* headers).
 * - overall_code OVER_LIMIT: Envoy answers itself with the filter's rate_limited_status
 *   (Kong's error_code), raw_body as the body, and response_headers_to_add (Retry-After, and a
 *   content-type that replaces Envoy's text/plain).
 * - a gRPC error (UNAVAILABLE): the filter's failure mode decides: let through, or 500.
 */

export const RLS_METHOD = '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit';

export interface RateLimitServerOptions {
  /** Each sampled call a child span of Envoy's (companion-tracing.ts). */
  tracer?: CompanionTracer;
  host: string;
  port: number;
  decide(req: LimitRequest): Promise<LimitAnswer>;
  logger: Logger;
  /** mTLS: only Envoys with a certificate of the CA are answered. */
  tls?: TlsSource;
  /** gRPC health (grpc.health.v1.Health/Check): SERVING while this is true. Default always. */
  ready?: () => boolean;
}

export interface RateLimitServer {
  port: number;
  stop(): Promise<void>;
}

/** Starts the gRPC server; `port` 0 binds a free one. */
export async function startRateLimitServer(o: RateLimitServerOptions): Promise<RateLimitServer> {
  const shouldRateLimit = async (request: Uint8Array): Promise<Uint8Array | { code: number; message: string }> => {
    let req: LimitRequest;
    try {
      req = decodeRateLimitRequest(request);
    } catch (e) {
      return { code: GRPC_STATUS.INVALID_ARGUMENT, message: `bad RateLimitRequest: ${(e as Error).message}` };
    }
    try {
      const a = await o.decide(req);
      return a.kind === 'error' ? { code: GRPC_STATUS.UNAVAILABLE, message: a.message } : encodeRateLimitResponse(a);
    } catch (e) {
      o.logger.error({ err: (e as Error).message }, 'ratelimit decision failed');
      return { code: GRPC_STATUS.INTERNAL, message: 'rate-limit decision failed' };
    }
  };
  const server = await serveUnary(o.host, o.port, { [RLS_METHOD]: o.tracer ? o.tracer.traced('envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit', shouldRateLimit) : shouldRateLimit, ...healthMethods(o.ready ?? (() => true)) }, undefined, o.tls && envoysOnly(o.tls, o.logger));
  return { port: server.port, stop: () => server.stop() };
}
