// Original file: proto/frontdesk/log/v1/log.proto


/**
 * Kong's prometheus plugin on some routes: the requests Envoy streams under this name are
 * counted in Kong's metric names by the log companion (named by its content, as a sink is).
 */
export interface MetricsSink {
  'name'?: (string);
  /**
   * Kong's per_consumer: the consumer label carries the consumer's username.
   */
  'per_consumer'?: (boolean);
  'status_code_metrics'?: (boolean);
  'latency_metrics'?: (boolean);
  'bandwidth_metrics'?: (boolean);
}

/**
 * Kong's prometheus plugin on some routes: the requests Envoy streams under this name are
 * counted in Kong's metric names by the log companion (named by its content, as a sink is).
 */
export interface MetricsSink__Output {
  'name': (string);
  /**
   * Kong's per_consumer: the consumer label carries the consumer's username.
   */
  'per_consumer': (boolean);
  'status_code_metrics': (boolean);
  'latency_metrics': (boolean);
  'bandwidth_metrics': (boolean);
}
