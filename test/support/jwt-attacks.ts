/**
 * The attack corpus: tokens and requests an attacker would try, each refused with Kong's exact
 * status, JSON body and challenge. One table, run against the authz engine
 * (test/unit/authz-attacks.test.ts) and through a real Envoy with each enforcer
 * (test/e2e/jwt-attacks.test.ts). Tokens are made for the clock `nowS`, with 10 minutes' margin either side so a run through Envoy, on the real clock, gets the same answers.
 */
import type { AuthzRequest, AuthzSnapshot } from '../../src/authz/types.js';
import { b64url, basicAuthConf, craftToken, jwtConf, keyAuthConf, keyPair, rawSignature, request, signToken } from './jwt-fixtures.js';

export const HS = 'alice-shared-secret';
export const rs = keyPair('RS256');
export const ps = keyPair('PS256');
export const es = keyPair('ES256');
export const jwksKey = keyPair('RS256', 'jwks');

export const INVALID = 'Bearer error="invalid_token"';

/** The credentials and route policies the corpus runs against (route ids: jwt, key, basic). */
export function attackSnapshot(): AuthzSnapshot {
  return {
    consumers: [{ id: 'c-alice', username: 'alice' }, { id: 'c-bob', username: 'bob' }],
    jwtSecrets: [
      { consumerId: 'c-alice', key: 'alice-iss', secret: HS },
      { consumerId: 'c-alice', key: 'alice512-iss', algorithm: 'HS512', secret: HS },
      { consumerId: 'c-bob', key: 'rs-iss', algorithm: 'RS256', rsaPublicKey: rs.publicPem },
      { consumerId: 'c-bob', key: 'ps-iss', algorithm: 'PS256', rsaPublicKey: ps.publicPem },
      { consumerId: 'c-bob', key: 'es-iss', algorithm: 'ES256', rsaPublicKey: es.publicPem },
      { consumerId: 'c-bob', key: 'jwks-iss', algorithm: 'RS256', jwks: { keys: [{ ...jwksKey.jwk, kid: 'k1', use: 'sig' }] } },
    ],
    keyauthCredentials: [{ consumerId: 'c-alice', key: 'Mouse' }],
    basicauthCredentials: [{ consumerId: 'c-bob', username: 'bob', password: 'kong-password' }],
    policies: [
      { routeId: 'jwt', plugins: { jwt: jwtConf({ claims_to_verify: ['exp', 'nbf'], maximum_expiration: 3600 }) } },
      { routeId: 'key', plugins: { 'key-auth': keyAuthConf() } },
      { routeId: 'basic', plugins: { 'basic-auth': basicAuthConf() } },
    ],
  };
}

export interface AttackCase {
  name: string;
  route?: string;
  req: AuthzRequest;
  status: number;
  body: Record<string, string>;
  www?: string;
  /** Against the JWKS secret (jwks-iss): a JWKS secret is checked by the authz companion only. */
  jwks?: true;
}

/** The genuine token of the corpus, for the clock `nowS`. */
export function goodJwt(nowS: number): string {
  return signToken('HS256', HS, { iss: 'alice-iss', exp: nowS + 600, nbf: nowS - 10 });
}

