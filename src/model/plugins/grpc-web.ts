import { z } from 'zod';
import { definePlugin } from './definition.js';
import { HEADER_VALUE, notServed } from './native-common.js';

/**
 * Kong 3.x `grpc-web` plugin config (kong/plugins/grpc-web/schema.lua), with Kong's defaults.
 * `proto` is what Kong needs to transcode JSON payloads (application/grpc-web+json); Envoy's
 * grpc_web filter carries protobuf payloads only (binary and text framing), so a proto is
 * refused rather than silently not used.
 */
export const grpcWebConfigSchema = z.strictObject({
  proto: z.string().optional(),
  pass_stripped_path: z.boolean().default(false),
  allow_origin_header: z.string().regex(HEADER_VALUE, 'must not hold control characters').default('*'),
}).superRefine((c, ctx) => {
  if (c.proto !== undefined) {
    ctx.addIssue({
      code: 'custom', path: ['proto'],
      message: notServed('transcoding gRPC-Web JSON payloads (application/grpc-web+json) from a .proto', 'remove proto: binary and text gRPC-Web (application/grpc-web+proto, application/grpc-web-text) need none'),
    });
  }
});

export type GrpcWebConfig = z.output<typeof grpcWebConfigSchema>;

/** What the IR carries: which path the upstream gets, and the origin Kong names on every answer. */
export interface GrpcWebFeature {
  /**
   * Kong proxies gRPC with the request's own path (nginx grpc_pass ignores strip_path) unless
   * pass_stripped_path asks for the route's stripped one.
   */
  upstreamPath: 'request' | 'stripped';
  allowOrigin: string;
}

export const grpcWebPlugin = definePlugin({
  name: 'grpc-web',
  config: grpcWebConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['pass_stripped_path', 'allow_origin_header'], refused: ['proto'] },
  enforcers: () => ['envoy'],
  feature: (c): GrpcWebFeature => ({ upstreamPath: c.pass_stripped_path ? 'stripped' : 'request', allowOrigin: c.allow_origin_header }),
});
