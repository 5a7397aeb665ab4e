import type { GatewayModel } from '../types.js';
import { describeScope } from './scope-plugins.js';

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Every list sorted (in place) by name or key, plugins then by scope: the same YAML gives the same model, whatever the order written. */
export function sortModel(model: GatewayModel): GatewayModel {
  return {
    services: model.services.sort(byName),
    routes: model.routes.sort(byName),
    upstreams: model.upstreams.sort(byName),
    consumers: model.consumers.sort(byKey),
    plugins: model.plugins.sort((a, b) => byName(a, b) || describeScope(a.scope).localeCompare(describeScope(b.scope))),
    certificates: model.certificates.sort(byKey),
    caCertificates: model.caCertificates.sort(byKey),
    listeners: model.listeners.sort(byName),
  };
}
