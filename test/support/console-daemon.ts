// A daemon playing the committed demo video in a loop, with the console, for console tests: its
// config in a fresh folder (its own spool and caches), optionally bound off loopback with a token.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DaemonProcess } from './daemon-process.js';
import { tempDir } from './temp-dir.js';

export const CONSOLE_TOKEN = 'console-T0ken-for-tests-4f9a';
export const CONSOLE_CREDENTIALS = 'viewer:console-Pa55-basic-7c';

export interface ConsoleDaemonOptions {
  /** Listen on 0.0.0.0 (off loopback) with this token in http.auth.token_file. */
  token?: string;
  /** Also basic auth with these USER:PASSWORD, from http.auth.credentials_file. */
  credentials?: string;
  /** Extra lines under http.console. */
  console?: string[];
  /** The camera's snapshots enabled (events get thumbnails). */
  snapshots?: boolean;
}

export function consoleConfig(options: ConsoleDaemonOptions = {}): { dir: string; config: string } {
  const dir = tempDir('msta-console-');
  if (options.token !== undefined) writeFileSync(join(dir, 'console-token'), `${options.token}\n`, { mode: 0o600 });
  if (options.credentials !== undefined) writeFileSync(join(dir, 'console-credentials'), `${options.credentials}\n`, { mode: 0o600 });
  const config = join(dir, 'msta-edge.yaml');
  writeFileSync(
    config,
    [
      'cameras:',
      '  - id: demo',
      `    url: file://${resolve('models/demo/actions-demo.mp4')}`,
      '    loop: true',
      ...(options.snapshots ? ['    snapshots:', '      enabled: true'] : []),
      'model:',
      `  bundle: ${resolve('models/synthetic-actions')}`,
      '  providers: [cpu]',
      'labels:',
      '  background: nothing happening',
      'recognition:',
      '  stride: 2',
      'http:',
      `  listen: ${options.token !== undefined ? '0.0.0.0' : '127.0.0.1'}:0`,
      ...(options.token !== undefined ? ['  auth:', '    token_file: console-token', ...(options.credentials !== undefined ? ['    credentials_file: console-credentials'] : [])] : []),
      ...(options.console ? ['  console:', ...options.console.map((l) => `    ${l}`)] : []),
      'logging:',
      '  format: json',
      '',
    ].join('\n'),
  );
  return { dir, config };
}

/** Starts it and waits for the HTTP server; `base` is an http:// URL on 127.0.0.1. */
export async function startConsoleDaemon(options: ConsoleDaemonOptions = {}): Promise<{ daemon: DaemonProcess; base: string; dir: string }> {
  const { dir, config } = consoleConfig(options);
  const daemon = DaemonProcess.start(['--config', config]);
  const listen = await daemon.httpAddress();
  const port = listen.slice(listen.lastIndexOf(':') + 1);
  return { daemon, base: `http://127.0.0.1:${port}`, dir };
}
