/** A gateway file with one route carrying plugin `name` with `config` (YAML text); the plugin's config starts on line 14. */
export function routePluginFile(name: string, config: string): string {
  return `_format_version: "3.0"
services:
  - name: s
    url: http://s.internal
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: r
        paths: [/r]
        plugins:
          - name: ${name}
            config:
${config.replace(/^/gm, '              ')}
`;
}
