/**
 * Bundles each deployable into one file at its `bundle` path under the output folder
 * (`dist/<service>/main.js`; the dashboard's server keeps its repository path), the layout the
 * production images run. Workspace packages (@meridian/*) are compiled into the
 * bundle; every other package stays external and comes from the image's production-only
 * node_modules. Files the code reads next to itself at run time (the SDL, the common-password
 * list) are copied beside the bundle, because a bundle's `__dirname` is its own folder.
 *
 *   tsx docker/scripts/bundle.ts [outDir] [service...]
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { DEPLOYABLES, type Deployable } from '@meridian/launcher';

const root = path.resolve(__dirname, '..', '..');

/** Where Node would load `name` from when imported in `fromDir` (its package folder), if anywhere. */
function installedPackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Keeps third-party packages external (installed in the image), bundles our own. A package npm
 * could not hoist (another version of it sits at the top of node_modules, e.g. a workspace's own
 * OpenTelemetry SDK next to the one @apollo/gateway brings) is bundled too: from the bundle's
 * folder, `require` would find the top-level version, not the one the code was written against.
 */
const externalThirdParty: Plugin = {
  name: 'external-third-party',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@meridian/')) return undefined;
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      const name = packageName(args.path);
      const installed = installedPackageDir(name, args.resolveDir);
      if (installed && installed !== path.join(root, 'node_modules', name)) return undefined;
      return { path: args.path, external: true };
    });
  },
};

export interface Bundle {
  outfile: string;
  /** Packages the bundle loads from node_modules at run time (the image must install them). */
  externalPackages: string[];
}

/** `@scope/name/sub/path` -> `@scope/name`; `name/sub` -> `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

export async function bundleDeployable(deployable: Deployable, outDir: string): Promise<Bundle> {
  if (!existsSync(path.join(root, deployable.entry))) throw new Error(`${deployable.name}: entry ${deployable.entry} does not exist`);
  const outfile = path.join(outDir, deployable.bundle);
  const target = path.dirname(outfile);
  mkdirSync(target, { recursive: true });
  const esm = deployable.bundle.endsWith('.mjs');
  const result = await build({
    entryPoints: [path.join(root, deployable.entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: esm ? 'esm' : 'cjs',
    // Bundled CommonJS dependencies may still call require() from an ES module bundle.
    ...(esm ? { banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" } } : {}),
    sourcemap: 'linked',
    logLevel: 'warning',
    metafile: true,
    plugins: deployable.bundleDependencies ? [] : [externalThirdParty],
  });
  for (const asset of deployable.assets) copyFileSync(path.join(root, asset), path.join(target, path.basename(asset)));
  const externalPackages = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) {
      if (imported.external && !imported.path.startsWith('node:') && !isBuiltin(imported.path)) externalPackages.add(packageName(imported.path));
    }
  }
  return { outfile, externalPackages: [...externalPackages].sort() };
}

async function main(argv: string[]): Promise<void> {
  const [outArg, ...names] = argv;
  const outDir = path.resolve(outArg ?? path.join(root, 'dist'));
  const bundled = DEPLOYABLES;
  const unknown = names.filter((name) => !bundled.some((deployable) => deployable.name === name));
  if (unknown.length > 0) {
    throw new Error(`Unknown service(s): ${unknown.join(', ')}; expected one of ${bundled.map((d) => d.name).join(', ')}`);
  }
  for (const deployable of bundled.filter((d) => names.length === 0 || names.includes(d.name))) {
    // Without names: every deployable whose entry exists (the dashboard server may not yet).
    if (names.length === 0 && !existsSync(path.join(root, deployable.entry))) {
      console.log(`${deployable.name}: skipped, ${deployable.entry} does not exist`);
      continue;
    }
    const { outfile } = await bundleDeployable(deployable, outDir);
    console.log(`${deployable.name}: ${path.relative(process.cwd(), outfile)}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
