// Original file: proto/frontdesk/transform/v1/transform.proto


export interface ResponseWindow {
  /**
   * second, minute, hour, day, month or year.
   */
  'unit'?: (string);
  'limit'?: (number | string);
}

export interface ResponseWindow__Output {
  /**
   * second, minute, hour, day, month or year.
   */
  'unit': (string);
  'limit': (number);
}
