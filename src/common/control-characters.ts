/**
 * Whether text holds a control character (C0, DEL, C1) or a lone UTF-16 surrogate: neither belongs in a name or an
 * identifier a provider sends, and Postgres stores neither NUL nor a lone surrogate.
 */
export const hasControlCharacters = (text: string): boolean => /[\p{Cc}\p{Cs}]/u.test(text);
