// Seed 004 with its PostgreSQL backend: a real PostgreSQL 15 on loopback holds Kamailio's dispatcher
// table, created by the rendered usr/share/sipbake/dispatcher.sql. The password travels the boot-time
// secret path (the agent's runBoot reads it from SSM, here a loopback fake) and is printed nowhere.
import { copyFile, chmod, readFile, readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCalls, startPostgres, type Postgres } from '../support/index.js';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { startSecretsFake, type SecretsFake } from '../fakes/ssm.js';
import { runBoot } from '../../src/agent/boot.js';
import { inviteCounts, upRecorderLb, type Lb } from './recorder-lb.setup.js';

const PARAM = '/sipbake/recorder-lb/db-password';
// Random, and shaped so that it cannot appear by accident in any output.
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

async function spread(lb: Lb, name: string): Promise<number[]> {
  const caller = lb.addr.callers[0]!;
  const before = await inviteCounts(lb);
  const run = await runCalls({
    dir: lb.dir,
    name,
    localIp: caller,
    localPort: await freePort(caller),
    remote: `${lb.addr.proxy}:${lb.sipPort}`,
    calls: 200,
    rate: 40,
    limit: 50,
    timeoutS: 60,
    uac: { holdMs: 50 },
  });
  expect(run.stats?.failed, run.output).toBe(0);
  expect(run.stats?.successful).toBe(200);
  return (await inviteCounts(lb)).map((c, i) => c - (before[i] ?? 0));
}

async function allText(dir: string): Promise<string> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && /\.(log|csv)$/.test(e.name)) out.push(await readFile(path.join(e.parentPath, e.name), 'utf8'));
  }
  return out.join('\n');
}

describe('recorder-lb with the PostgreSQL dispatcher backend', () => {
  let pg: Postgres | undefined;
  let imds: ImdsFake | undefined;
  let secrets: SecretsFake | undefined;
  let lb: Lb | undefined;
  const bootLog: string[] = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    pg = await startPostgres();
    await pg.createUserDb('kamailio', PASSWORD, 'kamailio');
    secrets = await startSecretsFake();
    secrets.parameters.set(PARAM, { value: PASSWORD, secure: true });
    // The SDK signs requests; the fake only checks that they are signed. Dummy keys, not credentials.
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDLOCALFAKE',
      AWS_SECRET_ACCESS_KEY: 'local-fake-secret',
      AWS_REGION: 'us-east-1',
    });
    const db = pg;
    lb = await upRecorderLb({
      net: 3,
      backend: {
        type: 'postgres',
        host: db.host,
        port: db.port,
        database: 'kamailio',
        user: 'kamailio',
        password: { source: 'ssm', name: PARAM },
      },
      beforeStart: async ({ tree }) => {
        // The product's SQL (Kamailio's own schema + version rows + destinations), loaded as the DB owner.
        const sql = path.join(db.socketDir, 'dispatcher.sql');
        await copyFile(path.join(tree, 'usr/share/sipbake/dispatcher.sql'), sql);
        await chmod(sql, 0o644);
        await db.psql(['-c', 'SET ROLE kamailio', '-f', sql], 'kamailio');
        // Boot as on the instance: addresses from IMDS, the password from SSM, the include written.
        imds = await startImdsFake({ localIpv4: '127.0.3.2' });
        await runBoot({
          root: tree,
          imds: { endpoint: imds.endpoint },
          ssmEndpoint: secrets!.endpoint,
          region: 'us-east-1',
          log: (l: string) => bootLog.push(l),
        });
      },
    });
  });
  afterAll(async () => {
    await lb?.down();
    await pg?.stop();
    await imds?.close();
    await secrets?.close();
    process.env = savedEnv;
  });

  it('loads the destinations from the table the product SQL created', async () => {
    const rows = await pg!.psql(['-At', '-c', 'SELECT destination, attrs FROM dispatcher ORDER BY id'], 'kamailio');
    expect(rows).toContain(`sip:${lb!.addr.recorders[0]}:${lb!.recorderPorts[0]}`);
    const version = await pg!.psql(['-At', '-c', "SELECT table_version FROM version WHERE table_name = 'dispatcher'"], 'kamailio');
    expect(version.trim()).toBe('4');
    const list = await lb!.kamcmd('dispatcher.list');
    expect(list).toContain(lb!.addr.recorders[0]);
    expect(list).toContain(lb!.addr.recorders[1]);
    expect(secrets!.requests.some((r) => r.target === 'AmazonSSM.GetParameter' && r.body.Name === PARAM && r.body.WithDecryption === true)).toBe(true);
  });

  it('gives the same 75/25 distribution as the list file', async () => {
    const fromDb = await spread(lb!, 'uac-db');
    const share = (fromDb[0]! / 200) * 100;
    expect(share).toBeGreaterThanOrEqual(70);
    expect(share).toBeLessThanOrEqual(80);
    // The file backend, same destinations, same run.
    const file = await upRecorderLb({ net: 4 });
    try {
      const fromFile = await spread(file, 'uac-file');
      expect(Math.abs(fromFile[0]! - fromDb[0]!)).toBeLessThanOrEqual(10);
    } finally {
      await file.down();
    }
  });

  it('never prints the password', async () => {
    const outputs = [lb!.kamailio.text(), bootLog.join('\n'), await allText(lb!.dir)].join('\n');
    expect(outputs.length).toBeGreaterThan(0);
    expect(outputs).not.toContain(PASSWORD);
    // It is only in the boot include (mode 0640), where Kamailio reads it.
    const include = await readFile(path.join(lb!.tree, 'etc/kamailio/sipbake-boot.cfg'), 'utf8');
    expect(include).toContain(`postgres://kamailio:${PASSWORD}@127.0.0.1:${pg!.port}/kamailio`);
  });
});
