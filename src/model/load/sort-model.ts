import type { GatewayModel } from '../types.js';
import { describeScope } from './scope-plugins.js';
import { compareText } from '../../text-order.js';

const byName = <T extends { name: string }>(a: T, b: T) => compareText(a.name, b.name);
const byKey = <T extends { key: string }>(a: T, b: T) => compareText(a.key, b.key);

/** Every list sorted (in place) by name or key, plugins then by scope: the same YAML gives the same model, whatever the order written. */
export function sortModel(model: GatewayModel): GatewayModel {
  return {
    services: model.services.sort(byName),
    routes: model.routes.sort(byName),
    upstreams: model.upstreams.sort(byName),
    consumers: model.consumers.sort(byKey),
    plugins: model.plugins.sort((a, b) => byName(a, b) || compareText(describeScope(a.scope), describeScope(b.scope))),
    certificates: model.certificates.sort(byKey),
    caCertificates: model.caCertificates.sort(byKey),
    listeners: model.listeners.sort(byName),
  };
}
