// Original file: proto/frontdesk/log/v1/log.proto


/**
 * Kong's queue (typedefs.queue), in its units (seconds).
 */
export interface Queue {
  'max_batch_size'?: (number);
  'max_coalescing_delay'?: (number | string);
  'max_entries'?: (number);
  'max_retry_time'?: (number | string);
  'initial_retry_delay'?: (number | string);
  'max_retry_delay'?: (number | string);
  /**
   * 1: one batch in flight at a time; -1: no limit.
   */
  'concurrency_limit'?: (number);
}

/**
 * Kong's queue (typedefs.queue), in its units (seconds).
 */
export interface Queue__Output {
  'max_batch_size': (number);
  'max_coalescing_delay': (number);
  'max_entries': (number);
  'max_retry_time': (number);
  'initial_retry_delay': (number);
  'max_retry_delay': (number);
  /**
   * 1: one batch in flight at a time; -1: no limit.
   */
  'concurrency_limit': (number);
}
