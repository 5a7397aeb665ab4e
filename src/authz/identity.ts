/**
 * The upstream headers that carry identity. Every allowed request leaves with exactly the ones
 * the plugins set; a client-sent copy of any of them is always removed, even where Kong would
 * pass it through (no auth plugin ran, or hide_groups_header). Kept apart from the engine so the
 * (pure) Envoy translation can name them too.
 */
export const IDENTITY_HEADERS = [
  'x-consumer-id', 'x-consumer-custom-id', 'x-consumer-username', 'x-credential-identifier',
  'x-anonymous-consumer', 'x-consumer-groups', 'x-authenticated-groups', 'x-credential-username',
] as const;
