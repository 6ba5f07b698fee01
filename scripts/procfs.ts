import { readdirSync, readFileSync } from 'node:fs';

/**
 * What /proc says of the machine's processes, for the tools that look after processes they did not
 * start themselves (the bench's CPU meter, the fault runs' own RabbitMQ node, their tests). Linux
 * only: elsewhere there are no processes to list and none is found.
 */

/** Every process id on the machine. */
export function processIds(): number[] {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
}

/** The fields of /proc/<pid>/stat after the command, so [0] is field 3 (the state); undefined once it is gone. */
export function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command, in parentheses, may itself hold ") ".
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The command line, argument by argument; undefined once it is gone, not ours to read, or a zombie (which has none). */
export function commandLine(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.length > 0 ? raw.split('\0') : undefined;
  } catch {
    return undefined;
  }
}

/** The process still runs (a zombie does not). */
export function running(pid: number): boolean {
  return commandLine(pid) !== undefined;
}
