/* The native engine's whole fresh computation in one call (built by `make native`).
 *
 * pi_native_digits() computes floor(pi * 10^n) and writes "3" and the first n
 * decimal places into the caller's buffer, with FLINT's ball arithmetic
 * throughout, so the result is proven as in compute/engine.py: the floor must
 * be the same integer over the whole ball, or the caller retries with more
 * guard bits.
 *
 * Why not python-flint's arb.pi(), as the portable path does: FLINT computes
 * pi with its generic hypergeometric series, whose binary splitting hands work
 * to a second thread only at the top split and runs every node above four
 * terms in ball arithmetic. Here the Chudnovsky series is split into blocks
 * of equal cost, one or more per thread (exact integers up to 4096 terms, balls
 * above; within a thread each merge transforms its operands once, see
 * compute/shared_transforms.c), the blocks are merged with FLINT's threaded FFT multiplication, and
 * below 4 x 10^8 places the steps that do not depend on the series
 * (sqrt(10005) and the powers of 5 for the conversion) run on the threads beside it.
 * At 10^8 places on two cores, pi itself takes 15.5 s here against 16.8 s
 * for arb.pi() on the same FLINT, and a whole task 18 s against 20 to 22 s by
 * way of python-flint (README, performance). Every step reports its
 * progress, which arb.pi() cannot.
 *
 * Memory is the other constraint (at 10^9 places each number is 415 MB, and
 * FLINT's FFT scratch for one product of two of them 8.6 GB): products are made
 * in pieces of at most 2^25 FFT coefficients that skip what lies below the
 * precision kept (capped_mul), the square root and inverse too (capped_sqrt_ui, capped_inv), each
 * number is freed once spent, and the conversion writes each digit once,
 * straight into the caller's buffer.
 *
 *   1/pi = 12 sum_k (-1)^k (6k)! (13591409 + 545140134 k) / ((3k)! (k!)^3 640320^(3k + 3/2))
 *   pi   = 426880 sqrt(10005) Q(0, N) / T(0, N)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mremap, in compute/big_blocks.c */
#endif
#include <math.h>
#include <pthread.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flint/arb.h"
#include "flint/fmpz.h"
#include "flint/mpn_extras.h"

#if FLINT_HAVE_FFT_SMALL
#include "shared_transforms.c"
#endif

#include "big_blocks.c"

/* Freed blocks kept for reuse while pi is computed (compute/big_blocks.c): up to
 * 16 numbers of pi's size, at most 640 MiB. At 10^8 places page faults fell from
 * 2.06 to 0.2 million, and the peak rose by 300 MiB; at 10^9 the C call took 261 s
 * instead of 375 s. */
#define FREED_BLOCKS_KEPT_NUMBERS 16
#define FREED_BLOCKS_KEPT_AT_MOST ((size_t) 640 << 20)

#define TERM_A 13591409
#define TERM_B 545140134
#define Q_CONSTANT UWORD(10939058860032000) /* 640320^3 / 24 */
/* Every term is below the one before it by a factor over 151931373056000 > 2^47
 * (the factorial ratio (6k+1)(2k+1)(6k+5) / ((k+1)^3 640320^3/24) < 1/151931373056000),
 * so N terms leave a tail below 2 (TERM_A + TERM_B N) 2^(-47 N). */
#define BITS_PER_TERM 47
#ifndef EXACT_BELOW /* (other values to measure them) */
#define EXACT_BELOW 4096 /* terms: below this the numbers are far smaller than any precision used */
#endif
#define MAX_THREADS 16
/* FLINT's FFT multiplication (fft_small) takes 16 np 2^d bytes of scratch
 * for a product of 2^d coefficients of about 84 bits (np = 4 primes), and
 * keeps it until flint_cleanup: 4.3 GB for a product of two numbers of 3.3
 * billion bits (10^9 places), more than any number it makes. Products larger
 * than this are made by capped_mul in pieces no larger (2^25 coefficients,
 * 2.1 GB of scratch; 83 bits, not 84, leave room for fft_small's rounding up). */
#ifndef CAPPED_PRODUCT_BITS /* (smaller in a test build, to exercise the pieces) */
#define CAPPED_PRODUCT_BITS ((slong) 83 << 25)
#endif
/* From this precision on (about 4 x 10^8 places), each thread sums several
 * blocks one after the other, so that no block's own products outgrow half
 * the cap (two threads make them at once), and leaves their merges to the
 * calling thread, which makes them with FLINT's threaded multiplication.
 * Below it, merging in the threads is faster (2 s of 26 at 10^8 places). */
#define SPLIT_BLOCKS_FROM (CAPPED_PRODUCT_BITS / 2)
/* The cap of the thread that multiplies: half of it on threads that make their
 * products beside another's (the blocks, the conversion's halves). */
static __thread slong product_cap = CAPPED_PRODUCT_BITS;
/* How many runs capped_mul may cut x into before it doubles its cap (see there). */
static __thread int most_runs_of_x = 4;
#define MAX_BLOCKS (MAX_THREADS * 32)
#define LOG2_10 3.32192809488736234787
/* Digits a leaf of the decimal conversion prints with fmpz_get_str (at most). */
#ifndef LEAF_DIGITS
#define LEAF_DIGITS 4096
#endif
#define MAX_LEVELS 60
/* limbs: below, a merge's products are left to FLINT's multiplication */
#ifndef SHARED_TRANSFORMS_FROM
#define SHARED_TRANSFORMS_FROM 2000
#endif
#define NEWTON_GUARD_BITS 32
#define NEWTON_FROM 100000 /* bits: below, FLINT's own square root and inverse are small enough */

enum { PI_OK = 0, PI_AMBIGUOUS = 1, PI_BAD_ARGUMENT = 2 };
enum { PHASE_SERIES = 0, PHASE_FINAL = 1, PHASE_CONVERTING = 2 };
#ifndef REPORT_EVERY_SECONDS /* (a test build reports every step) */
#define REPORT_EVERY_SECONDS 1.0
#endif
/* The blocks' share of the series' time; merging them takes the rest: 2 of 21 s
 * at 10^8 places, where each thread's block is whole. With split blocks the
 * merges take more, the more blocks a thread has (measured, whole task): 0.78
 * with two a thread (4 x 10^8 to 7 x 10^8 places), 0.65 with four (10^9: 196 of
 * 301 s), 0.47 with sixteen (3 x 10^9: 640 of 1,374 s); so 0.11 less a doubling. */
#define BLOCKS_SHARE 0.9
#define SPLIT_BLOCKS_SHARE 0.78
#define SPLIT_BLOCKS_SHARE_PER_DOUBLING 0.11
/* sqrt(10005) (and the first block's Q times it) and the conversion's powers
 * of 5, as shares of the series' thread time: what the first two threads sum
 * fewer terms by. Fitted so that the threads finish together at 10^8 places,
 * beside the Bellard check's helpers: the powers took 0.13 s, sqrt(10005) 1.2
 * to 1.5 s and the product 0.2 s against 19 s of blocks, yet with 0.09 the first
 * thread still ended 0.2 s before the second, with 0.08 within 0.05 s.
 * (cost_before does not see that the last block makes no P on its right edge,
 * nor that the leaves' small ranges cost less since they are summed in limbs.) */
#ifndef ROOT_COST /* (other values to measure them) */
#define ROOT_COST 0.08
#endif
#define POWERS_COST 0.0096
/* Where sqrt(10005) waits for the merges, the final phase's product sqrt(10005) Q, against the division
 * that follows (measured); below SPLIT_BLOCKS_FROM the first block's thread makes it. */
#define PRODUCT_SHARE 0.3
/* Where sqrt(10005) waits for the merges (from SPLIT_BLOCKS_FROM), its share of the final phase (24 of 55 s at 10^9). */
#define SQRT_SHARE 0.4
/* The conversion's top split, one product on the calling thread before the halves
 * write digits: its share of the conversion (9.4 of 63 s at 10^9 places, 14.5 of 97 s). */
#define TOP_SPLIT_SHARE 0.15

/* Called from the calling thread only, with a phase and the fraction of it done. */
typedef void (*progress_callback)(int phase, double done);

/* What the block threads share with the thread that waits for them. */
typedef struct
{
    int64_t terms_done; /* the series' progress: a depth-first split has done about that share of its work */
    int workers_finished;
} progress_t;

/* Hands the pages of freed blocks back to the system: those kept for reuse
 * (compute/big_blocks.c), and those glibc keeps. glibc keeps what is freed
 * below its mmap threshold (up to 32 MB blocks) in its arenas: the series'
 * smaller numbers, freed by the million, kept the process 330 MiB larger after
 * the merges at 10^9 places. Called between steps, before the next peak. */
