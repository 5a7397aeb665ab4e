// Original file: proto/frontdesk/transform/v1/transform.proto


/**
 * Kong's standard-webhooks plugin config. The secret goes to this companion only.
 */
export interface StandardWebhooks {
  /**
   * The HMAC-SHA256 key, as written in the plugin's config (its bytes, not decoded).
   */
  'secret_v1'?: (string);
  /**
   * Seconds a webhook's timestamp may lie in the past (0 and up).
   */
  'tolerance_second'?: (number);
}

/**
 * Kong's standard-webhooks plugin config. The secret goes to this companion only.
 */
export interface StandardWebhooks__Output {
  /**
   * The HMAC-SHA256 key, as written in the plugin's config (its bytes, not decoded).
   */
  'secret_v1': (string);
  /**
   * Seconds a webhook's timestamp may lie in the past (0 and up).
   */
  'tolerance_second': (number);
}
