// Original file: proto/frontdesk/log/v1/log.proto

import type { StatsdMetric as _frontdesk_log_v1_StatsdMetric, StatsdMetric__Output as _frontdesk_log_v1_StatsdMetric__Output } from '../../../frontdesk/log/v1/StatsdMetric.js';
import type { StatusRange as _frontdesk_log_v1_StatusRange, StatusRange__Output as _frontdesk_log_v1_StatusRange__Output } from '../../../frontdesk/log/v1/StatusRange.js';

// Original file: proto/frontdesk/log/v1/log.proto

export const _frontdesk_log_v1_StreamLogSink_Kind = {
  KIND_UNSPECIFIED: 'KIND_UNSPECIFIED',
  TCP: 'TCP',
  UDP: 'UDP',
  SYSLOG: 'SYSLOG',
  STATSD: 'STATSD',
  DATADOG: 'DATADOG',
  LOGGLY: 'LOGGLY',
} as const;

export type _frontdesk_log_v1_StreamLogSink_Kind =
  | 'KIND_UNSPECIFIED'
  | 0
  | 'TCP'
  | 1
  | 'UDP'
  | 2
  | 'SYSLOG'
  | 3
  | 'STATSD'
  | 4
  | 'DATADOG'
  | 5
  | 'LOGGLY'
  | 6

export type _frontdesk_log_v1_StreamLogSink_Kind__Output = typeof _frontdesk_log_v1_StreamLogSink_Kind[keyof typeof _frontdesk_log_v1_StreamLogSink_Kind]

/**
 * A Kong tcp-log, udp-log or syslog configuration: each entry is sent as one JSON text (a line
 * over TCP, a datagram over UDP, an RFC 5424 message to the companion's syslog address).
 */
export interface StreamLogSink {
  'name'?: (string);
  'kind'?: (_frontdesk_log_v1_StreamLogSink_Kind);
  /**
   * tcp-log, udp-log: where entries go.
   */
  'host'?: (string);
  'port'?: (number);
  'timeout_ms'?: (number);
  /**
   * tcp-log: how long an idle connection is kept, and TLS (with its SNI).
   */
  'keepalive_ms'?: (number);
  'tls'?: (boolean);
  'tls_sni'?: (string);
  /**
   * syslog (and loggly's severities): Kong's syslog_facility (USER, LOCAL0, ...) and severities by name (info, err, ...).
   */
  'facility'?: (string);
  'log_level'?: (string);
  'successful_severity'?: (string);
  'client_errors_severity'?: (string);
  'server_errors_severity'?: (string);
  /**
   * statsd: the metrics' prefix and list, the status ranges counted (status_filter false: every
   * status), lines combined into datagrams of up to udp_packet_size bytes (0: one a datagram),
   * TCP instead of UDP, the companion's host name in the prefix.
   */
  'prefix'?: (string);
  'metrics'?: (_frontdesk_log_v1_StatsdMetric)[];
  'status_filter'?: (boolean);
  'allow_status_codes'?: (_frontdesk_log_v1_StatusRange)[];
  'udp_packet_size'?: (number);
  'use_tcp'?: (boolean);
  'hostname_in_prefix'?: (boolean);
  /**
   * datadog: the tag names of the service, the status and the consumer (DogStatsD tags).
   */
  'service_name_tag'?: (string);
  'status_tag'?: (string);
  'consumer_tag'?: (string);
  /**
   * loggly: the customer token and the tags of each message's structured data (host, port,
   * timeout_ms and the severities above say where and which).
   */
  'loggly_key'?: (string);
  'loggly_tags'?: (string)[];
}

/**
 * A Kong tcp-log, udp-log or syslog configuration: each entry is sent as one JSON text (a line
 * over TCP, a datagram over UDP, an RFC 5424 message to the companion's syslog address).
 */
export interface StreamLogSink__Output {
  'name': (string);
  'kind': (_frontdesk_log_v1_StreamLogSink_Kind__Output);
  /**
   * tcp-log, udp-log: where entries go.
   */
  'host': (string);
  'port': (number);
  'timeout_ms': (number);
  /**
   * tcp-log: how long an idle connection is kept, and TLS (with its SNI).
   */
  'keepalive_ms': (number);
  'tls': (boolean);
  'tls_sni': (string);
  /**
   * syslog (and loggly's severities): Kong's syslog_facility (USER, LOCAL0, ...) and severities by name (info, err, ...).
   */
  'facility': (string);
  'log_level': (string);
  'successful_severity': (string);
  'client_errors_severity': (string);
  'server_errors_severity': (string);
  /**
   * statsd: the metrics' prefix and list, the status ranges counted (status_filter false: every
   * status), lines combined into datagrams of up to udp_packet_size bytes (0: one a datagram),
   * TCP instead of UDP, the companion's host name in the prefix.
   */
  'prefix': (string);
  'metrics': (_frontdesk_log_v1_StatsdMetric__Output)[];
  'status_filter': (boolean);
  'allow_status_codes': (_frontdesk_log_v1_StatusRange__Output)[];
  'udp_packet_size': (number);
  'use_tcp': (boolean);
  'hostname_in_prefix': (boolean);
  /**
   * datadog: the tag names of the service, the status and the consumer (DogStatsD tags).
   */
  'service_name_tag': (string);
  'status_tag': (string);
  'consumer_tag': (string);
  /**
   * loggly: the customer token and the tags of each message's structured data (host, port,
   * timeout_ms and the severities above say where and which).
   */
  'loggly_key': (string);
  'loggly_tags': (string)[];
}