/** The attacks, for the clock `nowS`. Cases marked `jwks` need the JWKS secret. */
export function attackCases(nowS: number): AttackCase[] {
  const NOW_S = nowS;
  const good = { iss: 'alice-iss', exp: NOW_S + 600, nbf: NOW_S - 10 };
  const hs = (payload: object, header: object = {}) => signToken('HS256', HS, payload, header);
  const goodToken = hs(good);
  const [gh, gp, gs] = goodToken.split('.') as [string, string, string];
  const bearer = (t: string): AuthzRequest => request('/', { authorization: `Bearer ${t}` });
  const basic = (s: string): AuthzRequest => request('/', { authorization: `Basic ${Buffer.from(s).toString('base64')}` });
  return [
    // --- algorithm confusion -----------------------------------------------------------------
    { name: 'alg "none" with an empty signature', req: bearer(craftToken({ alg: 'none', typ: 'JWT' }, good)), status: 401, body: { message: 'Bad token; invalid alg' }, www: INVALID },
    { name: 'alg "None" (case variant)', req: bearer(craftToken({ alg: 'None' }, good, gs)), status: 401, body: { message: 'Bad token; invalid alg' }, www: INVALID },
    { name: 'alg missing from the header', req: bearer(craftToken({ typ: 'JWT' }, good, gs)), status: 401, body: { message: 'Bad token; invalid alg' }, www: INVALID },
    { name: 'alg not a string', req: bearer(craftToken({ alg: ['HS256'] }, good, gs)), status: 401, body: { message: 'Bad token; invalid alg' }, www: INVALID },
    { name: 'HS256 signed with the RSA public key (PEM) as the HMAC secret', req: bearer(signToken('HS256', rs.publicPem, { ...good, iss: 'rs-iss' })), status: 401, body: { message: 'Invalid algorithm' }, www: INVALID },
    { name: 'HS256 signed with the RSA public key (DER) as the HMAC secret', req: bearer(signToken('HS256', rs.publicKey.export({ type: 'spki', format: 'der' }), { ...good, iss: 'rs-iss' })), status: 401, body: { message: 'Invalid algorithm' }, www: INVALID },
    { name: 'ES256 token against an RS256 secret', req: bearer(signToken('ES256', es.privateKey, { ...good, iss: 'rs-iss' })), status: 401, body: { message: 'Invalid algorithm' }, www: INVALID },
    { name: 'PS256 token against an RS256 secret', req: bearer(signToken('PS256', ps.privateKey, { ...good, iss: 'rs-iss' })), status: 401, body: { message: 'Invalid algorithm' }, www: INVALID },
    { name: 'RS256 token against a PS256 secret', req: bearer(signToken('RS256', ps.privateKey, { ...good, iss: 'ps-iss' })), status: 401, body: { message: 'Invalid algorithm' }, www: INVALID },
    { name: 'PKCS#1 v1.5 signature labelled PS256', req: bearer((() => { const i = `${b64url({ alg: 'PS256' })}.${b64url({ ...good, iss: 'ps-iss' })}`; return `${i}.${rawSignature('RS256', i, ps.privateKey)}`; })()), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    { name: 'HS512 token against an HS256 secret', req: bearer(signToken('HS512', HS, good)), status: 401, body: { message: 'Invalid algorithm' }, www: INVALID },
    { name: 'HS256 token against an HS512 secret', req: bearer(signToken('HS256', HS, { ...good, iss: 'alice512-iss' })), status: 401, body: { message: 'Invalid algorithm' }, www: INVALID },
    // --- time claims ----------------------------------------------------------------------------
    { name: 'expired', req: bearer(hs({ ...good, exp: NOW_S - 1 })), status: 401, body: { exp: 'token expired' }, www: INVALID },
    { name: 'nbf in the future', req: bearer(hs({ ...good, nbf: NOW_S + 600 })), status: 401, body: { nbf: 'token not valid yet' }, www: INVALID },
    { name: 'exp beyond maximum_expiration', req: bearer(hs({ ...good, exp: NOW_S + 4200 })), status: 401, body: { exp: 'exceeds maximum allowed expiration' }, www: INVALID },
    { name: 'exp as a string', req: bearer(hs({ ...good, exp: String(NOW_S + 600) })), status: 401, body: { exp: 'must be a number' }, www: INVALID },
    { name: 'no exp at all', req: bearer(hs({ iss: 'alice-iss', nbf: NOW_S })), status: 401, body: { exp: 'must be a number' }, www: INVALID },
    // --- who signed it ----------------------------------------------------------------------------
    { name: 'iss that matches no credential', req: bearer(signToken('HS256', HS, { ...good, iss: 'mallory' })), status: 401, body: { message: "No credentials found for given 'iss'" }, www: INVALID },
    { name: 'no iss claim', req: bearer(hs({ exp: good.exp, nbf: good.nbf })), status: 401, body: { message: "No mandatory 'iss' in claims" }, www: INVALID },
    { name: 'empty iss claim', req: bearer(hs({ ...good, iss: '' })), status: 401, body: { message: "Invalid 'iss' in claims" }, www: INVALID },
    { name: 'iss as a number', req: bearer(hs({ ...good, iss: 42 })), status: 401, body: { message: "No credentials found for given 'iss'" }, www: INVALID },
    { name: 'unknown kid on a JWKS secret', jwks: true, req: bearer(signToken('RS256', jwksKey.privateKey, { ...good, iss: 'jwks-iss' }, { kid: 'k2' })), status: 401, body: { message: "No credentials found for given 'kid'" }, www: INVALID },
    { name: 'kid with path traversal on a JWKS secret', jwks: true, req: bearer(signToken('RS256', jwksKey.privateKey, { ...good, iss: 'jwks-iss' }, { kid: '../../k1' })), status: 401, body: { message: "No credentials found for given 'kid'" }, www: INVALID },
    { name: 'right kid, signed by another key', jwks: true, req: bearer(signToken('RS256', rs.privateKey, { ...good, iss: 'jwks-iss' }, { kid: 'k1' })), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    // --- tampering and malformed tokens ------------------------------------------------------------
    { name: 'tampered payload (escalated sub)', req: bearer(`${gh}.${b64url({ ...good, sub: 'admin' })}.${gs}`), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    { name: 'tampered header (added kid)', req: bearer(`${b64url({ typ: 'JWT', alg: 'HS256', kid: 'x' })}.${gp}.${gs}`), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    { name: 'signature of another secret', req: bearer(signToken('HS256', 'not-the-secret', good)), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    { name: 'truncated: no signature segment', req: bearer(`${gh}.${gp}`), status: 401, body: { message: 'Bad token; invalid JSON' }, www: INVALID },
    { name: 'truncated: empty signature', req: bearer(`${gh}.${gp}.`), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    { name: 'truncated: shortened signature', req: bearer(`${gh}.${gp}.${gs.slice(0, -4)}`), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    { name: 'truncated: signature cut to a length base64 cannot have', req: bearer(`${gh}.${gp}.${gs.slice(0, -6)}`), status: 401, body: { message: 'Bad token; invalid signature' }, www: INVALID },
    { name: 'truncated: half a payload', req: bearer(`${gh}.${gp.slice(0, 11)}.${gs}`), status: 401, body: { message: 'Bad token; invalid JSON' }, www: INVALID },
    { name: 'extra segment after the signature', req: bearer(`${goodToken}.AAAA`), status: 401, body: { message: 'Bad token; invalid signature' }, www: INVALID },
    { name: 'oversized token (> 8 KiB)', req: bearer(hs({ ...good, pad: 'x'.repeat(9000) })), status: 401, body: { message: 'Bad token; token too large' }, www: INVALID },
    { name: 'payload that is not JSON', req: bearer(`${gh}.${b64url('not json at all')}.${gs}`), status: 401, body: { message: 'Bad token; invalid JSON' }, www: INVALID },
    { name: 'header that is not JSON', req: bearer(`${b64url('{alg:HS256}')}.${gp}.${gs}`), status: 401, body: { message: 'Bad token; invalid JSON' }, www: INVALID },
    { name: 'payload that is a JSON array', req: bearer(craftToken({ alg: 'HS256' }, '["alice-iss"]', gs)), status: 401, body: { message: 'Bad token; invalid claims' }, www: INVALID },
    { name: 'not a JWT at all', req: bearer('hello'), status: 401, body: { message: 'Bad token; invalid JSON' }, www: INVALID },
    { name: 'base64 with characters outside the alphabet', req: bearer(`${gh}*.${gp}.${gs}`), status: 401, body: { message: 'Bad token; invalid JSON' }, www: INVALID },
    { name: 'unknown critical header parameter', req: bearer(hs(good, { crit: ['x-evil'], 'x-evil': true })), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    // --- how the token is presented -------------------------------------------------------------------
    { name: 'duplicate Authorization headers carrying different tokens', req: request('/', { authorization: `Bearer ${goodToken}, Bearer ${hs({ ...good, sub: 'x' })}` }), status: 401, body: { message: 'Multiple tokens provided' }, www: INVALID },
    { name: 'one token in the header, another in ?jwt=', req: request(`/?jwt=${hs({ ...good, sub: 'y' })}`, { authorization: `Bearer ${goodToken}` }), status: 401, body: { message: 'Multiple tokens provided' }, www: INVALID },
    { name: 'two ?jwt= parameters', req: request(`/?jwt=${goodToken}&jwt=${hs({ ...good, sub: 'z' })}`), status: 401, body: { message: 'Multiple tokens provided' }, www: INVALID },
    { name: '?jwt with no value', req: request('/?jwt'), status: 401, body: { message: 'Unrecognizable token' }, www: INVALID },
    { name: 'empty bearer', req: request('/', { authorization: 'Bearer ' }), status: 401, body: { message: 'Unauthorized' }, www: 'Bearer' },
    { name: 'BEARER in capitals', req: request('/', { authorization: `BEARER ${goodToken}` }), status: 401, body: { message: 'Unauthorized' }, www: 'Bearer' },
    { name: 'token without a scheme', req: request('/', { authorization: goodToken }), status: 401, body: { message: 'Unauthorized' }, www: 'Bearer' },
    { name: 'token in a header the route does not read', req: request('/', { 'x-token': `Bearer ${goodToken}` }), status: 401, body: { message: 'Unauthorized' }, www: 'Bearer' },
    // --- key-auth: keys in the wrong place ---------------------------------------------------------------
    // --- headers only Envoy's own filters set, sent by the client (resources/filters/native-accept.ts) ---------
    { name: 'a forged verified-iss header beside a token of another secret', req: request('/', { authorization: `Bearer ${signToken('HS256', 'not-the-secret', good)}`, 'x-frontdesk-jwt-iss': 'alice-iss' }), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    { name: 'a forged consumer id and verified-iss header without a token', req: request('/', { 'x-consumer-id': 'c-alice', 'x-frontdesk-jwt-iss': 'alice-iss' }), status: 401, body: { message: 'Unauthorized' }, www: 'Bearer' },
    { name: 'a forged handed-over token beside a token of another secret', req: request('/', { authorization: `Bearer ${signToken('HS256', 'not-the-secret', good)}`, 'x-frontdesk-jwt': goodToken }), status: 401, body: { message: 'Invalid signature' }, www: INVALID },
    { name: 'key-auth: unknown key in the header', route: 'key', req: request('/', { apikey: 'not-a-key' }), status: 401, body: { message: 'Unauthorized' }, www: 'Key' },
    { name: 'key-auth: a forged key credential header without a key', route: 'key', req: request('/', { 'x-frontdesk-key-client': '1' }), status: 401, body: { message: 'No API key found in request' }, www: 'Key' },
    { name: 'key-auth: a forged key credential header beside an unknown key', route: 'key', req: request('/', { apikey: 'not-a-key', 'x-frontdesk-key-client': '1', 'x-consumer-id': 'c-alice' }), status: 401, body: { message: 'Unauthorized' }, www: 'Key' },
    { name: 'key-auth: key prefixed with Bearer', route: 'key', req: request('/', { apikey: 'Bearer Mouse' }), status: 401, body: { message: 'Unauthorized' }, www: 'Key' },
    { name: 'key-auth: key prefixed with bearer (lower case)', route: 'key', req: request('/', { apikey: 'bearer Mouse' }), status: 401, body: { message: 'Unauthorized' }, www: 'Key' },
    { name: 'key-auth: key prefixed with Bearer in the query', route: 'key', req: request('/?apikey=Bearer%20Mouse'), status: 401, body: { message: 'Unauthorized' }, www: 'Key' },
    { name: 'key-auth: key in the body when key_in_body is off', route: 'key', req: request('/', { 'content-type': 'application/json' }, { method: 'POST', body: '{"apikey":"Mouse"}' }), status: 401, body: { message: 'No API key found in request' }, www: 'Key' },
    { name: 'key-auth: key under another name', route: 'key', req: request('/?api_key=Mouse'), status: 401, body: { message: 'No API key found in request' }, www: 'Key' },
    { name: 'key-auth: key in Authorization', route: 'key', req: request('/', { authorization: 'Mouse' }), status: 401, body: { message: 'No API key found in request' }, www: 'Key' },
    { name: 'key-auth: key in the wrong case', route: 'key', req: request('/?apikey=mouse'), status: 401, body: { message: 'Unauthorized' }, www: 'Key' },
    { name: 'key-auth: key with a trailing space', route: 'key', req: request('/?apikey=Mouse%20'), status: 401, body: { message: 'Unauthorized' }, www: 'Key' },
    { name: 'key-auth: repeated key parameter', route: 'key', req: request('/?apikey=Mouse&apikey=other'), status: 401, body: { message: 'Duplicate API key found' }, www: 'Key' },
    { name: 'key-auth: repeated apikey header', route: 'key', req: request('/', { apikey: 'Mouse,Mouse' }), status: 401, body: { message: 'Duplicate API key found' }, www: 'Key' },
    // --- basic-auth ----------------------------------------------------------------------------------------
    { name: 'basic-auth: password prefix', route: 'basic', req: basic('bob:kong'), status: 401, body: { message: 'Unauthorized' }, www: 'Basic realm="service"' },
    { name: 'basic-auth: password with a suffix', route: 'basic', req: basic('bob:kong-password '), status: 401, body: { message: 'Unauthorized' }, www: 'Basic realm="service"' },
    { name: 'basic-auth: credentials sent as a Bearer token', route: 'basic', req: request('/', { authorization: `Bearer ${Buffer.from('bob:kong-password').toString('base64')}` }), status: 401, body: { message: 'Unauthorized' }, www: 'Basic realm="service"' },
    { name: 'basic-auth: username with different case', route: 'basic', req: basic('Bob:kong-password'), status: 401, body: { message: 'Unauthorized' }, www: 'Basic realm="service"' },
  ];
}
