// oidc-provider announces on import that it prefers Node 22; on the Node 20 these machines run it works fine
// (docs/testing.md#how-the-suite-stays-fast-and-independent). Under jest it also cannot install its SSRF guard for the
// client JWKS it fetches (the itsme sandbox reads the backend's /auth/itsme/jwks.json on loopback, which that guard
// would refuse anyway). Drop those lines so test output shows what matters.
const QUIET = ['oidc-provider WARNING: Unsupported runtime', 'oidc-provider WARNING: failed to setup SSRF protection'];
const warn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && QUIET.some((prefix) => args[0].startsWith(prefix))) return;
  warn(...args);
};
