import { checkMigrationDrift, listServices } from '../src/index';

/** Every service's prisma/<service>/migrations must produce exactly its schema.prisma. */
describe('prisma/<service> migrations match their schema.prisma', () => {
  const services = listServices();

  test('there are services to check', () => {
    expect(services.length).toBeGreaterThan(0);
  });

  test.each(services)('%s', async (service) => {
    const report = await checkMigrationDrift(service);
    if (!report.ok) {
      throw new Error(
        `prisma/${service}: schema.prisma and migrations/ disagree. Create a migration with\n` +
          `  npx tsx packages/database/src/cli.ts migration ${service} <name>\n` +
          `Differences (what the migrations lack):\n  ${report.differences.join('\n  ')}`,
      );
    }
    expect(report.differences).toEqual([]);
  });
});
