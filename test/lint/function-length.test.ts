// No function over 80 lines in the step machines' directories (issue 24): a long function there hides a
// decision the pure machines should make visible. Counted with the TypeScript parser: every function
// declaration, method, arrow and function expression, from its first line to its last.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const MAX_LINES = 80;
const root = path.resolve(import.meta.dirname, '../..');
const CHECKED = ['src/roll', 'src/agent', 'src/rehearse'];

interface Long {
  where: string;
  line: number;
  lines: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

const isFunction = (n: ts.Node): n is ts.FunctionLikeDeclaration =>
  ts.isFunctionDeclaration(n) ||
  ts.isMethodDeclaration(n) ||
  ts.isArrowFunction(n) ||
  ts.isFunctionExpression(n) ||
  ts.isConstructorDeclaration(n) ||
  ts.isGetAccessor(n) ||
  ts.isSetAccessor(n);

/** Functions longer than `max` lines in one source text (pure). */
export function longFunctions(file: string, text: string, max = MAX_LINES): Long[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Long[] = [];
  const visit = (n: ts.Node): void => {
    if (isFunction(n) && n.body) {
      const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      const lines = last - first + 1;
      const name = n.name?.getText(sf) ?? '(anonymous)';
      if (lines > max) out.push({ where: `${file} ${name}`, line: first + 1, lines });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe(`no function over ${MAX_LINES} lines`, () => {
  it('finds a long function (the check itself works)', () => {
    const body = Array.from({ length: MAX_LINES }, (_, i) => `  const x${i} = ${i};`).join('\n');
    expect(longFunctions('x.ts', `function long() {\n${body}\n}\nconst ok = () => 1;\n`)).toEqual([{ where: 'x.ts long', line: 1, lines: MAX_LINES + 2 }]);
    expect(longFunctions('x.ts', `function short() {\n  return 1;\n}\n`)).toEqual([]);
  });

  const long = CHECKED.flatMap((dir) => sourceFiles(dir).flatMap((f) => longFunctions(f, readFileSync(path.join(root, f), 'utf8'))));

  it.each(CHECKED)('%s', (dir) => {
    expect(long.filter((l) => l.where.startsWith(`${dir}/`))).toEqual([]);
  });
});
