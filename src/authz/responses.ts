import type { AuthzDeny } from './types.js';

/** Kong sends its error bodies as JSON with this content type. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A refusal as Kong's kong.response.exit/error builds it: status, JSON body, extra headers. */
export function deny(status: number, body: Record<string, string>, headers: Record<string, string> = {}): AuthzDeny {
  return { allow: false, status, body, headers: { 'content-type': JSON_CONTENT_TYPE, ...headers } };
}

/** 401 with `{"message": ...}` and, when given, a WWW-Authenticate challenge. */
export function unauthorized(message: string, wwwAuthenticate?: string): AuthzDeny {
  return deny(401, { message }, wwwAuthenticate ? { 'www-authenticate': wwwAuthenticate } : {});
}

/** Kong's answer to anything that is the gateway's fault, not the client's. */
export function unexpected(): AuthzDeny {
  return deny(500, { message: 'An unexpected error occurred' });
}

/**
 * Thrown by a plugin for a server-side failure (broken key material, JWKS unreachable, missing
 * anonymous consumer). Like Kong's `error(err)`, it ends the request with 500 even when the
 * plugin has `anonymous` set. `reason` is logged; it never holds a token, key or password.
 */
export class AuthzInternalError extends Error {
  constructor(readonly reason: string, readonly detail: Record<string, unknown> = {}) {
    super(reason);
    this.name = 'AuthzInternalError';
  }
}
