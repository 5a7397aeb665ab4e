/** The part of node-forge (https://github.com/digitalbazaar/forge) that `frontdesk certs` uses. */
declare module 'node-forge' {
  export namespace pki {
    interface PublicKey { readonly n: unknown; readonly e: unknown }
    interface PrivateKey { readonly n: unknown; readonly e: unknown }
    interface CertificateField { name?: string; shortName?: string; value: string }
    interface Certificate {
      serialNumber: string;
      publicKey: PublicKey;
      validity: { notBefore: Date; notAfter: Date };
      subject: { attributes: CertificateField[] };
      setSubject(attrs: CertificateField[]): void;
      setIssuer(attrs: CertificateField[]): void;
      setExtensions(exts: Record<string, unknown>[]): void;
      sign(key: PrivateKey, md: unknown): void;
    }
    function createCertificate(): Certificate;
    function certificateToPem(cert: Certificate): string;
    function certificateFromPem(pem: string): Certificate;
    function privateKeyFromPem(pem: string): PrivateKey;
    function setRsaPublicKey(n: unknown, e: unknown): PublicKey;
  }
  export namespace md { namespace sha256 { function create(): unknown } }
  const forge: { pki: typeof pki; md: typeof md };
  export default forge;
}
