// The address checks of primitives.ts as JSON Schema `format` + `pattern`, so that an editor using
// images/schema.json refuses what `sipbake validate` refuses (editors enforce `pattern`; most ignore `format`
// for addresses). `title` names the shape in the README's field reference (src/definition/field-docs.ts). test/definition/schema-formats.test.ts holds each pattern against its zod check.

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** Node's isIPv4: four decimal octets, no leading zeros. */
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** isDnsName: RFC 1123 labels, an optional final dot, a last label that is not all digits. */
const DNS = `(?:${LABEL}\\.)*(?!\\d+\\.?(?:$|:))${LABEL}\\.?`;
/** 1-65535 in at most five digits (leading zeros included, as Number() reads them). */
const PORT = '(?=\\d{1,5}$)0*(?:[1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';

export const IPV4_JSON = { title: 'IPv4 address', format: 'ipv4', pattern: `^${IPV4}$` } as const;
export const CIDR_JSON = { title: 'IPv4 CIDR', pattern: `^${IPV4}/(?:[0-2]?\\d|3[0-2])$` } as const;
export const HOST_JSON = { title: 'IPv4 address or DNS name', pattern: `^(?:${IPV4}|(?=.{1,253}$)${DNS})$` } as const;
export const SOCKET_JSON = { title: 'proto:address:port', pattern: `^(?:udp|tcp|tls|sctp):(?:${IPV4}|(?=[^:]{1,253}:)${DNS}):${PORT}$` } as const;
