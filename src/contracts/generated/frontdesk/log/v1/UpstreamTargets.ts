// Original file: proto/frontdesk/log/v1/log.proto


/**
 * One target as Kong names it, and how its Envoy hosts are recognised.
 */
export interface _frontdesk_log_v1_UpstreamTargets_Target {
  /**
   * Kong's `target` label: host:port (an IPv6 host in brackets).
   */
  'target'?: (string);
  /**
   * The hostname Envoy holds for each of its hosts (the Host Kong sends it: host, :port unless the scheme's default).
   */
  'hostname'?: (string);
  'host'?: (string);
  'port'?: (number);
}

/**
 * One target as Kong names it, and how its Envoy hosts are recognised.
 */
export interface _frontdesk_log_v1_UpstreamTargets_Target__Output {
  /**
   * Kong's `target` label: host:port (an IPv6 host in brackets).
   */
  'target': (string);
  /**
   * The hostname Envoy holds for each of its hosts (the Host Kong sends it: host, :port unless the scheme's default).
   */
  'hostname': (string);
  'host': (string);
  'port': (number);
}

/**
 * One Kong upstream's targets, for Kong's kong_upstream_target_health (prometheus'
 * upstream_health_metrics): the log companion reads their health from its Envoy's admin
 * /clusters when scraped.
 */
export interface UpstreamTargets {
  /**
   * `<subsystem>:<upstream>`: the resource's name.
   */
  'name'?: (string);
  /**
   * Kong's `upstream` label.
   */
  'upstream'?: (string);
  /**
   * Kong's `subsystem` label: http, or stream for tcp and tls services.
   */
  'subsystem'?: (string);
  /**
   * Whether active or passive health checks are configured: `healthchecks_off` when not.
   */
  'healthchecks'?: (boolean);
  /**
   * The Envoy clusters holding the targets (one per Kong service naming the upstream).
   */
  'clusters'?: (string)[];
  'targets'?: (_frontdesk_log_v1_UpstreamTargets_Target)[];
}

/**
 * One Kong upstream's targets, for Kong's kong_upstream_target_health (prometheus'
 * upstream_health_metrics): the log companion reads their health from its Envoy's admin
 * /clusters when scraped.
 */
export interface UpstreamTargets__Output {
  /**
   * `<subsystem>:<upstream>`: the resource's name.
   */
  'name': (string);
  /**
   * Kong's `upstream` label.
   */
  'upstream': (string);
  /**
   * Kong's `subsystem` label: http, or stream for tcp and tls services.
   */
  'subsystem': (string);
  /**
   * Whether active or passive health checks are configured: `healthchecks_off` when not.
   */
  'healthchecks': (boolean);
  /**
   * The Envoy clusters holding the targets (one per Kong service naming the upstream).
   */
  'clusters': (string)[];
  'targets': (_frontdesk_log_v1_UpstreamTargets_Target__Output)[];
}
