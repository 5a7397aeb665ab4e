/** The `type.googleapis.com/...` URLs of the resources Frontdesk serves, as typed constants. */
export const TYPE = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type EnvoyTypeUrl = (typeof TYPE)[keyof typeof TYPE];

/** Make-before-break order: clusters and endpoints first, then secrets, listeners, routes. */
export const ENVOY_PUSH_ORDER: readonly string[] = [TYPE.cluster, TYPE.endpoint, TYPE.secret, TYPE.listener, TYPE.route];

/** Short names used in logs, /status and metrics. */
export function shortType(typeUrl: string): string {
  const known: Record<string, string> = {
    [TYPE.cluster]: 'CDS', [TYPE.endpoint]: 'EDS', [TYPE.listener]: 'LDS', [TYPE.route]: 'RDS', [TYPE.secret]: 'SDS',
  };
  return known[typeUrl] ?? typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}