static void give_back_free_memory(void)
{
    give_back_kept_blocks();
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* PI_NATIVE_TRACE=1 prints each step's seconds, the process's resident memory
 * after it and its peak since the line before (all threads'; Linux resets the
 * peak when 5 is written to clear_refs) to stderr: where the time and the memory go. */
static long status_mib(const char *field)
{
    char line[256];
    long kib = 0;
    size_t length = strlen(field);
    FILE *status = fopen("/proc/self/status", "r");
    if (status == NULL)
        return 0;
    while (fgets(line, sizeof line, status) != NULL)
        if (strncmp(line, field, length) == 0)
            kib = atol(line + length);
    fclose(status);
    return kib / 1024;
}

static int tracing(void)
{
    static int enabled = -1;
    if (enabled < 0)
        enabled = getenv("PI_NATIVE_TRACE") != NULL;
    return enabled;
}

/* A figure that is not a step, such as where the merges' share of the progress starts (tests read it). */
static void trace_figure(const char *name, double value)
{
    if (tracing())
        fprintf(stderr, "pi_native: %s %.6f\n", name, value);
}

static void trace(const char *step, double since)
{
    if (!tracing())
        return;
    fprintf(stderr, "pi_native: %-28s %8.2f s %8ld MiB, peak %8ld MiB\n", step, seconds_now() - since,
            status_mib("VmRSS:"), status_mib("VmHWM:"));
    FILE *clear_refs = fopen("/proc/self/clear_refs", "w");
    if (clear_refs != NULL)
    {
        fputs("5", clear_refs);
        fclose(clear_refs);
    }
}

/* The bottom of split_plain: ranges of up to SMALL_TERMS terms, in limbs on the
 * stack. A third of the time FLINT's integers took at this size went to managing
 * them (allocating, freeing, finding the thread's pool): ranges of 32 terms took
 * 0.098 us a term against 0.161, and the series' blocks at 10^8 places 10.65 to
 * 10.87 s against 10.83 to 11.22 s. Terms below SMALL_BELOW (1.5 x 10^10 places),
 * so that (6k - 5)(2k - 1) fits in a limb and a term's p, q and t in 2, 3 and 3. */
#ifndef SMALL_TERMS
#define SMALL_TERMS 32
#endif
#define SMALL_BELOW (WORD(1) << 30)
#define SMALL_LIMBS (4 * SMALL_TERMS + 4) /* P 2, Q 3, T 4 limbs a term at most */

typedef struct
{
    ulong limbs[SMALL_LIMBS];
    slong n; /* 0 for zero; limbs[n - 1] is not 0 */
    int negative;
} small_t;

static void small_normalize(small_t *x)
{
    while (x->n > 0 && x->limbs[x->n - 1] == 0)
        x->n--;
}

/* z = x y; z is neither. */
static void small_mul(small_t *z, const small_t *x, const small_t *y)
{
    if (x->n == 0 || y->n == 0)
    {
        z->n = 0;
        z->negative = 0;
        return;
    }
    if (x->n >= y->n)
        mpn_mul(z->limbs, x->limbs, x->n, y->limbs, y->n);
    else
        mpn_mul(z->limbs, y->limbs, y->n, x->limbs, x->n);
    z->n = x->n + y->n;
    z->negative = x->negative ^ y->negative;
    small_normalize(z);
}

/* x += y */
static void small_add(small_t *x, const small_t *y)
{
    if (y->n == 0)
        return;
    if (x->negative == y->negative)
    {
        const small_t *longer = x->n >= y->n ? x : y, *shorter = x->n >= y->n ? y : x;
        ulong carry = mpn_add(x->limbs, longer->limbs, longer->n, shorter->limbs, shorter->n);
        x->n = longer->n;
        x->limbs[x->n++] = carry;
    }
    else if (x->n > y->n || (x->n == y->n && mpn_cmp(x->limbs, y->limbs, x->n) >= 0))
        mpn_sub(x->limbs, x->limbs, x->n, y->limbs, y->n);
    else
    {
        ulong difference[SMALL_LIMBS];
        mpn_sub(difference, y->limbs, y->n, x->limbs, x->n);
        flint_mpn_copyi(x->limbs, difference, y->n);
        x->n = y->n;
        x->negative = y->negative;
    }
    small_normalize(x);
}

static void small_term(small_t *P, small_t *Q, small_t *T, ulong k)
{
    if (k == 0)
    {
        P->limbs[0] = Q->limbs[0] = 1;
        T->limbs[0] = TERM_A;
        P->n = Q->n = T->n = 1;
        P->negative = Q->negative = T->negative = 0;
        return;
    }
    /* p = (6k - 5)(2k - 1)(6k - 1), negative; q = k^3 640320^3 / 24; t = (A + B k) p */
    umul_ppmm(P->limbs[1], P->limbs[0], (6 * k - 5) * (2 * k - 1), 6 * k - 1);
    umul_ppmm(Q->limbs[1], Q->limbs[0], k * k, k);
    Q->limbs[2] = mpn_mul_1(Q->limbs, Q->limbs, 2, Q_CONSTANT);
    T->limbs[2] = mpn_mul_1(T->limbs, P->limbs, 2, TERM_A + TERM_B * k);
    P->n = 2;
    Q->n = T->n = 3;
    P->negative = T->negative = 1;
    Q->negative = 0;
    small_normalize(P);
    small_normalize(Q);
    small_normalize(T);
}

/* split_plain's P, Q, T of the terms [a, b), b - a <= SMALL_TERMS and b <= SMALL_BELOW. */
static void split_small(small_t *P, small_t *Q, small_t *T, ulong a, ulong b, int need_p)
{
    if (b - a == 1)
    {
        small_term(P, Q, T, a);
        return;
    }
    ulong m = a + (b - a) / 2;
    small_t P1, Q1, T1, P2, Q2, T2, product;
    split_small(&P1, &Q1, &T1, a, m, 1);
    split_small(&P2, &Q2, &T2, m, b, need_p);
    small_mul(T, &T1, &Q2);
    small_mul(&product, &P1, &T2);
    small_add(T, &product);
    small_mul(Q, &Q1, &Q2);
    if (need_p)
        small_mul(P, &P1, &P2);
}

static void set_small(fmpz_t x, const small_t *y)
{
    fmpz_set_ui_array(x, y->limbs, FLINT_MAX(y->n, 1));
    if (y->negative)
        fmpz_neg(x, x);
}

/* P, Q, T of the terms [a, b), exactly; P is skipped when no one needs it. */
static void split_plain(fmpz_t P, fmpz_t Q, fmpz_t T, slong a, slong b, int need_p)
{
    if (b - a <= SMALL_TERMS && b <= SMALL_BELOW)
    {
        small_t p, q, t;
        split_small(&p, &q, &t, a, b, need_p);
        set_small(Q, &q);
        set_small(T, &t);
        if (need_p)
            set_small(P, &p);
        return;
    }
    if (b - a == 1)
    {
        if (a == 0)
        {
            fmpz_one(P);
            fmpz_one(Q);
        }
        else
        {
            fmpz_set_ui(P, 6 * a - 5);
            fmpz_mul_ui(P, P, 2 * a - 1);
            fmpz_mul_ui(P, P, 6 * a - 1);
            fmpz_neg(P, P);
            fmpz_set_ui(Q, a);
            fmpz_mul_ui(Q, Q, a);
            fmpz_mul_ui(Q, Q, a);
            fmpz_mul_ui(Q, Q, Q_CONSTANT);
        }
        fmpz_set_ui(T, TERM_B);
        fmpz_mul_ui(T, T, a);
        fmpz_add_ui(T, T, TERM_A);
        fmpz_mul(T, T, P);
        return;
    }
    slong m = a + (b - a) / 2;
    fmpz_t P2, Q2, T2;
    fmpz_init(P2);
    fmpz_init(Q2);
    fmpz_init(T2);
    split_plain(P, Q, T, a, m, 1);
    split_plain(P2, Q2, T2, m, b, need_p);
    fmpz_mul(T, T, Q2);
    fmpz_addmul(T, P, T2);
    fmpz_mul(Q, Q, Q2);
    if (need_p)
        fmpz_mul(P, P, P2);
    fmpz_clear(P2);
    fmpz_clear(Q2);
    fmpz_clear(T2);
}

#include "common_factors.c"

static int merge_exact_sharing(fmpz_t P, fmpz_t Q, fmpz_t T, const fmpz_t P2, const fmpz_t Q2, const fmpz_t T2,
                               int need_p);

/* split_plain, where each merge of REMOVE_FROM_TERMS terms and more first takes
 * out of P1 and Q2 what they share; fp and fq: the factorizations of P and Q
 * over the primes kept (fp left empty where P is not needed). The largest
 * merges share their transforms, as the blocks' do (the leaves' last merge at
 * 10^8 places: the blocks took 10.65 to 11.02 s against 10.90 to 11.33 s). */
static void split_reduced(fmpz_t P, fmpz_t Q, fmpz_t T, factored_t *fp, factored_t *fq, leaf_factors_t *leaf, slong a,
                          slong b, int need_p)
{
    if (b - a < REMOVE_FROM_TERMS)
    {
        base_node_t *node = &leaf->node[leaf->next++];
        split_plain(P, Q, T, a, b, need_p);
        *fp = node->p;
        *fq = node->q;
        node->p = node->q = (factored_t) {NULL, 0};
        return;
    }
    slong m = a + (b - a) / 2;
    fmpz_t P2, Q2, T2, common;
    factored_t fp2, fq2;
    fmpz_init(P2);
    fmpz_init(Q2);
    fmpz_init(T2);
    fmpz_init(common);
    split_reduced(P, Q, T, fp, fq, leaf, a, m, 1);
    split_reduced(P2, Q2, T2, &fp2, &fq2, leaf, m, b, need_p);
    take_out_common(common, fp, &fq2);
    fmpz_divexact(P, P, common);
    fmpz_divexact(Q2, Q2, common);
    if (!merge_exact_sharing(P, Q, T, P2, Q2, T2, need_p))
    {
        fmpz_mul(T, T, Q2);
        fmpz_addmul(T, P, T2);
        fmpz_mul(Q, Q, Q2);
        if (need_p)
            fmpz_mul(P, P, P2);
    }
    multiply_factored(fq, &fq2);
    if (need_p)
        multiply_factored(fp, &fp2);
    else
    {
        clear_factored(fp);
        clear_factored(&fp2);
    }
    fmpz_clear(P2);
    fmpz_clear(Q2);
    fmpz_clear(T2);
    fmpz_clear(common);
}

/* P, Q, T of the terms [a, b), exactly, the larger merges having taken out the
 * factors their operands share (compute/common_factors.c); P is skipped when no one needs it. */
static void split_exact(fmpz_t P, fmpz_t Q, fmpz_t T, slong a, slong b, int need_p)
{
    if (b - a < REMOVE_FROM_TERMS)
    {
        split_plain(P, Q, T, a, b, need_p);
        return;
    }
    leaf_factors_t leaf;
    factored_t fp, fq;
    factor_leaf(&leaf, a, b);
    split_reduced(P, Q, T, &fp, &fq, &leaf, a, b, need_p);
    clear_factored(&fp);
    clear_factored(&fq);
}

static void release(arb_t x)
{
    arb_clear(x);
    arb_init(x);
}

/* Progress within a step of the calling thread, reported after each product and
 * each piece of a capped product: one level of merges takes 35 s at 10^9 places
 * and up to 223 s at 3 x 10^9, a product of the final phase 10 s, too long for
 * the bar to stand still. */
typedef struct
{
    progress_callback on_progress;
    int phase;
    double from, to; /* the phase's share this step covers */
    int products, done; /* in this step */
    double last_report;
} step_progress_t;

/* Set on the calling thread during such steps only: capped_mul reports its pieces through it. */
static __thread step_progress_t *step_progress = NULL;

/* Report the step's products done so far, and `part` of the one under way (at most once a REPORT_EVERY_SECONDS). */
static void report_step(double part)
{
    step_progress_t *s = step_progress;
    if (s == NULL || s->on_progress == NULL || seconds_now() - s->last_report < REPORT_EVERY_SECONDS)
        return;
    double done = FLINT_MIN(1.0, (s->done + part) / s->products);
    s->on_progress(s->phase, s->from + (s->to - s->from) * done);
    s->last_report = seconds_now();
}

static void step_product_done(void)
{
    if (step_progress != NULL)
    {
        step_progress->done++;
        report_step(0.0);
    }
}

/* z = the integer in limbs[0, n) times 2^shift, negated if `negative`, with
 * limbs itself for its mantissa (flint_malloc'd, `alloc` limbs): the copy that
 * arf_set_mpn would make is one more number of pi's size at the top of a
 * product (0.4 GB at 10^9 places). z's old mantissa is freed; its radius is left.
 * (Not inlined: inlined, GCC 12 takes z for 8 bytes and warns of an overflow that is not there.) */
static void __attribute__((noinline))
set_taking_limbs(arf_struct *z, nn_ptr limbs, slong n, slong alloc, const fmpz_t shift, int negative)
{
    while (n > 0 && limbs[n - 1] == 0)
        n--;
    if (n == 0)
    {
        arf_zero(z);
        flint_free(limbs);
        return;
    }
    /* arf's mantissa: the top bit of the top limb set, the lowest limb not zero */
    unsigned int leading = flint_clz(limbs[n - 1]);
    fmpz_t exponent;
    fmpz_init(exponent);
    fmpz_add_si(exponent, shift, FLINT_BITS * n - leading);
    if (leading != 0)
        mpn_lshift(limbs, limbs, n, leading);
    slong low = 0;
    while (limbs[low] == 0)
        low++;
    if (low > 0)
    {
        flint_mpn_copyi(limbs, limbs + low, n - low);
        n -= low;
    }
    if (n <= ARF_NOPTR_LIMBS)
    {
        arf_set_mpn(z, limbs, n, negative); /* (a mantissa this short lives inside z) */
        flint_free(limbs);
    }
    else
    {
        ARF_DEMOTE(z);
        ARF_PTR_D(z) = limbs;
        ARF_PTR_ALLOC(z) = alloc;
        ARF_XSIZE(z) = ARF_MAKE_XSIZE(n, negative);
    }
    fmpz_swap(ARF_EXPREF(z), exponent);
    fmpz_clear(exponent);
}

/* z = x y rounded to prec bits, as arb_mul (or z + x y, as arb_addmul, if
 * `add`), for products larger than one FFT of CAPPED_PRODUCT_BITS: the product
 * is made of pieces no larger, added into the top limbs of the product, those
 * that prec keeps.
 *
 * x's mantissa is cut into equal runs of limbs; each run meets only the limbs
 * of y whose products with it reach the kept limbs, in runs as long as the
 * cap allows. A piece's part below the kept limbs is dropped, and the product
 * of a run with the limbs of y below those it meets is never made: each is
 * less than one unit of the lowest kept limb, so their count, in that unit,
 * goes into the radius with the radii's own terms and the rounding. At 10^9
 * places the top merge took 31 s so, against 36 s for the whole products in
 * two pieces, with twice the scratch, that it replaced (the same hour).
 *
 * With `add`, z's midpoint starts the sum (in two's complement, where its sign
 * is not x y's) and is freed before the pieces: z, x y and their sum are held
 * as one number, not three (at 10^9 places the top merge's T1 Q2 + P1 T2 held
 * all three, 0.8 GB more). The caller makes sure that z is neither x nor y, and
 * that z's midpoint fits below the top of x y's kept limbs. */
static void capped_product(arb_t z, const arb_t x, const arb_t y, slong prec, int add)
{
    if (arb_bits(x) < arb_bits(y))
    {
        capped_product(z, y, x, prec, add);
        return;
    }
    slong xbits = arb_bits(x);
    nn_srcptr xp, yp;
    slong xn, yn;
    ARF_GET_MPN_READONLY(xp, xn, arb_midref(x));
    ARF_GET_MPN_READONLY(yp, yn, arb_midref(y));
    /* At most four runs of x (six at the top merge): the pieces' count grows as the
     * square of the runs', and their time with it (a level of merges took 433 s
     * instead of about 200 at 3 x 10^9 places with eight runs), so past 10^9 places
     * the cap grows with them. */
    slong cap_bits = product_cap;
    while (2 * xbits > most_runs_of_x * cap_bits)
        cap_bits *= 2;
    slong cap = cap_bits / FLINT_BITS;
    /* x is the longer; y's runs take what the cap leaves beside x's */
    slong x_run = yn <= cap / 2 ? cap - yn : cap / 2;
    slong x_runs = (xn + x_run - 1) / x_run;
    x_run = (xn + x_runs - 1) / x_runs;
    slong y_run = cap - x_run;
    slong zn = xn + yn;
    slong low = FLINT_MAX(0, zn - (prec / FLINT_BITS + 2)); /* limbs of x y below those kept */
    slong kept = zn - low;
    int negative = ARF_SGNBIT(arb_midref(x)) ^ ARF_SGNBIT(arb_midref(y));
    /* z's lowest bit, counted from that of x y's lowest kept limb */
    nn_srcptr zp = NULL;
    slong zlimbs = 0, z_at = 0;
    if (add)
    {
        ARF_GET_MPN_READONLY(zp, zlimbs, arb_midref(z));
        z_at = fmpz_get_si(ARF_EXPREF(arb_midref(z))) - FLINT_BITS * zlimbs -
               (fmpz_get_si(ARF_EXPREF(arb_midref(x))) + fmpz_get_si(ARF_EXPREF(arb_midref(y))) - FLINT_BITS * kept);
    }
    /* The sum: `base` limbs below x y's kept ones, where x y is kept whole and z
     * reaches lower (so that z loses nothing prec keeps), then the kept limbs
     * (x y / 2^(64 low) < 2^(64 kept)), then one for z's sign and the carry. */
    slong base = low == 0 && z_at < 0 ? (-z_at + FLINT_BITS - 1) / FLINT_BITS : 0;
    z_at += FLINT_BITS * base;
    slong width = base + kept + 1;
    nn_ptr sum = flint_calloc(width, sizeof(ulong));
    ulong dropped = 0;
    fmpz_t shift;
    mag_t error, term;
    fmpz_init(shift);
    mag_init(error);
    mag_init(term);
    fmpz_add(shift, ARF_EXPREF(arb_midref(x)), ARF_EXPREF(arb_midref(y)));
    fmpz_sub_si(shift, shift, FLINT_BITS * (base + kept)); /* x y lies in [sum, sum + dropped] units of 2^shift */
    if (add)
    {
        if (z_at < 0) /* z's bits below x y's kept limbs, less than a unit: one more in the radius */
        {
            slong cut = -z_at / FLINT_BITS;
            if (cut < zlimbs && -z_at % FLINT_BITS == 0)
                flint_mpn_copyi(sum, zp + cut, zlimbs - cut);
            else if (cut < zlimbs)
                mpn_rshift(sum, zp + cut, zlimbs - cut, -z_at % FLINT_BITS);
            dropped++;
        }
        else if (z_at % FLINT_BITS == 0)
            flint_mpn_copyi(sum + z_at / FLINT_BITS, zp, zlimbs);
        else
            sum[z_at / FLINT_BITS + zlimbs] = mpn_lshift(sum + z_at / FLINT_BITS, zp, zlimbs, z_at % FLINT_BITS);
        if (ARF_SGNBIT(arb_midref(z)) != negative)
            mpn_neg(sum, sum, width);
        mag_swap(error, arb_radref(z));
        arb_zero(z);
    }
    nn_ptr piece = flint_malloc((x_run + y_run) * sizeof(ulong));
    slong pieces = 0, pieces_done = 0;
    for (slong i = 0; i < xn; i += x_run) /* as the loop below makes them */
        pieces += FLINT_MAX(0, yn - FLINT_MAX(0, low - i - FLINT_MIN(x_run, xn - i)) + y_run - 1) / y_run;
    for (slong i = 0; i < xn; i += x_run)
    {
        slong x_length = FLINT_MIN(x_run, xn - i);
        /* y's limbs below `first` meet this run only below the kept limbs */
        slong first = FLINT_MAX(0, low - i - x_length);
        dropped += first > 0;
        for (slong j = first; j < yn; j += y_run)
        {
            slong y_length = FLINT_MIN(y_run, yn - j);
            if (x_length >= y_length)
                flint_mpn_mul(piece, xp + i, x_length, yp + j, y_length);
            else
                flint_mpn_mul(piece, yp + j, y_length, xp + i, x_length);
            slong at = i + j, length = x_length + y_length, skip = FLINT_MAX(0, low - at);
            dropped += skip > 0;
            /* (a carry out of the top limb is the two's complement's own) */
            nn_ptr into = sum + base + at + skip - low;
            mpn_add(into, into, width - (into - sum), piece + skip, length - skip);
            report_step((double) ++pieces_done / pieces);
        }
#ifdef PI_TRACE_PIECES
        fprintf(stderr, "capped_mul: %ld x %ld limbs, x's run %ld of %ld\n", (long) xn, (long) yn, (long) (i / x_run + 1), (long) x_runs);
#endif
    }
    flint_free(piece);
    if (sum[width - 1] >> (FLINT_BITS - 1)) /* z outweighed x y */
    {
        mpn_neg(sum, sum, width);
        negative = !negative;
    }

    mag_set_ui(term, dropped);
    mag_mul_2exp_fmpz(term, term, shift);
    mag_add(error, error, term);
    /* the radii's terms, as arb_mul: |x| rad(y) + |y| rad(x) + rad(x) rad(y) */
    arf_get_mag(term, arb_midref(x));
    mag_addmul(error, term, arb_radref(y));
    arf_get_mag(term, arb_midref(y));
    mag_addmul(error, term, arb_radref(x));
    mag_mul(term, arb_radref(x), arb_radref(y));
    mag_add(error, error, term);
    /* x and y are read for the last time above: z may be either */
    set_taking_limbs(arb_midref(z), sum, width, width, shift, negative);
    mag_swap(arb_radref(z), error);
    arb_set_round(z, z, prec);
    fmpz_clear(shift);
    mag_clear(error);
    mag_clear(term);
}

/* Whether FLINT makes x y in one call: below the cap, or not a finite number. */
static int fits_one_product(const arb_t x, const arb_t y)
{
    return arb_bits(x) + arb_bits(y) <= product_cap || !arb_is_finite(x) || !arb_is_finite(y) ||
           arf_is_special(arb_midref(x)) || arf_is_special(arb_midref(y));
}

static void capped_mul(arb_t z, const arb_t x, const arb_t y, slong prec)
{
    if (fits_one_product(x, y))
        arb_mul(z, x, y, prec);
    else
        capped_product(z, x, y, prec, 0);
}

/* z += x y, as arb_addmul, with capped_mul's pieces. */
static void capped_addmul(arb_t z, const arb_t x, const arb_t y, slong prec)
{
    if (fits_one_product(x, y))
    {
        arb_addmul(z, x, y, prec);
        return;
    }
    /* z's midpoint goes into the sum where it is not x or y and lies below 2^(exp x + exp y), the top of x y's limbs */
    fmpz_t top;
    fmpz_init(top);
    fmpz_add(top, ARF_EXPREF(arb_midref(x)), ARF_EXPREF(arb_midref(y)));
    int into_sum = z != x && z != y && arb_is_finite(z) && !arf_is_special(arb_midref(z)) &&
                   fmpz_cmp(ARF_EXPREF(arb_midref(z)), top) <= 0;
    fmpz_clear(top);
    if (into_sum)
    {
        capped_product(z, x, y, prec, 1);
        return;
    }
    arb_t product;
    arb_init(product);
    capped_product(product, x, y, prec, 0);
    arb_add(z, z, product, prec);
    arb_clear(product);
}

/* z = x n, as arb_mul_fmpz, with capped_mul's pieces (n copied into a ball when they are needed). */
static void capped_mul_fmpz(arb_t z, const arb_t x, const fmpz_t n, slong prec)
{
    if (arb_bits(x) + (slong) fmpz_bits(n) <= product_cap)
    {
        arb_mul_fmpz(z, x, n, prec);
        return;
    }
    arb_t ball;
    arb_init(ball);
    arb_set_fmpz(ball, n);
    capped_mul(z, x, ball, prec);
    arb_clear(ball);
}

/* capped_mul as a step of the final phase, its pieces reported from `from` to
 * `to`, and its end if it took a REPORT_EVERY_SECONDS (a product below the cap
 * is one call, 5 s at 10^9 places). */
static void capped_mul_reporting(arb_t z, const arb_t x, const arb_t y, slong prec, progress_callback on_progress,
                                 double from, double to)
{
    step_progress_t step = {on_progress, PHASE_FINAL, from, to, 1, 0, seconds_now()}, *outer = step_progress;
    step_progress = &step;
    capped_mul(z, x, y, prec);
    step_product_done();
    step_progress = outer;
}

/* 1/sqrt(a) to about prec bits, a midpoint (no radius): Newton's iteration
 * r - r (a r^2 - 1) / 2 from half the precision, as FLINT's _arf_rsqrt_newton. */
static void rsqrt_midpoint(arb_t r, ulong a, slong prec, progress_callback on_progress, double from, double to)
{
    if (prec < NEWTON_FROM)
    {
        arb_rsqrt_ui(r, a, prec + NEWTON_GUARD_BITS);
        mag_zero(arb_radref(r));
        return;
    }
    slong wp = prec + NEWTON_GUARD_BITS, hp = prec / 2 + NEWTON_GUARD_BITS;
    /* each step costs about what all those below it cost together: half the span each */
    double middle = (from + to) / 2;
    arb_t t;
    arb_init(t);
    rsqrt_midpoint(r, a, hp, on_progress, from, middle);
    capped_mul_reporting(t, r, r, wp, on_progress, middle, (middle + to) / 2);
    arb_mul_ui(t, t, a, wp);
    arb_sub_ui(t, t, 1, hp);
    arb_mul_2exp_si(t, t, -1);
    capped_mul_reporting(t, t, r, hp, on_progress, (middle + to) / 2, to);
    arb_sub(r, r, t, wp);
    mag_zero(arb_radref(r));
    arb_clear(t);
}

/* 1/y to about prec bits, as arb_inv, from products no larger than the cap
 * (FLINT's inverse is one call: 12.7 s without a report at 10^9 places on a
 * slow day), reporting PHASE_FINAL's progress from `from` to `to`: x = 1/y to
 * half the precision, then Newton's step x + x e with e = 1 - y x, as balls
 * over every y of the ball. For the step's exact value x', 1 - y x' = e^2, so
 * |1/y - x'| = e^2 / |y|, which goes into the radius. */
static void capped_inv(arb_t u, const arb_t y, slong prec, progress_callback on_progress, double from, double to)
{
    if (prec < NEWTON_FROM || !arb_is_finite(y) || arb_contains_zero(y))
    {
        arb_inv(u, y, prec);
        return;
    }
    slong hp = prec / 2 + NEWTON_GUARD_BITS;
    double middle = (from + to) / 2;
    arb_t x, e;
    mag_t bound, lower;
    arb_init(x);
    arb_init(e);
    mag_init(bound);
    mag_init(lower);
    arb_set_round(x, y, hp);
    capped_inv(x, x, hp, on_progress, from, middle);
    mag_zero(arb_radref(x)); /* an approximation: the bound below holds for any x */
    capped_mul_reporting(e, y, x, prec + NEWTON_GUARD_BITS, on_progress, middle, (middle + to) / 2);
    arb_sub_ui(e, e, 1, prec + NEWTON_GUARD_BITS);
    arb_neg(e, e); /* e = 1 - y x, about 2^-hp */
    arb_get_mag(bound, e);
    mag_mul(bound, bound, bound);
    arb_get_mag_lower(lower, y);
    mag_div(bound, bound, lower);
    capped_mul_reporting(e, e, x, hp, on_progress, (middle + to) / 2, to); /* e x is 2^-hp x: hp bits are prec's */
    arb_add(u, x, e, prec); /* holds x + x e for every y of the ball */
    arb_add_error_mag(u, bound);
    arb_clear(x);
    arb_clear(e);
    mag_clear(bound);
    mag_clear(lower);
}

/* sqrt(a) to prec bits, as arb_sqrt_ui, from products no larger than the cap
 * (FLINT's own square root makes products of 2^26 coefficients at 10^9
 * places): s from Newton's iteration, as FLINT's _arf_sqrt_newton, then the
 * ball proven by |sqrt(a) - s| = |a - s^2| / (sqrt(a) + s) <= |a - s^2| / s.
 * Reports PHASE_FINAL's progress on the way up to `share` (if on_progress is given). */
static void capped_sqrt_ui(arb_t root, ulong a, slong prec, progress_callback on_progress, double share)
{
    if (prec < NEWTON_FROM)
    {
        arb_sqrt_ui(root, a, prec);
        return;
    }
    slong wp = prec + NEWTON_GUARD_BITS, hp = prec / 2 + NEWTON_GUARD_BITS;
    arb_t r, v, u;
    mag_t error, lower;
    arb_init(r);
    arb_init(v);
    arb_init(u);
    mag_init(error);
    mag_init(lower);
    rsqrt_midpoint(r, a, hp, on_progress, 0.0, share * 0.3);
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, share * 0.3);
    arb_mul_ui(v, r, a, hp); /* v = a r, sqrt(a) to half the precision */
    capped_mul_reporting(u, v, v, wp, on_progress, share * 0.3, share * 0.45);
    arb_sub_ui(u, u, a, hp);
    arb_neg(u, u);
    capped_mul_reporting(u, u, r, hp, on_progress, share * 0.45, share * 0.6);
    arb_mul_2exp_si(u, u, -1);
    arb_add(v, v, u, wp); /* v + r (a - v^2) / 2 */
    mag_zero(arb_radref(v));
    arb_clear(r);
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, share * 0.6);
    /* the proof: a - s^2 as a ball, its upper bound over a lower bound of s */
    capped_mul_reporting(u, v, v, wp, on_progress, share * 0.6, share);
    arb_sub_ui(u, u, a, wp);
    arb_get_mag(error, u);
    arf_get_mag_lower(lower, arb_midref(v));
    mag_div(error, error, lower);
    mag_swap(arb_radref(v), error);
    arb_set_round(root, v, prec);
    arb_clear(v);
    arb_clear(u);
    mag_clear(error);
    mag_clear(lower);
}

