// `frontdesk start` as a person meets it: a port already taken is one line naming the flag to
// pass (before anything starts), a bad config is printed as `validate` prints it, a terminal
// gets readable coloured lines (Envoy's own log folded in), a pipe gets JSON lines, the ready
// message says where everything is, and Ctrl-C stops each part with a line and exits 0.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort } from '../support/ports.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

const ENTRY = ['--import', 'tsx', 'test/support/cli-entry.ts'];
const ENV: NodeJS.ProcessEnv = { ...process.env, FRONTDESK_LOG_LEVEL: 'info' };
delete ENV.NO_COLOR;

function tempConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-start-'));
  writeFileSync(join(dir, 'gateway.yaml'), yaml);
  return dir;
}

const config = (upstream: string) => `_format_version: "3.0"
services:
  - name: orders
    url: ${upstream}
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: orders
        paths: [/orders]
`;

/** A frontdesk process whose stderr is collected; `exited` settles with its exit code. */
interface Run {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Resolves with the output once `re` matches it. */
  waitOutput(re: RegExp, what: string, timeoutMs?: number): Promise<string>;
}

function run(command: string, args: string[], stdinPipe = false): Run {
  const child = spawn(command, args, { env: ENV, stdio: [stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return {
    child, exited, output: () => out,
    waitOutput: (re, what, timeoutMs = 30_000) => waitFor(() => (re.test(out) ? out : undefined), `${what}; output so far:\n${out.slice(-3000)}`, timeoutMs, 25),
  };
}

const frontdesk = (...args: string[]) => run(process.execPath, [...ENTRY, ...args]);

/** Free ports for every part, so these runs never meet the defaults or each other. */
async function portFlags(): Promise<{ flags: string[]; proxy: number; admin: number; envoyAdmin: number; xds: number; authz: number; ratelimit: number; transform: number; log: number }> {
  const [proxy, admin, xds, envoyAdmin, authz, ratelimit, transform, ratelimitAdmin, log] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  return {
    proxy, admin, envoyAdmin, xds, authz, ratelimit, transform, log,
    flags: ['--proxy-port', String(proxy), '--admin-port', String(admin), '--xds-port', String(xds), '--envoy-admin-port', String(envoyAdmin),
      '--authz', `127.0.0.1:${authz}`, '--ratelimit', `127.0.0.1:${ratelimit}`, '--transform', `127.0.0.1:${transform}`, '--log', `127.0.0.1:${log}`, '--ratelimit-admin-port', String(ratelimitAdmin)],
  };
}

/** Holds a port on 127.0.0.1 as another program would; undefined when something else already has it. */
function hold(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(s));
  });
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('frontdesk start before anything starts', () => {
  test('every default port in use is one line naming it, its holder and the flag to pass; exit 1, nothing started', async () => {
    const dir = tempConfig(config('http://127.0.0.1:9'));
    // The ports `start` opens by default (README "Running it"), with the flag that moves each.
    const defaults: Array<[number, string, string]> = [
      [8000, 'the proxy', '--proxy-port'],
      [8001, 'the Frontdesk admin', '--admin-port'],
      [18000, 'the xDS server', '--xds-port'],
      [18001, 'the authz companion', '--authz HOST:PORT'],
      [18002, 'the ratelimit companion', '--ratelimit HOST:PORT'],
      [18003, 'the transform companion', '--transform HOST:PORT'],
      [18004, 'the log companion', '--log HOST:PORT'],
      [18012, "the ratelimit companion's admin", '--ratelimit-admin-port'],
      [9901, "Envoy's admin", '--envoy-admin-port'],
    ];
    const held = await Promise.all(defaults.map(([port]) => hold(port)));
    try {
      const r = frontdesk('start', '--config', dir, '--log-format', 'json');
      assert.equal(await r.exited, 1, r.output());
      const records = r.output().trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string });
      const esc = (s: string) => s.replace(/[()[\]|+.*?^$]/g, '\\$&');
      for (const [i, [port, what, flag]] of defaults.entries()) {
        // Held here: the holder is this test's process; held by someone else: any pid, or none known.
        const by = held[i] ? ` by pid ${process.pid} \\(\\S+\\)` : '(?: by pid \\d+(?: \\(\\S+\\))?)?';
        const re = new RegExp(`^port ${port} \\(${esc(what)}\\) is in use${by}; pass ${esc(flag)}$`);
        assert.equal(records.filter((x) => x.level === 50 && re.test(x.msg)).length, 1, `one line for port ${port}:\n${r.output()}`);
      }
      assert.equal(records.length, defaults.length, `those lines and nothing else (nothing was started):\n${r.output()}`);
    } finally {
      await Promise.all(held.map((s) => new Promise((res) => (s ? s.close(res) : res(undefined)))));
    }
  });

  test('a bad config is printed as validate prints it (file:line:col, message, hint), exit 1; as fields in JSON', async () => {
    const dir = tempConfig(`_format_version: "3.0"
services:
  - name: orders
    url: http://127.0.0.1:9
    retrys: 2
    routes:
      - name: orders
        paths: [orders]
`);
    const file = join(dir, 'gateway.yaml');
    const { flags } = await portFlags();
    const pretty = frontdesk('start', '--config', dir, ...flags, '--log-format', 'pretty');
    assert.equal(await pretty.exited, 1);
    const lines = pretty.output().trimEnd().split('\n');
    assert.equal(lines.length, 5, pretty.output());
    assert.equal(lines[0], `${file}:5:5: error: unknown key "retrys" [services[0].retrys]`);
    assert.equal(lines[1], '    hint: did you mean "retries"?');
    assert.ok(lines[2]!.startsWith(`${file}:8:17: error: path "orders" must start with "/"`), lines[2]);
    assert.match(lines[3]!, /^ {4}hint: /);
    assert.equal(lines[4], 'the config has 2 error(s), 0 warning(s): not starting');

    const json = frontdesk('start', '--config', dir, ...flags, '--log-format', 'json');
    assert.equal(await json.exited, 1);
    const records = json.output().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual({ ...records[0], time: 0 }, {
      level: 50, time: 0, name: 'frontdesk', code: records[0]!.code, file, line: 5, col: 5, path: 'services[0].retrys',
      hint: 'did you mean "retries"?', msg: 'unknown key "retrys"',
    });
    assert.equal(records.at(-1)!.msg, 'the config has 2 error(s), 0 warning(s): not starting');
  });
});

