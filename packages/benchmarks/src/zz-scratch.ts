import pg from 'pg';
import { handleOnce } from '@meridian/event-bridge';
import { PrismaClient } from './generated/prisma/client';
import { PrismaPg } from '@prisma/adapter-pg';
async function main() {
  const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS zz_scratch'); await admin.query('CREATE DATABASE zz_scratch');
  const url = 'postgresql://postgres@127.0.0.1:5432/zz_scratch';
  const c = new pg.Client({ connectionString: url }); await c.connect();
  await c.query(`CREATE TABLE inbox_events ("group" TEXT NOT NULL, event_id TEXT NOT NULL, handled_at TIMESTAMPTZ(3) NOT NULL DEFAULT now(), PRIMARY KEY ("group", event_id)); CREATE TABLE bench_projections (aggregate_id TEXT PRIMARY KEY, event_count INT NOT NULL DEFAULT 0, last_event_id TEXT NOT NULL, out_of_order INT NOT NULL DEFAULT 0)`);
  const conc = Number(process.env.C ?? 8), n = Number(process.env.N ?? 8000);
  const mode = process.env.MODE ?? 'prisma';
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: conc + 2 }) });
  const pool = new pg.Pool({ connectionString: url, max: conc + 2 });
  let i = 0; const t0 = performance.now(); const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: conc }, async (_, w) => {
    while (i < n) { const id = `e${i++}`; const agg = `a${w}`;
      if (mode === 'prisma') await handleOnce(prisma, 'g', { id }, async (tx) => tx.$executeRaw`INSERT INTO bench_projections AS p (aggregate_id, event_count, last_event_id) VALUES (${agg}, 1, ${id}) ON CONFLICT (aggregate_id) DO UPDATE SET event_count = p.event_count + 1`);
      else { const cl = await pool.connect(); await cl.query('BEGIN'); await cl.query(`INSERT INTO inbox_events ("group", event_id, handled_at) VALUES ($1,$2,now()) ON CONFLICT DO NOTHING`, ['g', id]); await cl.query(`INSERT INTO bench_projections AS p (aggregate_id, event_count, last_event_id) VALUES ($1, 1, $2) ON CONFLICT (aggregate_id) DO UPDATE SET event_count = p.event_count + 1`, [agg, id]); await cl.query('COMMIT'); cl.release(); }
    }
  }));
  const s = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(cpu0);
  console.log(mode, 'conc', conc, (n / s).toFixed(0), '/s', 'node cpu ms/event', ((cpu.user + cpu.system) / 1000 / n).toFixed(3));
  await prisma.$disconnect(); await pool.end(); await c.end(); await admin.query('DROP DATABASE zz_scratch WITH (FORCE)'); await admin.end();
}
main();
