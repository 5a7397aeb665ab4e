// Original file: proto/frontdesk/transform/v1/transform.proto


/**
 * A name and a value, as Kong writes them ("name:value").
 */
export interface Pair {
  'name'?: (string);
  'value'?: (string);
}

/**
 * A name and a value, as Kong writes them ("name:value").
 */
export interface Pair__Output {
  'name': (string);
  'value': (string);
}
