const SECRET_KEY =
  /(pass(word)?|secret|token|cookie|authorization|api[-_]?key|private[-_]?key|code[-_]?verifier|nonce|^state$|^code$|assertion|credential)/i;
const MAX_DEPTH = 6;

/**
 * Deep copy with every value under a secret-looking key replaced. Applied to every log record, so a secret
 * logged by mistake (a token in an error's details, a cookie header) never reaches the log sink.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (value instanceof Error) return serializeError(value, depth);
  if (value instanceof Date) return value;
  // Bytes say nothing readable and may be anything (a provider's answer, a key): their length only.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const result: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    result[key] =
      SECRET_KEY.test(key) && entry !== undefined && entry !== null ? '[redacted]' : redactSecrets(entry, depth + 1);
  }
  return result;
}

/**
 * Name, message, SQLSTATE/socket code, SQL text and stack, and the cause chain; never other properties, which on
 * query errors include the bound parameters (verifiers, token hashes, personal data).
 */
function serializeError(error: Error, depth: number): Record<string, unknown> {
  const { code, query } = error as { code?: unknown; query?: unknown };
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof query === 'string' ? { query } : {}),
    stack: error.stack,
    ...(error.cause !== undefined ? { cause: redactSecrets(error.cause, depth + 1) } : {}),
  };
}
