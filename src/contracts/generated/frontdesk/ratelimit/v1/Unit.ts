// Original file: proto/frontdesk/ratelimit/v1/ratelimit.proto

export const Unit = {
  UNIT_UNSPECIFIED: 'UNIT_UNSPECIFIED',
  SECOND: 'SECOND',
  MINUTE: 'MINUTE',
  HOUR: 'HOUR',
  DAY: 'DAY',
  MONTH: 'MONTH',
  YEAR: 'YEAR',
} as const;

export type Unit =
  | 'UNIT_UNSPECIFIED'
  | 0
  | 'SECOND'
  | 1
  | 'MINUTE'
  | 2
  | 'HOUR'
  | 3
  | 'DAY'
  | 4
  | 'MONTH'
  | 5
  | 'YEAR'
  | 6

export type Unit__Output = typeof Unit[keyof typeof Unit]