typedef struct
{
    arb_t P, Q, T;
    slong a, b;
    int need_p;
} block_t;

#if FLINT_HAVE_FFT_SMALL
/* |x| as limbs times 2^exponent, x exact and nonzero. */
typedef struct
{
    operand_t magnitude;
    slong exponent;
    int negative;
} exact_t;

static exact_t exact_parts(const arb_t x)
{
    exact_t e;
    slong n;
    ARF_GET_MPN_READONLY(e.magnitude.limbs, n, arb_midref(x));
    e.magnitude.n = n;
    e.exponent = fmpz_get_si(ARF_EXPREF(arb_midref(x))) - FLINT_BITS * n;
    e.negative = ARF_SGNBIT(arb_midref(x));
    return e;
}

/* x 2^shift in new limbs (the caller frees them). */
static ulong *shifted_copy(operand_t *x, ulong shift)
{
    ulong low = shift / FLINT_BITS, n = x->n + low + 1;
    ulong *out = flint_calloc(n, sizeof(ulong));
    if (shift % FLINT_BITS == 0)
        flint_mpn_copyi(out + low, x->limbs, x->n);
    else
        out[n - 1] = mpn_lshift(out + low, x->limbs, x->n, shift % FLINT_BITS);
    while (out[n - 1] == 0)
        n--;
    x->limbs = out;
    x->n = n;
    return out;
}

