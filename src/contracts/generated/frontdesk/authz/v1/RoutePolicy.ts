// Original file: proto/frontdesk/authz/v1/authz.proto

import type { JwtPlugin as _frontdesk_authz_v1_JwtPlugin, JwtPlugin__Output as _frontdesk_authz_v1_JwtPlugin__Output } from '../../../frontdesk/authz/v1/JwtPlugin.js';
import type { KeyAuthPlugin as _frontdesk_authz_v1_KeyAuthPlugin, KeyAuthPlugin__Output as _frontdesk_authz_v1_KeyAuthPlugin__Output } from '../../../frontdesk/authz/v1/KeyAuthPlugin.js';
import type { BasicAuthPlugin as _frontdesk_authz_v1_BasicAuthPlugin, BasicAuthPlugin__Output as _frontdesk_authz_v1_BasicAuthPlugin__Output } from '../../../frontdesk/authz/v1/BasicAuthPlugin.js';
import type { AclPlugin as _frontdesk_authz_v1_AclPlugin, AclPlugin__Output as _frontdesk_authz_v1_AclPlugin__Output } from '../../../frontdesk/authz/v1/AclPlugin.js';
import type { HmacAuthPlugin as _frontdesk_authz_v1_HmacAuthPlugin, HmacAuthPlugin__Output as _frontdesk_authz_v1_HmacAuthPlugin__Output } from '../../../frontdesk/authz/v1/HmacAuthPlugin.js';
import type { SessionPlugin as _frontdesk_authz_v1_SessionPlugin, SessionPlugin__Output as _frontdesk_authz_v1_SessionPlugin__Output } from '../../../frontdesk/authz/v1/SessionPlugin.js';
import type { LdapAuthPlugin as _frontdesk_authz_v1_LdapAuthPlugin, LdapAuthPlugin__Output as _frontdesk_authz_v1_LdapAuthPlugin__Output } from '../../../frontdesk/authz/v1/LdapAuthPlugin.js';

/**
 * The auth plugins in effect on one Kong route, scopes merged (route > service > global).
 */
export interface RoutePolicy {
  /**
   * The resource name: the Kong route's name.
   */
  'name'?: (string);
  'jwt'?: (_frontdesk_authz_v1_JwtPlugin | null);
  'key_auth'?: (_frontdesk_authz_v1_KeyAuthPlugin | null);
  'basic_auth'?: (_frontdesk_authz_v1_BasicAuthPlugin | null);
  'acl'?: (_frontdesk_authz_v1_AclPlugin | null);
  'hmac_auth'?: (_frontdesk_authz_v1_HmacAuthPlugin | null);
  'session'?: (_frontdesk_authz_v1_SessionPlugin | null);
  'ldap_auth'?: (_frontdesk_authz_v1_LdapAuthPlugin | null);
}

/**
 * The auth plugins in effect on one Kong route, scopes merged (route > service > global).
 */
export interface RoutePolicy__Output {
  /**
   * The resource name: the Kong route's name.
   */
  'name': (string);
  'jwt': (_frontdesk_authz_v1_JwtPlugin__Output | null);
  'key_auth': (_frontdesk_authz_v1_KeyAuthPlugin__Output | null);
  'basic_auth': (_frontdesk_authz_v1_BasicAuthPlugin__Output | null);
  'acl': (_frontdesk_authz_v1_AclPlugin__Output | null);
  'hmac_auth': (_frontdesk_authz_v1_HmacAuthPlugin__Output | null);
  'session': (_frontdesk_authz_v1_SessionPlugin__Output | null);
  'ldap_auth': (_frontdesk_authz_v1_LdapAuthPlugin__Output | null);
}
