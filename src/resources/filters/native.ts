import { CORS_FILTERS } from './cors.js';
import { correlationIdFilter } from './correlation-id.js';
import { ipRestrictionFilter } from './ip-restriction.js';
import { kongRepliesFilter, type NativeFilter } from './kong-replies.js';
import type { HttpFilter } from './registry.js';
import { REQUEST_SIZE_FILTERS } from './request-size-limiting.js';
import { requestTerminationFilter } from './request-termination.js';
import { requestTransformerFilter } from './request-transformer.js';
import { responseTransformerFilter } from './response-transformer.js';

/**
 * The filters of the Kong plugins Envoy enforces itself (no companion service): cors,
 * correlation-id, ip-restriction, request-size-limiting, request-termination and the header
 * parts of request-/response-transformer. prometheus needs none (Envoy's stats). See
 * docs/plugins.md.
 */
const PLUGIN_FILTERS: readonly NativeFilter[] = [
  correlationIdFilter, ...CORS_FILTERS, ipRestrictionFilter, ...REQUEST_SIZE_FILTERS,
  requestTransformerFilter, responseTransformerFilter, requestTerminationFilter,
];

/** Kong's answers, rules tried in Kong's plugin priority: ip-restriction 990, request-size-limiting 951, request-termination 2. */
const REPLY_ORDER: readonly NativeFilter[] = [ipRestrictionFilter, ...REQUEST_SIZE_FILTERS, requestTerminationFilter];

/** The plugins whose response headers go on every answer, Kong's answers written by kong-replies included. */
const REPLY_HEADERS: readonly NativeFilter[] = [correlationIdFilter, ...CORS_FILTERS];

export const NATIVE_FILTERS: readonly HttpFilter[] = [kongRepliesFilter(REPLY_ORDER, REPLY_HEADERS), ...PLUGIN_FILTERS];
