import { readFile } from 'node:fs/promises';
import path from 'node:path';

// A unit's command line as systemd builds it (systemd.service "Command lines", systemd.exec
// "EnvironmentFile="): env files are read in order (later wins; quotes removed), then in ExecStart
// `$VAR` splits on white space into several words and `${VAR}` stays one word. Paths are read under `tree`.

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    env[m[1]!] = v;
  }
  return env;
}

export async function unitArgv(tree: string, unit: string): Promise<{ binary: string; argv: string[]; directives: Record<string, string[]> }> {
  const text = await readFile(path.join(tree, 'etc/systemd/system', unit), 'utf8');
  const directives: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) (directives[m[1]!] ??= []).push(m[2]!);
  }
  const env: Record<string, string> = {};
  for (const f of directives.EnvironmentFile ?? []) Object.assign(env, parseEnvFile(await readFile(path.join(tree, f.replace(/^-/, '')), 'utf8')));
  const words: string[] = [];
  for (const w of (directives.ExecStart?.[0] ?? '').trim().split(/\s+/)) {
    const split = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(w);
    if (split) words.push(...(env[split[1]!] ?? '').split(/\s+/).filter(Boolean));
    else if (whole) words.push(env[whole[1]!] ?? '');
    else words.push(w);
  }
  const [binary, ...argv] = words;
  return { binary: binary ?? '', argv, directives };
}
