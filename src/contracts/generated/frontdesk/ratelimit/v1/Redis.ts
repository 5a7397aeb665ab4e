// Original file: proto/frontdesk/ratelimit/v1/ratelimit.proto


export interface Redis {
  'host'?: (string);
  'port'?: (number);
  'username'?: (string);
  'password'?: (string);
  'database'?: (number);
  'ssl'?: (boolean);
  'ssl_verify'?: (boolean);
  'server_name'?: (string);
  /**
   * Milliseconds (Kong's redis.connect_timeout and redis.read_timeout, each defaulting to
   * redis.timeout).
   */
  'connect_timeout_ms'?: (number);
  'read_timeout_ms'?: (number);
}

export interface Redis__Output {
  'host': (string);
  'port': (number);
  'username': (string);
  'password': (string);
  'database': (number);
  'ssl': (boolean);
  'ssl_verify': (boolean);
  'server_name': (string);
  /**
   * Milliseconds (Kong's redis.connect_timeout and redis.read_timeout, each defaulting to
   * redis.timeout).
   */
  'connect_timeout_ms': (number);
  'read_timeout_ms': (number);
}
