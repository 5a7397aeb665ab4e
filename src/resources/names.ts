/** Names of generated Envoy resources, in one place so every file agrees on them. */
export const clusterName = (service: string) => `service:${service}`;
export const secretName = (certificate: string) => `certificate:${certificate}`;
export const routeConfigName = (listener: string) => `listener:${listener}`;
export const listenerName = (listener: string) => `listener:${listener}`;
