import { companionAdminPort } from '../default-ports.js';
import { intFlag } from './args.js';

/**
 * The port of a companion's admin server: its flag when given, else derived from the gRPC port
 * (see companionAdminPort), so two instances on one host given only `--port` never collide.
 */
export function adminPortOf(flags: ReadonlyMap<string, string | true>, flag: string, grpcPort: number): number {
  return intFlag({ positionals: [], flags: new Map(flags) }, flag, companionAdminPort(grpcPort));
}
