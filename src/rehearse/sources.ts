import { BUCKETS, NLB_HASH_SEED } from './net-plan.js';

// Pure: which caller source address lands on which NLB target. With source-IP stickiness the emulated NLB hashes
// the source address alone (nft `jhash ip saddr mod BUCKETS seed NLB_HASH_SEED`, net-plan.ts) into a bucket, and the
// bucket map names the target. A fixed seed makes that hash computable here, so the load can pick, for every old
// instance, a source that reaches it (a few fixed sources over N targets missed some: 1 of 3, 4 of 6).

/** Addresses a holder caller may use: 198.51.100.100-254 (inside the internet namespace's 198.51.100.0/24). */
export const HOLDER_POOL: readonly string[] = Array.from({ length: 155 }, (_, i) => `198.51.100.${100 + i}`);

const rol32 = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** Linux's jhash() of one 4-byte key (include/linux/jhash.h: the tail case 4, then __jhash_final; returns c). */
function jhash4(bytes: readonly number[], seed: number): number {
  const [k0 = 0, k1 = 0, k2 = 0, k3 = 0] = bytes;
  let a = (0xdeadbeef + 4 + seed) >>> 0;
  let b = a;
  let c = a;
  a = (a + ((k0 | (k1 << 8) | (k2 << 16) | (k3 << 24)) >>> 0)) >>> 0;
  c = ((c ^ b) - rol32(b, 14)) >>> 0;
  a = ((a ^ c) - rol32(c, 11)) >>> 0;
  b = ((b ^ a) - rol32(a, 25)) >>> 0;
  c = ((c ^ b) - rol32(b, 16)) >>> 0;
  a = ((a ^ c) - rol32(c, 4)) >>> 0;
  b = ((b ^ a) - rol32(a, 14)) >>> 0;
  c = ((c ^ b) - rol32(b, 24)) >>> 0;
  return c;
}

/** The bucket nft's `jhash ip saddr mod BUCKETS seed NLB_HASH_SEED` gives an IPv4 source (net/netfilter/nft_hash.c:
 *  reciprocal_scale(jhash(saddr, 4, seed), modulus); the address in network byte order). */
export function nlbBucket(ip: string, seed = NLB_HASH_SEED): number {
  const bytes = ip.split('.').map(Number);
  if (bytes.length !== 4 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new Error(`nlbBucket: ${ip} is not an IPv4 address`);
  return Number((BigInt(jhash4(bytes, seed)) * BigInt(BUCKETS)) >> 32n);
}

/**
 * One source per target: an address of the pool that hashes to the target's lowest bucket. A target keeps its
 * lowest bucket while it is registered, whatever registers or leaves (rebalance() moves a target's highest buckets
 * first, and never its last one), so calls from that source reach it until it is picked, in any pick order.
 */
export function holderSources(buckets: readonly string[], targets: readonly string[], pool: readonly string[] = HOLDER_POOL): Map<string, string> {
  const bySlot = new Map<number, string>();
  for (const ip of pool) if (!bySlot.has(nlbBucket(ip))) bySlot.set(nlbBucket(ip), ip);
  const out = new Map<string, string>();
  for (const t of targets) {
    const lowest = buckets.indexOf(t);
    if (lowest < 0) throw new Error(`holderSources: target ${t} holds no NLB bucket (is it registered?)`);
    const src = bySlot.get(lowest);
    if (src === undefined) throw new Error(`holderSources: no address of the holder pool hashes to bucket ${lowest} (seed ${NLB_HASH_SEED})`);
    out.set(t, src);
  }
  return out;
}
