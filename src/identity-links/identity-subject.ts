/** The longest subject an identity link holds (`identity_links_subject_check`), in characters. */
export const MAX_SUBJECT_LENGTH = 255;

/**
 * Whether a provider's subject fits an identity link: 1 to MAX_SUBJECT_LENGTH characters, counted as Postgres
 * counts them (code points, not UTF-16 units). Providers do not promise a length (itsme's and iDIN's `sub`,
 * eHerkenning's subject id), so a longer one is the provider's answer refused, not a failed insert.
 */
export function subjectFits(subject: string): boolean {
  if (subject.length === 0) return false;
  return subject.length <= MAX_SUBJECT_LENGTH || [...subject].length <= MAX_SUBJECT_LENGTH;
}
