// docker/: no Docker engine runs on the test machines, so the Dockerfiles are parsed and
// checked instruction by instruction, compose.yaml is checked against the files it mounts and
// the services it wires, the HEALTHCHECK command runs against the daemon's real HTTP server, and
// mosquitto.conf runs in a real Mosquitto 2. docker/README.md says what was not run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, posix, resolve } from 'node:path';
import mqtt from 'mqtt';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile } from '../src/config/load-config.js';
import { createRegistry } from '../src/metrics/create-registry.js';
import { startHttpServer } from '../src/metrics/http-server.js';
import { makePasswordFile, missingBrokerTools } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const DOCKERFILES = ['docker/Dockerfile', 'docker/Dockerfile.cuda', 'docker/Dockerfile.jetson'];
const KEYWORDS = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);
const CONTEXT = '.'; // compose.yaml and the READMEs build from the repository root
const CMD = ['run', '--config', '/etc/msta-edge/config.yaml', '--http', '0.0.0.0:9464'];

interface Instruction {
  line: number;
  keyword: string;
  /** --flag=value options (COPY --from, HEALTHCHECK --interval ...). */
  flags: Record<string, string>;
  args: string;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** A Dockerfile as Docker's parser reads it: continuation lines joined, comments dropped. */
function parseDockerfile(file: string): { globals: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const text = pending + line;
    pending = '';
    if (text.trim() === '') return;
    const m = /^(\S+)\s+(.*)$/s.exec(text);
    assert.ok(m, `${file}:${start}: "${text}" has no arguments`);
    let args = m[2]!.trim();
    const flags: Record<string, string> = {};
    for (let f = /^--([\w-]+)=(\S+)\s+/.exec(args); f; f = /^--([\w-]+)=(\S+)\s+/.exec(args)) {
      flags[f[1]!] = f[2]!;
      args = args.slice(f[0].length);
    }
    instructions.push({ line: start, keyword: m[1]!, flags, args });
  });
  assert.equal(pending, '', `${file}: ends inside a continued line`);
  const globals: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    assert.ok(KEYWORDS.has(ins.keyword), `${file}:${ins.line}: unknown instruction ${ins.keyword}`);
    if (ins.keyword === 'FROM') {
      const [image, as, name, ...rest] = ins.args.split(/\s+/);
      assert.ok(as === undefined || (as.toUpperCase() === 'AS' && name && rest.length === 0), `${file}:${ins.line}: FROM image [AS name]`);
      stages.push({ image: image!, ...(name ? { name } : {}), instructions: [] });
    } else if (stages.length === 0) {
      assert.equal(ins.keyword, 'ARG', `${file}:${ins.line}: only ARG may come before the first FROM`);
      globals.push(ins);
    } else stages.at(-1)!.instructions.push(ins);
  }
  return { globals, stages };
}

/** The JSON (exec) form of CMD / ENTRYPOINT / HEALTHCHECK CMD. */
function execForm(where: string, args: string): string[] {
  let parsed: unknown;
  assert.doesNotThrow(() => (parsed = JSON.parse(args)), `${where}: not a JSON array: ${args}`);
  assert.ok(Array.isArray(parsed) && parsed.every((a) => typeof a === 'string'), `${where}: not an array of strings`);
  return parsed as string[];
}

function only(stage: Stage, keyword: string, file: string): Instruction {
  const found = stage.instructions.filter((i) => i.keyword === keyword);
  assert.equal(found.length, 1, `${file}: final stage has ${found.length} ${keyword}`);
  return found[0]!;
}

function runs(stage: Stage): string {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
}

test('every Dockerfile parses into known instructions with well-formed stages and existing COPY sources', () => {
  for (const file of DOCKERFILES) {
    const { globals, stages } = parseDockerfile(file);
    const globalArgs = new Map(globals.map((g) => { const [k, v] = g.args.split('='); return [k!, v]; }));
    const names = new Set<string>();
    for (const stage of stages) {
      for (const [, v] of stage.image.matchAll(/\$\{(\w+)\}/g)) assert.ok(globalArgs.has(v!), `${file}: FROM uses undeclared ARG ${v}`);
      for (const ins of stage.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
        const parts = ins.args.split(/\s+/);
        if (ins.flags.from) {
          assert.ok(names.has(ins.flags.from), `${file}:${ins.line}: --from=${ins.flags.from} is no earlier stage`);
          continue;
        }
        for (const source of parts.slice(0, -1)) {
          assert.ok(existsSync(join(CONTEXT, source)), `${file}:${ins.line}: COPY source ${source} does not exist in the build context`);
        }
      }
      if (stage.name) names.add(stage.name);
    }
    // Node's major version satisfies package.json's engines.
    const major = Number(globalArgs.get('NODE_VERSION'));
    const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node;
    assert.ok(major >= Number(/(\d+)/.exec(engines)![1]), `${file}: NODE_VERSION ${major} vs engines ${engines}`);
  }
});

