// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * A Kong basicauth_credential; the password in clear text, hashed by the service on arrival.
 */
export interface BasicAuthCredential {
  'id'?: (string);
  'username'?: (string);
  'password'?: (string);
}

/**
 * A Kong basicauth_credential; the password in clear text, hashed by the service on arrival.
 */
export interface BasicAuthCredential__Output {
  'id': (string);
  'username': (string);
  'password': (string);
}
