import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderEventDocs } from './docs';

// Run from the repository root by `npm run docs:events`.
const target = path.resolve(process.cwd(), 'docs/events.md');
writeFileSync(target, renderEventDocs());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
