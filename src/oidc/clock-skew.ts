/** How far a provider's clock may run ahead of ours (ID token `iat`, `auth_time`). */
export const FUTURE_SKEW_SECONDS = 60;
