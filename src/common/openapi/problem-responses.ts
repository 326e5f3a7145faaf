import { applyDecorators } from '@nestjs/common';
import { ApiCookieAuth, ApiResponse } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '../problem/problem-details.js';

export const SESSION_COOKIE_SECURITY = 'session';

const problemSchema = { $ref: '#/components/schemas/Problem' };

/** Documents the problem+json answers a route can give, by status. */
export function ApiProblems(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: 'RFC 9457 problem details',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
      }),
    ),
  );
}

/** Session-cookie routes: 401 without a session, 403 for CSRF or role failures on top of their own. */
export function ApiSession(...statuses: number[]) {
  return applyDecorators(ApiCookieAuth(SESSION_COOKIE_SECURITY), ApiProblems(401, ...statuses));
}

/** Routes that start a login: 429 `too_many_login_attempts` over the client's limit, with Retry-After. */
export function ApiLoginStartLimit() {
  return ApiResponse({
    status: 429,
    description:
      'too_many_login_attempts: too many logins started from this client address in the current minute. ' +
      'problem+json (browsers on a login link: a short HTML page); never a redirect.',
    headers: { 'Retry-After': { description: 'Seconds until starts are accepted again', schema: { type: 'integer' } } },
    content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
  });
}