test('every image runs as a non-root user under tini, with a /healthz HEALTHCHECK, port 9464 and the daemon listening on 0.0.0.0', () => {
  for (const file of DOCKERFILES) {
    const { stages } = parseDockerfile(file);
    const final = stages.at(-1)!;
    const user = only(final, 'USER', file).args;
    assert.ok(!['root', '0'].includes(user.split(':')[0]!), `${file}: USER ${user}`);
    assert.match(runs(final), /useradd --system --uid (\d+)/, `${file}: the user is created`);
    assert.notEqual(/--uid (\d+)/.exec(runs(final))![1], '0');
    const entrypoint = execForm(`${file} ENTRYPOINT`, only(final, 'ENTRYPOINT', file).args);
    assert.deepEqual(entrypoint, ['/usr/bin/tini', '--', '/app/bin/msta-edge']);
    assert.match(runs(final), /apt-get install[^&]*\btini\b/, `${file}: tini is installed in the final stage`);
    assert.deepEqual(execForm(`${file} CMD`, only(final, 'CMD', file).args), CMD);
    assert.deepEqual(only(final, 'EXPOSE', file).args.split(/\s+/), ['9464']);
    const health = only(final, 'HEALTHCHECK', file);
    assert.match(health.args, /^CMD \[/);
    assert.ok(execForm(`${file} HEALTHCHECK`, health.args.slice(4)).join(' ').includes('http://127.0.0.1:9464/healthz'));
    // The config the CMD names is the one shipped in docker/; the label sets it names are copied.
    const copies = final.instructions.filter((i) => i.keyword === 'COPY' && !i.flags.from).map((i) => i.args);
    assert.ok(copies.includes('docker/config.yaml /etc/msta-edge/config.yaml'), `${file}: config copied`);
    assert.ok(copies.includes('configs/labels /etc/msta-edge/labels'), `${file}: label sets copied`);
    // The build stage compiles the TypeScript and leaves no dev dependencies behind.
    const build = stages.find((s) => s.name === 'build')!;
    assert.match(runs(build), /npm ci\b/);
    assert.match(runs(build), /npm run build/);
    assert.match(runs(build), /npm prune --omit=dev/);
    assert.ok(build.instructions.some((i) => i.keyword === 'COPY' && i.args.startsWith('package.json package-lock.json')), `${file}: installs from the lock file`);
  }
});

test('onnxruntime-node: skipped download on CPU, its real cuda12 manifest for CUDA, a same-version source build for Jetson', () => {
  const require = createRequire(import.meta.url);
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  const metadata = require('onnxruntime-node/script/install-metadata.js') as {
    requirements: Record<string, string[]>;
    manifests: Record<string, Record<string, unknown>>;
  };

  const cpu = parseDockerfile('docker/Dockerfile').stages.find((s) => s.name === 'build')!;
  const cpuEnv = cpu.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join('\n');
  const firstNpmCi = cpu.instructions.findIndex((i) => i.keyword === 'RUN' && /npm ci/.test(i.args));
  const skipAt = cpu.instructions.findIndex((i) => i.keyword === 'ENV' && /ONNXRUNTIME_NODE_INSTALL=skip/.test(i.args));
  assert.ok(/ONNXRUNTIME_NODE_INSTALL=skip/.test(cpuEnv) && skipAt < firstNpmCi, 'CPU image: the GPU download is skipped before npm ci');

  const cuda = parseDockerfile('docker/Dockerfile.cuda').stages.find((s) => s.name === 'build')!;
  const cudaRuns = runs(cuda);
  assert.match(cudaRuns, /ONNXRUNTIME_NODE_INSTALL=skip npm ci/);
  const install = /ONNXRUNTIME_NODE_INSTALL=(\w+) node node_modules\/onnxruntime-node\/script\/install\.js/.exec(cudaRuns);
  assert.ok(install, 'CUDA image runs onnxruntime-node\'s install script');
  assert.ok(metadata.requirements['linux/x64']!.includes(install[1]!), `install-metadata.js knows ${install[1]} for linux/x64`);
  const manifestFiles = Object.keys(metadata.manifests[`linux/x64:${install[1]}`]!).map((f) => posix.basename(f)).sort();
  const checked = /for p in ([\w ]+); do/.exec(cudaRuns)![1]!.split(' ').map((p) => `libonnxruntime_providers_${p}.so`).sort();
  assert.deepEqual(checked, manifestFiles, 'the image checks for exactly the files the manifest installs');

  const jetson = parseDockerfile('docker/Dockerfile.jetson');
  const ortArg = jetson.globals.find((g) => g.args.startsWith('ORT_VERSION='))!.args.split('=')[1];
  assert.equal(ortArg, ortVersion, 'the Jetson build compiles the same onnxruntime version as the npm package');
  const ort = jetson.stages.find((s) => s.name === 'ort')!;
  for (const flag of ['--build_nodejs', '--use_cuda', '--use_tensorrt', '--build_shared_lib']) assert.ok(runs(ort).includes(flag), `onnxruntime built with ${flag}`);
  assert.match(jetson.stages[1]!.image, /^\$\{L4T_IMAGE\}$/);
  assert.match(jetson.globals.find((g) => g.args.startsWith('L4T_IMAGE='))!.args, /nvcr\.io\/nvidia\/l4t-jetpack:r36\./);
  assert.match(runs(jetson.stages.at(-1)!), /nvidia-l4t-gstreamer/);
});

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

function exitCode(command: string[]): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done(code);
    });
  });
}

