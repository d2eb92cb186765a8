import type { DeadLetterRow } from './api-types';

/**
 * The dead-letter search, shared by the page (what it shows) and the server (what a "filtered set"
 * action applies to), so both always agree: case-insensitive, over error code, error message,
 * message id and original route.
 */
export function matchesText(row: Pick<DeadLetterRow, 'errorCode' | 'errorMessage' | 'messageId' | 'route'>, text: string): boolean {
  const needle = text.trim().toLowerCase();
  if (needle === '') return true;
  return [row.errorCode, row.errorMessage, row.messageId, row.route].some((field) => field?.toLowerCase().includes(needle));
}
