// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * A Kong hmacauth_credential. The secret is sent as written: an HMAC is checked with the secret
 * itself (as a jwt_secret's HS secret is), so this stream is one to keep on mutual TLS.
 */
export interface HmacAuthCredential {
  'id'?: (string);
  'username'?: (string);
  'secret'?: (string);
}

/**
 * A Kong hmacauth_credential. The secret is sent as written: an HMAC is checked with the secret
 * itself (as a jwt_secret's HS secret is), so this stream is one to keep on mutual TLS.
 */
export interface HmacAuthCredential__Output {
  'id': (string);
  'username': (string);
  'secret': (string);
}
