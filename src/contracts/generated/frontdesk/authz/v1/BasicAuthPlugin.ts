// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * Kong's basic-auth plugin config.
 */
export interface BasicAuthPlugin {
  'anonymous'?: (string);
  'hide_credentials'?: (boolean);
  'realm'?: (string);
}

/**
 * Kong's basic-auth plugin config.
 */
export interface BasicAuthPlugin__Output {
  'anonymous': (string);
  'hide_credentials': (boolean);
  'realm': (string);
}
