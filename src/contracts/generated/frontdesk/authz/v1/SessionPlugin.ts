// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * Kong's session plugin config (cookie storage). The secret goes to the authz companion only:
 * sessions are sealed with a key derived from it.
 */
export interface SessionPlugin {
  'secret'?: (string);
  'audience'?: (string);
  /**
   * Seconds; 0 turns a timeout off.
   */
  'idling_timeout'?: (number);
  'rolling_timeout'?: (number);
  'absolute_timeout'?: (number);
  'cookie_name'?: (string);
  'cookie_path'?: (string);
  'cookie_domain'?: (string);
  /**
   * "Strict", "Lax", "None" or "Default" (no SameSite attribute).
   */
  'cookie_same_site'?: (string);
  'cookie_http_only'?: (boolean);
  'cookie_secure'?: (boolean);
  /**
   * "id", "audience", "subject", "timeout", "idling-timeout", "rolling-timeout", "absolute-timeout".
   */
  'request_headers'?: (string)[];
  'response_headers'?: (string)[];
  /**
   * "GET", "POST", "DELETE".
   */
  'logout_methods'?: (string)[];
  'logout_query_arg'?: (string);
  'logout_post_arg'?: (string);
  'read_body_for_logout'?: (boolean);
  /**
   * What the session is bound to: "ip", "scheme", "user-agent" (a request that differs has no session).
   */
  'bind'?: (string)[];
  /**
   * Persistent sessions: a second cookie, kept remember_rolling_timeout seconds after each save and
   * restoring the session until remember_absolute_timeout after it began (0 turns one off).
   */
  'remember'?: (boolean);
  'remember_cookie_name'?: (string);
  'remember_rolling_timeout'?: (number);
  'remember_absolute_timeout'?: (number);
}

/**
 * Kong's session plugin config (cookie storage). The secret goes to the authz companion only:
 * sessions are sealed with a key derived from it.
 */
export interface SessionPlugin__Output {
  'secret': (string);
  'audience': (string);
  /**
   * Seconds; 0 turns a timeout off.
   */
  'idling_timeout': (number);
  'rolling_timeout': (number);
  'absolute_timeout': (number);
  'cookie_name': (string);
  'cookie_path': (string);
  'cookie_domain': (string);
  /**
   * "Strict", "Lax", "None" or "Default" (no SameSite attribute).
   */
  'cookie_same_site': (string);
  'cookie_http_only': (boolean);
  'cookie_secure': (boolean);
  /**
   * "id", "audience", "subject", "timeout", "idling-timeout", "rolling-timeout", "absolute-timeout".
   */
  'request_headers': (string)[];
  'response_headers': (string)[];
  /**
   * "GET", "POST", "DELETE".
   */
  'logout_methods': (string)[];
  'logout_query_arg': (string);
  'logout_post_arg': (string);
  'read_body_for_logout': (boolean);
  /**
   * What the session is bound to: "ip", "scheme", "user-agent" (a request that differs has no session).
   */
  'bind': (string)[];
  /**
   * Persistent sessions: a second cookie, kept remember_rolling_timeout seconds after each save and
   * restoring the session until remember_absolute_timeout after it began (0 turns one off).
   */
  'remember': (boolean);
  'remember_cookie_name': (string);
  'remember_rolling_timeout': (number);
  'remember_absolute_timeout': (number);
}
