// Original file: proto/frontdesk/authz/v1/authz.proto


/**
 * Kong's acl plugin config: exactly one of allow / deny holds groups.
 */
export interface AclPlugin {
  'allow'?: (string)[];
  'deny'?: (string)[];
  'hide_groups_header'?: (boolean);
  'include_consumer_groups'?: (boolean);
  'always_use_authenticated_groups'?: (boolean);
}

/**
 * Kong's acl plugin config: exactly one of allow / deny holds groups.
 */
export interface AclPlugin__Output {
  'allow': (string)[];
  'deny': (string)[];
  'hide_groups_header': (boolean);
  'include_consumer_groups': (boolean);
  'always_use_authenticated_groups': (boolean);
}
