// The system programs some tests use as independent peers (Debian's packages, not npm's), found in one place.
//
// A test that needs a peer runs when the peer is here. When it is missing, the test is skipped with a
// message naming the peer and the command that installs it, so `npm test` passes on a machine with
// only Node, npm and a C++ toolchain. CI installs every peer and sets CONVENE_REQUIRE_PEERS=1, which
// turns such a skip into a failing test: there, a missing peer means a broken CI machine.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Test } from 'tap';

export type PeerName = 'python3-icalendar' | 'libical' | 'chromium';

/** Every peer at once, for the README and for messages. */
export const INSTALL_ALL_PEERS = 'sudo apt-get install python3-icalendar libical-dev pkg-config chromium';

export const requirePeers = process.env.CONVENE_REQUIRE_PEERS === '1';

/** Debian's Chromium, or the browser CHROMIUM_PATH names. */
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Debian's python packages are seen by the system python, not by a python3 earlier on PATH (pyenv). */
export const systemPython = '/usr/bin/python3';

const succeeds = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

const isExecutable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** For each peer: what is missing (undefined when nothing is), and the command that installs it. */
const peers: Record<PeerName, () => { missing?: string; install: string }> = {
  'python3-icalendar': () => ({
    missing: succeeds(systemPython, ['-c', 'import icalendar']) ? undefined : `${systemPython} cannot import icalendar`,
    install: 'sudo apt-get install python3-icalendar',
  }),
  // The checker (test/peers/libical_check.c) is compiled on first use: it needs pkg-config, libical's headers and cc.
  libical: () => {
    if (!succeeds('cc', ['--version']))
      return { missing: 'no C compiler (cc)', install: 'sudo apt-get install gcc libc6-dev libical-dev pkg-config' };
    if (!succeeds('pkg-config', ['--version'])) return { missing: 'no pkg-config', install: 'sudo apt-get install libical-dev pkg-config' };
    if (!succeeds('pkg-config', ['--exists', 'libical']))
      return { missing: 'pkg-config finds no libical', install: 'sudo apt-get install libical-dev' };
    return { install: '' };
  },
  chromium: () => ({
    missing: isExecutable(chromiumPath)
      ? undefined
      : process.env.CHROMIUM_PATH
        ? `CHROMIUM_PATH=${chromiumPath} is not a program`
        : `no ${chromiumPath}`,
    install: 'sudo apt-get install chromium',
  }),
};

const found = new Map<PeerName, string | undefined>();

/** Why a peer cannot be used, with the command that installs it; undefined when it can. Looked up once per process. */
export function missingPeer(name: PeerName): string | undefined {
  if (!found.has(name)) {
    const { missing, install } = peers[name]();
    found.set(name, missing && `${name} not found (${missing}): ${install}`);
  }
  return found.get(name);
}

/**
 * Runs `fn` as the subtest `name` of `t` when every peer it needs is here. Otherwise the subtest is
 * skipped with the reason and the install command, or fails when CONVENE_REQUIRE_PEERS=1.
 */
export function peerTest(
  t: Test,
  needs: PeerName[],
  name: string,
  fn: (t: Test) => void | Promise<void>,
  options: { timeout?: number } = {},
) {
  const missing = needs.map(missingPeer).filter((reason) => reason !== undefined);
  // As an async function, so that the subtest ends when fn returns, as a top-level test would.
  if (missing.length === 0) return t.test(name, options, async (t) => fn(t));
  const reason = missing.join('; ');
  if (requirePeers) {
    return t.test(name, options, (t) => {
      t.fail(`${reason} (CONVENE_REQUIRE_PEERS=1 makes a missing peer a failure)`);
      t.end();
    });
  }
  return t.test(name, { ...options, skip: reason }, async (t) => fn(t));
}
