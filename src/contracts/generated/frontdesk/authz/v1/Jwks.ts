// Original file: proto/frontdesk/authz/v1/authz.proto

import type { Jwk as _frontdesk_authz_v1_Jwk, Jwk__Output as _frontdesk_authz_v1_Jwk__Output } from '../../../frontdesk/authz/v1/Jwk.js';

/**
 * A JSON Web Key Set: public keys only (private members are never sent).
 */
export interface Jwks {
  'keys'?: (_frontdesk_authz_v1_Jwk)[];
}

/**
 * A JSON Web Key Set: public keys only (private members are never sent).
 */
export interface Jwks__Output {
  'keys': (_frontdesk_authz_v1_Jwk__Output)[];
}
