// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * A Kong basicauth_credential; the password as a salted scrypt hash.
 */
export interface BasicAuthCredential {
  'id'?: (string);
  'username'?: (string);
  /**
   * "scrypt:" + base64 of scrypt(password, credential_salt + "\0" + consumer id), N 2^12, r 8, p 1, 32 bytes.
   */
  'password_hash'?: (string);
}

/**
 * A Kong basicauth_credential; the password as a salted scrypt hash.
 */
export interface BasicAuthCredential__Output {
  'id': (string);
  'username': (string);
  /**
   * "scrypt:" + base64 of scrypt(password, credential_salt + "\0" + consumer id), N 2^12, r 8, p 1, 32 bytes.
   */
  'password_hash': (string);
}
