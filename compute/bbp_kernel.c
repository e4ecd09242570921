/* The series sums of compute/bbp.py in C, for `make native`.
 *
 * frac(sum_n (-1)^n 2^(shift - 10n) / (a n + b)) over a range of n: one of the
 * seven series of Bellard's formula. Every modulus a n + b is odd, which allows
 * Montgomery arithmetic: a power of two costs one Montgomery squaring per
 * exponent bit and a shift for each set bit, with no division. Sums are kept
 * in long double (64-bit mantissa) so billions of terms lose no hex digit.
 */
#include <math.h>
#include <stdint.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

typedef unsigned __int128 u128;

static inline uint64_t mont_mul(uint64_t a, uint64_t b, uint64_t q, uint64_t q_neg_inv) {
    u128 t = (u128)a * b;
    uint64_t u = (uint64_t)t * q_neg_inv;
    u128 s = (t + (u128)u * q) >> 64;  /* t < q^2 < 2^126, u*q < 2^127: no overflow */
    uint64_t r = (uint64_t)s;
    return r >= q ? r - q : r;
}

#define LANES 64

#if defined(__AVX512F__)
/* (t + m) / 2^32 for t, m < 2^64 whose low halves add up to 0 mod 2^32, as in
 * Montgomery reduction: without the sum, which could overflow for q >= 2^31.
 * The low halves carry 1 unless t's is 0 (then m's is 0 too). */
static inline __m512i montgomery_high(__m512i t, __m512i m) {
    __m512i high = _mm512_add_epi64(_mm512_srli_epi64(t, 32), _mm512_srli_epi64(m, 32));
    __mmask8 carry = _mm512_test_epi64_mask(t, _mm512_set1_epi64(0xffffffff));
    return _mm512_mask_add_epi64(high, carry, high, _mm512_set1_epi64(1));
}
#define LANES32_BELOW ((uint64_t)1 << 32)
#else
#define LANES32_BELOW ((uint64_t)1 << 31)
#endif

/* Moduli below LANES32_BELOW (all of them up to 10^9 decimal places with
 * AVX-512) take a 32-bit Montgomery path, R = 2^32, several lanes per
 * instruction: written out for AVX-512, and simple enough for the compiler to
 * vectorise otherwise. */
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
#if defined(__AVX512F__)
    /* The same steps on 8 lanes of 64 bits at a time, written out because GCC
     * widens the 32x32 products to full 64x64 multiplies (vpmullq, three uops)
     * instead of vpmuludq; the 8 vectors are interleaved so their dependent
     * multiplications overlap. */
    __m512i xv[LANES / 8], qv[LANES / 8], ninv[LANES / 8], ev[LANES / 8];
    for (int v = 0; v < LANES / 8; v++) {
        xv[v] = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(x + 8 * v)));
        qv[v] = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(q + 8 * v)));
        ninv[v] = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(q_neg_inv + 8 * v)));
        ev[v] = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(e + 8 * v)));
    }
    const __m512i one = _mm512_set1_epi64(1);
    int bit = 31;
    while (bit > 0 && !((top >> bit) & 1)) bit--;
    for (; bit >= 0; bit--) {
        __m512i shift = _mm512_set1_epi64(bit);
        for (int v = 0; v < LANES / 8; v++) {
            __m512i t = _mm512_mul_epu32(xv[v], xv[v]);
            __m512i u = _mm512_mul_epu32(t, ninv[v]);      /* its low 32 bits are u */
            __m512i y = montgomery_high(t, _mm512_mul_epu32(u, qv[v]));
            y = _mm512_min_epu64(y, _mm512_sub_epi64(y, qv[v]));  /* y - q wraps when y < q */
            y = _mm512_sllv_epi64(y, _mm512_and_si512(_mm512_srlv_epi64(ev[v], shift), one));
            xv[v] = _mm512_min_epu64(y, _mm512_sub_epi64(y, qv[v]));
        }
    }
    for (int v = 0; v < LANES / 8; v++) {
        __m512i u = _mm512_mul_epu32(xv[v], ninv[v]);
        __m512i y = montgomery_high(xv[v], _mm512_mul_epu32(u, qv[v]));
        y = _mm512_min_epu64(y, _mm512_sub_epi64(y, qv[v]));
        _mm256_storeu_si256((__m256i *)(out + 8 * v), _mm512_cvtepi64_epi32(y));
    }
#else
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
#endif
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

/* The sum of sign[i] * (2^e[i] mod q[i]) / q[i] over `lanes` lanes (q rising, e falling). */
static long double batch_sum(const uint64_t *q, const uint64_t *e, const double *sign, int lanes) {
    if (lanes == LANES && q[LANES - 1] < LANES32_BELOW && e[0] < ((uint64_t)1 << 32)) {
        uint32_t q32[LANES], e32[LANES], p32[LANES];
        for (int i = 0; i < LANES; i++) {
            q32[i] = (uint32_t)q[i];
            e32[i] = (uint32_t)e[i];
        }
        pow2_mod_lanes32(e32, q32, p32);
        double batch = 0.0;  /* terms below 1: a double batch sum, error ~1e-16 each */
        for (int i = 0; i < LANES; i++) batch += sign[i] * (double)p32[i] / (double)q32[i];
        return batch;
    }
    uint64_t power[LANES];
    long double batch = 0.0L;
    pow2_mod_lanes(e, q, power, lanes);
    for (int i = 0; i < lanes; i++) batch += sign[i] * (long double)power[i] / (long double)q[i];
    return batch;
}

/* frac(sum (-1)^n 2^(shift - 10n) / (a n + b)) over n_begin <= n < n_end with
 * 10n <= shift (the terms where the power of two is an integer). */
double bellard_partial_sum(uint64_t shift, uint64_t a, uint64_t b, uint64_t n_begin, uint64_t n_end) {
    long double total = 0.0L;
    uint64_t q[LANES], exponent[LANES];
    double sign[LANES];
    int lanes = 0;
    if (n_end > shift / 10 + 1) n_end = shift / 10 + 1;
    for (uint64_t n = n_begin; n < n_end; n++) {
        q[lanes] = a * n + b;
        if (q[lanes] == 1) continue;  /* anything mod 1 is 0 */
        exponent[lanes] = shift - 10 * n;
        sign[lanes] = (n & 1) ? -1.0 : 1.0;
        if (++lanes == LANES) {
            total += batch_sum(q, exponent, sign, lanes);
            if (total >= 1048576.0L || total <= -1048576.0L) total -= floorl(total);
            lanes = 0;
        }
    }
    if (lanes) total += batch_sum(q, exponent, sign, lanes);
    return (double)(total - floorl(total));
}
