import { pino, type Logger } from 'pino';
import { outageCause } from '../problem/classify-unexpected.js';

/** An ongoing outage is reported at most once per cause in this time. */
export const OUTAGE_REPORT_INTERVAL_MS = 60_000;

interface CauseState {
  reportedAt: number;
  /** Occurrences since the last line. */
  unreported: number;
}

/**
 * Per log destination, so each app (and each test app in one process) counts its own outages; child loggers share
 * their root's destination.
 */
const outages = new WeakMap<object, Map<string, CauseState>>();

function causesOf(logger: Logger): Map<string, CauseState> {
  const destination = ((logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] ?? logger) as object;
  let causes = outages.get(destination);
  if (!causes) {
    causes = new Map();
    outages.set(destination, causes);
  }
  return causes;
}

/**
 * An expected outage (the database or a provider unreachable or too slow): a warning line without a stack the first
 * time, then at most one per cause and OUTAGE_REPORT_INTERVAL_MS, counting what happened in between. A database
 * outage that hundreds of requests run into is one line, not hundreds of stacks.
 */
export function reportOutage(
  logger: Logger,
  cause: string,
  fields: Record<string, unknown>,
  message: string,
  now = Date.now(),
): void {
  const causes = causesOf(logger);
  const state = causes.get(cause);
  if (state && now - state.reportedAt < OUTAGE_REPORT_INTERVAL_MS) {
    state.unreported += 1;
    return;
  }
  const since = state ? { occurrencesSinceLastReport: state.unreported + 1 } : {};
  causes.set(cause, { reportedAt: now, unreported: 0 });
  logger.warn({ ...fields, cause, ...since }, message);
}

/**
 * A failure nobody asked for: an expected outage (outageCause) goes to reportOutage with the error's message only;
 * anything else is an error with its stack.
 */
export function logFailure(logger: Logger, error: unknown, fields: Record<string, unknown>, message: string): void {
  const cause = outageCause(error);
  if (cause === null) {
    logger.error({ ...fields, err: error }, message);
    return;
  }
  const detail = error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
  reportOutage(logger, cause, { ...fields, detail }, message);
}
