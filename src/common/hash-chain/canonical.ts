/**
 * The canonical text of a record for hashing: each field as `<UTF-8 byte length>:<text>`, NULL as `-`, joined
 * with `|`. Length prefixes make the encoding unambiguous whatever the fields contain.
 */
export function canonicalFields(fields: readonly (string | null)[]): string {
  return fields.map((field) => (field === null ? '-' : `${Buffer.byteLength(field, 'utf8')}:${field}`)).join('|');
}

/** A timestamptz column as the fixed-width UTC text (microseconds) that record hashes cover. */
export const utcMicros = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * canonicalFields as a Postgres expression over SQL text expressions, so the database can hash records without
 * sending them to the app. Byte lengths are of the UTF-8 encoding, whatever the database's encoding.
 */
export function canonicalFieldsSql(expressions: readonly string[]): string {
  return expressions
    .map(
      (e) =>
        `CASE WHEN (${e}) IS NULL THEN '-' ELSE octet_length(convert_to((${e})::text, 'UTF8'))::text || ':' || (${e})::text END`,
    )
    .join(` || '|' || `);
}
