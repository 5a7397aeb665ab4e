/** Names of generated Envoy resources, in one place so every file agrees on them. */
export const clusterName = (service: string) => `service:${service}`;
export const secretName = (certificate: string) => `certificate:${certificate}`;
/** The validation-context secret of a service whose trusted CAs come from watched files. */
export const trustSecretName = (service: string) => `trust:${service}`;
export const routeConfigName = (listener: string) => `listener:${listener}`;
export const listenerName = (listener: string) => `listener:${listener}`;
