/**
 * zod schema of the `transform` processor (see src/pipeline/transform.ts). Every statement is
 * compiled here, so `sieve validate` reports each bad statement with its line and column.
 */
import { z } from 'zod';
import { validateTransformConfig } from '../../pipeline/transform.js';

const errorMode = z.enum(['ignore', 'silent', 'propagate'], {
  message: 'error_mode must be ignore, silent or propagate',
});
// statement lists are checked by validateTransformConfig, so that one bad entry hides no other error
const statementList = z.unknown();
const flatList = z.unknown();

export const transformSchema = z
  .strictObject({
    error_mode: errorMode.optional(),
    trace_statements: statementList.optional(),
    log_statements: statementList.optional(),
    metric_statements: statementList.optional(),
    // Sieve's flat lists (context inferred from the paths)
    traces: flatList.optional(),
    logs: flatList.optional(),
    metrics: flatList.optional(),
    hash_function: z.enum(['none', 'sha256', 'hmac_sha256']).optional(),
    hash_key_env: z.string().optional(),
    hash_key_file: z.string().optional(),
    key_id: z.string().optional(),
  })
  .superRefine((cfg, ctx) => {
    for (const issue of validateTransformConfig(cfg as never))
      ctx.addIssue({
        code: 'custom',
        message: issue.message,
        path: issue.path,
        ...(issue.offset !== undefined ? { params: { ottlOffset: issue.offset } } : {}),
      });
  });
