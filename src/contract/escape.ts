import { UserError } from '../core/errors.js';

// One escaper per output language sipbake writes. The schema types every string field first
// (src/definition/primitives.ts); these are the second wall, applied where the text is written, so a
// gap in the schema can never turn into an injection. A value an escaper cannot represent is refused
// with a UserError (exit 1) naming the language, never a crash and never a silent rewrite.

/** Thrown when a value cannot be written safely into an output language. */
export class UnsafeValueError extends UserError {
  constructor(language: string, value: string, why: string) {
    super(
      `${printableValue(value)} cannot be written into ${language}: ${why}`,
      'change the value in the image definition (run `sipbake validate` to find the field)',
    );
  }
}

/** A value as shown in an error: JSON-quoted and cut, control characters escaped. */
function printableValue(s: string): string {
  const j = JSON.stringify(s);
  return j.length > 60 ? `${j.slice(0, 57)}..."` : j;
}

// Lone UTF-16 surrogates cannot be encoded as UTF-8: the file written would not hold the value.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function wellFormed(language: string, s: string): void {
  if (LONE_SURROGATE.test(s)) throw new UnsafeValueError(language, s, 'it is not valid Unicode (a lone surrogate)');
  if (s.includes('\0')) throw new UnsafeValueError(language, s, 'it contains a NUL byte');
}

/**
 * A Kamailio cfg double-quoted string literal. Kamailio's lexer (src/core/cfg.lex, state STRING1)
 * reads `\\`, `\"`, `\n`, `\r` and `\t` inside "…", so those are escaped; every other control
 * character is refused. `$` is left alone: whether it starts a pseudo-variable depends on the
 * parameter, so fields that reach PV-format parameters refuse `$` at the schema.
 */
export function kamailioString(s: string): string {
  const lang = 'a Kamailio config string';
  wellFormed(lang, s);
  // eslint-disable-next-line no-control-regex -- finding control characters is the point of this check
  if (/[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s)) throw new UnsafeValueError(lang, s, 'it contains a control character');
  // Backslash first, so the escapes added after it are not escaped again.
  const body = s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return `"${body}"`;
}

/**
 * One whitespace-separated field of Kamailio's dispatcher.list. ds_load_list() in
 * src/modules/dispatcher/dispatch.c splits a line on space, tab, CR and LF, ends the URI at `#`, and
 * has no quoting at all, so the only safe writing is a field that needs none: printable ASCII
 * without whitespace or `#`.
 */
export function dispatcherListField(s: string): string {
  const lang = 'a dispatcher.list field';
  wellFormed(lang, s);
  if (s.length === 0) throw new UnsafeValueError(lang, s, 'it is empty');
  if (!/^[\x21-\x7e]+$/.test(s))
    throw new UnsafeValueError(lang, s, 'the file has no quoting, so a field cannot hold whitespace, control or non-ASCII characters');
  if (s.includes('#')) throw new UnsafeValueError(lang, s, "ds_load_list() ends a field at '#'");
  return s;
}

/** A dispatcher.list (or SQL) comment's text on one line: control characters become spaces. */
export function commentText(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this replaces
  return s.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, ' ').replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * A PostgreSQL string literal. With standard_conforming_strings on (the default since 9.1) a
 * backslash is an ordinary character in '…'; E'' is not used. Quotes double. NUL cannot be stored in
 * a PostgreSQL text value at all.
 */
export function sqlLiteral(s: string): string {
  wellFormed('a PostgreSQL string literal', s);
  return `'${s.replace(/'/g, "''")}'`;
}

/** A PostgreSQL quoted identifier ("…", quotes doubled). */
export function sqlIdentifier(s: string): string {
  const lang = 'a PostgreSQL identifier';
  wellFormed(lang, s);
  if (s.length === 0 || s.length > 63) throw new UnsafeValueError(lang, s, 'identifiers are 1-63 characters');
  return `"${s.replace(/"/g, '""')}"`;
}

/**
 * A systemd unit setting value (e.g. Description=). systemd expands `%` specifiers in most settings
 * (systemd.unit(5), "Specifiers"), so `%` doubles; a line break would start a new setting and a
 * trailing backslash continues the line, so control characters are refused and a trailing `\` is
 * refused too.
 */
export function systemdValue(s: string): string {
  const lang = 'a systemd unit setting';
  wellFormed(lang, s);
  // eslint-disable-next-line no-control-regex -- finding control characters is the point of this check
  if (/[\x00-\x1f\x7f]/.test(s)) throw new UnsafeValueError(lang, s, 'a line break or control character would end the setting');
  if (s.endsWith('\\')) throw new UnsafeValueError(lang, s, 'a trailing backslash continues the line');
  return s.replace(/%/g, '%%');
}

/**
 * A value in an EnvironmentFile= (systemd.exec(5)): double-quoted, with `\`, `"`, `$` and backtick
 * escaped by a backslash, as the file is also read by POSIX shells (`. file`). Line breaks refused.
 */
export function envValue(s: string): string {
  const lang = 'an environment file value';
  wellFormed(lang, s);
  // eslint-disable-next-line no-control-regex -- finding control characters is the point of this check
  if (/[\x00-\x1f\x7f]/.test(s)) throw new UnsafeValueError(lang, s, 'a line break or control character would end the assignment');
  return `"${s.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** An IP address written unquoted into a generated file (`what`): hex digits, dots and colons only. */
export function checkAddress(ip: string, what: string): void {
  if (!/^[0-9a-fA-F.:]+$/.test(ip)) throw new Error(`refusing to write ${JSON.stringify(ip)} as an address into ${what}`);
}
