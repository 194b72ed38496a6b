/**
 * Inserts ClickHouse refuses because of the rows themselves (a value the column cannot hold, a
 * CONSTRAINT, a materialized view that throws on a value) never succeed on retry, and retrying
 * them forever would stop the partition. The loader splits such an insert along message
 * boundaries until it finds the messages whose rows are refused, sends those to the DLQ and
 * inserts the rest. Everything else (ClickHouse down, timeouts, too many parts, memory, unknown
 * table after a bad migration) is retried: the rows are fine, the server is not.
 */
import { ClickHouseError } from '@clickhouse/client';

/** ClickHouse error codes (src/Common/ErrorCodes.cpp) that mean "these rows", not "this server". */
const REFUSED_DATA_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  128, // TOO_LARGE_ARRAY_SIZE
  131, // TOO_LARGE_STRING_SIZE
  190, // SIZES_OF_ARRAYS_DONT_MATCH
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  395, // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO
  407, // DECIMAL_OVERFLOW
  469, // VIOLATED_CONSTRAINT
]);

export function isRefusedData(err: unknown): err is ClickHouseError {
  return err instanceof ClickHouseError && REFUSED_DATA_CODES.has(Number(err.code));
}

/**
 * Where to split the lines [start, end) so that no message's lines end up on both sides:
 * the message boundary nearest the middle. `owner[i]` is the message index of line i
 * (non-decreasing). Undefined when all lines belong to one message.
 */
export function splitAtMessageBoundary(owner: readonly number[], start: number, end: number): number | undefined {
  if (end - start < 2 || owner[start] === owner[end - 1]) return undefined;
  const mid = start + Math.floor((end - start) / 2);
  // walk outwards from the middle to the nearest line that starts a new message
  for (let d = 0; ; d++) {
    const right = mid + d;
    if (right < end && owner[right - 1] !== owner[right]) return right;
    const left = mid - d;
    if (left > start && owner[left - 1] !== owner[left]) return left;
  }
}
