/** A JSON value, as Envoy's documentation writes its messages (proto3 JSON) and as files hold it. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A JSON object. */
export type JsonObject = { [k: string]: Json };
