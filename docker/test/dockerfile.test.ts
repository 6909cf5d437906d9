import path from 'node:path';
import { DEPLOYABLES } from '@meridian/launcher';
import { effective, readDockerfile, stageChain } from './support';

const stages = readDockerfile();

describe('docker/Dockerfile', () => {
  it('has a production stage for every deployable', () => {
    const names = stages.map((stage) => stage.name);
    for (const deployable of DEPLOYABLES) expect(names).toContain(deployable.name);
  });

  it.each(DEPLOYABLES.map((deployable) => deployable.name))('%s runs as a non-root user', (name) => {
    const user = effective(stages, name, 'USER');
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
  });

  it.each(DEPLOYABLES.map((deployable) => deployable.name))('%s runs the bundle the build stage writes for it', (name) => {
    const deployable = DEPLOYABLES.find((d) => d.name === name)!;
    const command = `${effective(stages, name, 'ENTRYPOINT') ?? ''} ${effective(stages, name, 'CMD') ?? ''}`;
    expect(command).toContain(`"${deployable.bundle}"`);
    // Its own stage copies the bundle from where the build stage wrote it to where it runs.
    const own = stageChain(stages, name)[0]!;
    const copies = own.instructions
      .filter((instruction) => instruction.keyword === 'COPY' && instruction.args.includes('--from=build'))
      .map((instruction) => instruction.args.split(/\s+/).slice(-2) as [string, string]);
    expect(
      copies.some(([from, to]) => `/out/${deployable.bundle}`.startsWith(`${from}/`) && path.posix.join(to, path.posix.relative(from, `/out/${deployable.bundle}`)) === deployable.bundle),
    ).toBe(true);
    const build = stages.find((stage) => stage.name === 'build')!;
    const bundles = build.instructions.filter((instruction) => instruction.keyword === 'RUN' && instruction.args.includes('docker/scripts/bundle.ts'));
    expect(bundles.some((run) => new RegExp(`bundle\\.ts /out [a-z ]*\\b${name}\\b`).test(run.args))).toBe(true);
  });

  it.each(DEPLOYABLES.filter((deployable) => deployable.probes).map((deployable) => deployable.name))(
    '%s exposes its port and checks its health on it',
    (name) => {
      const deployable = DEPLOYABLES.find((d) => d.name === name)!;
      expect(effective(stages, name, 'EXPOSE')).toBe(String(deployable.port));
      const healthcheck = effective(stages, name, 'HEALTHCHECK') ?? '';
      expect(healthcheck).toContain(`http://127.0.0.1:${deployable.port}${deployable.probes!.liveness}`);
    },
  );

  it('installs only production dependencies, without install scripts, in what the backend images carry', () => {
    const prodDeps = stages.find((stage) => stage.name === 'prod-deps')!;
    const installs = prodDeps.instructions.filter((instruction) => instruction.keyword === 'RUN' && /npm (ci|install)/.test(instruction.args));
    expect(installs.length).toBe(1);
    expect(installs[0]!.args).toMatch(/--omit=dev/);
    expect(installs[0]!.args).toMatch(/--ignore-scripts/);
    const runtime = stages.find((stage) => stage.name === 'runtime')!;
    const nodeModules = runtime.instructions.filter((instruction) => instruction.keyword === 'COPY' && instruction.args.includes('node_modules'));
    expect(nodeModules.map((copy) => /--from=(\S+)/.exec(copy.args)?.[1])).toEqual(['prod-deps']);
    // No final stage builds on the build stage (which holds dev dependencies and sources).
    for (const deployable of DEPLOYABLES) expect(stageChain(stages, deployable.name).map((stage) => stage.name)).not.toContain('build');
  });
});
