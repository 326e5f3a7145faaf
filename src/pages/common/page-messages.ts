import { ApiHideProperty } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { ERROR_STATUS, ERROR_TITLES, type ErrorCode } from '../../common/problem/error-codes.js';

/**
 * After a form post the browser is sent back to the page (post/redirect/get) with `?notice=` or `?error=`: a code
 * the page explains in its own words. Nothing from the query string is ever shown as it came.
 */
export class PageMessageQueryDto {
  @ApiHideProperty()
  @IsOptional()
  @Matches(/^[a-z_]{1,64}$/)
  notice?: string;

  @ApiHideProperty()
  @IsOptional()
  @Matches(/^[a-z_]{1,64}$/)
  error?: string;
}

const NOTICES: Record<string, string> = {
  link_removed: 'The sign-in method was removed.',
  linked: 'The sign-in method was added to your account.',
  attached: 'Your new sign-in was attached to your account.',
  session_ended: 'That session has ended.',
  others_signed_out: 'All your other sessions have ended.',
  nothing_to_end: 'There were no other sessions to end.',
  account_created: 'Your account was created and you are signed in.',
  pending_forgotten:
    'This browser has forgotten the sign-in: whoever uses it next cannot attach it or make an account of it.',
  rebind_applied: 'The re-bind was applied: the person can sign in with the new identity now.',
  rebind_requested: 'The re-bind was requested. Another administrator must approve it (four-eyes).',
  rebind_approved: 'The re-bind was approved and applied.',
  rebind_rejected: 'The re-bind request was rejected.',
  account_updated: 'The account was updated.',
};

/** Words for the errors a page action meets most; other codes get the registry's title. */
const ERRORS: Partial<Record<ErrorCode, string>> = {
  reauthentication_required: 'This needs a recent sign-in. Sign in again, then try once more.',
  last_login_method: 'This is your last way to sign in, so it cannot be removed. Add another method first.',
  provider_already_linked: 'Your account already has a sign-in method with this provider.',
  identity_already_linked: 'That identity already belongs to another account.',
  pending_identity_expired: 'This is too long ago. Sign in with that identity again, then try once more.',
  pending_identity_resolved: 'This identity has already been handled.',
  pending_identity_not_found: 'Nothing is waiting to be linked in this browser any more.',
  four_eyes_required: 'You requested this re-bind yourself: another administrator must decide it.',
  // Shared by every page's forms; what a person can get wrong by typing is the console's reasons and comments.
  validation_failed:
    'Something in the form was missing or not valid (a reason or comment needs words, not only spaces): check it and send it again.',
  csrf_check_failed: 'The form was out of date. Reload the page and try again.',
  opened_from_another_site:
    'A link or page on another site sent your browser here. Support-desk pages open only from the portal itself, because every look at them is recorded in your name.',
  self_modification_refused: 'Ask another administrator to change your own account.',
  admin_grant_needs_operator:
    'With four-eyes re-binding, administrators are appointed by the operator: npm run admin:grant -- <account id>.',
};

export function noticeText(code: unknown): string | null {
  return typeof code === 'string' && Object.hasOwn(NOTICES, code) ? NOTICES[code] : null;
}

export function errorText(code: unknown): string | null {
  if (typeof code !== 'string' || !Object.hasOwn(ERROR_STATUS, code)) return null;
  return ERRORS[code as ErrorCode] ?? `${ERROR_TITLES[code as ErrorCode]}.`;
}

/** A page path with a message for the next GET. */
export function withMessage(path: string, kind: 'notice' | 'error', code: string): string {
  const url = new URL(path, 'http://page.invalid');
  url.searchParams.set(kind, code);
  return `${url.pathname}${url.search}${url.hash}`;
}
