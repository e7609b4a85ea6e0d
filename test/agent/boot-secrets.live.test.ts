// Issue 11: every password Kamailio's db_url can carry works end to end; any other is refused at boot with
// the parameter's name, never its value. Real PostgreSQL 15 (scram-sha-256 over TCP), the product's SQL,
// boot reading the password from SSM (loopback fake) through the real SDK, real Kamailio 5.6 loading the
// dispatcher rows from the database. One Kamailio start per password.
import { chmod, copyFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBoot } from '../../src/agent/boot.js';
import { startImdsFake, type ImdsFake } from '../fakes/imds.js';
import { startSecretsFake, type SecretsFake } from '../fakes/ssm.js';
import { freePort, makeTmpDir, renderDefinition, seedDefinition, startKamailio, startPostgres, type Postgres, type TmpDir } from '../support/index.js';

const NET = '127.0.42';
const PARAM = '/sipbake/recorder-lb/db-password';

// [name, password, works]. "works": Kamailio 5.5/5.6's parse_db_url splits it right (src/contract/db-url.ts).
const CASES: [string, string, boolean][] = [
  ["'@' then '/'", 'Zq@7/x9!kw', true],
  ["':' and '@'", 'Zq:7@x:9@kw', true],
  ["'%' (never percent-decoded)", 'Zq%417%2Fkw', true],
  ["'#' and a cfg directive", 'Zq#!define X 1#kw', true],
  ['the boot tokens', 'SIPBAKE_PUBLIC_IP/SIPBAKE_PRIVATE_IP@SIPBAKE_DB_URL', false],
  ['the boot tokens, parseable', 'SIPBAKE_PUBLIC_IP@SIPBAKE_PRIVATE_IP:SIPBAKE_DB_URL', true],
  ['a quote, a backslash and $(ru)', 'Zq"7\\x$(ru)kw', true],
  ["'/' before any '@'", 'Zq/7x9kw', false],
  ["'/' then '@'", 'Zq/7@x9kw', false],
];

let tmp: TmpDir;
let tree: string;
let pg: Postgres;
let imds: ImdsFake;
let secrets: SecretsFake;
let sipPort: number;
const savedEnv = { ...process.env };

beforeAll(async () => {
  tmp = await makeTmpDir('sipbake-pgpw-');
  pg = await startPostgres();
  await pg.createUserDb('kamailio', 'initial-Zq7', 'kamailio');
  secrets = await startSecretsFake();
  imds = await startImdsFake({ localIpv4: `${NET}.2` });
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDLOCALFAKE',
    AWS_SECRET_ACCESS_KEY: 'local-fake-secret',
    AWS_REGION: 'us-east-1',
  });
  sipPort = await freePort(`${NET}.2`);
  const def = await seedDefinition('recorder-lb', {
    listen: { udp: sipPort, tcp: sipPort },
    advertise: { source: 'private-ipv4', elasticIp: undefined },
    dispatcher: {
      destinations: [
        { host: `${NET}.10`, port: 5060, transport: 'udp', attrs: { weight: 75 }, description: 'recorder0' },
        { host: `${NET}.11`, port: 5080, transport: 'udp', attrs: { weight: 25 }, description: 'recorder1' },
      ],
    },
    media: { rtpproxy: { enabled: false } },
    diagnostics: { log: 'stderr', debugLevel: 1, jsonrpc: false },
    memory: { children: 1 },
    drain: { healthCheck: { port: await freePort(`${NET}.2`) } },
  });
  (def.dispatcher as Record<string, unknown>).backend = {
    type: 'postgres',
    host: pg.host,
    port: pg.port,
    database: 'kamailio',
    user: 'kamailio',
    password: { source: 'ssm', name: PARAM },
  };
  tree = (await renderDefinition(tmp.path, def, { privateIp: `${NET}.2`, publicIp: `${NET}.2` })).tree;
  const sql = path.join(pg.socketDir, 'dispatcher.sql');
  await copyFile(path.join(tree, 'usr/share/sipbake/dispatcher.sql'), sql);
  await chmod(sql, 0o644);
  await pg.psql(['-c', 'SET ROLE kamailio', '-f', sql], 'kamailio');
});
afterAll(async () => {
  await pg?.stop();
  await imds?.close();
  await secrets?.close();
  await tmp?.remove();
  process.env = savedEnv;
});

describe('database passwords through boot into Kamailio', () => {
  it.each(CASES)('%s', async (_name, password, works) => {
    const lit = `'${password.replace(/'/g, "''")}'`;
    await pg.psql(['-c', `ALTER ROLE kamailio PASSWORD ${lit}`]);
    secrets.parameters.set(PARAM, { value: password, secure: true });
    const include = path.join(tree, 'etc/kamailio/sipbake-boot.cfg');
    await rm(include, { force: true });
    const log: string[] = [];
    const boot = runBoot({
      root: tree,
      imds: { endpoint: imds.endpoint, budgetMs: 3000 },
      ssmEndpoint: secrets.endpoint,
      region: 'us-east-1',
      log: (l) => log.push(l),
    });
    if (!works) {
      const e: unknown = await boot.then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e, 'boot should refuse it').toBeInstanceOf(Error);
      const msg = String(e);
      expect(msg).toMatch(new RegExp(`PostgreSQL password in SSM parameter ${PARAM.replace(/\//g, '\\/')} cannot be used: it has a '/' before any '@'`));
      for (const out of [msg, log.join('\n')]) expect(out).not.toContain(password);
      await expect(readFile(include, 'utf8')).rejects.toThrow(/ENOENT/);
      return;
    }
    await boot;
    const kam = await startKamailio({
      tree,
      sharedMb: 64,
      privateMb: 8,
      listeners: [{ host: `${NET}.2`, port: sipPort, transport: 'udp' }],
    });
    try {
      const list = await execa('kamcmd', ['-s', `unix:${tree}/run/kamailio/kamailio_ctl`, 'dispatcher.list'], {
        timeout: 5000,
        reject: false,
      });
      expect(list.stdout, kam.text()).toContain(`sip:${NET}.10:5060`);
      expect(list.stdout).toContain(`sip:${NET}.11:5080`);
      // PostgreSQL saw kamailio log in with that password (scram-sha-256): the rows came from the table.
      expect(kam.text()).not.toMatch(/could not translate host name|password authentication failed|error while parsing database URL/);
    } finally {
      await kam.stop();
    }
    for (const out of [kam.text(), log.join('\n')]) expect(out).not.toContain(password);
  });
});
