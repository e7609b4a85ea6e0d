// dispatcher.list as Kamailio reads it: a line-for-line port of ds_load_list() in
// kamailio/kamailio src/modules/dispatcher/dispatch.c (5.5/5.6): fgets() lines of at most 1023
// bytes; skip leading space/tab/CR/LF; '#' or end starts nothing; set id = leading digits; the URI
// runs to whitespace or '#'; then optional flags, priority (digits) and attrs (to whitespace).
// Used to tell whether a rendered list holds exactly the intended destinations; the live test
// checks the same thing against the real Kamailio.

export interface DsRow {
  setId: number;
  uri: string;
  flags: number;
  priority: number;
  attrs: string;
}

const WS = new Set([' ', '\t', '\r', '\n']);

/** fgets(line, 1024, f): lines of at most 1023 bytes, the rest of a longer line read as the next one. */
function fgetsLines(text: string): string[] {
  const out: string[] = [];
  const bytes = Buffer.from(text, 'utf8');
  let i = 0;
  while (i < bytes.length) {
    let j = i;
    while (j < bytes.length && j - i < 1023 && bytes[j] !== 0x0a) j++;
    if (j < bytes.length && bytes[j] === 0x0a && j - i < 1023) j++;
    // C strings stop at NUL.
    const chunk = bytes.subarray(i, j).toString('latin1');
    out.push(chunk.split('\0')[0]!);
    i = j;
  }
  return out;
}

export function parseDispatcherList(text: string): DsRow[] {
  const rows: DsRow[] = [];
  for (const line of fgetsLines(text)) {
    let p = 0;
    const at = () => line[p] ?? '';
    const eatWs = () => {
      while (p < line.length && WS.has(at())) p++;
    };
    const digits = () => {
      let n = 0;
      while (at() >= '0' && at() <= '9' && at() !== '') n = n * 10 + Number(line[p++]);
      return n;
    };
    eatWs();
    if (at() === '' || at() === '#') continue;
    const setId = digits();
    eatWs();
    if (at() === '' || at() === '#') throw new Error(`bad line [${line}]`); // Kamailio: LM_ERR + load fails
    const u0 = p;
    while (p < line.length && !WS.has(at()) && at() !== '#') p++;
    const uri = line.slice(u0, p);
    eatWs();
    const row: DsRow = { setId, uri, flags: 0, priority: 0, attrs: '' };
    if (at() !== '' && at() !== '#') {
      row.flags = digits();
      eatWs();
      if (at() !== '' && at() !== '#') {
        row.priority = digits();
        eatWs();
        if (at() !== '' && at() !== '#') {
          const a0 = p;
          while (p < line.length && !WS.has(at())) p++;
          row.attrs = line.slice(a0, p);
        }
      }
    }
    rows.push(row);
  }
  return rows;
}