describe('frontdesk start running', () => {
  const upstreams: Array<{ close(): Promise<void> }> = [];
  after(async () => { for (const u of upstreams) await u.close(); });

  test('on a terminal: readable coloured lines, Envoy folded in, what to do next; Ctrl-C stops each part, exit 0', async () => {
    const upstream = await startEchoUpstream('tty');
    upstreams.push(upstream);
    const dir = tempConfig(config(upstream.url));
    const p = await portFlags();
    const cmd = [process.execPath, ...ENTRY, 'start', '--config', dir, ...p.flags, '--envoy-log-level', 'info'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // util-linux script(1) runs the command on a pseudo-terminal; -e returns its exit code. `exec`
    // makes frontdesk the terminal's one foreground process, whatever $SHELL script starts (a
    // shell left waiting in between gets the Ctrl-C too, and some exit 130 on it).
    const r = run('script', ['-qefc', `exec ${cmd}`, '/dev/null'], true);
    try {
      await r.waitOutput(/stop +Ctrl-C/, 'the ready message');
      const text = stripAnsi(r.output()).replace(/\r/g, '');
      assert.match(r.output(), /\x1b\[32mINFO/, 'levels are coloured');
      const lines = text.split('\n').filter(Boolean);
      assert.deepEqual(lines.filter((l) => l.startsWith('{')), [], 'no JSON lines on a terminal');
      assert.ok(lines.every((l) => /^\d\d:\d\d:\d\d (DEBUG|INFO |WARN |ERROR) /.test(l) || l.startsWith('    ')), `every line is time, level, text:\n${text}`);
      assert.match(text, /^\d\d:\d\d:\d\d INFO  envoy\/main  /m, "Envoy's own info lines, under its prefix and logger name");
      assert.doesNotMatch(text, /^\[(info|warning)\]/m, "no raw Envoy line");
      const ready = text.slice(text.indexOf('gateway ready'));
      assert.match(ready, new RegExp(`^    proxy +http://localhost:${p.proxy}$`, 'm'));
      assert.match(ready, new RegExp(`^    admin +http://127\\.0\\.0\\.1:${p.admin} `, 'm'));
      assert.match(ready, new RegExp(`^    envoy +http://127\\.0\\.0\\.1:${p.envoyAdmin} `, 'm'));
      const ui = new RegExp(`^ {4}ui +(http://127\\.0\\.0\\.1:${p.admin}/ui) `, 'm').exec(ready);
      assert.ok(ui, 'the dashboard\'s address');
      assert.equal((await fetch(ui[1]!)).status, 200, 'and the dashboard answers there');
      assert.match(ready, new RegExp(`^    config +${dir.replace(/[.]/g, '\\.')} `, 'm'));
      const curl = /^ {4}try +curl -i (\S+)$/m.exec(ready);
      assert.equal(curl?.[1], `http://localhost:${p.proxy}/orders`, 'a curl to the config\'s route');
      const res = await fetch(curl![1]!.replace('localhost', '127.0.0.1'));
      assert.equal(res.status, 200, 'and that request is served');

      r.child.stdin!.write('\x03'); // Ctrl-C, through the terminal's line discipline
      assert.equal(await r.exited, 0, stripAnsi(r.output()).slice(-3000));
      const stops = stripAnsi(r.output()).replace(/\r/g, '').split('\n').filter((l) => / INFO  stopped /.test(l)).map((l) => l.replace(/^.* INFO  stopped /, ''));
      assert.equal(stops.length, 6, stripAnsi(r.output()).slice(-2000));
      assert.match(stops[0]!, /^envoy \(pid \d+\)$/);
      assert.deepEqual(stops.slice(1), [
        `the ratelimit companion (port ${p.ratelimit})`, `the log companion (port ${p.log})`, `the transform companion (port ${p.transform})`, `the authz companion (port ${p.authz})`,
        `the control plane (xds ${p.xds}, admin ${p.admin})`,
      ]);
      const afterStop = stripAnsi(r.output()).slice(stripAnsi(r.output()).indexOf(' stopped envoy'));
      assert.doesNotMatch(afterStop, / (INFO |WARN ) (?!stopped )/, 'nothing but the stop lines after Ctrl-C');
    } finally {
      r.child.kill('SIGKILL');
    }
    await assert.rejects(fetch(`http://127.0.0.1:${p.envoyAdmin}/ready`), 'Envoy is gone');
  });

  test('piped: JSON lines, Envoy\'s with component and mapped level; the ready record has the URLs; SIGINT exits 0', async () => {
    const upstream = await startEchoUpstream('piped');
    upstreams.push(upstream);
    const dir = tempConfig(config(upstream.url));
    const p = await portFlags();
    const r = frontdesk('start', '--config', dir, ...p.flags, '--envoy-log-level', 'info');
    try {
      await r.waitOutput(/"msg":"gateway ready"/, 'the ready record');
      const records = r.output().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const ready = records.find((x) => x.msg === 'gateway ready')!;
      assert.deepEqual({ ...ready, time: 0 }, {
        level: 30, time: 0, name: 'frontdesk', proxy: [`http://localhost:${p.proxy}`], admin: `http://127.0.0.1:${p.admin}`, dashboard: `http://127.0.0.1:${p.admin}/ui`,
        envoyAdmin: `http://127.0.0.1:${p.envoyAdmin}`, config: dir, try: `curl -i http://localhost:${p.proxy}/orders`, msg: 'gateway ready',
      });
      const envoyLines = records.filter((x) => x.component === 'envoy' && x.scope);
      assert.ok(envoyLines.length > 0 && envoyLines.every((x) => [20, 30, 40, 50].includes(x.level as number)), 'Envoy\'s log as records with its logger as scope');
      assert.ok(envoyLines.some((x) => x.scope === 'main' && x.level === 30), "Envoy's [info][main] lines at pino's info");
      const body = await (await fetch(`http://127.0.0.1:${p.proxy}/orders/1`)).json() as { upstream: string; path: string };
      assert.deepEqual([body.upstream, body.path], ['piped', '/1']);
    } finally {
      r.child.kill('SIGINT');
    }
    assert.equal(await r.exited, 0, r.output().slice(-3000));
    const stops = r.output().trim().split('\n').map((l) => JSON.parse(l) as { msg: string }).filter((x) => x.msg.startsWith('stopped '));
    assert.equal(stops.length, 6, r.output().slice(-3000));
    await assert.rejects(fetch(`http://127.0.0.1:${p.envoyAdmin}/ready`), 'Envoy is gone');
    await assert.rejects(fetch(`http://127.0.0.1:${p.admin}/healthz`), 'and the admin server');
  });
});
