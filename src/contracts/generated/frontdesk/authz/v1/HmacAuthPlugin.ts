// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * Kong's hmac-auth plugin config.
 */
export interface HmacAuthPlugin {
  'hide_credentials'?: (boolean);
  /**
   * Seconds.
   */
  'clock_skew'?: (number | string);
  /**
   * A consumer id or username; empty means none.
   */
  'anonymous'?: (string);
  'validate_request_body'?: (boolean);
  'enforce_headers'?: (string)[];
  /**
   * "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512".
   */
  'algorithms'?: (string)[];
  'realm'?: (string);
}

/**
 * Kong's hmac-auth plugin config.
 */
export interface HmacAuthPlugin__Output {
  'hide_credentials': (boolean);
  /**
   * Seconds.
   */
  'clock_skew': (number);
  /**
   * A consumer id or username; empty means none.
   */
  'anonymous': (string);
  'validate_request_body': (boolean);
  'enforce_headers': (string)[];
  /**
   * "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512".
   */
  'algorithms': (string)[];
  'realm': (string);
}
