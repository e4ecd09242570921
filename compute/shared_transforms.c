/* The series' merges with their FFTs shared (included by compute/pi_native.c).
 *
 * A merge makes T1 Q2 + P1 T2, Q1 Q2 and P1 P2: four products in which Q2 and
 * P1 each take part twice. FLINT's multiplication (fft_small) converts and
 * transforms both operands of every product, transforms every product back and
 * reconstructs it from its residues: 8 forward transforms, 4 inverse and 4
 * reconstructions. Here each of the six operands is transformed once, as far
 * as the longest product it takes part in needs, T1 Q2 + P1 T2 is summed before
 * its one inverse transform, and three results are reconstructed. A merge of
 * numbers of 250,000 to 450,000 limbs took 0.19 to 0.22 s against 0.23 to 0.31 s
 * by FLINT's products, the same hour (tests/merge_check.c checks the results
 * against FLINT's products).
 *
 * The price is memory: four transformed operands live at once, against
 * FLINT's two, and all share one transform length.
 *
 * fft_small keeps its conversions to and from residues static, so this file
 * includes its source, from the FLINT tarball scripts/build-native.sh builds
 * (the version of the library linked, so the structures agree).
 */
#include "fft_small/mpn_mul.c"

/* A nonnegative integer's limbs. */
typedef struct
{
    const ulong *limbs;
    ulong n;
} operand_t;

typedef struct
{
    mpn_ctx_struct *ctx;
    profile_entry profile;
    ulong depth, stride;
} shared_fft_t;

/* The residues of x modulo each prime, transformed, into buffer (np rows of
 * stride): the first `points` values, those the products of x need. */
static void transform_operand(const shared_fft_t *F, double *buffer, operand_t x, ulong points)
{
    ulong bits = F->profile.bits;
    ulong len = n_cdiv(FLINT_BITS * x.n, bits);
    ulong trunc = n_round_up(len, BLK_SZ);
    ulong rounding = (bits % 8 == 0) ? 4 : (bits % 4 == 0) ? 8 : 16;
    ulong stop_easy = n_min(trunc, (FLINT_BITS * x.n - 33) / bits) & -rounding;
    ulong stop_hard = n_min(trunc, (FLINT_BITS * x.n + bits - 1) / bits);
    F->profile.to_ffts(F->ctx->ffts, buffer, F->stride, x.limbs, x.n, trunc,
                       F->ctx->vec_two_pow_tab[n_cdiv(F->profile.np, VEC_SZ) - 1],
                       0, stop_easy, stop_easy, stop_hard);
    for (ulong l = 0; l < F->profile.np; l++)
        sd_fft_trunc(F->ctx->ffts + l, buffer + l * F->stride, F->depth, trunc, points);
}

/* The factor each pointwise product takes: 1 / (2^depth times the prime's CRT cofactor). */
static ulong pointwise_factor(const shared_fft_t *F, ulong l)
{
    ulong m;
    ulong cop = *crt_data_co_prime_red(F->ctx->crts + F->profile.np - 1, l);
    NMOD_RED2(m, cop >> (FLINT_BITS - F->depth), cop << F->depth, F->ctx->ffts[l].mod);
    return nmod_inv(m, F->ctx->ffts[l].mod);
}

/* The pointwise products' loop over the first `points` values of every prime:
 * a = a b m, or, with c and e, a = (a b + c e) m, m the scaling factor. Two
 * vectors at a time, so that their multiplications overlap. */
static void pointwise(const shared_fft_t *F, double *a, const double *b, const double *c, const double *e,
                      ulong points)
{
    for (ulong l = 0; l < F->profile.np; l++)
    {
        const sd_fft_ctx_struct *Q = F->ctx->ffts + l;
        vec8d m = vec8d_set_d(vec1d_reduce_0n_to_pmhn((slong) pointwise_factor(F, l), Q->p));
        vec8d n = vec8d_set_d(Q->p);
        vec8d ninv = vec8d_set_d(Q->pinv);
        ulong offset = l * F->stride;
        for (ulong j = 0; j < points; j += 16)
        {
            vec8d x0 = vec8d_mulmod(vec8d_load(a + offset + j), vec8d_load(b + offset + j), n, ninv);
            vec8d x1 = vec8d_mulmod(vec8d_load(a + offset + j + 8), vec8d_load(b + offset + j + 8), n, ninv);
            if (c != NULL)
            {
                vec8d y0 = vec8d_mulmod(vec8d_load(c + offset + j), vec8d_load(e + offset + j), n, ninv);
                vec8d y1 = vec8d_mulmod(vec8d_load(c + offset + j + 8), vec8d_load(e + offset + j + 8), n, ninv);
                x0 = vec8d_reduce_to_pm1n(vec8d_add(x0, y0), n, ninv);
                x1 = vec8d_reduce_to_pm1n(vec8d_add(x1, y1), n, ninv);
            }
            vec8d_store(a + offset + j, vec8d_mulmod(x0, m, n, ninv));
            vec8d_store(a + offset + j + 8, vec8d_mulmod(x1, m, n, ninv));
        }
    }
}

