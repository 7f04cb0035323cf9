// The one place that reads environment variables: every setting, its default and its check.
import { resolve, join } from 'node:path';
import { DKIM_SELECTOR } from './lib/dkim.js';
import type { LogLevel } from './lib/logging.js';
import { isLocalHost, parseMailbox } from './lib/text.js';

export type { LogLevel };

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databasePath: string;
  mailDir: string;
  publicBaseUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: LogLevel;
  /** Explicit secret; when undefined the server keeps a generated one in the data folder. */
  secretKey: string | undefined;
  /** false, a number of proxy hops, or the proxies' addresses/CIDR ranges. */
  trustProxy: false | number | string[];
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  shutdownGraceMs: number;
  publicRateLimitPerMinute: number;
  /** Newsletter sign-ups per minute per client address (forms people fill in). */
  formRateLimitPerMinute: number;
  /** Sign-in links, code exchanges and the sign-in page per minute per client address (a whole office signs in at once). */
  signInRateLimitPerMinute: number;
  /** Failures per minute with one unknown token from one client (ten times as many across tokens). */
  authFailureLimitPerMinute: number;
  /** Unset: /metrics answers only loopback clients. */
  metricsToken: string | undefined;
  /** What the mail provider allows in 24 hours (newsletter send warns above it); undefined: no limit set. */
  mailDailyLimit: number | undefined;
  /** The instance's own DKIM key (for mail from MAIL_FROM's domain): its selector and PEM file, or undefined. */
  dkim: { selector: string; keyFile: string } | undefined;
  /** The domain of every message's return path (bounce+<id>@) and mailto unsubscribe address; undefined: MAIL_FROM is the envelope sender. */
  returnPathDomain: string | undefined;
  /** The SMTP listener for mail to the return-path domain (bounces, complaints, unsubscribe replies), or undefined: off. */
  inboundSmtp: { host: string; port: number } | undefined;
  /** Soft bounces (within 30 days) after which an address is suppressed. */
  softBounceLimit: number;
  /** Mailgun's webhook signing key: POST /webhooks/mailgun takes its bounce and complaint events; undefined: off. */
  mailgunSigningKey: string | undefined;
  /** Writes per minute per authenticated principal (API key or member token). */
  writeRateLimitPerMinute: number;
  mailWorker: boolean;
  /** The mail worker and scheduled sends on a thread of their own (the server only), so their rendering and signing never hold up a request. */
  mailThread: boolean;
  /** Run the timed jobs (offer expiry) in this process. */
  jobs: boolean;
  jobIntervalMs: number;
  mailMaxAttempts: number;
  mailConcurrency: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    // One line, whatever the bad value holds.
    super(`Invalid configuration: ${variable} ${problem.replace(/\r/g, '\\r').replace(/\n/g, '\\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

interface Setting<T> {
  description: string;
  example: string;
  parse: (raw: string | undefined, name: string, env: Env) => T;
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function text(fallback: string | undefined) {
  return (raw: string | undefined) => (raw === undefined || raw.trim() === '' ? fallback : raw.trim());
}

/** An optional secret: unset, or at least `minLength` characters. */
function secret(minLength: number) {
  return (raw: string | undefined, name: string) => {
    const value = text(undefined)(raw);
    if (value !== undefined && value.length < minLength) throw new ConfigError(name, `must be at least ${minLength} characters long`);
    return value;
  };
}

function integer(fallback: number, min: number, max: number) {
  return (raw: string | undefined, name: string): number => {
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
    }
    return value;
  };
}

function flag(fallback: boolean) {
  return (raw: string | undefined, name: string): boolean => {
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    throw new ConfigError(name, `must be true or false (got "${raw}")`);
  };
}

function url(fallback: string | undefined, protocols: string[]) {
  return (raw: string | undefined, name: string): string | undefined => {
    const value = text(fallback)(raw);
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(name, `must be an absolute URL (got "${value}")`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(name, `must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
    }
    return value;
  };
}

