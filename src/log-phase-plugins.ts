/**
 * Kong's log-phase plugins: they run on every answer, a plugin's own included, and never
 * answer a request themselves (the access logs, the tracers, the metrics logger).
 */
export const LOG_PHASE_PLUGINS: ReadonlySet<string> = new Set(['file-log', 'http-log', 'tcp-log', 'udp-log', 'syslog', 'opentelemetry', 'zipkin', 'prometheus']);
