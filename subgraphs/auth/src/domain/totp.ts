import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * TOTP as in RFC 6238 (HOTP, RFC 4226): HMAC-SHA-1, 6 digits, 30-second steps — what every
 * authenticator app uses by default. Written here on node:crypto (about 30 lines) rather than
 * depending on a package; `otpauth` would do the same.
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function generateTotpSecret(): Buffer {
  return randomBytes(20); // 160 bits, the HMAC-SHA-1 block-size recommendation of RFC 4226
}

export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Buffer {
  const clean = text.replace(/=+$/, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error('invalid base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function timeStepAt(date: Date): number {
  return Math.floor(date.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/** The HOTP value of one counter (time step). */
export function hotp(secret: Buffer, counter: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac('sha1', secret).update(message).digest();
  const offset = digest[digest.length - 1]! & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** TOTP_DIGITS).padStart(TOTP_DIGITS, '0');
}

export function totpAt(secret: Buffer, date: Date): string {
  return hotp(secret, timeStepAt(date));
}

/**
 * The time step a code matches within ±`window` steps of `now` (clock drift), newest first;
 * undefined when none does. Replay protection (a step already used) is the caller's job.
 */
export function matchTotp(secret: Buffer, code: string, now: Date, window = 1): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const current = timeStepAt(now);
  const given = Buffer.from(code);
  for (let step = current + window; step >= current - window; step -= 1) {
    if (timingSafeEqual(Buffer.from(hotp(secret, step)), given)) return step;
  }
  return undefined;
}

export function otpauthUri(secret: Buffer, account: string, issuer: string): string {
  const label = encodeURIComponent(`${issuer}:${account}`);
  const params = new URLSearchParams({
    secret: base32Encode(secret),
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}