/** Every variable Convene reads. `.env.example` documents exactly these (a test checks). */
export const settings = {
  HOST: { description: 'Address the HTTP server listens on', example: '127.0.0.1', parse: text('127.0.0.1') },
  PORT: { description: 'TCP port of the HTTP server', example: '3000', parse: integer(3000, 0, 65535) },
  DATA_DIR: {
    description: 'Folder for the database, the generated secret and (without SMTP_URL) outgoing mail',
    example: './data',
    parse: (raw: string | undefined) => resolve(text('./data')(raw) ?? './data'),
  },
  DATABASE_PATH: {
    description: 'SQLite database file (":memory:" for a throwaway database)',
    example: './data/convene.db',
    parse: (raw: string | undefined, _name: string, env: Env) => {
      const value = text(undefined)(raw);
      if (value === ':memory:') return value;
      return value ? resolve(value) : join(resolve(text('./data')(env.DATA_DIR) ?? './data'), 'convene.db');
    },
  },
  PUBLIC_BASE_URL: {
    description: 'The address people and calendar apps reach this service at (used in emails and feeds)',
    example: 'http://localhost:3000',
    parse: (raw: string | undefined, name: string, env: Env) => {
      const port = integer(3000, 0, 65535)(env.PORT, 'PORT');
      const value = url(`http://localhost:${port}`, ['http:', 'https:'])(raw, name) as string;
      return value.replace(/\/+$/, '');
    },
  },
  SMTP_URL: {
    description: 'SMTP server, e.g. smtps://user:pass@mail.example.org:465; unset writes every message as an .eml file under DATA_DIR/mail',
    example: '',
    parse: url(undefined, ['smtp:', 'smtps:']),
  },
  MAIL_FROM: {
    description: 'From address of every email',
    example: 'Convene <convene@localhost>',
    parse: (raw: string | undefined, name: string) => {
      const value = text('Convene <convene@localhost>')(raw) as string;
      if (!parseMailbox(value, { allowLocalhost: true })) {
        throw new ConfigError(name, `must be one email address, optionally as "Name <address>" (got "${value}")`);
      }
      return value;
    },
  },
  LOG_LEVEL: {
    description: `Log level: ${LOG_LEVELS.join(', ')}`,
    example: 'info',
    parse: (raw: string | undefined, name: string): LogLevel => {
      const value = (text('info')(raw) as string).toLowerCase();
      if (!LOG_LEVELS.includes(value as LogLevel)) {
        throw new ConfigError(name, `must be one of ${LOG_LEVELS.join(', ')} (got "${raw}")`);
      }
      return value as LogLevel;
    },
  },
  SECRET_KEY: {
    description: 'Secret for signed links (at least 32 characters); unset generates one in DATA_DIR/secret.key on first start',
    example: '',
    parse: secret(32),
  },
  TRUST_PROXY: {
    description:
      "Behind a reverse proxy: how many proxy hops to trust (e.g. 1), or the proxies' addresses (e.g. 127.0.0.1,10.0.0.0/8); false " +
      'trusts no X-Forwarded-* header',
    example: 'false',
    parse: (raw: string | undefined, name: string): false | number | string[] => {
      const value = text('false')(raw) as string;
      if (['false', '0', 'no', 'off'].includes(value.toLowerCase())) return false;
      if (/^\d+$/.test(value)) return Number(value);
      const addresses = value.split(',').map((part) => part.trim());
      // "true" would trust the left-most X-Forwarded-For, which any client can write.
      if (addresses.every((address) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(address) && /[.:]/.test(address))) return addresses;
      throw new ConfigError(name, `must be false, a number of proxy hops, or proxy addresses such as 127.0.0.1,10.0.0.0/8 (got "${raw}")`);
    },
  },
  BODY_LIMIT_BYTES: { description: 'Largest request body accepted', example: '1048576', parse: integer(1_048_576, 1024, 104_857_600) },
  REQUEST_TIMEOUT_MS: { description: 'Time allowed to receive a whole request', example: '30000', parse: integer(30_000, 1000, 600_000) },
  SHUTDOWN_GRACE_MS: { description: 'Time allowed for in-flight work on shutdown', example: '10000', parse: integer(10_000, 100, 120_000) },
  PUBLIC_RATE_LIMIT_PER_MINUTE: {
    description: 'Requests per minute per client address on public endpoints',
    example: '120',
    parse: integer(120, 1, 1_000_000),
  },
  FORM_RATE_LIMIT_PER_MINUTE: {
    description: 'Newsletter sign-ups per minute per client address',
    example: '10',
    parse: integer(10, 1, 1_000_000),
  },
  SIGN_IN_RATE_LIMIT_PER_MINUTE: {
    description: 'Member sign-in requests (email links, code exchanges, the sign-in page) per minute per client address',
    example: '120',
    parse: integer(120, 1, 1_000_000),
  },
  AUTH_FAILURE_LIMIT_PER_MINUTE: {
    description:
      'Failed authentications per minute with one unknown token from one client address before 429 (ten times as many across ' +
      'tokens); a valid token is never refused',
    example: '20',
    parse: integer(20, 1, 1_000_000),
  },
  METRICS_TOKEN: {
    description:
      'Bearer token Prometheus must send to read /metrics (at least 16 characters); unset, /metrics answers only clients on this ' +
      'machine (the client address, after TRUST_PROXY)',
    example: '',
    parse: secret(16),
  },
  MAIL_DAILY_LIMIT: {
    description: "The mail provider's limit of messages in 24 hours; newsletter send warns and asks before going over it (unset: no limit)",
    example: '',
    parse: (raw: string | undefined, name: string): number | undefined => {
      const value = text(undefined)(raw);
      if (value === undefined) return undefined;
      if (!/^\d+$/.test(value) || Number(value) < 1) throw new ConfigError(name, `must be a whole number of messages (got "${raw}")`);
      return Number(value);
    },
  },
  DKIM_SELECTOR: {
    description: "The instance's DKIM selector, with DKIM_KEY_FILE: mail from MAIL_FROM's domain is signed (clusters have their own)",
    example: '',
    parse: (raw: string | undefined, name: string): string | undefined => {
      const value = text(undefined)(raw);
      if (value !== undefined && !DKIM_SELECTOR.test(value)) throw new ConfigError(name, 'must be DNS labels: letters, digits, hyphens');
      return value;
    },
  },
  DKIM_KEY_FILE: {
    description: "The instance's DKIM private key (PEM), made by `convene cluster dkim --instance`; set with DKIM_SELECTOR",
    example: '',
    parse: (raw: string | undefined): string | undefined => text(undefined)(raw),
  },
  RETURN_PATH_DOMAIN: {
    description:
      'Domain whose mail comes back to Convene (its MX points at the inbound listener or a mailbox piped to `convene mail ingest`): ' +
      'each message leaves with the return path bounce+<message id>@ it, and newsletters offer a mailto unsubscribe there',
    example: '',
    parse: (raw: string | undefined, name: string): string | undefined => {
      const value = text(undefined)(raw)?.toLowerCase();
      if (value !== undefined && !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(value))
        throw new ConfigError(name, `must be a domain name such as bounces.example.org (got "${raw}")`);
      return value;
    },
  },
  INBOUND_SMTP_PORT: {
    description: 'Port of the SMTP listener that takes bounces, complaints and unsubscribe replies for RETURN_PATH_DOMAIN; unset: off',
    example: '',
    parse: (raw: string | undefined, name: string): number | undefined =>
      text(undefined)(raw) === undefined ? undefined : integer(0, 0, 65535)(raw, name),
  },
  INBOUND_SMTP_HOST: { description: 'Address the inbound SMTP listener listens on', example: '127.0.0.1', parse: text('127.0.0.1') },
  SOFT_BOUNCE_LIMIT: {
    description: 'Soft bounces of one address within 30 days after which it is suppressed (hard bounces and complaints suppress at once)',
    example: '3',
    parse: integer(3, 1, 100),
  },
  MAILGUN_WEBHOOK_SIGNING_KEY: {
    description: "Mailgun's HTTP webhook signing key: POST /webhooks/mailgun then takes its failed and complained events; unset: off",
    example: '',
    parse: secret(16),
  },
  WRITE_RATE_LIMIT_PER_MINUTE: {
    description: 'Writes (POST, PATCH, PUT, DELETE) per minute per API key or member token',
    example: '600',
    parse: integer(600, 1, 1_000_000),
  },
  MAIL_WORKER: { description: 'Run the outbox mail worker inside the server', example: 'true', parse: flag(true) },
  MAIL_THREAD: {
    description:
      "Run the server's mail worker and scheduled newsletters on a thread of their own (with its own database connection), so rendering and DKIM signing never hold up a request",
    example: 'true',
    parse: flag(true),
  },
  MAIL_MAX_ATTEMPTS: { description: 'Attempts before a temporarily failing email is given up', example: '8', parse: integer(8, 1, 50) },
  MAIL_CONCURRENCY: { description: 'Emails sent at once by the worker', example: '4', parse: integer(4, 1, 64) },
  TIMED_JOBS: {
    description: 'Run the timed jobs inside the server (waitlist offers expiring, reminders, lapsed sign-ups)',
    example: 'true',
    parse: flag(true),
  },
  TIMED_JOB_INTERVAL_MS: {
    description: 'How often the timed jobs look for due work (the newsletter scheduler looks every second, or this often if shorter)',
    example: '30000',
    parse: integer(30_000, 10, 3_600_000),
  },
} satisfies Record<string, Setting<unknown>>;

