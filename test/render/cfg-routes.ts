// A small reader of a rendered kamailio.cfg's route blocks, for tests that check what a route does rather than
// whether some text occurs somewhere: each block (`request_route`, `route[NAME]`, `failure_route[NAME]`, ...)
// as a tree of statements and if/else branches, and flattened into steps that carry the conditions they run under.
// It knows Kamailio's syntax only as far as the templates use it: `#` and C comments, "..." and '...' strings,
// `if (...) ... else ...` with or without braces, other `head { ... }` blocks, statements ending in `;`.

export type CfgNode =
  { kind: 'stmt'; text: string } | { kind: 'if'; cond: string; then: CfgNode[]; else: CfgNode[] } | { kind: 'block'; head: string; body: CfgNode[] };

/** One statement or condition in program order, with the conditions it runs under (an else branch: `!(cond)`). */
export interface CfgStep {
  kind: 'stmt' | 'cond';
  text: string;
  conds: string[];
}

const BLOCK_START = /^(request_route|reply_route|(?:failure_|onreply_|branch_|event_|onsend_)?route)\s*(\[[^\]\n]*\])?\s*\{/;

class Scanner {
  pos = 0;
  constructor(readonly src: string) {}

  get done(): boolean {
    return this.pos >= this.src.length;
  }

  peek(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  /** The keyword `word` here, not the start of a longer name. */
  keyword(word: string): boolean {
    return this.peek(word) && !/[\w$]/.test(this.src[this.pos + word.length] ?? '');
  }

  skipSpace(): void {
    for (;;) {
      const rest = this.src.slice(this.pos);
      const m = /^(\s+|#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\/)/.exec(rest);
      if (!m) return;
      this.pos += m[0].length;
    }
  }

  /** Past the string that starts here (its quote at pos). */
  skipString(): void {
    const q = this.src[this.pos];
    this.pos++;
    while (!this.done && this.src[this.pos] !== q) this.pos += this.src[this.pos] === '\\' ? 2 : 1;
    this.pos++;
  }

  /** The text between `open` here and its matching `close`, strings and nesting respected; pos after `close`. */
  balanced(open: string, close: string): string {
    if (!this.peek(open)) throw new Error(`cfg: expected '${open}' at ${this.where()}`);
    const start = ++this.pos;
    for (let depth = 1; ;) {
      if (this.done) throw new Error(`cfg: unbalanced '${open}' from ${start}`);
      const c = this.src[this.pos]!;
      if (c === '"' || c === "'") {
        this.skipString();
        continue;
      }
      if (c === open) depth++;
      if (c === close && --depth === 0) return this.src.slice(start, this.pos++);
      this.pos++;
    }
  }

  /** Up to (not past) the first `;` or `{` outside parentheses and strings. */
  untilEnd(): string {
    const start = this.pos;
    for (let depth = 0; !this.done;) {
      const c = this.src[this.pos]!;
      if (c === '"' || c === "'") {
        this.skipString();
        continue;
      }
      if (c === '#' || this.peek('/*')) {
        this.skipSpace();
        continue;
      }
      if (c === '(') depth++;
      if (c === ')') depth--;
      if (depth === 0 && (c === ';' || c === '{')) break;
      this.pos++;
    }
    return this.src.slice(start, this.pos);
  }

  where(): string {
    return `${this.pos}: ${JSON.stringify(this.src.slice(this.pos, this.pos + 40))}`;
  }
}

const tidy = (s: string): string => s.replace(/\s+/g, ' ').trim();

function parseIf(s: Scanner): CfgNode {
  s.pos += 2;
  s.skipSpace();
  const cond = tidy(s.balanced('(', ')'));
  const then = parseBranch(s);
  s.skipSpace();
  if (!s.keyword('else')) return { kind: 'if', cond, then, else: [] };
  s.pos += 4;
  s.skipSpace();
  return { kind: 'if', cond, then, else: s.keyword('if') ? [parseIf(s)] : parseBranch(s) };
}

/** A braced block or a single statement. */
function parseBranch(s: Scanner): CfgNode[] {
  s.skipSpace();
  if (!s.peek('{')) return [parseStatement(s)];
  s.pos++;
  const body = parseStatements(s);
  s.pos++;
  return body;
}

function parseStatement(s: Scanner): CfgNode {
  if (s.keyword('if')) return parseIf(s);
  const text = tidy(s.untilEnd());
  if (s.peek(';')) {
    s.pos++;
    return { kind: 'stmt', text };
  }
  if (!s.peek('{')) throw new Error(`cfg: statement without ';' at ${s.where()}`);
  s.pos++;
  const body = parseStatements(s);
  s.pos++;
  return { kind: 'block', head: text, body };
}

/** Statements up to (not past) the `}` that closes their block. */
function parseStatements(s: Scanner): CfgNode[] {
  const out: CfgNode[] = [];
  for (;;) {
    s.skipSpace();
    if (s.done) throw new Error('cfg: a block is not closed');
    if (s.peek('}')) return out;
    if (s.peek(';')) s.pos++;
    else out.push(parseStatement(s));
  }
}

/** Every route block of a config, by its name as written: 'request_route', 'route[RELAY]', 'failure_route[X]'. */
export function cfgBlocks(cfg: string): Map<string, CfgNode[]> {
  const s = new Scanner(cfg);
  const out = new Map<string, CfgNode[]>();
  for (s.skipSpace(); !s.done; s.skipSpace()) {
    const m = BLOCK_START.exec(cfg.slice(s.pos));
    if (!m) {
      // Anything else at the top level (loadmodule, modparam, settings) is one line.
      const nl = cfg.indexOf('\n', s.pos);
      s.pos = nl < 0 ? cfg.length : nl + 1;
      continue;
    }
    const name = `${m[1]!}${(m[2] ?? '').replace(/\s+/g, '')}`;
    if (out.has(name)) throw new Error(`cfg: ${name} is defined twice`);
    s.pos += m[0].length;
    out.set(name, parseStatements(s));
    s.pos++;
  }
  return out;
}

/** The nodes flattened in program order; each step carries the conditions (outermost first) it runs under. */
export function cfgSteps(nodes: CfgNode[], conds: string[] = []): CfgStep[] {
  return nodes.flatMap((n): CfgStep[] => {
    if (n.kind === 'stmt') return [{ kind: 'stmt', text: n.text, conds }];
    if (n.kind === 'block') return [{ kind: 'cond', text: n.head, conds }, ...cfgSteps(n.body, [...conds, n.head])];
    return [{ kind: 'cond', text: n.cond, conds }, ...cfgSteps(n.then, [...conds, n.cond]), ...cfgSteps(n.else, [...conds, `!(${n.cond})`])];
  });
}
