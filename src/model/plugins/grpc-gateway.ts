import { z } from 'zod';
import { definePlugin } from './definition.js';

/**
 * The descriptor set built from a grpc-gateway's .proto (runtime/proto-descriptors.ts reads the
 * file beside the YAML and builds it; the model does no I/O): the FileDescriptorSet bytes,
 * base64, with the google.api.http rules, and the services it declares.
 */
export interface ResolvedProto {
  descriptorSetBase64: string;
  services: string[];
}

/**
 * Kong 3.x `grpc-gateway` plugin config (kong/plugins/grpc-gateway/schema.lua). Kong declares
 * `proto` optional, but without one every request fails (no method can be found); Frontdesk
 * requires it. `resolved` is not a Kong field: the compile step sets it from `proto`, and a
 * YAML that writes it is refused as an unknown key would be.
 */
export const grpcGatewayConfigSchema = z.strictObject({
  proto: z.string({ error: 'is required: the .proto file (with google.api.http annotations) that describes the REST mapping' }).min(1),
  resolved: z.custom<ResolvedProto>(() => false, { message: 'unknown key "resolved": it is computed from proto' }).optional(),
});

export type GrpcGatewayConfig = z.output<typeof grpcGatewayConfigSchema>;

/** What the IR carries: the proto's path (for messages) and its descriptor set. */
export interface GrpcGatewayFeature {
  proto: string;
  /** Undefined only when the config was not compiled by runtime/compile.ts (a programmer error there). */
  descriptor?: ResolvedProto;
}

export const grpcGatewayPlugin = definePlugin({
  name: 'grpc-gateway',
  config: grpcGatewayConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['proto', 'resolved'] },
  enforcers: () => ['envoy'],
  feature: (c): GrpcGatewayFeature => ({ proto: c.proto, ...(c.resolved ? { descriptor: c.resolved } : {}) }),
});
