import { Injectable, type PipeTransform } from '@nestjs/common';

/**
 * A page's query string as one string per name, for pages that read it as a record and validate it themselves: a
 * name given twice (`?from=a&from=b`, an array in Express) is joined with commas, which the page's validation
 * refuses like any other malformed value, instead of reaching a template that cannot render an array.
 */
@Injectable()
export class SingleQueryValues implements PipeTransform<Record<string, unknown>, Record<string, string>> {
  transform(query: Record<string, unknown> | undefined): Record<string, string> {
    return Object.fromEntries(
      Object.entries(query ?? {}).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(',') : String(value),
      ]),
    );
  }
}
