// oidc-provider announces on import that it prefers Node 22; on the Node 20 these machines run it works fine
// (../shared/stack-notes.md). Drop that one line so test output shows what matters.
const warn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING: Unsupported runtime')) return;
  warn(...args);
};
