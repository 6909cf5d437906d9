import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEPLOYABLES } from '@meridian/launcher';
import { bundleDeployable, type Bundle } from '../scripts/bundle';
import { repoRoot } from './support';

// The images install `npm ci --omit=dev`: everything a bundle loads at run time must be a
// production dependency in package-lock.json, or the container fails on its first require.
const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
};
const backend = DEPLOYABLES.filter((deployable) => deployable.kind !== 'dashboard');

describe('production bundles (docker/scripts/bundle.ts)', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bundles-'));
  const bundles = new Map<string, Bundle>();

  beforeAll(async () => {
    for (const deployable of backend) bundles.set(deployable.name, await bundleDeployable(deployable, outDir));
  }, 120_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it.each(backend.map((deployable) => deployable.name))('%s loads only production dependencies from node_modules', (name) => {
    const bundle = bundles.get(name)!;
    expect(bundle.outfile).toBe(path.join(outDir, DEPLOYABLES.find((d) => d.name === name)!.bundle));
    expect(bundle.externalPackages.length).toBeGreaterThan(0);
    const problems = bundle.externalPackages.flatMap((pkg) => {
      const entry = lock.packages[`node_modules/${pkg}`];
      if (!entry) return [`${pkg}: not installed at the top of node_modules (package-lock.json)`];
      if (entry.dev || entry.devOptional) return [`${pkg}: a development dependency, absent from the production image`];
      return [];
    });
    expect(problems).toEqual([]);
    // Our own packages are compiled in: the image has no workspace sources.
    expect(bundle.externalPackages.filter((pkg) => pkg.startsWith('@meridian/'))).toEqual([]);
  });
});
