/**
 * Envoy's NACK text (the error_detail message of a DiscoveryRequest) as one readable line.
 *
 * For a resource its protos' validation refuses, Envoy writes the whole resource as protobuf
 * text ("goo.gle/debugproto ... name: \"x\" ...") followed by
 * `: Proto constraint validation failed (AValidationError.F[0]: embedded message failed
 * validation | caused by BValidationError.G: <reason>)`, and cuts the message at 4 KB with
 * "...(truncated)", which for any sizeable resource loses the reason. The line kept here is
 * `<resource name>: <field path>: <reason>`, or says that Envoy's text lost its reason.
 */

const MAX = 400;

function snake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** The one-line reason of an Envoy error_detail message. */
export function nackReason(detail: string): string {
  const name = /^[^\n]*\n\s*name: "((?:[^"\\]|\\.)*)"/.exec(detail)?.[1];
  const prefix = name !== undefined ? `${name}: ` : '';
  const cut = /\.\.\.\(truncated\)\s*$/.test(detail);
  const text = cut ? detail.replace(/\.\.\.\(truncated\)\s*$/, '') : detail;
  const at = text.indexOf('Proto constraint validation failed (');
  if (at >= 0) {
    const chain = text.slice(at + 'Proto constraint validation failed ('.length).replace(cut ? /$/ : /\)\s*$/, '');
    const fields: string[] = [];
    let reason = '';
    for (const step of chain.split(' | caused by ')) {
      const m = /^\w+ValidationError\.([^:]+): (.*)$/s.exec(step.trim());
      if (!m) { reason = step.trim(); continue; }
      fields.push(m[1]!.replace(/[A-Za-z]\w*/g, snake));
      reason = m[2]!;
    }
    return clip(`${prefix}${fields.join('.')}${fields.length ? ': ' : ''}${reason}${cut ? ' (Envoy cut its message here)' : ''}`);
  }
  if (cut && /^goo\.gle\/debug/.test(detail)) {
    return clip(`${prefix}refused; Envoy cut its message before the reason (its log has it at warning level)`);
  }
  return clip(text.replace(/\s*\n\s*/g, '; ').trim());
}

function clip(s: string): string {
  const line = s.replace(/\s+/g, ' ');
  return line.length > MAX ? `${line.slice(0, MAX - 1)}…` : line;
}
