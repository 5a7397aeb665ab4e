// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * Kong's ldap-auth plugin config: the companion binds to the LDAP server as the user.
 */
export interface LdapAuthPlugin {
  'ldap_host'?: (string);
  'ldap_port'?: (number);
  'ldaps'?: (boolean);
  'start_tls'?: (boolean);
  'verify_ldap_host'?: (boolean);
  'base_dn'?: (string);
  'attribute'?: (string);
  /**
   * Seconds a verdict is kept; 0 keeps it for as long as the policy stands (Kong's mlcache ttl 0).
   */
  'cache_ttl'?: (number | string);
  'hide_credentials'?: (boolean);
  /**
   * Milliseconds for connect, TLS and each answer.
   */
  'timeout'?: (number | string);
  /**
   * Milliseconds an idle connection is kept.
   */
  'keepalive'?: (number | string);
  /**
   * A consumer id or username; empty means none.
   */
  'anonymous'?: (string);
  'header_type'?: (string);
  'realm'?: (string);
}

/**
 * Kong's ldap-auth plugin config: the companion binds to the LDAP server as the user.
 */
export interface LdapAuthPlugin__Output {
  'ldap_host': (string);
  'ldap_port': (number);
  'ldaps': (boolean);
  'start_tls': (boolean);
  'verify_ldap_host': (boolean);
  'base_dn': (string);
  'attribute': (string);
  /**
   * Seconds a verdict is kept; 0 keeps it for as long as the policy stands (Kong's mlcache ttl 0).
   */
  'cache_ttl': (number);
  'hide_credentials': (boolean);
  /**
   * Milliseconds for connect, TLS and each answer.
   */
  'timeout': (number);
  /**
   * Milliseconds an idle connection is kept.
   */
  'keepalive': (number);
  /**
   * A consumer id or username; empty means none.
   */
  'anonymous': (string);
  'header_type': (string);
  'realm': (string);
}
