// The on-disk spool on a real file system, including writers killed with SIGKILL mid-write.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMstaError } from '../src/errors.js';
import { Spool } from '../src/sink/spool.js';
import { tempDir } from './support/temp-dir.js';

const tmp = tempDir('msta-spool-');
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const fresh = (): string => join(tmp, `s${dirs++}`);
const roomy = { maxMessages: 1000, maxBytes: 1 << 20 };

async function contents(spool: Spool): Promise<string[]> {
  const out: string[] = [];
  for (const seq of [...spool.seqs()]) out.push((await spool.read(seq))!);
  return out;
}

test('records come back in append order, also after reopening, and numbering continues', async () => {
  const dir = fresh();
  const spool = await Spool.open(dir, roomy);
  const seqs = [];
  for (const r of ['a', 'bb', 'ccc']) {
    const { seq, durable } = spool.append(r);
    assert.equal(await durable, true);
    seqs.push(seq);
  }
  assert.deepEqual(seqs, [0, 1, 2]);
  assert.deepEqual([spool.messages, spool.bytes], [3, 6]);
  await spool.remove(0);
  assert.equal(await spool.read(0), undefined);
  await spool.remove(0); // already gone: fine
  await spool.close();

  const again = await Spool.open(dir, roomy);
  assert.deepEqual([...again.seqs()], [1, 2]);
  assert.deepEqual(await contents(again), ['bb', 'ccc']);
  assert.equal(await again.append('d').durable, true);
  assert.deepEqual([...again.seqs()], [1, 2, 3]);
  await again.close();
  assert.deepEqual(readdirSync(dir).sort(), ['0000000000000001.json', '0000000000000002.json', '0000000000000003.json']);
});

test('appends made at once are stored in call order', async () => {
  const spool = await Spool.open(fresh(), roomy);
  const results = Array.from({ length: 20 }, (_, i) => spool.append(String(i)));
  assert.deepEqual(results.map((r) => r.seq), Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual(await Promise.all(results.map((r) => r.durable)), results.map(() => true));
  assert.deepEqual(await contents(spool), Array.from({ length: 20 }, (_, i) => String(i)));
});

test('over the message or byte cap the oldest records are dropped; the newest is always kept', async () => {
  const byCount = await Spool.open(fresh(), { maxMessages: 3, maxBytes: 1 << 20 });
  const dropped = [];
  for (const r of ['1', '2', '3', '4', '5']) dropped.push(...byCount.append(r).dropped);
  assert.deepEqual(dropped, [0, 1]);
  assert.deepEqual(await contents(byCount), ['3', '4', '5']);

  const byBytes = await Spool.open(fresh(), { maxMessages: 100, maxBytes: 10 });
  byBytes.append('aaaa');
  byBytes.append('bbbb');
  assert.deepEqual(byBytes.append('cccc').dropped, [0]);
  assert.deepEqual(byBytes.append('x'.repeat(50)).dropped, [1, 2]);
  await byBytes.flushed();
  assert.deepEqual(await contents(byBytes), ['x'.repeat(50)]);
  assert.equal(byBytes.bytes, 50);
});

test('opening removes half-written .tmp leftovers and ignores foreign files', async () => {
  const dir = fresh();
  mkdirSync(dir);
  writeFileSync(join(dir, '0000000000000004.json'), 'kept');
  writeFileSync(join(dir, '0000000000000005.json.tmp'), 'half');
  writeFileSync(join(dir, 'README'), 'not a record');
  const spool = await Spool.open(dir, roomy);
  assert.deepEqual([...spool.seqs()], [4]);
  assert.deepEqual(readdirSync(dir).sort(), ['0000000000000004.json', 'README', 'spool.lock']);
  assert.equal(spool.append('next').seq, 5);
  await spool.close();
});

test('a spool directory that cannot be made is a SPOOL_FAILED error naming it', async () => {
  const file = join(tmp, 'a-file');
  writeFileSync(file, '');
  await assert.rejects(Spool.open(join(file, 'spool'), roomy), (e: unknown) => {
    assert.ok(isMstaError(e, 'SPOOL_FAILED'));
    assert.match(e.message, /a-file\/spool: cannot open the spool directory/);
    return true;
  });
});

// A writer appending as fast as it can: record n holds {"n": n}, n = its sequence number.
const WRITER = `
import { Spool } from './src/sink/spool.ts';
const spool = await Spool.open(process.env.SPOOL_DIR, { maxMessages: 1e9, maxBytes: 1e12 });
let n = spool.messages;
process.stdout.write('ready\\n');
for (;;) await spool.append(JSON.stringify({ n: n++, pad: 'x'.repeat(3000) })).durable;
`;

const records = (dir: string): number => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).length : 0);

/** Kills the writer `ms` after its first new record is on disk (a loaded disk can take longer than `ms` for one). */
async function killWriterAfter(dir: string, ms: number): Promise<void> {
  const had = records(dir);
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER], {
    env: { ...process.env, SPOOL_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  for (const deadline = Date.now() + 30_000; records(dir) <= had && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => setTimeout(r, ms));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('a writer killed with SIGKILL at any moment leaves only complete records, older ones untouched', async () => {
  const dir = fresh();
  let before = 0;
  for (const ms of [30, 75, 140]) {
    await killWriterAfter(dir, ms);
    const spool = await Spool.open(dir, roomy);
    const seqs = [...spool.seqs()];
    assert.ok(seqs.length > before, `the writer got some records down (${seqs.length} after ${before})`);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i), 'no gaps: only the record being written can be lost');
    for (const seq of seqs) {
      const record = JSON.parse((await spool.read(seq))!) as { n: number };
      assert.equal(record.n, seq, `record ${seq} is intact`);
    }
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')), 'leftovers of the killed write are gone');
    before = seqs.length;
    await spool.close();
  }
});