/* x = the integer's limbs times 2^exponent, rounded to prec bits as arb_mul
 * would; x takes the limbs for its mantissa, as capped products do. */
static void set_rounded(arb_t x, ulong *limbs, ulong n, int negative, slong exponent, slong prec)
{
    fmpz_t shift;
    fmpz_init_set_si(shift, exponent);
    set_taking_limbs(arb_midref(x), limbs, n, n, shift, negative);
    fmpz_clear(shift);
    mag_zero(arb_radref(x));
    arb_set_round(x, x, prec);
}

/* A merge's product: |z| = the integer in limbs (flint_malloc'd) times 2^exponent. */
typedef struct
{
    ulong *limbs;
    ulong n;
    int negative;
    slong exponent;
} merged_t;

/* A merge's products by merge_products (compute/shared_transforms.c), from
 * exact nonzero parts: t = t1 q2 + p1 t2, q = q1 q2 and, where p2 is given,
 * p = p1 p2, on this thread alone. Its FFT scratch holds four transformed
 * operands where FLINT's holds two, so it takes products up to a quarter of
 * the cap only: no more scratch than the larger merges above it take anyway
 * (up to half the cap, the blocks peaked at 5,884 MiB at 10^9 places, against
 * 5,182 before). Returns 0, having done nothing, where it does not apply. */
