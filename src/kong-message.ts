/**
 * Kong's JSON error body, `{"message":"..."}`: what Kong's own replies carry (no route, 401,
 * 429, ...), written by the control plane into Envoy's local replies and by the companions.
 */
export function kongMessage(message: string): string {
  return JSON.stringify({ message });
}
