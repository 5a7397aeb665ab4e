// Original file: proto/frontdesk/tracing/v1/tracing.proto

import type { Header as _frontdesk_tracing_v1_Header, Header__Output as _frontdesk_tracing_v1_Header__Output } from '../../../frontdesk/tracing/v1/Header.js';

export interface TraceExporter {
  'name'?: (string);
  /**
   * The OTLP/HTTP traces endpoint (the plugin's traces_endpoint).
   */
  'endpoint'?: (string);
  'headers'?: (_frontdesk_tracing_v1_Header)[];
  /**
   * The plugin's service.name; each companion exports as "<service.name>-<companion>".
   */
  'service_name'?: (string);
  'resource_attributes'?: ({[key: string]: string});
  'timeout_ms'?: (number);
}

export interface TraceExporter__Output {
  'name': (string);
  /**
   * The OTLP/HTTP traces endpoint (the plugin's traces_endpoint).
   */
  'endpoint': (string);
  'headers': (_frontdesk_tracing_v1_Header__Output)[];
  /**
   * The plugin's service.name; each companion exports as "<service.name>-<companion>".
   */
  'service_name': (string);
  'resource_attributes': ({[key: string]: string});
  'timeout_ms': (number);
}
