/* The BBP series sums of compute/bbp.py in C, for `make native`.
 *
 * frac(sum_{k=0..d} 16^(d-k) / (8k+j)) for one j in {1, 4, 5, 6} over a range
 * of k. Every modulus is made odd (8k+4 = 4(2k+1), 8k+6 = 2(4k+3), so the
 * factors of two move into the exponent), which allows Montgomery arithmetic
 * modulo q < 2^63 with R = 2^64: a power of two costs one Montgomery squaring
 * per exponent bit and a shift for each set bit, with no division. Sums are
 * kept in long double (64-bit mantissa) so a billion terms lose no hex digit.
 */
#include <stdint.h>

typedef unsigned __int128 u128;

static inline uint64_t mont_mul(uint64_t a, uint64_t b, uint64_t q, uint64_t q_neg_inv) {
    u128 t = (u128)a * b;
    uint64_t u = (uint64_t)t * q_neg_inv;
    u128 s = (t + (u128)u * q) >> 64;  /* t < q^2 < 2^126, u*q < 2^127: no overflow */
    uint64_t r = (uint64_t)s;
    return r >= q ? r - q : r;
}

#define LANES 64

/* Moduli below 2^31 (all of them up to d = 2.6e8, i.e. 10^8 decimal places)
 * take a 32-bit Montgomery path, R = 2^32: products fit in 64 bits, and the
 * branch-free lane loop below is simple enough for the compiler to vectorise
 * (AVX2 / AVX-512 32x32->64 multiplies), several lanes per instruction. */
static void pow2_mod_lanes32(const uint32_t *e, const uint32_t *q, uint32_t *out) {
    uint32_t x[LANES], q_neg_inv[LANES], top = 0;
    for (int i = 0; i < LANES; i++) {
        uint32_t inv = q[i];
        for (int n = 0; n < 4; n++) inv *= 2 - q[i] * inv;   /* 6, 12, 24, 48 bits */
        q_neg_inv[i] = (uint32_t)0 - inv;
        top |= e[i];
    }
    for (int i = 0; i < LANES; i++) {    /* 2^32 mod q, 1 in Montgomery form, without a division */
        int64_t r = (int64_t)(((uint64_t)1 << 32) - (uint64_t)(4294967296.0 / (double)q[i]) * q[i]);
        r = r < 0 ? r + q[i] : r;
        x[i] = (uint32_t)(r >= q[i] ? r - q[i] : r);
    }
    int bit = 31;
    while (bit > 0 && !((top >> bit) & 1)) bit--;
    for (; bit >= 0; bit--) {
        for (int i = 0; i < LANES; i++) {
            uint64_t t = (uint64_t)x[i] * x[i];
            uint32_t u = (uint32_t)t * q_neg_inv[i];
            uint32_t y = (uint32_t)((t + (uint64_t)u * q[i]) >> 32);  /* < 2q < 2^32 */
            y = y >= q[i] ? y - q[i] : y;
            y <<= (e[i] >> bit) & 1;                                  /* y < 2^31: no overflow */
            x[i] = y >= q[i] ? y - q[i] : y;
        }
    }
    for (int i = 0; i < LANES; i++) {
        uint64_t t = x[i];
        uint32_t u = (uint32_t)t * q_neg_inv[i];
        uint32_t y = (uint32_t)((t + (uint64_t)u * q[i]) >> 32);
        out[i] = y >= q[i] ? y - q[i] : y;
    }
}

/* Lane i gets 2^e[i] mod q[i] (each q odd and > 1). The lanes step through the
 * exponent bits together: their squarings are independent, so the CPU overlaps
 * them instead of waiting on one long chain of dependent multiplications. */
static void pow2_mod_lanes(const uint64_t *e, const uint64_t *q, uint64_t *out, int lanes) {
    uint64_t x[LANES], q_neg_inv[LANES], top = 0;
    for (int i = 0; i < lanes; i++) {
        uint64_t inv = q[i];          /* q * q == 1 mod 8: 3 correct bits */
        for (int n = 0; n < 5; n++) inv *= 2 - q[i] * inv;  /* Newton: 6, 12, ..., 96 bits */
        q_neg_inv[i] = (uint64_t)0 - inv;
        x[i] = ((uint64_t)0 - q[i]) % q[i];  /* R mod q: 1 in Montgomery form */
        top |= e[i];
    }
    int bit = 63;
    while (bit > 0 && !((top >> bit) & 1)) bit--;
    for (; bit >= 0; bit--) {
        for (int i = 0; i < lanes; i++) {
            uint64_t y = mont_mul(x[i], x[i], q[i], q_neg_inv[i]);
            if ((e[i] >> bit) & 1) {
                y <<= 1;              /* y < q < 2^63, so no overflow */
                if (y >= q[i]) y -= q[i];
            }
            x[i] = y;
        }
    }
    for (int i = 0; i < lanes; i++) out[i] = mont_mul(x[i], 1, q[i], q_neg_inv[i]);
}

/* frac(sum_{k=k_begin..k_end-1, k<=d} 16^(d-k) / (8k+j)) */
double bbp_partial_sum(uint64_t d, int j, uint64_t k_begin, uint64_t k_end) {
    long double total = 0.0L;
    uint64_t q[LANES], exponent[LANES], power[LANES];
    int lanes = 0;
    if (k_end > d + 1) k_end = d + 1;
    for (uint64_t k = k_begin; k < k_end; k++) {
        uint64_t e = d - k;
        if (j == 1 || j == 5) {
            q[lanes] = 8 * k + j;
            exponent[lanes] = 4 * e;
        } else if (e == 0) {          /* 16^0 / (8k+j): the factor of two cannot move */
            total += 1.0L / (long double)(8 * k + j);
            continue;
        } else if (j == 4) {
            q[lanes] = 2 * k + 1;
            exponent[lanes] = 4 * e - 2;
        } else {                      /* j == 6 */
            q[lanes] = 4 * k + 3;
            exponent[lanes] = 4 * e - 1;
        }
        if (q[lanes] == 1) continue;  /* anything mod 1 is 0 */
        if (++lanes == LANES && q[LANES - 1] < ((uint64_t)1 << 31) && exponent[0] < ((uint64_t)1 << 32)) {
            uint32_t q32[LANES], e32[LANES], p32[LANES];
            for (int i = 0; i < LANES; i++) {
                q32[i] = (uint32_t)q[i];
                e32[i] = (uint32_t)exponent[i];
            }
            pow2_mod_lanes32(e32, q32, p32);
            double batch = 0.0;  /* terms below 1: a double batch sum, error ~1e-16 each */
            for (int i = 0; i < LANES; i++) batch += (double)p32[i] / (double)q32[i];
            total += batch;
            if (total >= 1048576.0L) total -= (long double)(uint64_t)total;
            lanes = 0;
        } else if (lanes == LANES || k + 1 == k_end) {
            pow2_mod_lanes(exponent, q, power, lanes);
            for (int i = 0; i < lanes; i++) total += (long double)power[i] / (long double)q[i];
            if (total >= 1048576.0L) total -= (long double)(uint64_t)total;
            lanes = 0;
        }
    }
    if (lanes) {
        pow2_mod_lanes(exponent, q, power, lanes);
        for (int i = 0; i < lanes; i++) total += (long double)power[i] / (long double)q[i];
    }
    return (double)(total - (long double)(uint64_t)total);
}
