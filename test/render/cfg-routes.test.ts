// The route reader the render tests use (cfg-routes.ts): strings, comments and braceless branches must not
// shift what a step runs under. Negative control: untilEnd() without its string skip reads the ';' inside
// "d;e {f" as the statement's end and fails the first case.
import { describe, expect, it } from 'vitest';
import { cfgBlocks, cfgSteps } from './cfg-routes.js';

const CFG = `
#!define X "y"
modparam("tm", "fr_timer", 30000) # a { in a comment
request_route {
	xlog("L_INFO", "a;b {c}\\n"); # not a statement end; nor } this
	$var(s) = "d;e {f";
	if (is_method("BYE")) route(A);
	else if ($var(x) == 'q;}') {
		/* a } in a comment */ t_relay();
	} else {
		$var(y) = $(ru{uri.user});
	}
	exit;
}
failure_route[F] { if (t_is_canceled()) exit; }
`;

describe('cfgBlocks / cfgSteps', () => {
  it('reads blocks, branches and the conditions each step runs under', () => {
    const b = cfgBlocks(CFG);
    expect([...b.keys()]).toEqual(['request_route', 'failure_route[F]']);
    expect(cfgSteps(b.get('request_route')!)).toEqual([
      { kind: 'stmt', text: 'xlog("L_INFO", "a;b {c}\\n")', conds: [] },
      { kind: 'stmt', text: '$var(s) = "d;e {f"', conds: [] },
      { kind: 'cond', text: 'is_method("BYE")', conds: [] },
      { kind: 'stmt', text: 'route(A)', conds: ['is_method("BYE")'] },
      { kind: 'cond', text: "$var(x) == 'q;}'", conds: ['!(is_method("BYE"))'] },
      { kind: 'stmt', text: 't_relay()', conds: ['!(is_method("BYE"))', "$var(x) == 'q;}'"] },
      { kind: 'stmt', text: '$var(y) = $(ru{uri.user})', conds: ['!(is_method("BYE"))', "!($var(x) == 'q;}')"] },
      { kind: 'stmt', text: 'exit', conds: [] },
    ]);
    expect(cfgSteps(b.get('failure_route[F]')!)).toEqual([
      { kind: 'cond', text: 't_is_canceled()', conds: [] },
      { kind: 'stmt', text: 'exit', conds: ['t_is_canceled()'] },
    ]);
  });

  it('refuses a block that is not closed', () => {
    expect(() => cfgBlocks('route[A] {\n\texit;\n')).toThrow(/not closed/);
  });
});
