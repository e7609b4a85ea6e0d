// Exit codes every command shares (docs/commands.md, "Operator conventions"). One handler maps errors to them
// (src/cli/main.ts); plans return PLAN_HAS_CHANGES themselves under --detailed-exitcode.
export const EXIT = {
  ok: 0,
  /** Something to fix: the message says what, where and how. */
  userError: 1,
  /** A wrong command line, or a confirmation that cannot be asked (add --yes). */
  usage: 2,
  /** --detailed-exitcode: the plan would change something (0 when it would not). */
  planHasChanges: 3,
  internal: 70,
  interrupted: 130,
} as const;
