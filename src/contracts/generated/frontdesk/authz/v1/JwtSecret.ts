// Original file: proto/frontdesk/authz/v1/authz.proto

import type { Jwks as _frontdesk_authz_v1_Jwks, Jwks__Output as _frontdesk_authz_v1_Jwks__Output } from '../../../frontdesk/authz/v1/Jwks.js';

/**
 * A Kong jwt_secret. The secret is chosen by the token's key claim (iss) matched against `key`.
 */
export interface JwtSecret {
  /**
   * X-Credential-Identifier for jwt is `key`; `id` is kept for logs.
   */
  'id'?: (string);
  'key'?: (string);
  /**
   * HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA.
   */
  'algorithm'?: (string);
  /**
   * HS*: the shared secret.
   */
  'secret'?: (string);
  /**
   * RS*, PS*, ES*, EdDSA: a PEM public key (Kong's name for all of them).
   */
  'rsa_public_key'?: (string);
  /**
   * Frontdesk extension: a JSON Web Key Set given inline...
   */
  'jwks'?: (_frontdesk_authz_v1_Jwks | null);
  /**
   * ...or by URL, fetched by the authz service.
   */
  'jwks_uri'?: (string);
}

/**
 * A Kong jwt_secret. The secret is chosen by the token's key claim (iss) matched against `key`.
 */
export interface JwtSecret__Output {
  /**
   * X-Credential-Identifier for jwt is `key`; `id` is kept for logs.
   */
  'id': (string);
  'key': (string);
  /**
   * HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA.
   */
  'algorithm': (string);
  /**
   * HS*: the shared secret.
   */
  'secret': (string);
  /**
   * RS*, PS*, ES*, EdDSA: a PEM public key (Kong's name for all of them).
   */
  'rsa_public_key': (string);
  /**
   * Frontdesk extension: a JSON Web Key Set given inline...
   */
  'jwks': (_frontdesk_authz_v1_Jwks__Output | null);
  /**
   * ...or by URL, fetched by the authz service.
   */
  'jwks_uri': (string);
}
