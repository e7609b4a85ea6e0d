import { chown, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

// Whole files or nothing: each file goes to a temp file in its own directory (same filesystem),
// is fsynced, given its mode and group, and only then renamed over the target.

export interface AgentFile {
  /** Absolute path. */
  path: string;
  content: string;
  mode: number;
  /** Group to chown to when it exists on this system (e.g. 'kamailio'); otherwise left as is. */
  group?: string;
}

/** Pure: the gid of a group in /etc/group text, or undefined. */
function gidOf(groupFile: string, name: string): number | undefined {
  for (const line of groupFile.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

async function lookupGid(name: string): Promise<number | undefined> {
  try {
    return gidOf(await readFile('/etc/group', 'utf8'), name);
  } catch {
    return undefined;
  }
}

async function writeTemp(f: AgentFile): Promise<string> {
  await mkdir(path.dirname(f.path), { recursive: true });
  const tmp = path.join(path.dirname(f.path), `.${path.basename(f.path)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'wx', f.mode);
  try {
    await fh.writeFile(f.content);
    await fh.chmod(f.mode); // the umask must not widen or narrow it
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (f.group !== undefined && process.getuid?.() === 0) {
    const gid = await lookupGid(f.group);
    if (gid !== undefined) await chown(tmp, 0, gid);
  }
  return tmp;
}

/**
 * Writes every file to a temp file first; renames only when all temp files are complete.
 * On failure the temp files are removed and no target is touched.
 */
export async function writeFilesAtomic(files: AgentFile[]): Promise<void> {
  const temps: string[] = [];
  try {
    for (const f of files) temps.push(await writeTemp(f));
  } catch (e) {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
    throw e;
  }
  for (const [i, f] of files.entries()) await rename(temps[i] ?? '', f.path);
}
