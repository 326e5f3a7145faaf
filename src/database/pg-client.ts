import pg from 'pg';

/** What pg rejects a query with when `query_timeout` passes without an answer. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * pg's client, which drops its connection when a query got no answer within `query_timeout`. Postgres enforces
 * `statement_timeout` itself, so only a server that stopped answering (frozen, a network partition) gets there; pg
 * then rejects the query but keeps the connection busy with it, and the pool would hand it to the next request. A
 * destroyed connection leaves the pool, which opens a new one when the server answers again.
 */
export class ClientDroppingStuckConnections extends pg.Client {
  override query(...args: unknown[]): never {
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (error instanceof Error && error.message === QUERY_READ_TIMEOUT) this.drop();
      });
    }
    return result as never;
  }

  private drop(): void {
    (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }
}
