/**
 * gRPC's standard health service (grpc.health.v1.Health/Check) for the companions: SERVING once
 * the companion holds its policy from the control plane, NOT_SERVING until then, so an
 * orchestrator (or `frontdesk start`) sends it traffic only when it can answer as configured.
 */

export const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';

/** grpc.health.v1.HealthCheckResponse.ServingStatus */
const SERVING = 1;
const NOT_SERVING = 2;

/** The HealthCheckResponse bytes: field 1 (status, an enum: varint). */
export function healthCheckResponse(serving: boolean): Uint8Array {
  return Uint8Array.of(0x08, serving ? SERVING : NOT_SERVING);
}

/** The status a HealthCheckResponse carries: true for SERVING. */
export function isServing(response: Uint8Array): boolean {
  return response.length >= 2 && response[0] === 0x08 && response[1] === SERVING;
}

/** The Check handler for a raw unary server (grpc-raw.ts serveUnary): the same answer whatever service is named. */
export function healthMethods(ready: () => boolean): Record<string, (request: Uint8Array) => Promise<Uint8Array>> {
  return { [HEALTH_CHECK_METHOD]: async () => healthCheckResponse(ready()) };
}