test('the HEALTHCHECK command passes on a healthy daemon and fails on an unhealthy or absent one', async () => {
  const commands = DOCKERFILES.map((f) => execForm(f, only(parseDockerfile(f).stages.at(-1)!, 'HEALTHCHECK', f).args.slice(4)));
  for (const c of commands.slice(1)) assert.deepEqual(c, commands[0], 'one health check for every image');
  const [node, ...rest] = commands[0]!;
  assert.equal(node, 'node');
  let healthy = true;
  const server = await startHttpServer('127.0.0.1:0', {
    registry: createRegistry(),
    health: () => ({ ok: healthy, checks: { event_loop: { ok: healthy } } }),
    ready: () => ({ ok: false, checks: {} }),
  });
  const port = server.address.split(':').at(-1)!;
  const command = [process.execPath, ...rest.map((a) => a.replace('127.0.0.1:9464', `127.0.0.1:${port}`))];
  try {
    assert.equal(await exitCode(command), 0, 'healthy');
    healthy = false;
    assert.equal(await exitCode(command), 1, 'unhealthy (503)');
  } finally {
    await server.close();
  }
  const nobody = await freePort();
  assert.equal(await exitCode([process.execPath, ...rest.map((a) => a.replace('127.0.0.1:9464', `127.0.0.1:${nobody}`))]), 1, 'nothing listening');
});

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  command?: string[];
  depends_on?: string[];
  stop_grace_period?: string;
}