static int merge_parts(merged_t *t, merged_t *q, merged_t *p, exact_t p1, exact_t q1, exact_t t1, exact_t q2,
                       exact_t t2, const exact_t *p2)
{
    if (flint_get_num_threads() > 1 || q1.negative || q2.negative) /* (Q is never negative in the series) */
        return 0;
    /* T1 Q2 and P1 T2 are summed at one power of two: T1 or T2 shifted by d
     * (Q's trailing zeros, which arf does not store, make d up to a sixth of Q2) */
    slong d = (t1.exponent + q2.exponent) - (p1.exponent + t2.exponent);
    ulong longest = FLINT_MAX(FLINT_MAX(t1.magnitude.n + q2.magnitude.n, p1.magnitude.n + t2.magnitude.n) +
                                  FLINT_ABS(d) / FLINT_BITS,
                              q1.magnitude.n + q2.magnitude.n) + 2;
    if (p2 != NULL)
        longest = FLINT_MAX(longest, p1.magnitude.n + p2->magnitude.n);
    if ((slong) (FLINT_BITS * longest) > product_cap / 4 ||
        FLINT_MIN(q1.magnitude.n, q2.magnitude.n) < SHARED_TRANSFORMS_FROM)
        return 0;

    /* T2's complement where the two products' signs differ */
    slong exponent_t = FLINT_MIN(t1.exponent + q2.exponent, p1.exponent + t2.exponent);
    ulong *t1_shifted = d > 0 ? shifted_copy(&t1.magnitude, d) : NULL;
    ulong *t2_shifted = shifted_copy(&t2.magnitude, d < 0 ? -d : 0);
    int complemented = t1.negative != (p1.negative ^ t2.negative);
    if (complemented) /* P1 (2^(64 n) - |T2|) = 2^(64 n) P1 - P1 |T2|: the first term is taken off below */
        mpn_neg(t2_shifted, t2_shifted, t2.magnitude.n);
    ulong zTn = FLINT_MAX(t1.magnitude.n + q2.magnitude.n, p1.magnitude.n + t2.magnitude.n) + 1;
    ulong zQn = q1.magnitude.n + q2.magnitude.n, zPn = p2 != NULL ? p1.magnitude.n + p2->magnitude.n : 0;
    ulong *zT = flint_malloc(zTn * sizeof(ulong)), *zQ = flint_malloc(zQn * sizeof(ulong));
    ulong *zP = p2 != NULL ? flint_malloc(zPn * sizeof(ulong)) : NULL;
    int done = merge_products(zT, zTn, zQ, zP, t1.magnitude, q2.magnitude, p1.magnitude, t2.magnitude,
                              q1.magnitude, p2 != NULL ? p2->magnitude : q2.magnitude);
    if (done)
    {
        int negative = t1.negative;
        if (complemented &&
            mpn_sub(zT + t2.magnitude.n, zT + t2.magnitude.n, zTn - t2.magnitude.n, p1.magnitude.limbs, p1.magnitude.n))
        {
            mpn_neg(zT, zT, zTn);
            negative = !negative;
        }
        *t = (merged_t) {zT, zTn, negative, exponent_t};
        *q = (merged_t) {zQ, zQn, 0, q1.exponent + q2.exponent};
        if (p2 != NULL)
            *p = (merged_t) {zP, zPn, p1.negative ^ p2->negative, p1.exponent + p2->exponent};
    }
    else
    {
        flint_free(zT);
        flint_free(zQ);
        flint_free(zP);
    }
    flint_free(t1_shifted);
    flint_free(t2_shifted);
    return done;
}

/* merge_parts into left's T, Q and P, where all its numbers are exact: the
 * products are exact, then rounded to prec. */
static int merge_sharing_transforms(block_t *left, block_t *right, slong prec)
{
    arb_srcptr used[6] = {left->P, left->Q, left->T, right->Q, right->T, right->need_p ? right->P : right->Q};
    for (int i = 0; i < 6; i++)
        if (!arb_is_exact(used[i]) || arf_is_special(arb_midref(used[i])))
            return 0;
    exact_t p2 = exact_parts(right->P);
    merged_t t, q, p;
    if (!merge_parts(&t, &q, &p, exact_parts(left->P), exact_parts(left->Q), exact_parts(left->T),
                     exact_parts(right->Q), exact_parts(right->T), right->need_p ? &p2 : NULL))
        return 0;
    set_rounded(left->T, t.limbs, t.n, t.negative, t.exponent, prec);
    set_rounded(left->Q, q.limbs, q.n, q.negative, q.exponent, prec);
    if (right->need_p)
        set_rounded(left->P, p.limbs, p.n, p.negative, p.exponent, prec);
    return 1;
}

static exact_t fmpz_parts(const fmpz_t x)
{
    mpz_srcptr z = COEFF_TO_PTR(*x);
    return (exact_t) {{z->_mp_d, (ulong) FLINT_ABS(z->_mp_size)}, 0, z->_mp_size < 0};
}

static void set_merged(fmpz_t x, merged_t z)
{
    fmpz_set_ui_array(x, z.limbs, z.n);
    if (z.negative)
        fmpz_neg(x, x);
    flint_free(z.limbs);
}

/* The exact leaves' merges, as merge_sharing_transforms: T = T Q2 + P T2, Q = Q Q2
 * and, if need_p, P = P P2. Returns 0, having done nothing, where it does not apply. */
static int merge_exact_sharing(fmpz_t P, fmpz_t Q, fmpz_t T, const fmpz_t P2, const fmpz_t Q2, const fmpz_t T2,
                               int need_p)
{
    const fmpz *used[6] = {P, Q, T, Q2, T2, need_p ? P2 : Q2};
    for (int i = 0; i < 6; i++)
        if (!COEFF_IS_MPZ(*used[i])) /* (only small numbers are not: too small to share transforms) */
            return 0;
    exact_t p2 = fmpz_parts(P2);
    merged_t t, q, p;
    if (!merge_parts(&t, &q, &p, fmpz_parts(P), fmpz_parts(Q), fmpz_parts(T), fmpz_parts(Q2), fmpz_parts(T2),
                     need_p ? &p2 : NULL))
        return 0;
    set_merged(T, t);
    set_merged(Q, q);
    if (need_p)
        set_merged(P, p);
    return 1;
}
#else
static int merge_sharing_transforms(block_t *left, block_t *right, slong prec)
{
    return 0; /* no fft_small in this FLINT: FLINT's multiplication */
}

static int merge_exact_sharing(fmpz_t P, fmpz_t Q, fmpz_t T, const fmpz_t P2, const fmpz_t Q2, const fmpz_t T2,
                               int need_p)
{
    return 0;
}
#endif

/* Merge right into left: the terms [left.a, right.b). Products are rounded to
 * prec bits (with the rounding error in the balls' radii) once they outgrow it. */
