// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * A Kong keyauth_credential. X-Credential-Identifier carries `id`.
 */
export interface KeyAuthCredential {
  'id'?: (string);
  /**
   * "hmac-sha256:" + base64 of HMAC-SHA256(credential_salt, key).
   */
  'key_hash'?: (string);
}

/**
 * A Kong keyauth_credential. X-Credential-Identifier carries `id`.
 */
export interface KeyAuthCredential__Output {
  'id': (string);
  /**
   * "hmac-sha256:" + base64 of HMAC-SHA256(credential_salt, key).
   */
  'key_hash': (string);
}
