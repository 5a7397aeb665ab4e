import { deny } from '../responses.js';
import type { AclConfig, AuthzConsumer, AuthzDeny } from '../types.js';

export const FORBIDDEN_MESSAGE = 'You cannot consume this service';

/**
 * Kong 3.x's acl access phase, given who the auth plugins settled on. No consumer: 401
 * `Unauthorized`. A consumer with no groups under an allow list: 401 when it is the anonymous
 * consumer, 403 when it authenticated with a credential (a deny list lets it through).
 * Otherwise 403 `You cannot consume this service` when the groups say so. When allowed, the
 * consumer's groups go upstream in X-Consumer-Groups (", "-joined) unless hide_groups_header.
 */
export function checkAcl(
  conf: AclConfig, consumer: AuthzConsumer | undefined, hasCredential: boolean,
): { deny: AuthzDeny } | { groupsHeader?: string } {
  if (!consumer) return { deny: hasCredential ? deny(403, { message: FORBIDDEN_MESSAGE }) : deny(401, { message: 'Unauthorized' }) };
  const isDeny = (conf.deny?.length ?? 0) > 0;
  const listed = (isDeny ? conf.deny : conf.allow) ?? [];
  const groups = consumer.groups;
  if (groups.length === 0 && !isDeny) {
    return { deny: hasCredential ? deny(403, { message: FORBIDDEN_MESSAGE }) : deny(401, { message: 'Unauthorized' }) };
  }
  const inGroup = listed.some((g) => groups.includes(g));
  if (isDeny ? inGroup : !inGroup) return { deny: deny(403, { message: FORBIDDEN_MESSAGE }) };
  return conf.hide_groups_header ? {} : { groupsHeader: groups.join(', ') };
}
