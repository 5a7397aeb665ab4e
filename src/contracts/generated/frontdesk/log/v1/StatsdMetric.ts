// Original file: proto/frontdesk/log/v1/log.proto


/**
 * One of Kong's statsd (or datadog) metrics, its identifiers resolved.
 */
export interface StatsdMetric {
  'name'?: (string);
  'stat_type'?: (string);
  /**
   * 0: none written (no "|@rate" on the line).
   */
  'sample_rate'?: (number | string);
  'consumer_identifier'?: (string);
  'service_identifier'?: (string);
  'workspace_identifier'?: (string);
  /**
   * datadog: the metric's own tags, after Kong's.
   */
  'tags'?: (string)[];
}

/**
 * One of Kong's statsd (or datadog) metrics, its identifiers resolved.
 */
export interface StatsdMetric__Output {
  'name': (string);
  'stat_type': (string);
  /**
   * 0: none written (no "|@rate" on the line).
   */
  'sample_rate': (number);
  'consumer_identifier': (string);
  'service_identifier': (string);
  'workspace_identifier': (string);
  /**
   * datadog: the metric's own tags, after Kong's.
   */
  'tags': (string)[];
}
