// One line per event on stderr (journald adds the timestamp on the instance). Never given secret values.
export type Log = (line: string) => void;

export function stderrLog(prefix: string): Log {
  return (line) => {
    process.stderr.write(`${prefix}: ${line}\n`);
  };
}

export const silentLog: Log = () => {};
