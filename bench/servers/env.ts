// The environment the bench's app server and CLI runs share (links and tokens depend on SECRET_KEY).
export const BENCH_ENV = {
  LOG_LEVEL: 'silent',
  SECRET_KEY: 'bench-secret-that-is-at-least-32-characters',
  PUBLIC_BASE_URL: 'https://convene.bench',
  PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000',
  AUTH_FAILURE_LIMIT_PER_MINUTE: '1000000',
  FORM_RATE_LIMIT_PER_MINUTE: '1000000',
  SIGN_IN_RATE_LIMIT_PER_MINUTE: '1000000',
  WRITE_RATE_LIMIT_PER_MINUTE: '1000000',
  MAIL_WORKER: 'false',
  TIMED_JOBS: 'false',
};