test('compose.yaml wires the four services to files that exist and to each other', () => {
  const compose = parseYaml(readFileSync('docker/compose.yaml', 'utf8')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const base = resolve('docker');
  assert.deepEqual(Object.keys(compose.services).sort(), ['grafana', 'mosquitto', 'msta-edge', 'prometheus']);
  const daemon = compose.services['msta-edge']!;
  assert.ok(existsSync(join(base, daemon.build!.context, daemon.build!.dockerfile)), 'the msta-edge build file');
  assert.equal(resolve(base, daemon.build!.context), resolve(CONTEXT), 'built from the repository root');

  // Bind mounts: the host side exists, except the user's model folder; named volumes are declared.
  const mounts = new Map<string, Map<string, string>>();
  for (const [name, service] of Object.entries(compose.services)) {
    const targets = new Map<string, string>();
    for (const volume of service.volumes ?? []) {
      const [source, target] = volume.split(':');
      targets.set(target!, source!);
      if (source!.startsWith('${MSTA_MODELS_DIR')) continue;
      if (/^[\w-]+$/.test(source!)) assert.ok(source! in compose.volumes, `${name}: volume ${source} is declared`);
      else assert.ok(existsSync(resolve(base, source!)), `${name}: ${source} does not exist`);
    }
    mounts.set(name, targets);
  }
  // Secrets are required from the environment, never written into the file.
  for (const service of Object.values(compose.services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (/PASSWORD/.test(key)) assert.match(value, /^\$\{\w+:\?.+\}$/, `${key} must come from the environment`);
    }
  }
  // The daemon's config and labels are the ones in the repository, and valid.
  const daemonMounts = mounts.get('msta-edge')!;
  assert.equal(resolve(base, daemonMounts.get('/etc/msta-edge/config.yaml')!), resolve('docker/config.yaml'));
  const config = loadConfigFile('docker/config.yaml', { MQTT_PASSWORD: 'y', MSTA_CONSOLE_TOKEN: 'console-token-of-16+' });
  assert.equal(config.mqtt.url, 'mqtt://mosquitto:1883', 'the compose broker by default');
  const labelsDir = resolve(base, daemonMounts.get('/etc/msta-edge/labels')!);
  for (const f of config.labels.files) {
    assert.ok(f.startsWith('/etc/msta-edge/labels/') && existsSync(join(labelsDir, posix.basename(f))), `label file ${f}`);
  }
  assert.ok(config.mqtt.spool.dir.startsWith('/var/lib/msta-edge/') && daemonMounts.get('/var/lib/msta-edge') === 'msta-state');
  assert.ok(config.events.path.startsWith('/var/lib/msta-edge/'), 'the event history on the state volume');
  assert.ok(config.model!.tensorrt.engine_cache_dir.startsWith('/var/cache/msta-edge/') && daemonMounts.get('/var/cache/msta-edge') === 'msta-cache');
  assert.ok(parseInt(daemon.stop_grace_period!, 10) > config.shutdown_timeout_s, 'Docker waits longer than the daemon\'s shutdown timeout');

  // Prometheus scrapes the daemon's service and port, with the rules next to its config.
  const promDir = resolve(base, mounts.get('prometheus')!.get('/etc/prometheus')!);
  const prom = parseYaml(readFileSync(join(promDir, 'prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };
  const job = prom.scrape_configs.find((j) => j.job_name === 'msta-edge')!;
  assert.deepEqual(job.static_configs[0]!.targets, ['msta-edge:9464']);
  assert.ok(daemon.ports!.some((p) => p.endsWith(':9464')));
  for (const rules of prom.rule_files) assert.ok(existsSync(join(promDir, rules)));

  // Grafana: the data source points at the prometheus service; the provider path is the mount.
  const grafana = mounts.get('grafana')!;
  const provisioning = resolve(base, grafana.get('/etc/grafana/provisioning')!);
  const datasource = parseYaml(readFileSync(join(provisioning, 'datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ url: string; type: string }> };
  assert.equal(datasource.datasources[0]!.url, 'http://prometheus:9090');
  assert.equal(datasource.datasources[0]!.type, 'prometheus');
  const provider = parseYaml(readFileSync(join(provisioning, 'dashboards/msta-edge.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
  const dashboardsPath = provider.providers[0]!.options.path;
  const dashboardsDir = resolve(base, grafana.get(dashboardsPath)!);
  assert.ok(statSync(join(dashboardsDir, 'msta-edge.json')).isFile(), 'the dashboard is in the provisioned folder');
  const home = compose.services.grafana!.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
  assert.equal(posix.dirname(home), dashboardsPath);
  assert.ok(existsSync(join(dashboardsDir, posix.basename(home))));

  // Mosquitto: the config mounted where the command reads it, and a password file written first.
  const mosquitto = compose.services.mosquitto!;
  assert.equal(resolve(base, mounts.get('mosquitto')!.get('/mosquitto/config/mosquitto.conf')!), resolve('docker/mosquitto.conf'));
  assert.match(mosquitto.command!.join(' '), /mosquitto_passwd -c -b \/mosquitto\/data\/passwd msta "\$\$MQTT_PASSWORD"/);
  assert.match(mosquitto.command!.join(' '), /exec mosquitto -c \/mosquitto\/config\/mosquitto\.conf/);
  assert.equal(config.mqtt.username, 'msta');
});

test('mosquitto.conf runs in a real Mosquitto 2: password required, MQTT 5 and 3.1.1 served', { skip: missingBrokerTools() }, async () => {
  const dir = tempDir('msta-compose-mosquitto-');
  const port = await freePort();
  // The compose paths moved into a temp dir and the port onto loopback; nothing else changes.
  const conf = readFileSync('docker/mosquitto.conf', 'utf8');
  assert.match(conf, /^listener 1883$/m);
  const local = conf.replaceAll('/mosquitto/data/', `${dir}/`).replaceAll('/mosquitto/data', dir).replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`);
  // As root, mosquitto would drop to its own user and could not read the temp dir.
  writeFileSync(join(dir, 'mosquitto.conf'), `${process.getuid?.() === 0 ? 'user root\n' : ''}${local}`);
  makePasswordFile(join(dir, 'passwd'), 'msta', 'compose-secret');
  const broker = spawn(spawnSync('sh', ['-c', 'command -v mosquitto']).status === 0 ? 'mosquitto' : '/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  broker.stdout.on('data', (d: Buffer) => (log += d.toString()));
  broker.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const connect = async (options: mqtt.IClientOptions): Promise<string> => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options }).catch((e: Error) => e);
    if (client instanceof Error) return client.message;
    await client.endAsync();
    return 'connected';
  };
  try {
    let ok = 'not started';
    for (let i = 0; i < 100 && ok !== 'connected'; i++) {
      ok = await connect({ username: 'msta', password: 'compose-secret', protocolVersion: 5 });
      if (ok !== 'connected') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(ok, 'connected', log);
    assert.equal(await connect({ username: 'msta', password: 'compose-secret', protocolVersion: 4 }), 'connected');
    assert.match(await connect({ protocolVersion: 5 }), /Not authorized|Bad User Name or Password/i);
    assert.match(await connect({ username: 'msta', password: 'wrong', protocolVersion: 4 }), /Not authorized|Bad username or password/i);
  } finally {
    broker.kill('SIGTERM');
    await new Promise((r) => broker.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
