/**
 * The one service the benchmarks' gateway configs put their routes under, as YAML down to its
 * `routes:` key (each route follows at six spaces): named `bench`, pointing at `upstream`, with
 * the timeouts set so that the config loads without warnings.
 */
export function benchServiceYaml(upstream: string): string {
  return `services:
  - name: bench
    url: ${upstream}
    connect_timeout: 2000
    read_timeout: 10000
    write_timeout: 10000
    routes:
`;
}

/** The key-auth key of the benchmarks' consumer. */
export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';

/**
 * The benchmarks' one consumer as YAML from its `consumers:` key on: `bench`, with a jwt_secret
 * `bench-rs` (RS256, `rsaPem` its public key), the key-auth key BENCH_API_KEY, the basic-auth
 * credential bench / bench-password, and the acl group `bench`.
 */
export function benchConsumerYaml(rsaPem: string): string {
  return `consumers:
  - username: bench
    jwt_secrets:
      - key: bench-rs
        algorithm: RS256
        rsa_public_key: |
${rsaPem.trim().split('\n').map((l) => `          ${l}`).join('\n')}
    keyauth_credentials:
      - key: ${BENCH_API_KEY}
    basicauth_credentials:
      - { username: bench, password: bench-password }
    acls:
      - group: bench
`;
}
