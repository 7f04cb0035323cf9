// `newsletter send` (and `resume`) runs for minutes and makes a message's worth of short-lived buffers
// for every recipient. On Node 22 and later V8 lets the young generation grow to 64 MB semi-spaces and
// leaves old-space garbage (dead buffers among it) uncollected while the heap is far from its limit,
// which it sizes from the machine's memory: a 10,000-reader send peaked at 350 MB of RSS on Node 24
// where less than 50 MB of it is live. With Node 20's semi-spaces (16 MB) and an old-space limit (1 GB,
// room for a list of a million; V8's own where that is lower), V8 collects as it goes: 175 MB, for 1%
// more time in the collector (bench/FINDINGS.md). V8 takes its heap sizes only at start-up, so on a
// Node that has process.execve the command replaces itself with the same arguments and the flags the
// user has not given (in NODE_OPTIONS or to node): same pid, same terminal, so Ctrl-C, a SIGTERM or a
// SIGKILL still reach the sender. Without execve (Node 20, whose defaults are already these
// semi-spaces) it runs as started.
import { accessSync, constants } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

const SEMI_SPACE_MB = 16;
const OLD_SPACE_MB = 1024;

/** Set in the relaunched process, so it never relaunches again. */
const RELAUNCHED = 'CONVENE_SEND_HEAP';

const SEMI_FLAG = /^--max[-_]semi[-_]space[-_]size\b/;
const OLD_FLAG = /^--max[-_]old[-_]space[-_]size\b/;

interface ProcessLike {
  argv: readonly string[];
  execArgv: readonly string[];
  env: Record<string, string | undefined>;
}

/**
 * The arguments (after node's path) to start a long send again with, or null to run as started.
 * `heapLimitMb`: V8's limit as started (the old-space limit never goes above it).
 */
export function relaunchArgs(current: ProcessLike, heapLimitMb: number = Infinity): string[] | null {
  if (current.env[RELAUNCHED]) return null;
  // The CLI's only global option (--json) takes no value, so the first two words are the command.
  const words = current.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  if (words[0] !== 'newsletter' || (words[1] !== 'send' && words[1] !== 'resume')) return null;
  const given = [...current.execArgv, ...(current.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const flags = [
    ...(given.some((flag) => SEMI_FLAG.test(flag)) ? [] : [`--max-semi-space-size=${SEMI_SPACE_MB}`]),
    ...(given.some((flag) => OLD_FLAG.test(flag)) ? [] : [`--max-old-space-size=${Math.min(OLD_SPACE_MB, Math.floor(heapLimitMb))}`]),
  ];
  if (flags.length === 0) return null;
  return [...flags, ...current.execArgv, ...current.argv.slice(1)];
}

type Execve = (file: string, args: string[], env: Record<string, string | undefined>) => never;

/**
 * Replaces `current` (the running process) with a long send on the heap it runs best with; returns
 * only when it stays as it is.
 */
export function relaunchForSending(current: ProcessLike & { execPath: string; execve?: Execve }): void {
  if (typeof current.execve !== 'function') return;
  const args = relaunchArgs(current, getHeapStatistics().heap_size_limit / 2 ** 20);
  if (!args) return;
  // Node aborts the process (SIGABRT) when execve(2) itself fails, so the binary is checked first.
  try {
    accessSync(current.execPath, constants.X_OK);
  } catch {
    return;
  }
  // A channel to a parent (node started with IPC) does not survive the exec: the new image must not look for it.
  const { NODE_CHANNEL_FD: _channel, NODE_CHANNEL_SERIALIZATION_MODE: _mode, ...env } = current.env;
  try {
    current.execve(current.execPath, [current.execPath, ...args], { ...env, [RELAUNCHED]: '1' });
  } catch {
    // Refused before the exec (Node's permission model): this process carries on unchanged.
  }
}
