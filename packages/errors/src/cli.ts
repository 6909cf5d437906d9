import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderErrorDocs } from './docs';

// Run from the repository root by `npm run docs:errors`.
const target = path.resolve(process.cwd(), 'docs/errors.md');
writeFileSync(target, renderErrorDocs());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
