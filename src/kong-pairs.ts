/** Splits Kong's "name:value" (`^([^:]+):*(.-)$`): the name, then any colons, then the value. */
export function splitColon(entry: string): { name: string; value: string } | undefined {
  const m = /^([^:]+):*([\s\S]*)$/.exec(entry);
  const [, name, value] = m ?? [];
  return name !== undefined && value !== undefined ? { name, value } : undefined;
}
