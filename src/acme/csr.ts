import { createPublicKey, sign, type KeyObject } from 'node:crypto';

/**
 * A PKCS#10 certification request (RFC 2986) for an ACME finalize (RFC 8555 §7.4), encoded in
 * DER by hand: subject CN = the first name, an extensionRequest attribute (PKCS#9, RFC 2985
 * §5.4.2) holding a subjectAltName with a dNSName for every name, signed by the certificate's
 * key (sha256WithRSAEncryption, or ecdsa-with-SHA256 with the DER signature of RFC 5758 §3.2).
 */

// ---- a minimal DER encoder (X.690 §8, definite lengths) ---------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octetString = (content: Buffer) => tlv(0x04, content);
const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const derNull = () => Buffer.from([0x05, 0x00]);
/** [n] EXPLICIT or a constructed IMPLICIT SET/SEQUENCE: context-specific, constructed. */
const contextConstructed = (n: number, content: Buffer) => tlv(0xa0 | n, content);
/** [n] IMPLICIT of a primitive type (e.g. dNSName [2] IA5String). */
const contextPrimitive = (n: number, content: Buffer) => tlv(0x80 | n, content);

/** A non-negative INTEGER: big-endian, minimal, a leading 0x00 when the top bit is set. */
function integer(value: number): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || (bytes[0]! & 0x80) !== 0) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

/** An OBJECT IDENTIFIER from its dotted form (X.690 §8.19: first two arcs as 40*a+b, base-128 arcs). */
function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [40 * a + b, ...rest]) {
    const groups = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A BIT STRING of whole bytes (no unused bits). */
const bitString = (content: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));

// ---- the request ---------------------------------------------------------------------

const OID = {
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
} as const;

/** ub-common-name (RFC 5280 Appendix A): a longer first name is left out of the subject (it is in the SAN anyway). */
const MAX_COMMON_NAME = 64;

/**
 * The DER of a CSR for `domains` signed by `key` (an RSA or EC P-256 private key). ACME sends
 * it base64url-encoded as the finalize request's `csr`.
 */
export function buildCsr(domains: string[], key: KeyObject): Buffer {
  const first = domains[0];
  if (first === undefined) throw new Error('a CSR needs at least one domain');
  let algorithm: Buffer;
  if (key.asymmetricKeyType === 'rsa') algorithm = sequence(oid(OID.sha256WithRSAEncryption), derNull());
  else if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') algorithm = sequence(oid(OID.ecdsaWithSHA256));
  else throw new Error(`a certificate key must be RSA or EC P-256, not ${key.asymmetricKeyType ?? key.type}`);

  const subject = first.length <= MAX_COMMON_NAME
    ? sequence(set(sequence(oid(OID.commonName), utf8String(first))))
    : sequence();
  for (const d of domains) {
    if (!/^[\x21-\x7e]+$/.test(d)) throw new Error(`a dNSName is ASCII (IDNs in their xn-- form): ${JSON.stringify(d)}`);
  }
  const generalNames = sequence(...domains.map((d) => contextPrimitive(2, Buffer.from(d, 'ascii'))));
  const extensions = sequence(sequence(oid(OID.subjectAltName), octetString(generalNames)));
  const attributes = contextConstructed(0, sequence(oid(OID.extensionRequest), set(extensions)));
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const info = sequence(integer(0), subject, spki, attributes);
  // node:crypto's ECDSA signatures are DER (dsaEncoding 'der') by default, as X.509 wants.
  const signature = sign('sha256', info, key);
  return sequence(info, algorithm, bitString(signature));
}