/** Reads and checks every setting; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const get = <K extends keyof typeof settings>(name: K): ReturnType<(typeof settings)[K]['parse']> =>
    settings[name].parse(env[name], name, env) as ReturnType<(typeof settings)[K]['parse']>;
  const dataDir = get('DATA_DIR');
  const config: Config = {
    host: get('HOST') as string,
    port: get('PORT'),
    dataDir,
    databasePath: get('DATABASE_PATH'),
    mailDir: join(dataDir, 'mail'),
    publicBaseUrl: get('PUBLIC_BASE_URL'),
    smtpUrl: get('SMTP_URL'),
    mailFrom: get('MAIL_FROM'),
    logLevel: get('LOG_LEVEL'),
    secretKey: get('SECRET_KEY'),
    trustProxy: get('TRUST_PROXY'),
    bodyLimitBytes: get('BODY_LIMIT_BYTES'),
    requestTimeoutMs: get('REQUEST_TIMEOUT_MS'),
    shutdownGraceMs: get('SHUTDOWN_GRACE_MS'),
    publicRateLimitPerMinute: get('PUBLIC_RATE_LIMIT_PER_MINUTE'),
    formRateLimitPerMinute: get('FORM_RATE_LIMIT_PER_MINUTE'),
    signInRateLimitPerMinute: get('SIGN_IN_RATE_LIMIT_PER_MINUTE'),
    authFailureLimitPerMinute: get('AUTH_FAILURE_LIMIT_PER_MINUTE'),
    metricsToken: get('METRICS_TOKEN'),
    mailDailyLimit: get('MAIL_DAILY_LIMIT'),
    dkim: dkimSetting(get('DKIM_SELECTOR'), get('DKIM_KEY_FILE')),
    returnPathDomain: get('RETURN_PATH_DOMAIN'),
    inboundSmtp: inboundSetting(get('INBOUND_SMTP_HOST') as string, get('INBOUND_SMTP_PORT'), get('RETURN_PATH_DOMAIN')),
    softBounceLimit: get('SOFT_BOUNCE_LIMIT'),
    mailgunSigningKey: get('MAILGUN_WEBHOOK_SIGNING_KEY'),
    writeRateLimitPerMinute: get('WRITE_RATE_LIMIT_PER_MINUTE'),
    mailWorker: get('MAIL_WORKER'),
    mailThread: get('MAIL_THREAD'),
    mailMaxAttempts: get('MAIL_MAX_ATTEMPTS'),
    mailConcurrency: get('MAIL_CONCURRENCY'),
    jobs: get('TIMED_JOBS'),
    jobIntervalMs: get('TIMED_JOB_INTERVAL_MS'),
  };
  checkMailReachesPeople(config);
  return config;
}

/** Both DKIM settings or neither. */
function dkimSetting(selector: string | undefined, keyFile: string | undefined): Config['dkim'] {
  if (selector === undefined && keyFile === undefined) return undefined;
  if (selector === undefined) throw new ConfigError('DKIM_SELECTOR', 'must be set with DKIM_KEY_FILE');
  if (keyFile === undefined) throw new ConfigError('DKIM_KEY_FILE', 'must be set with DKIM_SELECTOR');
  return { selector, keyFile };
}

