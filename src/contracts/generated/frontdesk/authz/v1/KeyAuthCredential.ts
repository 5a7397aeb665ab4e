// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * A Kong keyauth_credential. X-Credential-Identifier carries `id`.
 */
export interface KeyAuthCredential {
  'id'?: (string);
  'key'?: (string);
}

/**
 * A Kong keyauth_credential. X-Credential-Identifier carries `id`.
 */
export interface KeyAuthCredential__Output {
  'id': (string);
  'key': (string);
}
