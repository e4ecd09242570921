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
 * above), the blocks are merged with FLINT's threaded FFT multiplication, and
 * the steps that do not depend on the series (sqrt(10005), and below 4 x 10^8
 * places the powers of 5 for the conversion) run on the threads beside it.
 * At 10^8 places on two cores, pi itself takes 15.5 s here against 16.8 s
 * for arb.pi() on the same FLINT, and a whole task 18 s against 20 to 22 s by
 * way of python-flint (README, performance). Every step reports its
 * progress, which arb.pi() cannot.
 *
 * Memory is the other constraint (at 10^9 places each number is 415 MB, and
 * FLINT's FFT scratch for one product of two of them 8.6 GB): the largest
 * products are made in pieces (lean_mul), each number is freed once spent, and
 * the conversion writes each digit once, straight into the caller's buffer.
 *
 *   1/pi = 12 sum_k (-1)^k (6k)! (13591409 + 545140134 k) / ((3k)! (k!)^3 640320^(3k + 3/2))
 *   pi   = 426880 sqrt(10005) Q(0, N) / T(0, N)
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flint/arb.h"
#include "flint/fmpz.h"

#define TERM_A 13591409
#define TERM_B 545140134
#define Q_CONSTANT UWORD(10939058860032000) /* 640320^3 / 24 */
/* Every term is below the one before it by a factor over 151931373056000 > 2^47
 * (the factorial ratio (6k+1)(2k+1)(6k+5) / ((k+1)^3 640320^3/24) < 1/151931373056000),
 * so N terms leave a tail below 2 (TERM_A + TERM_B N) 2^(-47 N). */
#define BITS_PER_TERM 47
#define EXACT_BELOW 4096 /* terms: below this the numbers are far smaller than any precision used */
#define MAX_THREADS 16
/* From this precision on (about 4 x 10^8 places), each thread sums two blocks
 * one after the other (four from 1.7 x 10^9 places, and so on) and leaves their
 * merges to the calling thread, which does them with FLINT's threaded
 * multiplication: two threads each merging their block's top halves at once
 * would each hold the FFT scratch of a product of billions of bits. Below it,
 * merging in the threads is faster (2 s of 26 at 10^8 places). */
#define SPLIT_BLOCKS_FROM (LEAN_PRODUCT_BITS / 4)
#define MAX_BLOCKS (MAX_THREADS * 8)
/* FLINT's FFT multiplication (fft_small) takes 2 x 4 x 8 bytes of scratch per
 * 84-bit coefficient of the product, rounded up to a power of two: 8.6 GB for
 * the product of two numbers of 3.3 billion bits (10^9 places). Products
 * larger than this many bits are done in pieces of at most it, which halves
 * the scratch at the cost of a third more time for those few products. */
#ifndef LEAN_PRODUCT_BITS /* (smaller in a test build, to exercise the pieces) */
#define LEAN_PRODUCT_BITS ((slong) 84 << 26)
#endif
#ifndef LEAN_MAX_PIECES
#define LEAN_MAX_PIECES 3
#endif
#define LOG2_10 3.32192809488736234787
/* Digits a leaf of the decimal conversion prints with fmpz_get_str (at most). */
#ifndef LEAF_DIGITS
#define LEAF_DIGITS 4096
#endif
#define MAX_LEVELS 60

enum { PI_OK = 0, PI_AMBIGUOUS = 1, PI_BAD_ARGUMENT = 2 };
enum { PHASE_SERIES = 0, PHASE_FINAL = 1, PHASE_CONVERTING = 2 };
#define REPORT_EVERY_SECONDS 1.0
/* The blocks' share of the series' time; merging them takes the rest, reported
 * level by level: 2 of 21 s at 10^8 places, where the threads merge their own
 * blocks; 83 of 371 s at 10^9, where they leave the top merges to one thread. */
#define BLOCKS_SHARE 0.9
#define SPLIT_BLOCKS_SHARE 0.78
/* The final phase's first step, 426880 sqrt(10005) Q, against the division that follows (measured). */
#define PRODUCT_SHARE 0.3

/* Called from the calling thread only, with a phase and the fraction of it done. */
typedef void (*progress_callback)(int phase, double done);

/* What the block threads share with the thread that waits for them. */
typedef struct
{
    int64_t terms_done; /* the series' progress: a depth-first split has done about that share of its work */
    int workers_finished;
} progress_t;

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

static void trace(const char *step, double since)
{
    static int enabled = -1;
    if (enabled < 0)
        enabled = getenv("PI_NATIVE_TRACE") != NULL;
    if (!enabled)
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

/* P, Q, T of the terms [a, b), exactly; P is skipped when no one needs it. */
static void split_exact(fmpz_t P, fmpz_t Q, fmpz_t T, slong a, slong b, int need_p)
{
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
    split_exact(P, Q, T, a, m, 1);
    split_exact(P2, Q2, T2, m, b, need_p);
    fmpz_mul(T, T, Q2);
    fmpz_addmul(T, P, T2);
    fmpz_mul(Q, Q, Q2);
    if (need_p)
        fmpz_mul(P, P, P2);
    fmpz_clear(P2);
    fmpz_clear(Q2);
    fmpz_clear(T2);
}

static void release(arb_t x)
{
    arb_clear(x);
    arb_init(x);
}

/* z = x y to prec bits, as arb_mul, but in pieces of at most LEAN_PRODUCT_BITS:
 * y's midpoint is cut into runs of limbs, each multiplied by x and the
 * products summed as balls; |x| rad(y) is added to the radius at the end. */
static void lean_mul(arb_t z, const arb_t x, const arb_t y, slong prec)
{
    slong xbits = arb_bits(x), ybits = arb_bits(y);
    if (xbits > ybits)
    {
        lean_mul(z, y, x, prec);
        return;
    }
    /* Only a few pieces, each costing a multiplication by x: past 10^9 places, where
     * x alone is larger than the cap, the cap doubles (each piece's FFT is then
     * still one size below the whole product's). */
    slong cap = LEAN_PRODUCT_BITS;
    while (cap - xbits < 64 * FLINT_BITS || ybits / (cap - xbits) >= LEAN_MAX_PIECES)
        cap *= 2;
    if (xbits + ybits <= cap || !arb_is_finite(x) || !arb_is_finite(y) || arf_is_special(arb_midref(y)))
    {
        arb_mul(z, x, y, prec);
        return;
    }
    nn_srcptr limbs;
    slong count;
    ARF_GET_MPN_READONLY(limbs, count, arb_midref(y));
    slong per_piece = (cap - xbits) / FLINT_BITS;
    arb_t sum, term;
    arf_t piece;
    mag_t error;
    fmpz_t shift;
    arb_init(sum);
    arb_init(term);
    arf_init(piece);
    mag_init(error);
    fmpz_init(shift);
    for (slong low = 0; low < count; low += per_piece)
    {
        slong high = FLINT_MIN(count, low + per_piece);
        /* the limbs [low, high) of y's mantissa, at their place: the mantissa is a
         * fraction of `count` limbs times 2^exponent */
        arf_set_mpn(piece, limbs + low, high - low, ARF_SGNBIT(arb_midref(y)));
        fmpz_sub_si(shift, ARF_EXPREF(arb_midref(y)), FLINT_BITS * (count - low));
        arf_mul_2exp_fmpz(piece, piece, shift);
        /* Not arb_addmul_arf, which would spare the term: it adds the product
         * unrounded, and peaked higher (9.8 against 9.4 GB at 10^9 places). */
        arb_mul_arf(term, x, piece, prec);
        arb_add(sum, sum, term, prec);
    }
#ifdef PI_TRACE_PIECES
    fprintf(stderr, "lean_mul: %ld x %ld bits in %ld pieces\n", (long) xbits, (long) ybits, (long) ((count + per_piece - 1) / per_piece));
#endif
    arb_get_mag(error, x);
    mag_mul(error, error, arb_radref(y));
    arb_add_error_mag(sum, error);
    arb_swap(z, sum);
    arb_clear(sum);
    arb_clear(term);
    arf_clear(piece);
    mag_clear(error);
    fmpz_clear(shift);
}

/* z += x y, as arb_addmul, in pieces as lean_mul. */
static void lean_addmul(arb_t z, const arb_t x, const arb_t y, slong prec)
{
    if (arb_bits(x) + arb_bits(y) <= LEAN_PRODUCT_BITS)
    {
        arb_addmul(z, x, y, prec);
        return;
    }
    arb_t product;
    arb_init(product);
    lean_mul(product, x, y, prec);
    arb_add(z, z, product, prec);
    arb_clear(product);
}

typedef struct
{
    arb_t P, Q, T;
    slong a, b;
    int need_p;
} block_t;

/* Merge right into left: the terms [left.a, right.b). Products are rounded to
 * prec bits (with the rounding error in the balls' radii) once they outgrow it. */
static void merge_blocks(block_t *left, block_t *right, slong prec)
{
    /* Each number is freed as soon as it is spent: at the top, each is hundreds of megabytes. */
    lean_mul(left->T, left->T, right->Q, prec);
    lean_addmul(left->T, left->P, right->T, prec);
    release(right->T);
    if (!right->need_p)
        release(left->P);
    lean_mul(left->Q, left->Q, right->Q, prec);
    release(right->Q);
    if (right->need_p)
        lean_mul(left->P, left->P, right->P, prec);
    release(right->P);
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

/* The first worker also computes sqrt(10005). Where the threads leave their top
 * merges to the calling thread (SPLIT_BLOCKS_FROM), it gets this much less of
 * the series' cost, so that they finish together (measured at 10^9 places:
 * 284 s against 268 s with equal shares, 263 s against 277 s with 0.03; the
 * square root's time varies by a third with what the other thread does).
 * Below, cost_before's fit already balances them (17.2 s against 17.3 s at 10^8). */
#define SQRT_COST_SPLIT 0.015

/* The share of the series' cost in the blocks before block `block`: each
 * worker's blocks share its part equally. */
static double share_before(int block, int per_worker, int workers)
{
    if (workers == 1)
        return (double) block / per_worker;
    double sqrt_cost = per_worker > 1 ? SQRT_COST_SPLIT : 0.0;
    double first = (1.0 - (workers - 1) * sqrt_cost) / workers;
    int worker = block / per_worker;
    double start = worker == 0 ? 0.0 : first + (worker - 1) * (first + sqrt_cost);
    double part = worker == 0 ? first : first + sqrt_cost;
    return start + part * (block % per_worker) / per_worker;
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
    arb_mul_fmpz(g, f, &c->power[level - 1], bits_for_digits(count, c->guard));
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
    convert_node(h->conversion, h->f, h->count, h->level, h->out);
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
    double started = seconds_now();

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
        flint_set_num_threads(threads);
        split_digits(c, &part[0], &part[1], places, c->levels);
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
            on_progress(PHASE_CONVERTING, (double) __atomic_load_n(&c->digits_done, __ATOMIC_RELAXED) / places);
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
    /* work that does not depend on the series, done after the block */
    arb_struct *sqrt_out;
    conversion_t *powers_for;
} worker_t;

static void *run_worker(void *arg)
{
    worker_t *w = arg;
    double started = seconds_now();
    /* The work beside the series first, while the other threads' numbers are
     * still small: done last, sqrt(10005)'s Newton steps would hold their FFT
     * scratch beside another thread's top merges (10.2 against 9.5 GB at 10^9). */
    if (w->sqrt_out != NULL)
    {
        arb_sqrt_ui(w->sqrt_out, 10005, w->prec);
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
    trace("series: a thread's blocks", started);
    /* FLINT keeps each thread's FFT scratch (gigabytes at 10^9 places) until
     * told to free it: without this, the blocks' buffers outlive the blocks. */
    flint_cleanup();
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
 * (PHASE_FINAL, after PRODUCT_SHARE): the division by Karp and Markstein that
 * arb_div makes in one call, written with balls, so that each step's result
 * provably holds what it should without FLINT's own error analysis.
 *   u  = 1/y to half the precision (a ball),
 *   q0 = the midpoint of x u, taken as exact,
 *   r  = x - y q0, small: the error of q0, times y,
 *   z  = q0 + r u, which holds q0 + r/y = x/y since u holds 1/y. */
static void divide_reporting(arb_t z, const arb_t x, const arb_t y, slong prec, progress_callback on_progress)
{
    slong half = prec / 2 + 64;
    double steps[] = {0.5, 0.6, 0.9};
    arb_t u, q0, r;
    arb_init(u);
    arb_init(q0);
    arb_init(r);
    arb_set_round(r, y, half);
    arb_inv(u, r, half);
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, PRODUCT_SHARE + (1 - PRODUCT_SHARE) * steps[0]);
    arb_set_round(r, x, half);
    arb_mul(q0, r, u, half);
    mag_zero(arb_radref(q0));
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, PRODUCT_SHARE + (1 - PRODUCT_SHARE) * steps[1]);
    lean_mul(r, y, q0, prec);
    arb_sub(r, x, r, prec);
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, PRODUCT_SHARE + (1 - PRODUCT_SHARE) * steps[2]);
    arb_set_round(r, r, half);
    arb_mul(r, r, u, half);
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
    /* Two blocks a worker from SPLIT_BLOCKS_FROM, twice as many each time the precision doubles again. */
    int per_worker = 1;
    while (prec / per_worker >= SPLIT_BLOCKS_FROM && (per_worker == 1 || prec / per_worker >= 2 * SPLIT_BLOCKS_FROM) &&
           per_worker < MAX_BLOCKS / MAX_THREADS)
        per_worker *= 2;
    /* Milliseconds of work: no threads, no progress reports. */
    int small = terms < 4 * EXACT_BELOW;
    if (small)
        workers = per_worker = 1;
    int blocks = workers * per_worker;
    block_t block[MAX_BLOCKS];
    worker_t work[MAX_THREADS];
    pthread_t thread[MAX_THREADS];
    arb_t root;
    progress_t progress = {0, 0};

    arb_init(root);
    for (int i = 0; i < blocks; i++)
    {
        arb_init(block[i].P);
        arb_init(block[i].Q);
        arb_init(block[i].T);
        block[i].a = i == 0 ? 0 : block[i - 1].b;
        block[i].b = i == blocks - 1 ? terms : balanced_boundary(terms, share_before(i + 1, per_worker, workers));
        block[i].need_p = i != blocks - 1;
    }
    for (int i = 0; i < workers; i++)
    {
        work[i].block = &block[i * per_worker];
        work[i].blocks = per_worker;
        work[i].prec = prec;
        work[i].progress = &progress;
        work[i].sqrt_out = i == 0 ? root : NULL;
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
    double blocks_share = per_worker > 1 ? SPLIT_BLOCKS_SHARE : BLOCKS_SHARE;
    wait_for_blocks(&progress, workers, terms, blocks_share, on_progress);
    for (int i = 0; i < running; i++)
        pthread_join(thread[i], NULL);
    trace("series: blocks", started);

    started = seconds_now();
    flint_set_num_threads(workers);
    int levels = 0, levels_done = 0;
    for (int step = 1; step < blocks; step *= 2)
        levels++;
    for (int step = 1; step < blocks; step *= 2)
    {
        double level_started = seconds_now();
        for (int i = 0; i + step < blocks; i += 2 * step)
            merge_blocks(&block[i], &block[i + step], prec);
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
    arb_get_mag(q, block[0].Q);
    mag_mul(tail, tail, q);
    arb_add_error_mag(block[0].T, tail);

    lean_mul(pi, root, block[0].Q, prec);
    arb_mul_ui(pi, pi, 426880, prec);
    trace("final: times sqrt(10005)", started);
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, PRODUCT_SHARE);
    started = seconds_now();
    divide_reporting(pi, pi, block[0].T, prec, on_progress);
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
}

/* Writes "3" and the first `places` decimal places of pi and a NUL into
 * digits_out (places + 3 bytes: FLINT may ask for one more than it writes),
 * truncated, computed at `prec` bits.
 *
 * hex_out (hex_count + 1 bytes) gets the hexadecimal digits at places
 * hex_position + 1 .. hex_position + hex_count of the computed ball, for the
 * caller's independent check (Bellard's formula), or "" if the ball does not pin them down.
 * on_progress (may be NULL) is called with PHASE_SERIES and the share of the
 * terms summed at the start, every second and after each level of merges; with
 * PHASE_FINAL as it starts, after its product and after each step of the division; with PHASE_CONVERTING and the
 * share of digits written as it starts and every second.
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
    return status;
}
