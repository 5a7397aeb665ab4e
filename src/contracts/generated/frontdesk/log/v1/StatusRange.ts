// Original file: proto/frontdesk/log/v1/log.proto


/**
 * An inclusive range of HTTP statuses.
 */
export interface StatusRange {
  'from'?: (number);
  'to'?: (number);
}

/**
 * An inclusive range of HTTP statuses.
 */
export interface StatusRange__Output {
  'from': (number);
  'to': (number);
}
