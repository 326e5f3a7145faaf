import type { Response } from 'express';
import { ERROR_TITLES, type ErrorCode } from './error-codes.js';
import type { AppException } from './app-exception.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: ErrorCode;
  requestId?: string;
  [extension: string]: unknown;
}

export function problemTypeUri(code: ErrorCode): string {
  return `urn:rmi-identity:problem:${code}`;
}

export function toProblem(exception: AppException, instance: string, requestId: string | undefined): ProblemDetails {
  return {
    ...exception.extensions,
    type: problemTypeUri(exception.code),
    title: ERROR_TITLES[exception.code],
    status: exception.status,
    ...(exception.detail ? { detail: exception.detail } : {}),
    instance,
    code: exception.code,
    requestId,
  };
}

/** `Retry-After` (seconds) for a problem that says when to try again (`retryAfterSeconds`, e.g. a 429). */
export function retryAfterHeader(exception: AppException): Record<string, string> {
  const seconds = exception.extensions.retryAfterSeconds;
  return typeof seconds === 'number' && Number.isInteger(seconds) && seconds > 0
    ? { 'Retry-After': String(seconds) }
    : {};
}

export function sendProblem(res: Response, problem: ProblemDetails, headers: Record<string, string> = {}): void {
  res.status(problem.status);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`);
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(problem));
}
