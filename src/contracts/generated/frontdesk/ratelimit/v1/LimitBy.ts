// Original file: proto/frontdesk/ratelimit/v1/ratelimit.proto

export const LimitBy = {
  LIMIT_BY_UNSPECIFIED: 'LIMIT_BY_UNSPECIFIED',
  CONSUMER: 'CONSUMER',
  CREDENTIAL: 'CREDENTIAL',
  IP: 'IP',
  SERVICE: 'SERVICE',
  HEADER: 'HEADER',
  PATH: 'PATH',
} as const;

export type LimitBy =
  | 'LIMIT_BY_UNSPECIFIED'
  | 0
  | 'CONSUMER'
  | 1
  | 'CREDENTIAL'
  | 2
  | 'IP'
  | 3
  | 'SERVICE'
  | 4
  | 'HEADER'
  | 5
  | 'PATH'
  | 6

export type LimitBy__Output = typeof LimitBy[keyof typeof LimitBy]
