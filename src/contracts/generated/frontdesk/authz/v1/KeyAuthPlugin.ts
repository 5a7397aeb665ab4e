// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * Kong's key-auth plugin config.
 */
export interface KeyAuthPlugin {
  'key_names'?: (string)[];
  'hide_credentials'?: (boolean);
  'anonymous'?: (string);
  'key_in_header'?: (boolean);
  'key_in_query'?: (boolean);
  'key_in_body'?: (boolean);
  'run_on_preflight'?: (boolean);
  'realm'?: (string);
}

/**
 * Kong's key-auth plugin config.
 */
export interface KeyAuthPlugin__Output {
  'key_names': (string)[];
  'hide_credentials': (boolean);
  'anonymous': (string);
  'key_in_header': (boolean);
  'key_in_query': (boolean);
  'key_in_body': (boolean);
  'run_on_preflight': (boolean);
  'realm': (string);
}
