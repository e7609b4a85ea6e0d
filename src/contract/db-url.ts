// The one builder of Kamailio's db_url (postgres://user:password@host:port/db), shared by the boot agent
// and `render --local`. Pure.
//
// What parses is read off Kamailio's parse_db_url (src/lib/srdb1/db_id.c), identical in 5.5.7 (the AMI)
// and 5.6.3 (Debian):
// - it never percent-decodes: every field is taken verbatim, so URL-encoding would change the password;
// - the user ends at the first ':' (then the password starts); '/', '@' and '[' in it change the parse;
// - in the password, the first '@' or '/' decides: an '@' makes the parser jump to the LAST '@' of the
//   whole URL (so '@' and ':' are fine anywhere, and so is a '/' after an '@'); a '/' before any '@' is
//   read as "host:port/database", the password becomes a host name ("could not translate host name").
//   The '/'-anywhere fix (commit 91abfdf6eb) is only in Kamailio 6.0;
// - host and database must hold no '@' (the last '@' would move), the database ends at '?'.
// The URL then sits in a Kamailio cfg string, which carries any byte but NUL through its escapes.

export interface DbUrlParts {
  user: string;
  host: string;
  port: number;
  database: string;
}

/** Why a password cannot be carried in a Kamailio 5.5/5.6 db_url, or undefined. Never quotes the value. */
export function passwordProblem(password: string): string | undefined {
  if (password.length === 0) return 'it is empty';
  if (password.includes('\0')) return 'it contains a NUL byte, which Kamailio cannot carry in a string';
  const slash = password.indexOf('/');
  const at = password.indexOf('@');
  if (slash >= 0 && (at < 0 || at > slash)) {
    return "it has a '/' before any '@': Kamailio 5.5/5.6's db_url parser then reads the password as host:port/database";
  }
  return undefined;
}

/** Why a user, host or database cannot be written into a db_url, or undefined. */
function partProblem(field: 'user' | 'host' | 'database', v: string): string | undefined {
  if (v.length === 0) return 'it is empty';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f"\\]/.test(v)) return 'it contains white space, a control character, a quote or a backslash';
  const bad = field === 'user' ? /[:/@[]/ : field === 'host' ? /[:/@[\]?]/ : /[/@?]/;
  if (bad.test(v))
    return `it contains one of ${field === 'user' ? "':' '/' '@' '['" : field === 'host' ? "':' '/' '@' '[' ']' '?'" : "'/' '@' '?'"}, which changes how Kamailio splits the db_url`;
  return undefined;
}

export class DbUrlError extends Error {
  override readonly name = 'DbUrlError';
  constructor(
    /** Which part: 'password', 'user', 'host', 'database'. */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`the database ${field} cannot be used in Kamailio's db_url: ${problem}`);
  }
}

/** postgres://user[:password]@host:port/database, exactly as Kamailio will split it; throws DbUrlError. */
export function postgresDbUrl(p: DbUrlParts, password?: string): string {
  for (const f of ['user', 'host', 'database'] as const) {
    const why = partProblem(f, p[f]);
    if (why) throw new DbUrlError(f, why);
  }
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new DbUrlError('port', `${p.port} is not a TCP port`);
  if (password === undefined) return `postgres://${p.user}@${p.host}:${p.port}/${p.database}`;
  const why = passwordProblem(password);
  if (why) throw new DbUrlError('password', why);
  return `postgres://${p.user}:${password}@${p.host}:${p.port}/${p.database}`;
}

/** The database name ends at '?' (the parameters). */
function beforeQuery(s: string): string {
  const q = s.indexOf('?');
  return q < 0 ? s : s.slice(0, q);
}

/** Pure: the parse Kamailio 5.5/5.6 applies (for tests and for checking a URL before writing it). */
export function parseKamailioDbUrl(url: string): { user?: string; password?: string; host: string; port?: number; database: string } | undefined {
  const rest = /^([^:]*):\/\/(.*)$/s.exec(url)?.[2];
  if (rest === undefined) return undefined;
  // ST_USER_HOST: up to ':' (password follows), '@' (user only) or '/' (host only).
  const first = rest.search(/[:@/]/);
  if (first < 0) return undefined;
  let user: string | undefined;
  let password: string | undefined;
  let hostStart: number;
  if (rest[first] === '/') return { host: rest.slice(0, first), database: beforeQuery(rest.slice(first + 1)) };
  if (rest[first] === '@') {
    user = rest.slice(0, first);
    hostStart = first + 1;
  } else {
    const afterColon = first + 1;
    const nxt = rest.slice(afterColon).search(/[@/]/);
    if (nxt < 0) return undefined;
    const at = afterColon + nxt;
    if (rest[at] === '/') {
      // host:port/db
      return {
        host: rest.slice(0, first),
        port: Number(rest.slice(afterColon, at)),
        database: beforeQuery(rest.slice(at + 1)),
      };
    }
    const last = rest.lastIndexOf('@');
    user = rest.slice(0, first);
    password = rest.slice(afterColon, last);
    hostStart = last + 1;
  }
  const hp = rest.slice(hostStart);
  const slash = hp.indexOf('/');
  if (slash < 0) return undefined;
  const hostPort = hp.slice(0, slash);
  const colon = hostPort.indexOf(':');
  return {
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    host: colon < 0 ? hostPort : hostPort.slice(0, colon),
    ...(colon < 0 ? {} : { port: Number(hostPort.slice(colon + 1)) }),
    database: beforeQuery(hp.slice(slash + 1)),
  };
}
