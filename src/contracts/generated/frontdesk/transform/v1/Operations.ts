// Original file: proto/frontdesk/transform/v1/transform.proto

import type { Pair as _frontdesk_transform_v1_Pair, Pair__Output as _frontdesk_transform_v1_Pair__Output } from '../../../frontdesk/transform/v1/Pair.js';

/**
 * Kong's operations on one part, applied in Kong's order: remove, rename, replace, add, append.
 */
export interface Operations {
  'remove'?: (string)[];
  'rename'?: (_frontdesk_transform_v1_Pair)[];
  'replace'?: (_frontdesk_transform_v1_Pair)[];
  'add'?: (_frontdesk_transform_v1_Pair)[];
  'append'?: (_frontdesk_transform_v1_Pair)[];
  /**
   * response JSON only: the type of the replaced / added / appended values (string, number, boolean).
   */
  'replace_types'?: (string)[];
  'add_types'?: (string)[];
  'append_types'?: (string)[];
}

/**
 * Kong's operations on one part, applied in Kong's order: remove, rename, replace, add, append.
 */
export interface Operations__Output {
  'remove': (string)[];
  'rename': (_frontdesk_transform_v1_Pair__Output)[];
  'replace': (_frontdesk_transform_v1_Pair__Output)[];
  'add': (_frontdesk_transform_v1_Pair__Output)[];
  'append': (_frontdesk_transform_v1_Pair__Output)[];
  /**
   * response JSON only: the type of the replaced / added / appended values (string, number, boolean).
   */
  'replace_types': (string)[];
  'add_types': (string)[];
  'append_types': (string)[];
}
