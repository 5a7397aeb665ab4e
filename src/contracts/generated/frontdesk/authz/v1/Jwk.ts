// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * The public members of a JSON Web Key (RFC 7517, 7518, 8037).
 */
export interface Jwk {
  'kty'?: (string);
  'kid'?: (string);
  'alg'?: (string);
  'use'?: (string);
  'key_ops'?: (string)[];
  /**
   * EC and OKP.
   */
  'crv'?: (string);
  'x'?: (string);
  'y'?: (string);
  /**
   * RSA.
   */
  'n'?: (string);
  'e'?: (string);
  /**
   * oct (HS*).
   */
  'k'?: (string);
  'x5c'?: (string)[];
  'x5t'?: (string);
  'x5t_s256'?: (string);
}

/**
 * The public members of a JSON Web Key (RFC 7517, 7518, 8037).
 */
export interface Jwk__Output {
  'kty': (string);
  'kid': (string);
  'alg': (string);
  'use': (string);
  'key_ops': (string)[];
  /**
   * EC and OKP.
   */
  'crv': (string);
  'x': (string);
  'y': (string);
  /**
   * RSA.
   */
  'n': (string);
  'e': (string);
  /**
   * oct (HS*).
   */
  'k': (string);
  'x5c': (string)[];
  'x5t': (string);
  'x5t_s256': (string);
}
