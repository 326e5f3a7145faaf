// The SERMI login record's statement moved to sermi-access-log.repository.ts; this re-export keeps the login paths
// (src/auth) compiling until they import it from there.
export { sermiLoginInsert } from './sermi-access-log.repository.js';
