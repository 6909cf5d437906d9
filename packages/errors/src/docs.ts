import { errorCodes } from './codes';

/** docs/errors.md, generated from the registry so the two cannot disagree. */
export function renderErrorDocs(): string {
  const rows = Object.entries(errorCodes).map(
    ([code, { httpStatus, description }]) => `| \`${code}\` | ${httpStatus} | ${description} |`,
  );
  return [
    '# Error codes',
    '',
    '<!-- Generated from packages/errors/src/codes.ts by `npm run docs:errors`. Do not edit. -->',
    '',
    'Every error a client sees carries one of these codes in `extensions.code`. Errors about an',
    'input also carry `extensions.field`, the path of the offending input (e.g. `input.email`).',
    'The HTTP status applies when the error ends the request before execution (e.g. a bad token',
    'at the gateway); errors raised while resolving fields come in a 200 GraphQL response.',
    '',
    '| code | HTTP | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