static void merge_blocks(block_t *left, block_t *right, slong prec)
{
    if (merge_sharing_transforms(left, right, prec))
    {
        for (int i = 0; i < 3 + right->need_p; i++) /* the products the level counts */
            step_product_done();
    }
    else
    {
        /* Each number is freed as soon as it is spent: at the top, each is hundreds of megabytes. */
        capped_mul(left->T, left->T, right->Q, prec);
        step_product_done();
        capped_addmul(left->T, left->P, right->T, prec);
        step_product_done();
        release(right->T);
        if (!right->need_p)
            release(left->P);
        capped_mul(left->Q, left->Q, right->Q, prec);
        step_product_done();
        release(right->Q);
        if (right->need_p)
        {
            capped_mul(left->P, left->P, right->P, prec);
            step_product_done();
        }
    }
    /* Right's numbers are spent (those freed above already are empty), and left's P where no one needs it. */
    release(right->T);
    release(right->Q);
    release(right->P);
    if (!right->need_p)
        release(left->P);
    left->b = right->b;
    left->need_p = right->need_p;
}

static void split_block(block_t *x, slong prec, progress_t *progress)
{
    if (x->b - x->a <= EXACT_BELOW)
    {
        __atomic_fetch_add(&progress->terms_done, x->b - x->a, __ATOMIC_RELAXED);
        fmpz_t P, Q, T;
        fmpz_init(P);
        fmpz_init(Q);
        fmpz_init(T);
        split_exact(P, Q, T, x->a, x->b, x->need_p);
        arb_set_fmpz(x->P, P);
        arb_set_fmpz(x->Q, Q);
        arb_set_fmpz(x->T, T);
        fmpz_clear(P);
        fmpz_clear(Q);
        fmpz_clear(T);
        return;
    }
    block_t right;
    arb_init(right.P);
    arb_init(right.Q);
    arb_init(right.T);
    slong m = x->a + (x->b - x->a) / 2;
    right.a = m;
    right.b = x->b;
    right.need_p = x->need_p;
    x->b = m;
    x->need_p = 1;
    split_block(x, prec, progress);
    split_block(&right, prec, progress);
    merge_blocks(x, &right, prec);
    arb_clear(right.P);
    arb_clear(right.Q);
    arb_clear(right.T);
}

/* Approximate cost of the terms [0, x): a term's numbers grow like 3 log2 k
 * bits; the constant was fitted so that blocks finish together (measured: the
 * right half of an even split takes 5% longer at 10^8 places). */
static double cost_before(double x)
{
    return 3.0 * ((x + 2) * log2(x + 2) - (x + 2) / M_LN2) + 114.0 * x;
}

static slong balanced_boundary(slong terms, double share)
{
    double target = share * cost_before((double) terms);
    slong low = 0, high = terms;
    while (high - low > 1)
    {
        slong mid = low + (high - low) / 2;
        if (cost_before((double) mid) < target)
            low = mid;
        else
            high = mid;
    }
    return high;
}

/* floor(x) if it is the same integer over the whole ball. */
static int unique_floor(fmpz_t out, const arb_t x)
{
    arf_t edge;
    fmpz_t high;
    int unique;
    arf_init(edge);
    fmpz_init(high);
    arf_set_mag(edge, arb_radref(x));
    arf_sub(edge, arb_midref(x), edge, ARF_PREC_EXACT, ARF_RND_DOWN);
    arf_get_fmpz(out, edge, ARF_RND_FLOOR);
    arf_set_mag(edge, arb_radref(x));
    arf_add(edge, arb_midref(x), edge, ARF_PREC_EXACT, ARF_RND_DOWN);
    arf_get_fmpz(high, edge, ARF_RND_FLOOR);
    unique = fmpz_equal(out, high);
    arf_clear(edge);
    fmpz_clear(high);
    return unique;
}

/* The decimal conversion: a scaled remainder tree over the fraction f = pi - 3.
 *
 * The digits of f are split at `left`: the first `left` of them are those of f
 * itself, the rest those of frac(f 10^left). So each node needs one product,
 * f times 5^left (the 2^left is a shift), no division, and each half goes on at
 * the precision of its own digits and writes them straight into its place in
 * the output. The splits are at leaf * 2^k digits, so the powers of 5 are one
 * table built by squaring (beside the series, on the thread that would wait).
 * Every floor taken must be the same over the whole ball, as for the digits as
 * a whole; otherwise the caller retries with more guard bits. Why not
 * fmpz_get_str on floor(pi 10^n): that takes one more product of the whole
 * size (by 5^n) and the integer beside the ball, its memory is FLINT's to
 * choose (2.8 GB beyond its input and output for 5 x 10^8 digits on one thread),
 * and one call cannot say how far it has come. It is faster, though: 45 s
 * against 56 s here at 10^9 places. */
typedef struct
{
    fmpz power[MAX_LEVELS]; /* power[k] = 5^(leaf 2^k) for k < levels */
    int levels;             /* the number of splits above a leaf */
    slong leaf;             /* digits per leaf, at most LEAF_DIGITS */
    slong guard;            /* bits kept beyond each node's own digits */
    int64_t digits_done;    /* progress, shared by the threads */
    int ambiguous;          /* set by whichever thread meets a floor it cannot pin down */
} conversion_t;

static void plan_conversion(conversion_t *c, slong places, slong guard)
{
    c->levels = 0;
    while ((slong) LEAF_DIGITS << c->levels < places)
        c->levels++;
    c->leaf = (places + ((slong) 1 << c->levels) - 1) >> c->levels;
    c->guard = guard;
    c->digits_done = 0;
    c->ambiguous = 0;
    for (int k = 0; k < MAX_LEVELS; k++)
        fmpz_init(&c->power[k]);
}

/* Once: by a block thread beside the series, or else by the conversion. */
static void build_powers(conversion_t *c)
{
    if (c->levels == 0 || !fmpz_is_zero(&c->power[0]))
        return;
    fmpz_ui_pow_ui(&c->power[0], 5, c->leaf);
    for (int k = 1; k < c->levels; k++)
        fmpz_mul(&c->power[k], &c->power[k - 1], &c->power[k - 1]);
}

static void clear_conversion(conversion_t *c)
{
    for (int k = 0; k < MAX_LEVELS; k++)
        fmpz_clear(&c->power[k]);
}

static slong bits_for_digits(slong digits, slong guard)
{
    return (slong) ceil(digits * LOG2_10) + guard;
}

static void give_up(conversion_t *c)
{
    __atomic_store_n(&c->ambiguous, 1, __ATOMIC_RELAXED);
}

/* The first `count` digits of f, zero-padded, into out. */
static void convert_leaf(conversion_t *c, arb_t f, slong count, char *out)
{
    char text[LEAF_DIGITS + 2];
    arb_t g;
    fmpz_t z;
    arb_init(g);
    fmpz_init(z);
    if (count == c->leaf && c->levels > 0)
        arb_mul_fmpz(g, f, &c->power[0], bits_for_digits(count, c->guard));
    else
    {
        fmpz_ui_pow_ui(z, 5, count);
        arb_mul_fmpz(g, f, z, bits_for_digits(count, c->guard));
    }
    arb_mul_2exp_si(g, g, count);
    if (!unique_floor(z, g) || fmpz_sgn(z) < 0 || fmpz_sizeinbase(z, 10) > (size_t) count)
        give_up(c);
    else
    {
        fmpz_get_str(text, 10, z);
        size_t length = strlen(text);
        if (fmpz_is_zero(z))
            length = 0;
        memset(out, '0', count - length);
        memcpy(out + count - length, text, length);
    }
    arb_clear(g);
    fmpz_clear(z);
    __atomic_fetch_add(&c->digits_done, count, __ATOMIC_RELAXED);
}

/* Split f's `count` digits after its first leaf 2^(level - 1): rest gets
 * frac(f 10^left), whose digits come next, and f is rounded to the precision
 * of the first `left` digits. */
static void split_digits(conversion_t *c, arb_t f, arb_t rest, slong count, int level)
{
    slong left = c->leaf << (level - 1);
    arb_t g;
    fmpz_t z;
    arb_init(g);
    fmpz_init(z);
    capped_mul_fmpz(g, f, &c->power[level - 1], bits_for_digits(count, c->guard));
    arb_mul_2exp_si(g, g, left);
    if (!unique_floor(z, g))
        give_up(c);
    arb_sub_fmpz(rest, g, z, bits_for_digits(count - left, c->guard));
    arb_clear(g);
    fmpz_clear(z);
    arb_set_round(f, f, bits_for_digits(left, c->guard));
}

/* The first `count` digits of f (count <= leaf 2^level) into out; f is spent. */
static void convert_node(conversion_t *c, arb_t f, slong count, int level, char *out)
{
    if (__atomic_load_n(&c->ambiguous, __ATOMIC_RELAXED))
        return;
    if (level == 0)
    {
        convert_leaf(c, f, count, out);
        return;
    }
    slong left = c->leaf << (level - 1);
    if (count <= left)
    {
        convert_node(c, f, count, level - 1, out);
        return;
    }
    arb_t rest;
    arb_init(rest);
    split_digits(c, f, rest, count, level);
    convert_node(c, f, left, level - 1, out);
    arb_clear(f); /* spent: free it before the second half grows its own numbers */
    convert_node(c, rest, count - left, level - 1, out + left);
    arb_clear(rest);
    arb_init(f);
}

typedef struct
{
    conversion_t *conversion;
    arb_struct *f;
    slong count;
    int level;
    char *out;
    int *finished;
} half_t;

