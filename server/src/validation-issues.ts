/** One wording for every zod validation failure: "path.to.field: message; ...". */
import type { z } from 'zod';

export function describeIssues(error: z.ZodError, root = '(root)'): string {
  return error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}
