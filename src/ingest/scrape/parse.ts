/** Format dispatch for exposition bodies. */
import { formatFromContentType, type ExpositionEntry, type ExpositionFormat, type ParseLimits } from './exposition.js';
import { parseOpenMetrics } from './parser-openmetrics.js';
import { parseText } from './parser-text.js';

/** Parses a body in the given format (lazily; throws ExpositionParseError on bad input). */
export function parseExposition(body: string, format: ExpositionFormat, limits?: ParseLimits): Iterable<ExpositionEntry> {
  return format === 'openmetrics' ? parseOpenMetrics(body, limits) : parseText(body, limits);
}

/** Parses a body choosing the format from a Content-Type header value. */
export function parseByContentType(body: string, contentType: string | undefined | null, limits?: ParseLimits): Iterable<ExpositionEntry> {
  return parseExposition(body, formatFromContentType(contentType), limits);
}