static void *convert_half(void *arg)
{
    half_t *h = arg;
    slong own_cap = product_cap; /* (this may be the calling thread, with no thread to spare) */
    product_cap = CAPPED_PRODUCT_BITS / 2;
    convert_node(h->conversion, h->f, h->count, h->level, h->out);
    product_cap = own_cap;
    flint_cleanup(); /* this thread's FFT scratch */
    __atomic_fetch_add(h->finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Writes the first `places` digits of f in [0, 1) into out, on up to two
 * threads (the halves of the top split), this thread reporting the share of
 * digits written every second meanwhile. Returns 0 if some floor was not unique. */
static int convert_fraction(conversion_t *c, arb_t f, slong places, int threads, char *out,
                            progress_callback on_progress)
{
    arb_struct part[2];
    half_t half[2];
    pthread_t thread[2];
    int finished = 0, halves = 1, running = 0;
    double started = seconds_now(), top_share = 0.0;

    int old_threads = flint_get_num_threads();
    flint_set_num_threads(threads);
    build_powers(c);
    flint_set_num_threads(old_threads);
    trace("converting: powers of 5", started);
    started = seconds_now();
    arb_init(&part[0]);
    arb_init(&part[1]);
    arb_swap(&part[0], f);
    half[0] = (half_t) {c, &part[0], places, c->levels, out, &finished};
    if (threads > 1 && c->levels > 0 && places > c->leaf << (c->levels - 1))
    {
        /* The top split on this thread, with FLINT's threads; then one half each. */
        slong left = c->leaf << (c->levels - 1);
        step_progress_t top = {on_progress, PHASE_CONVERTING, 0.0, TOP_SPLIT_SHARE, 1, 0, seconds_now()};
        top_share = TOP_SPLIT_SHARE;
        flint_set_num_threads(threads);
        step_progress = &top;
        split_digits(c, &part[0], &part[1], places, c->levels);
        step_progress = NULL;
        flint_set_num_threads(old_threads);
        /* This thread's FFT scratch, sized for the top split, before each half grows its own. */
        flint_cleanup();
        trace("converting: the top split", started);
        half[0].count = left;
        half[0].level = c->levels - 1;
        half[1] = (half_t) {c, &part[1], places - left, c->levels - 1, out + left, &finished};
        halves = 2;
    }
    while (running < halves && pthread_create(&thread[running], NULL, convert_half, &half[running]) == 0)
        running++;
    for (int i = running; i < halves; i++)
        convert_half(&half[i]); /* no thread to spare: do it here */
    struct timespec pause = {0, 20 * 1000 * 1000};
    double last_report = seconds_now();
    while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < halves)
    {
        nanosleep(&pause, NULL);
        if (on_progress != NULL && seconds_now() - last_report >= REPORT_EVERY_SECONDS)
        {
            on_progress(PHASE_CONVERTING,
                        top_share + (1 - top_share) * __atomic_load_n(&c->digits_done, __ATOMIC_RELAXED) / places);
            last_report = seconds_now();
        }
    }
    for (int i = 0; i < running; i++)
        pthread_join(thread[i], NULL);
    arb_clear(&part[0]);
    arb_clear(&part[1]);
    return !__atomic_load_n(&c->ambiguous, __ATOMIC_RELAXED);
}

typedef struct
{
    block_t *block; /* the first of `blocks`, summed in turn */
    int blocks;
    slong prec;
    progress_t *progress;
    /* work that does not depend on the series, done before the blocks: sqrt(10005),
     * which the first block's Q is then multiplied by (and sqrt_out freed) */
    arb_struct *sqrt_out;
    conversion_t *powers_for;
} worker_t;

static void *run_worker(void *arg)
{
    worker_t *w = arg;
    double started = seconds_now();
    slong own_cap = product_cap; /* (this may be the calling thread, with no thread to spare) */
    product_cap = CAPPED_PRODUCT_BITS / 2;
    /* The work beside the series first, while the other thread's numbers are still small. */
    if (w->sqrt_out != NULL)
    {
        capped_sqrt_ui(w->sqrt_out, 10005, w->prec, NULL, 0.0); /* (the calling thread reports) */
        trace("series: sqrt(10005)", started);
    }
    if (w->powers_for != NULL)
    {
        build_powers(w->powers_for);
        trace("series: powers of 5", started);
    }
    flint_cleanup(); /* their FFT scratch, before the blocks grow their own */
    started = seconds_now();
    for (int i = 0; i < w->blocks; i++)
        split_block(&w->block[i], w->prec, w->progress);
    if (w->sqrt_out != NULL)
    {
        /* The first block's Q takes part in no merge's T, only in Q itself, which
         * the final phase needs only as 426880 sqrt(10005) Q: so sqrt(10005) goes
         * into it here, on a thread of the series, and the final phase makes one
         * product less (0.29 s on both threads at 10^8 places, against 0.2 s here). */
        capped_mul(w->block[0].Q, w->block[0].Q, w->sqrt_out, w->prec);
        release(w->sqrt_out);
    }
    trace("series: a thread's blocks", started);
    /* FLINT keeps each thread's FFT scratch (gigabytes at 10^9 places) until
     * told to free it: without this, the blocks' buffers outlive the blocks. */
    flint_cleanup();
    product_cap = own_cap;
    __atomic_fetch_add(&w->progress->workers_finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Wait for the block threads, reporting the series' progress meanwhile. */
static void wait_for_blocks(progress_t *progress, int workers, slong terms, double share,
                            progress_callback on_progress)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    double last_report = seconds_now();
    while (__atomic_load_n(&progress->workers_finished, __ATOMIC_ACQUIRE) < workers)
    {
        nanosleep(&pause, NULL);
        if (on_progress != NULL && seconds_now() - last_report >= REPORT_EVERY_SECONDS)
        {
            on_progress(PHASE_SERIES, share * __atomic_load_n(&progress->terms_done, __ATOMIC_RELAXED) / terms);
            last_report = seconds_now();
        }
    }
}

/* z = x / y to prec bits, as arb_div, in steps that report their progress
 * (PHASE_FINAL, from done_before): the division by Karp and Markstein that
 * arb_div makes in one call, written with balls, so that each step's result
 * provably holds what it should without FLINT's own error analysis.
 *   u  = 1/y to half the precision (a ball),
 *   q0 = the midpoint of x u, taken as exact,
 *   r  = x - y q0, small: the error of q0, times y,
 *   z  = q0 + r u, which holds q0 + r/y = x/y since u holds 1/y. */
static void divide_reporting(arb_t z, const arb_t x, const arb_t y, slong prec, double done_before,
                             progress_callback on_progress)
{
    slong half = prec / 2 + 64;
    double steps[] = {0.5, 0.6, 0.9}, at[3];
    for (int i = 0; i < 3; i++)
        at[i] = done_before + (1 - done_before) * steps[i]; /* where each step ends in the final phase */
    arb_t u, q0, r;
    arb_init(u);
    arb_init(q0);
    arb_init(r);
    arb_set_round(r, y, half);
    capped_inv(u, r, half, on_progress, done_before, at[0]);
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, at[0]);
    arb_set_round(r, x, half);
    capped_mul_reporting(q0, r, u, half, on_progress, at[0], at[1]);
    mag_zero(arb_radref(q0));
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, at[1]);
    capped_mul_reporting(r, y, q0, prec, on_progress, at[1], at[2]);
    arb_sub(r, x, r, prec);
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, at[2]);
    arb_set_round(r, r, half);
    capped_mul_reporting(r, r, u, half, on_progress, at[2], 1.0);
    arb_add(z, q0, r, prec);
    arb_clear(u);
    arb_clear(q0);
    arb_clear(r);
}

