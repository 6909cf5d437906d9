import { Redis } from 'ioredis';

/** Deletes every key under `prefix` (a test file's stream prefix) so a shared Redis keeps no test leftovers. */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const admin = new Redis(redisUrl);
  try {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    await admin.quit();
  }
}
