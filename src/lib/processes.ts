// Names the process that holds a lease (host and pid), so a later run can tell a crashed holder from a live one.
import { hostname } from 'node:os';

export const thisProcess = `${hostname()}:${process.pid}`;

/**
 * Whether the process named by `holder` has certainly stopped. Only a process of this host can be
 * checked; for any other, or an unnamed holder, the answer is no (its leases are left to run out).
 */
export function hasStopped(holder: string | null): boolean {
  if (holder === null) return false;
  const at = holder.lastIndexOf(':');
  const pid = Number(holder.slice(at + 1));
  if (holder.slice(0, at) !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0); // signal 0: checks the process exists, sends nothing
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
