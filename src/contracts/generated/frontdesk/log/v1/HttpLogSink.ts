// Original file: proto/frontdesk/log/v1/log.proto

import type { Header as _frontdesk_log_v1_Header, Header__Output as _frontdesk_log_v1_Header__Output } from '../../../frontdesk/log/v1/Header.js';
import type { Queue as _frontdesk_log_v1_Queue, Queue__Output as _frontdesk_log_v1_Queue__Output } from '../../../frontdesk/log/v1/Queue.js';

/**
 * One http-log sink, named by its content (the access logger's log_name).
 */
export interface HttpLogSink {
  'name'?: (string);
  'http_endpoint'?: (string);
  'method'?: (string);
  'content_type'?: (string);
  'timeout_ms'?: (number);
  'keepalive_ms'?: (number);
  'headers'?: (_frontdesk_log_v1_Header)[];
  'queue'?: (_frontdesk_log_v1_Queue | null);
}

/**
 * One http-log sink, named by its content (the access logger's log_name).
 */
export interface HttpLogSink__Output {
  'name': (string);
  'http_endpoint': (string);
  'method': (string);
  'content_type': (string);
  'timeout_ms': (number);
  'keepalive_ms': (number);
  'headers': (_frontdesk_log_v1_Header__Output)[];
  'queue': (_frontdesk_log_v1_Queue__Output | null);
}
