// Original file: proto/frontdesk/log/v1/log.proto


// Original file: proto/frontdesk/log/v1/log.proto

export const _frontdesk_log_v1_StreamLogSink_Kind = {
  KIND_UNSPECIFIED: 'KIND_UNSPECIFIED',
  TCP: 'TCP',
  UDP: 'UDP',
  SYSLOG: 'SYSLOG',
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
   * syslog: Kong's syslog_facility (USER, LOCAL0, ...) and severities by name (info, err, ...).
   */
  'facility'?: (string);
  'log_level'?: (string);
  'successful_severity'?: (string);
  'client_errors_severity'?: (string);
  'server_errors_severity'?: (string);
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
   * syslog: Kong's syslog_facility (USER, LOCAL0, ...) and severities by name (info, err, ...).
   */
  'facility': (string);
  'log_level': (string);
  'successful_severity': (string);
  'client_errors_severity': (string);
  'server_errors_severity': (string);
}
