/** Writes docs/authorization-matrix.md from matrix.ts and the supergraph's directives. */
import { writeFileSync } from 'node:fs';
import { MATRIX_DOC_PATH, declaredDirectives, readSupergraph } from './declared';
import { renderMatrixMarkdown } from './matrix';

writeFileSync(MATRIX_DOC_PATH, renderMatrixMarkdown(declaredDirectives(readSupergraph())));
console.log(`Wrote ${MATRIX_DOC_PATH}.`);
