import type { ParsedArgs } from '../../args.js';
import { strFlag, UsageError } from '../../args.js';
import { runConvert } from './convert.js';
import { runDiff } from './diff.js';
import { runOpenapi2Kong } from './openapi2kong.js';
import { wantColor } from './paint.js';
import { runStatus } from './status.js';

export { OPERATOR_COMMANDS, OPERATOR_USAGE } from './usage.js';

const DEFAULT_CONTROL_PLANE = 'http://127.0.0.1:8001';

/** Runs `diff`, `convert`, `openapi2kong` or `status`; undefined for any other command. */
export function runOperatorCommand(cmd: string, args: ParsedArgs): Promise<number> | undefined {
  const arg = (what: string) => {
    const v = args.positionals[1];
    if (!v) throw new UsageError(`${cmd} needs ${what}`);
    return v;
  };
  const token = strFlag(args, 'admin-token') ?? process.env.FRONTDESK_ADMIN_TOKEN;
  switch (cmd) {
    case 'diff': return runDiff({
      path: arg('a PATH'), against: strFlag(args, 'against'), controlPlane: strFlag(args, 'control-plane', DEFAULT_CONTROL_PLANE),
      token, color: wantColor(process.stdout),
    }, process.stdout, process.stderr);
    case 'convert': return Promise.resolve(runConvert(arg('a PATH'), strFlag(args, 'output'), process.stdout, process.stderr));
    case 'openapi2kong': return runOpenapi2Kong(arg('a SPEC (an OpenAPI file)'), {
      tags: strFlag(args, 'select-tag')?.split(',').filter(Boolean), docName: strFlag(args, 'uuid-base'), output: strFlag(args, 'output'),
    }, process.stdout, process.stderr);
    case 'status': return runStatus(strFlag(args, 'control-plane', DEFAULT_CONTROL_PLANE), wantColor(process.stdout), process.stdout, process.stderr);
    default: return undefined;
  }
}