/** The listener takes mail for the return-path domain only, so it needs one. */
function inboundSetting(host: string, port: number | undefined, domain: string | undefined): Config['inboundSmtp'] {
  if (port === undefined) return undefined;
  if (domain === undefined)
    throw new ConfigError('INBOUND_SMTP_PORT', 'needs RETURN_PATH_DOMAIN: the listener takes mail for that domain only');
  return { host, port };
}

/**
 * With a real mail server, every email's links and calendar organiser must reach people: a
 * PUBLIC_BASE_URL or MAIL_FROM still on localhost (the defaults) would make every link dead. Mail to a
 * server on this machine (a test catcher, or a relay that delivers outwards) is not checked.
 */
function checkMailReachesPeople(config: Config): void {
  if (!config.smtpUrl || isLocalHost(new URL(config.smtpUrl).hostname)) return;
  const advice = 'while SMTP_URL sends real mail: every link and calendar entry in every email would be dead';
  if (isLocalHost(new URL(config.publicBaseUrl).hostname)) {
    throw new ConfigError('PUBLIC_BASE_URL', `is ${config.publicBaseUrl} ${advice}. Set it to the address people reach Convene at`);
  }
  const domain = /@([^>\s]+)>?\s*$/.exec(config.mailFrom)?.[1] ?? '';
  if (isLocalHost(domain)) {
    throw new ConfigError('MAIL_FROM', `is ${config.mailFrom} ${advice}, and replies go nowhere. Set it to an address on your own domain`);
  }
}
