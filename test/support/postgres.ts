// A throwaway PostgreSQL 15 server on 127.0.0.1 (free port), run as the `postgres` user (root may not
// run it), data dir and unix socket dir under /tmp. Password authentication (scram-sha-256) over TCP,
// trust on the unix socket for the test's own psql. stop() ends the server and removes both dirs.
import { chown, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/try/ports.js';
import { startProcess } from '../../src/try/process.js';

const run = promisify(execFile);
const PG_BIN = process.env.SIPBAKE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface Postgres {
  host: string;
  port: number;
  socketDir: string;
  /** Runs SQL (or a file with `-f`) as the superuser over the unix socket; returns stdout. */
  psql(args: string[], database?: string): Promise<string>;
  /** Creates a login role with a password and a database it owns. */
  createUserDb(user: string, password: string, database: string): Promise<void>;
  stop(): Promise<void>;
}

async function ids(): Promise<{ uid: number; gid: number }> {
  const { stdout: u } = await run('id', ['-u', 'postgres']);
  const { stdout: g } = await run('id', ['-g', 'postgres']);
  return { uid: Number(u.trim()), gid: Number(g.trim()) };
}

function asPostgres(cmd: string, args: string[], timeout = 60_000): Promise<{ stdout: string; stderr: string }> {
  return run('runuser', ['-u', 'postgres', '--', cmd, ...args], { timeout, maxBuffer: 16 << 20 });
}

export async function startPostgres(o: { host?: string } = {}): Promise<Postgres> {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) throw new Error(`PostgreSQL 15 not found in ${PG_BIN}: apt-get install postgresql`);
  const host = o.host ?? '127.0.0.1';
  const port = await freePort(host);
  const base = await mkdtemp(path.join(tmpdir(), 'sipbake-pg-'));
  const data = path.join(base, 'data');
  const socketDir = path.join(base, 'sock');
  const { uid, gid } = await ids();
  await chmod(base, 0o755);
  await chown(base, uid, gid);
  await asPostgres('mkdir', ['-m', '700', data, socketDir]);
  await asPostgres(path.join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8']);
  const hba = ['local all postgres trust', `host all all ${host}/32 scram-sha-256`].join('\n');
  await writeFile(path.join(data, 'pg_hba.conf'), `${hba}\n`);
  await chown(path.join(data, 'pg_hba.conf'), uid, gid);
  // In the foreground under our process manager: if the test process dies, its group is killed with it.
  const server = startProcess(
    [
      'runuser',
      '-u',
      'postgres',
      '--',
      path.join(PG_BIN, 'postgres'),
      '-D',
      data,
      '-c',
      `listen_addresses=${host}`,
      '-p',
      String(port),
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=60',
    ],
    { name: 'postgres', installHint: 'apt-get install postgresql' },
  );
  try {
    await server.waitForLine(/database system is ready to accept connections/, 30_000);
  } catch (e) {
    await server.stop('SIGINT');
    await rm(base, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  const pg: Postgres = {
    host,
    port,
    socketDir,
    async psql(args, database = 'postgres') {
      const { stdout } = await asPostgres('psql', [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        socketDir,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        database,
        ...args,
      ]);
      return stdout;
    },
    async createUserDb(user, password, database) {
      const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
      await pg.psql(['-c', `CREATE ROLE "${user}" LOGIN PASSWORD ${lit(password)}`]);
      await pg.psql(['-c', `CREATE DATABASE "${database}" OWNER "${user}"`]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await server.stop('SIGINT', 10_000); // fast shutdown, then SIGKILL to the group
      } finally {
        await rm(base, { recursive: true, force: true });
      }
    },
  };
  return pg;
}
