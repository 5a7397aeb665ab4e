import { join } from 'node:path';
import type { EnvoySds } from '../resources/companion-cluster.js';

/** The SDS file names in an Envoy's certificate folder; the control plane's companion clusters name the same. */
export const SDS_FILE_NAMES = { cert: 'envoy-cert.sds.yaml', ca: 'envoy-ca.sds.yaml' } as const;

/** Where the SDS files of an Envoy whose certificates are in `dir` are (bootstrap.ts envoySdsFiles writes them). */
export function envoySds(dir: string): EnvoySds {
  return { certSds: join(dir, SDS_FILE_NAMES.cert), caSds: join(dir, SDS_FILE_NAMES.ca), dir };
}