/* pi to prec bits, as a ball; builds the conversion's powers of 5 on the way unless memory is the limit. */
static void pi_ball(arb_t pi, conversion_t *conversion, slong prec, int threads, progress_callback on_progress)
{
    double started = seconds_now();
    slong terms = (prec + 2 * BITS_PER_TERM) / BITS_PER_TERM + 1;
    int workers = threads < 1 ? 1 : (threads > MAX_THREADS ? MAX_THREADS : threads);
    /* From SPLIT_BLOCKS_FROM, blocks small enough that the largest products in
     * them, the size of their Q (3 log2 k + 54 bits a term), fit in half the cap. */
    int per_worker = 1;
    double series_bits = terms * (3 * log2((double) terms) + 54);
    if (prec >= SPLIT_BLOCKS_FROM)
        while (series_bits / (workers * per_worker) > CAPPED_PRODUCT_BITS / 2 && per_worker < MAX_BLOCKS / MAX_THREADS)
            per_worker *= 2;
    /* Milliseconds of work: no threads, no progress reports. */
    int small = terms < 4 * EXACT_BELOW;
    if (small)
        workers = per_worker = 1;
    int blocks = workers * per_worker;
    /* Where memory is the limit (split blocks), sqrt(10005) waits for the merges. */
    int sqrt_after_merges = per_worker > 1;
    block_t block[MAX_BLOCKS];
    worker_t work[MAX_THREADS];
    pthread_t thread[MAX_THREADS];
    arb_t root;
    progress_t progress = {0, 0};

    arb_init(root);
    /* Below SPLIT_BLOCKS_FROM the first thread also computes sqrt(10005) and the
     * second the conversion's powers of 5: they sum fewer terms, so that all
     * threads finish together (at 10^8 places the second stood idle 2 s). */
    double share[MAX_BLOCKS], share_before = 0.0;
    for (int i = 0; i < blocks; i++)
        share[i] = 1.0 / blocks;
    if (!sqrt_after_merges && workers > 1)
        for (int i = 0; i < workers; i++)
            share[i] = (1.0 + ROOT_COST + POWERS_COST) / workers - (i == 0 ? ROOT_COST : 0.0) -
                       (i == 1 ? POWERS_COST : 0.0);
    for (int i = 0; i < blocks; i++)
    {
        arb_init(block[i].P);
        arb_init(block[i].Q);
        arb_init(block[i].T);
        share_before += share[i];
        block[i].a = i == 0 ? 0 : block[i - 1].b;
        block[i].b = i == blocks - 1 ? terms : balanced_boundary(terms, share_before);
        block[i].need_p = i != blocks - 1;
    }
    for (int i = 0; i < workers; i++)
    {
        work[i].block = &block[i * per_worker];
        work[i].blocks = per_worker;
        work[i].prec = prec;
        work[i].progress = &progress;
        /* Where memory is the limit, sqrt(10005) waits for the merges, so that it is
         * not held through them (0.4 GB at 10^9 places), and makes its products with
         * both threads; below, it takes one thread beside the series. */
        work[i].sqrt_out = !sqrt_after_merges && i == 0 ? root : NULL;
        /* Where memory is the limit (split blocks), the powers wait for the conversion:
         * held through the top merges they would add to the peak (9.4 GB at 10^9). */
        work[i].powers_for = per_worker == 1 && i == (workers > 1 ? 1 : 0) ? conversion : NULL;
    }
    /* Every block gets a thread of its own, which runs FLINT single-threaded
     * (what the blocks want), and this thread reports progress meanwhile. */
    int old_threads = flint_get_num_threads();
    int running = 0;
    flint_set_num_threads(1);
    while (!small && running < workers && pthread_create(&thread[running], NULL, run_worker, &work[running]) == 0)
        running++;
    for (int i = running; i < workers; i++)
        run_worker(&work[i]); /* no thread to spare: do it here */
    double blocks_share = per_worker > 1 ? SPLIT_BLOCKS_SHARE - SPLIT_BLOCKS_SHARE_PER_DOUBLING * log2(per_worker / 2.0)
                                         : BLOCKS_SHARE;
    wait_for_blocks(&progress, workers, terms, blocks_share, on_progress);
    for (int i = 0; i < running; i++)
        pthread_join(thread[i], NULL);
    give_back_free_memory();
    trace("series: blocks", started);
    trace_figure("series: the merges report from", blocks_share);

    started = seconds_now();
    flint_set_num_threads(workers);
    int levels = 0, levels_done = 0;
    for (int step = 1; step < blocks; step *= 2)
        levels++;
    for (int step = 1; step < blocks; step *= 2)
    {
        double level_started = seconds_now();
        /* The level that leaves two blocks holds the most numbers (four quarters of
         * the series, exact): with half the cap's scratch it peaks no higher than the
         * others (at 10^9 places 6.1 GB with the whole cap, at most 5.5 GB elsewhere). */
        slong own_cap = product_cap;
        if (per_worker > 1 && step * 4 == blocks)
            product_cap = CAPPED_PRODUCT_BITS / 2;
        /* The top merge holds five numbers of pi's size while it makes its first
         * product: half the cap's scratch there, x cut into five runs instead of
         * three, set the peak at 10^9 places to 4,196 MiB instead of 5,494 (the
         * whole computation's peak), for 39 s instead of 30 to 34 s. */
        if (per_worker > 1 && step * 2 == blocks)
        {
            product_cap = CAPPED_PRODUCT_BITS / 2;
            most_runs_of_x = 6;
        }
        /* FLINT keeps the scratch of its largest product so far, sized for the level
         * below: each level makes its own (at 10^9 places, in one run each, the
         * last level peaked at 5,737 MiB with it kept, at 5,405 without; runs of the
         * same code differ by up to 500 MiB there). */
        flint_cleanup();
        step_progress_t level = {on_progress, PHASE_SERIES, blocks_share + (1 - blocks_share) * levels_done / levels,
                                 blocks_share + (1 - blocks_share) * (levels_done + 1) / levels, 0, 0, seconds_now()};
        for (int i = 0; i + step < blocks; i += 2 * step)
            level.products += 3 + block[i + step].need_p;
        step_progress = &level;
        for (int i = 0; i + step < blocks; i += 2 * step)
            merge_blocks(&block[i], &block[i + step], prec);
        step_progress = NULL;
        product_cap = own_cap;
        most_runs_of_x = 4;
        give_back_free_memory();
        trace("series: a level of merges", level_started);
        if (on_progress != NULL)
            on_progress(PHASE_SERIES, blocks_share + (1 - blocks_share) * ++levels_done / levels);
    }
    trace("series: merging blocks", started);
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, 0.0);
    started = seconds_now();

    /* The terms left out: T/Q is off by less than the tail, so widen T by tail * Q. */
    mag_t tail, q;
    mag_init(tail);
    mag_init(q);
    mag_set_ui(tail, TERM_A + TERM_B * (ulong) terms);
    mag_mul_2exp_si(tail, tail, 1 - BITS_PER_TERM * terms);
    arb_get_mag(q, block[0].Q); /* (times sqrt(10005) where the first block took it: a bound still) */
    mag_mul(tail, tail, q);
    arb_add_error_mag(block[0].T, tail);

    if (sqrt_after_merges)
    {
        capped_sqrt_ui(root, 10005, prec, on_progress, SQRT_SHARE);
        give_back_free_memory();
        trace("final: sqrt(10005)", started);
        started = seconds_now();
        if (on_progress != NULL)
            on_progress(PHASE_FINAL, SQRT_SHARE);
    }
    /* Q holds sqrt(10005) already where the first block's thread computed it */
    double product_done = sqrt_after_merges ? SQRT_SHARE + (1 - SQRT_SHARE) * PRODUCT_SHARE : 0.0;
    if (sqrt_after_merges)
        capped_mul_reporting(pi, root, block[0].Q, prec, on_progress, SQRT_SHARE, product_done);
    else
        arb_swap(pi, block[0].Q);
    /* spent: two numbers of pi's size the division need not hold (0.8 GB at 10^9 places) */
    release(root);
    release(block[0].Q);
    arb_mul_ui(pi, pi, 426880, prec);
    give_back_free_memory();
    trace("final: 426880 sqrt(10005) Q", started); /* (one product, or none where Q took sqrt(10005)) */
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, product_done);
    started = seconds_now();
    flint_cleanup(); /* the product's FFT scratch: the division makes its own */
    divide_reporting(pi, pi, block[0].T, prec, product_done, on_progress);
    trace("final: division", started);

    flint_set_num_threads(old_threads);
    mag_clear(tail);
    mag_clear(q);
    arb_clear(root);
    for (int i = 0; i < blocks; i++)
    {
        arb_clear(block[i].P);
        arb_clear(block[i].Q);
        arb_clear(block[i].T);
    }
    /* The division's FFT scratch and what the series freed, before the caller's
     * check makes three numbers of pi's size (at 10^9 places the task peaked
     * there, at 5,872 MiB, with them kept). */
    flint_cleanup();
    give_back_free_memory();
}

/* Writes "3" and the first `places` decimal places of pi and a NUL into
 * digits_out (places + 3 bytes: FLINT may ask for one more than it writes),
 * truncated, computed at `prec` bits.
 *
 * hex_out (hex_count + 1 bytes) gets the hexadecimal digits at places
 * hex_position + 1 .. hex_position + hex_count of the computed ball, for the
 * caller's independent check (Bellard's formula), or "" if the ball does not pin them down.
 * on_progress (may be NULL) is called from the calling thread only: with
 * PHASE_SERIES and the share of the terms summed at the start and every second,
 * then in the merges after each product; with PHASE_FINAL as it starts, after
 * each step of the square root, its product and each step of the division; with
 * PHASE_CONVERTING as it starts, then the share of digits written every second.
 * Within a product made in pieces, each piece reports (at most once a second).
 *
 * Returns PI_OK, or PI_AMBIGUOUS if the ball straddles an integer (nothing
 * written: retry with a higher prec). */
int pi_native_digits(int64_t places, int64_t prec, int threads, int64_t hex_position, int hex_count,
                     char *digits_out, char *hex_out, progress_callback on_progress)
{
    arb_t pi;
    fmpz_t floor;
    conversion_t conversion;
    int status = PI_OK;

    if (places < 1 || prec < 64 || hex_count < 1 || hex_count > 15 || hex_position < 0)
        return PI_BAD_ARGUMENT;
    if (on_progress != NULL)
        on_progress(PHASE_SERIES, 0.0);
    keep_freed_blocks(FLINT_MIN(FREED_BLOCKS_KEPT_NUMBERS * ((size_t) prec / 8), FREED_BLOCKS_KEPT_AT_MOST));
    arb_init(pi);
    fmpz_init(floor);
    /* The caller's extra bits beyond the places' own: each node of the conversion keeps as many. */
    plan_conversion(&conversion, places, prec - bits_for_digits(places, 0));
    pi_ball(pi, &conversion, prec, threads, on_progress);

    hex_out[0] = '\0';
    arb_mul_2exp_si(pi, pi, 4 * (hex_position + hex_count));
    if (unique_floor(floor, pi))
    {
        ulong value = fmpz_fdiv_ui(floor, UWORD(1) << (4 * hex_count));
        for (int i = hex_count - 1; i >= 0; i--, value >>= 4)
            hex_out[i] = "0123456789abcdef"[value & 15];
        hex_out[hex_count] = '\0';
    }
    arb_mul_2exp_si(pi, pi, -4 * (hex_position + hex_count));

    /* The places are those of the fraction pi - 3, which must lie in [0, 1) all over the ball. */
    arb_sub_ui(pi, pi, 3, prec);
    if (conversion.guard < 16 || !unique_floor(floor, pi) || !fmpz_is_zero(floor))
        status = PI_AMBIGUOUS;
    else
    {
        if (on_progress != NULL)
            on_progress(PHASE_CONVERTING, 0.0);
        double started = seconds_now();
        digits_out[0] = '3';
        if (!convert_fraction(&conversion, pi, places, threads < 1 ? 1 : threads, digits_out + 1, on_progress))
            status = PI_AMBIGUOUS;
        digits_out[places + 1] = '\0';
        trace("converting", started);
    }
    arb_clear(pi);
    fmpz_clear(floor);
    clear_conversion(&conversion);
    flint_cleanup(); /* this thread's FFT scratch too: the caller goes on with gigabytes of digits */
    keep_freed_blocks(0);
    return status;
}
