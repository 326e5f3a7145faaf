import { describe, expect, it } from '@jest/globals';
import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import type { Logger } from 'pino';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import express from 'express';
import { RouteTable } from '../http/route-table.js';
import { AppException } from './app-exception.js';
import { ProblemDetailsFilter } from './problem-details.filter.js';

/** Runs the filter on one exception and returns what it sent and logged. */
function render(exception: unknown, method = 'GET', path = '/x', logged: Array<Record<string, unknown>> = []) {
  const sent: { status?: number; headers: Record<string, string>; body?: Record<string, unknown> } = { headers: {} };
  const res = {
    headersSent: false,
    status(code: number) {
      sent.status = code;
      return this;
    },
    setHeader(name: string, value: string) {
      sent.headers[name] = value;
    },
    end(body: string) {
      sent.body = JSON.parse(body);
    },
  };
  const host = {
    switchToHttp: () => ({ getRequest: () => ({ path, originalUrl: path, method }), getResponse: () => res }),
  } as unknown as ArgumentsHost;
  const routes = new RouteTable(() =>
    express()
      .get('/x', () => undefined)
      .post('/y', () => undefined),
  );
  new ProblemDetailsFilter(loggerInto(logged), routes).catch(exception, host);
  return { ...sent, logged };
}

/** One fake logger per list of lines, so outage reports are counted across the renders that share the list. */
const loggers = new WeakMap<object, Logger>();
function loggerInto(logged: Array<Record<string, unknown>>): Logger {
  let logger = loggers.get(logged);
  if (!logger) {
    const into =
      (level: string) =>
      (entry: Record<string, unknown>, msg: string): void => {
        logged.push({ level, msg, ...entry });
      };
    logger = { error: into('error'), warn: into('warn') } as unknown as Logger;
    loggers.set(logged, logger);
  }
  return logger;
}

const poolError = (code: string) => Object.assign(new pg.DatabaseError('duplicate key', 0, 'error'), { code });
const sqlError = (code: string) =>
  new QueryFailedError('INSERT …', [], Object.assign(new Error('duplicate key'), { code }));

describe('ProblemDetailsFilter', () => {
  it('renders an AppException with its code, status and field errors', () => {
    const { status, body, headers } = render(
      new AppException('validation_failed', 'bad', {
        errors: [{ field: 'a', rule: 'isInt', message: 'a must be an integer' }],
      }),
    );
    expect(status).toBe(400);
    expect(headers['Content-Type']).toBe('application/problem+json; charset=utf-8');
    expect(body).toMatchObject({
      code: 'validation_failed',
      status: 400,
      detail: 'bad',
      instance: '/x',
      errors: [{ field: 'a' }],
    });
  });

  it.each([
    ['23505', 'unique violation'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
  ])('turns a lost race (%s, %s) into a retryable 409 conflict instead of a 500', (code) => {
    for (const error of [sqlError(code), poolError(code)]) {
      const { status, body, logged } = render(error);
      expect([status, body?.code]).toEqual([409, 'conflict']);
      expect(logged).toEqual([]);
    }
  });

  it('turns a value Postgres refuses (SQLSTATE class 22) into a 400', () => {
    expect(render(poolError('22P02')).body?.code).toBe('validation_failed');
    expect(render(sqlError('22008')).status).toBe(400);
  });

  it('turns an unreachable database into a retryable 503', () => {
    expect(
      render(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })).body?.code,
    ).toBe('service_unavailable');
    expect(render(new Error('Connection terminated unexpectedly')).status).toBe(503);
    expect(render(poolError('57P01')).status).toBe(503);
  });

  it('turns a statement timeout (57014) into a retryable 503 that says to narrow the query', () => {
    for (const error of [sqlError('57014'), poolError('57014')]) {
      const { status, body } = render(error);
      expect([status, body?.code]).toEqual([503, 'service_unavailable']);
      expect(body?.detail).toContain('took too long');
    }
  });

  it('turns other database errors into a logged 500 that reveals nothing', () => {
    const { status, body, logged } = render(sqlError('42P01'));
    expect([status, body?.code]).toEqual([500, 'internal_error']);
    expect(JSON.stringify(body)).not.toContain('INSERT');
    expect(logged).toEqual([expect.objectContaining({ level: 'error', err: expect.any(QueryFailedError) })]);
  });

  it('reports an outage as one warning per cause, without a stack, while every request gets its 503', () => {
    const logged: Array<Record<string, unknown>> = [];
    const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 20; i += 1) expect(render(refused(), 'GET', '/x', logged).status).toBe(503);
    // No pool connection within DATABASE_CONNECT_TIMEOUT_MS, and statements cancelled by the statement timeout.
    expect(render(new Error('timeout exceeded when trying to connect'), 'GET', '/x', logged).status).toBe(503);
    for (let i = 0; i < 5; i += 1) expect(render(sqlError('57014'), 'GET', '/x', logged).status).toBe(503);
    render(new AppException('provider_unavailable', 'Digidentity timed out'), 'GET', '/x', logged);
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'warn',
        cause: 'database_unavailable',
        detail: expect.stringContaining('ECONN'),
      }),
      expect.objectContaining({ level: 'warn', cause: 'database_timeout', detail: expect.stringMatching(/^timeout/) }),
      expect.objectContaining({ level: 'warn', cause: 'provider_unavailable', detail: 'Digidentity timed out' }),
    ]);
    expect(logged.some((line) => 'err' in line || 'stack' in line)).toBe(false);
    // A genuine fault in the middle of an outage still gets its error line with the stack.
    render(sqlError('42P01'), 'GET', '/x', logged);
    expect(logged.at(-1)).toMatchObject({ level: 'error', err: expect.any(QueryFailedError) });
  });

  it('maps framework exceptions by status', () => {
    expect(render(new PayloadTooLargeException()).body?.code).toBe('payload_too_large');
    expect(render(new BadRequestException('x', { cause: new SyntaxError('Unexpected token') })).body?.code).toBe(
      'malformed_json',
    );
  });

  it('answers an unmatched route with 404, or 405 with Allow when the path exists for other methods', () => {
    expect(render(new NotFoundException('Cannot GET /nowhere'), 'GET', '/nowhere').status).toBe(404);
    const wrongMethod = render(new NotFoundException('Cannot DELETE /x'), 'DELETE');
    expect([wrongMethod.status, wrongMethod.headers.Allow]).toEqual([405, 'GET, HEAD']);
  });

  it('leaves a 404 thrown by application code alone, whatever its wording', () => {
    const { status, body, headers } = render(new NotFoundException('Cannot find that'), 'DELETE');
    expect([status, body?.code, headers.Allow]).toEqual([404, 'not_found', undefined]);
  });
});
