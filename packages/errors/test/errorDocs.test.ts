import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderErrorDocs } from '../src';

describe('docs/errors.md', () => {
  it('is the registry rendered (run `npm run docs:errors` if this fails)', () => {
    const committed = readFileSync(path.resolve(__dirname, '../../../docs/errors.md'), 'utf8');
    expect(committed).toBe(renderErrorDocs());
  });

  it('lists every code the platform uses', () => {
    const docs = renderErrorDocs();
    for (const code of ['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR']) {
      expect(docs).toContain(`| \`${code}\` |`);
    }
  });
});
