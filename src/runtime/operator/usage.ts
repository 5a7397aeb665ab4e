/** The operator commands' lines of `frontdesk --help`. */
export const OPERATOR_USAGE = `  frontdesk diff PATH [--control-plane http://127.0.0.1:8001 | --against FILE] [--admin-token T]   (exit 0 same, 2 changes, 1 errors)
  frontdesk convert PATH [--output FILE]          (Kong 1.1 / 2.1 → 3.0, as deck file convert)
  frontdesk openapi2kong SPEC [--select-tag A,B] [--uuid-base NAME] [--output FILE]   (OpenAPI 3.0 / 3.1 → kong.yml, as deck file openapi2kong)
  frontdesk status [--control-plane http://127.0.0.1:8001]`;

/** The operator commands, for `frontdesk` to load their module only when one is asked for. */
export const OPERATOR_COMMANDS: readonly string[] = ['diff', 'convert', 'openapi2kong', 'status'];
