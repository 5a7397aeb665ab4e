// Original file: proto/frontdesk/ratelimit/v1/ratelimit.proto

import type { Unit as _frontdesk_ratelimit_v1_Unit, Unit__Output as _frontdesk_ratelimit_v1_Unit__Output } from '../../../frontdesk/ratelimit/v1/Unit.js';

export interface Window {
  'unit'?: (_frontdesk_ratelimit_v1_Unit);
  /**
   * Kong accepts fractional limits (2.5 per minute admits 2 per fixed window).
   */
  'limit'?: (number | string);
}

export interface Window__Output {
  'unit': (_frontdesk_ratelimit_v1_Unit__Output);
  /**
   * Kong accepts fractional limits (2.5 per minute admits 2 per fixed window).
   */
  'limit': (number);
}
