import type { IrCertificate } from '../ir/types.js';
import type { JsonObject } from './builders.js';
import { secretName } from './names.js';

/** Certificate → envoy.extensions.transport_sockets.tls.v3.Secret, served over SDS (ADS). */
export function buildSecret(c: IrCertificate): JsonObject {
  return {
    name: secretName(c.key),
    tls_certificate: {
      certificate_chain: { inline_string: c.cert },
      private_key: { inline_string: c.keyPem },
    },
  };
}
