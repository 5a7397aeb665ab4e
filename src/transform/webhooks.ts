import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Kong's standard-webhooks check (kong/plugins/standard-webhooks/internal.lua), as the
 * Standard Webhooks specification signs: `v1,` + base64(HMAC-SHA256(secret, id.timestamp.body)).
 * Pure: the clock is the caller's.
 */

export interface WebhookConfig {
  secret_v1?: string;
  tolerance_second?: number;
}

/** A webhook's three headers (their first values, as Kong reads them). */
export interface WebhookHeaders {
  id: string;
  signature: string;
  /** webhook-timestamp as Lua's tonumber reads it; 0 when it is no number (which fails the age check). */
  timestamp: number;
}

/** The three headers, or undefined when one is missing (Kong's 400). */
export function webhookHeaders(header: (name: string) => string | undefined): WebhookHeaders | undefined {
  const id = header('webhook-id');
  const signature = header('webhook-signature');
  const ts = header('webhook-timestamp');
  if (id === undefined || signature === undefined || ts === undefined) return undefined;
  const n = ts.trim() === '' ? Number.NaN : Number(ts);
  return { id, signature, timestamp: Number.isFinite(n) ? n : 0 };
}

/** Whether the timestamp is within tolerance: Kong refuses one older than tolerance_second, and accepts one from the future. */
export function webhookFresh(cfg: WebhookConfig, h: WebhookHeaders, nowMs: number): boolean {
  return nowMs / 1000 - h.timestamp <= Number(cfg.tolerance_second ?? 0);
}

/** The signature a sender with the secret puts on this body: `v1,<base64>`. */
export function webhookSignature(secret: string, id: string, timestamp: number, body: Uint8Array): string {
  const mac = createHmac('sha256', secret).update(`${id}.${String(timestamp)}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/**
 * Whether the body carries a valid signature. Kong compares the whole header with the one
 * signature it computes; the specification lets a sender list several, space-separated, while it
 * rotates its secret, and any one that matches is accepted here (compared in constant time).
 * An empty body is refused, as Kong does.
 */
export function webhookSigned(cfg: WebhookConfig, h: WebhookHeaders, body: Uint8Array): boolean {
  if (!body.length) return false;
  const expected = Buffer.from(webhookSignature(cfg.secret_v1 ?? '', h.id, h.timestamp, body));
  let ok = false;
  for (const candidate of h.signature.split(' ')) {
    const given = Buffer.from(candidate);
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}
