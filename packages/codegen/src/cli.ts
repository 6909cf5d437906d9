/**
 * Usage (from a subgraph package): `meridian-codegen`
 * Reads src/schema.graphql and the "codegen" section of package.json
 * ({ contextType, mappers }) and writes src/generated/resolvers-types.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generateResolverTypes } from './generate';

async function main() {
  const cwd = process.cwd();
  const pkg = JSON.parse(readFileSync(path.join(cwd, 'package.json'), 'utf8')) as {
    codegen?: { contextType?: string; mappers?: Record<string, string> };
  };
  if (!pkg.codegen?.contextType) throw new Error(`${cwd}/package.json: "codegen.contextType" is required`);
  const out = await generateResolverTypes({
    schemaPath: path.join(cwd, 'src/schema.graphql'),
    outputPath: path.join(cwd, 'src/generated/resolvers-types.ts'),
    contextType: pkg.codegen.contextType,
    mappers: pkg.codegen.mappers ?? {},
  });
  console.log(`codegen: wrote ${path.relative(cwd, out)}`);
}

main().catch((error: unknown) => {
  console.error(`codegen failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
