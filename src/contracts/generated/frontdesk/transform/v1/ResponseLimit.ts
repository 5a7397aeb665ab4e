// Original file: proto/frontdesk/transform/v1/transform.proto

import type { ResponseWindow as _frontdesk_transform_v1_ResponseWindow, ResponseWindow__Output as _frontdesk_transform_v1_ResponseWindow__Output } from '../../../frontdesk/transform/v1/ResponseWindow.js';

/**
 * One named quota: its limits, shortest period first.
 */
export interface ResponseLimit {
  'name'?: (string);
  'windows'?: (_frontdesk_transform_v1_ResponseWindow)[];
}

/**
 * One named quota: its limits, shortest period first.
 */
export interface ResponseLimit__Output {
  'name': (string);
  'windows': (_frontdesk_transform_v1_ResponseWindow__Output)[];
}
