import { readFileSync } from 'node:fs';
import path from 'node:path';
import { domainEventCatalogue, renderEventDocs } from '../src';

describe('docs/events.md', () => {
  it('is the catalogue rendered (run `npm run docs:events` if this fails)', () => {
    const committed = readFileSync(path.resolve(__dirname, '../../../docs/events.md'), 'utf8');
    expect(committed).toBe(renderEventDocs());
  });

  it('documents every event type of the catalogue', () => {
    const docs = renderEventDocs();
    for (const type of Object.keys(domainEventCatalogue)) expect(docs).toContain(`## \`${type}\``);
  });
});
