// Original file: proto/frontdesk/authz/v1/authz.proto

import type { JwtSecret as _frontdesk_authz_v1_JwtSecret, JwtSecret__Output as _frontdesk_authz_v1_JwtSecret__Output } from '../../../frontdesk/authz/v1/JwtSecret.js';
import type { KeyAuthCredential as _frontdesk_authz_v1_KeyAuthCredential, KeyAuthCredential__Output as _frontdesk_authz_v1_KeyAuthCredential__Output } from '../../../frontdesk/authz/v1/KeyAuthCredential.js';
import type { BasicAuthCredential as _frontdesk_authz_v1_BasicAuthCredential, BasicAuthCredential__Output as _frontdesk_authz_v1_BasicAuthCredential__Output } from '../../../frontdesk/authz/v1/BasicAuthCredential.js';
import type { HmacAuthCredential as _frontdesk_authz_v1_HmacAuthCredential, HmacAuthCredential__Output as _frontdesk_authz_v1_HmacAuthCredential__Output } from '../../../frontdesk/authz/v1/HmacAuthCredential.js';

/**
 * A Kong consumer, its credentials and the ACL groups it belongs to.
 */
export interface Consumer {
  /**
   * The resource name: the consumer's id (the id X-Consumer-ID carries).
   */
  'name'?: (string);
  'id'?: (string);
  'username'?: (string);
  'custom_id'?: (string);
  /**
   * Groups from the consumer's acls, in file order, without repeats.
   */
  'groups'?: (string)[];
  'jwt_secrets'?: (_frontdesk_authz_v1_JwtSecret)[];
  'keyauth_credentials'?: (_frontdesk_authz_v1_KeyAuthCredential)[];
  'basicauth_credentials'?: (_frontdesk_authz_v1_BasicAuthCredential)[];
  /**
   * The salt the key and password hashes of this consumer were made with.
   */
  'credential_salt'?: (string);
  'hmacauth_credentials'?: (_frontdesk_authz_v1_HmacAuthCredential)[];
}

/**
 * A Kong consumer, its credentials and the ACL groups it belongs to.
 */
export interface Consumer__Output {
  /**
   * The resource name: the consumer's id (the id X-Consumer-ID carries).
   */
  'name': (string);
  'id': (string);
  'username': (string);
  'custom_id': (string);
  /**
   * Groups from the consumer's acls, in file order, without repeats.
   */
  'groups': (string)[];
  'jwt_secrets': (_frontdesk_authz_v1_JwtSecret__Output)[];
  'keyauth_credentials': (_frontdesk_authz_v1_KeyAuthCredential__Output)[];
  'basicauth_credentials': (_frontdesk_authz_v1_BasicAuthCredential__Output)[];
  /**
   * The salt the key and password hashes of this consumer were made with.
   */
  'credential_salt': (string);
  'hmacauth_credentials': (_frontdesk_authz_v1_HmacAuthCredential__Output)[];
}
