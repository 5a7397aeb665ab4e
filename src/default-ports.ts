/**
 * Every port Frontdesk opens by default, in one place: the CLI's flags and usage text, the
 * companions and the translation settings (where Envoy finds the companions) all read them
 * here. Pure data.
 */
export const DEFAULT_PORTS = {
  /** The proxy: Envoy's HTTP listener (Kong's proxy port). */
  proxy: 8000,
  /** Frontdesk's admin HTTP server: /healthz, /readyz, /status, /metrics. */
  admin: 8001,
  /** The control plane's ADS server. */
  xds: 18000,
  authz: 18001,
  ratelimit: 18002,
  transform: 18003,
  /** The log companion: Envoy's gRPC access-log service (http-log). */
  log: 18004,
  /** Envoy's own admin interface. */
  envoyAdmin: 9901,
} as const;

/** How far above a companion's gRPC port its admin HTTP server listens (18002 → 18012). */
export const COMPANION_ADMIN_OFFSET = 10;

/**
 * A companion's admin port when no flag names one: its gRPC port plus the offset, so a
 * second instance given only another `--port` never collides with the first; 0 (a free one)
 * for a gRPC port of 0 or one so high the sum is not a port.
 */
export function companionAdminPort(grpcPort: number): number {
  const p = grpcPort + COMPANION_ADMIN_OFFSET;
  return grpcPort === 0 || p > 65535 ? 0 : p;
}
