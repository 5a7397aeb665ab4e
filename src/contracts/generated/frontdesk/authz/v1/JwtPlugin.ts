// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * Kong's jwt plugin config.
 */
export interface JwtPlugin {
  'uri_param_names'?: (string)[];
  'cookie_names'?: (string)[];
  'header_names'?: (string)[];
  'key_claim_name'?: (string);
  'secret_is_base64'?: (boolean);
  /**
   * "exp", "nbf".
   */
  'claims_to_verify'?: (string)[];
  /**
   * A consumer id or username; empty means none.
   */
  'anonymous'?: (string);
  'run_on_preflight'?: (boolean);
  /**
   * Seconds; 0 means no limit.
   */
  'maximum_expiration'?: (number | string);
  'realm'?: (string);
}

/**
 * Kong's jwt plugin config.
 */
export interface JwtPlugin__Output {
  'uri_param_names': (string)[];
  'cookie_names': (string)[];
  'header_names': (string)[];
  'key_claim_name': (string);
  'secret_is_base64': (boolean);
  /**
   * "exp", "nbf".
   */
  'claims_to_verify': (string)[];
  /**
   * A consumer id or username; empty means none.
   */
  'anonymous': (string);
  'run_on_preflight': (boolean);
  /**
   * Seconds; 0 means no limit.
   */
  'maximum_expiration': (number);
  'realm': (string);
}
