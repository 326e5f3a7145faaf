import { Transform } from 'class-transformer';

/**
 * Upper-cases ASCII letters only, for codes and VINs typed in any case: `toUpperCase()` would turn `ı` into `I`
 * and `ſ` into `S`, letting non-ASCII input pass as a valid code. Whitespace stays, so it fails the pattern.
 */
export function asciiUpperCase(value: string): string {
  return value.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

/** The same as a DTO property transform; non-strings are left for the validators to refuse. */
export const AsciiUpperCase = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? asciiUpperCase(value) : value));