/* z (zn limbs) = the integer of zlen coefficients whose transforms lie in buffer. */
static void reconstruct(const shared_fft_t *F, ulong *z, ulong zn, ulong zlen, double *buffer)
{
    ulong points = n_round_up(zlen, BLK_SZ);
    static const from_ffts_func from_ffts[] = {_mpn_from_ffts_4, _mpn_from_ffts_5, _mpn_from_ffts_6,
                                               _mpn_from_ffts_7, _mpn_from_ffts_8};
    ulong np = F->profile.np;
    ulong n = F->ctx->crts[np - 1].coeff_len;
    ulong end_easy = ((zn >= n + 1 ? zn - (n + 1) : 0) * FLINT_BITS / F->profile.bits) & -BLK_SZ;
    for (ulong l = 0; l < np; l++)
        sd_ifft_trunc(F->ctx->ffts + l, buffer + l * F->stride, F->depth, points);
    from_ffts[np - 4](z, zn, zlen, F->ctx->ffts, buffer, F->stride, F->ctx->crts, F->profile.bits,
                      0, end_easy, NULL);
}

static ulong coefficients(const shared_fft_t *F, operand_t x, operand_t y)
{
    return n_cdiv(FLINT_BITS * x.n, F->profile.bits) + n_cdiv(FLINT_BITS * y.n, F->profile.bits) - 1;
}

/* zT = t1 q2 + p1 t2 (zTn limbs), zQ = q1 q2 (q1.n + q2.n limbs) and, if zP is
 * not NULL, zP = p1 p2 (p1.n + p2.n limbs), all nonnegative, on this thread alone.
 * Returns 0 (and writes nothing) where fft_small has no fast conversion for the size. */
static int merge_products(ulong *zT, ulong zTn, ulong *zQ, ulong *zP, operand_t t1, operand_t q2, operand_t p1,
                          operand_t t2, operand_t q1, operand_t p2)
{
    shared_fft_t F;
    F.ctx = get_default_mpn_ctx();
    ulong longest = FLINT_MAX(FLINT_MAX(t1.n, q2.n), FLINT_MAX(FLINT_MAX(p1.n, t2.n), q1.n));
    /* A coefficient of the sum adds up to twice as many products of digits as one product's. */
    ulong terms = FLINT_MAX(FLINT_MIN(t1.n, q2.n) + FLINT_MIN(p1.n, t2.n), FLINT_MIN(q1.n, q2.n));
    if (zP != NULL)
    {
        longest = FLINT_MAX(longest, p2.n);
        terms = FLINT_MAX(terms, FLINT_MIN(p1.n, p2.n));
    }
    mpn_ctx_best_profile(F.ctx, &F.profile, longest, terms);
    flint_give_back_threads(F.profile.handles, F.profile.nhandles);
    if (F.profile.to_ffts == NULL)
        return 0;

    ulong zlen_t = FLINT_MAX(coefficients(&F, t1, q2), coefficients(&F, p1, t2));
    ulong zlen_q = coefficients(&F, q1, q2);
    ulong zlen_p = zP != NULL ? coefficients(&F, p1, p2) : 0;
    /* one transform length for all: the longest product's */
    F.depth = n_max(LG_BLK_SZ, n_clog2(n_round_up(FLINT_MAX(FLINT_MAX(zlen_t, zlen_q), zlen_p), BLK_SZ)));
    F.stride = n_round_up(sd_fft_ctx_data_size(F.depth), 128);
    ulong rows = F.profile.np * F.stride;
    double *a = mpn_ctx_fit_buffer(F.ctx, 4 * rows * sizeof(double));
    double *b = a + rows, *c = b + rows, *d = c + rows;

    /* each product needs the transforms' first points up to its length */
    ulong points_t = n_round_up(zlen_t, BLK_SZ), points_q = n_round_up(zlen_q, BLK_SZ);
    ulong points_p = n_round_up(zlen_p, BLK_SZ);
    transform_operand(&F, b, q2, FLINT_MAX(points_t, points_q));
    transform_operand(&F, c, q1, points_q);
    pointwise(&F, c, b, NULL, NULL, points_q);
    reconstruct(&F, zQ, q1.n + q2.n, zlen_q, c);
    transform_operand(&F, a, t1, points_t);
    transform_operand(&F, d, p1, FLINT_MAX(points_t, points_p));
    transform_operand(&F, c, t2, points_t);
    pointwise(&F, a, b, d, c, points_t);
    reconstruct(&F, zT, zTn, zlen_t, a);
    if (zP != NULL)
    {
        transform_operand(&F, b, p2, points_p);
        pointwise(&F, b, d, NULL, NULL, points_p);
        reconstruct(&F, zP, p1.n + p2.n, zlen_p, b);
    }
    return 1;
}
