/**
 * Syslog's numbers (RFC 5424 section 6.2.1) under the names Kong's syslog plugin uses
 * (kong/plugins/syslog/schema.lua): severities most severe first (emerg 0 ... debug 7), and
 * facilities by code. Pure data, shared by the plugin's schema and the log companion.
 */
export const SYSLOG_SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type SyslogSeverity = (typeof SYSLOG_SEVERITIES)[number];

export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  KERN: 0, USER: 1, MAIL: 2, DAEMON: 3, AUTH: 4, SYSLOG: 5, LPR: 6, NEWS: 7, UUCP: 8, CRON: 9, AUTHPRIV: 10, FTP: 11,
  LOCAL0: 16, LOCAL1: 17, LOCAL2: 18, LOCAL3: 19, LOCAL4: 20, LOCAL5: 21, LOCAL6: 22, LOCAL7: 23,
};
