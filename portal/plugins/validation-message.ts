import type { FastifyError } from 'fastify';

type ValidationIssue = NonNullable<FastifyError['validation']>[number];

/** `/password` → `password`, `/items/0/name` → `items[0].name`. */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((part) => part !== '')
    .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('');
}

function describe(issue: ValidationIssue): string {
  const params = issue.params as Record<string, unknown>;
  const field = fieldPath(issue.instancePath);
  switch (issue.keyword) {
    case 'required':
      return `${[field, String(params.missingProperty)].filter(Boolean).join('.')}: required`;
    case 'additionalProperties':
      return `${[field, String(params.additionalProperty)].filter(Boolean).join('.')}: not a known field`;
    default:
      return `${field || 'the value'}: ${issue.message ?? 'is not valid'}`;
  }
}

/**
 * What a validation failure says: where (the body, the query…), which field, and what it expects —
 * `body: password: must NOT have more than 72 characters`, never fastify's "body body/password must …".
 */
export function validationMessage(err: FastifyError): string {
  const where = err.validationContext ?? 'request';
  const issue = err.validation?.[0];
  return issue ? `${where}: ${describe(issue)}` : `${where}: ${err.message}`;
}
