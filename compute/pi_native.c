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
 * terms in ball arithmetic. Here the Chudnovsky series is split into one block
 * of equal cost per thread (exact integers up to 4096 terms, balls above), the
 * blocks are merged with FLINT's threaded FFT multiplication, and the steps
 * that do not depend on the series (sqrt(10005), 5^n) run on the thread that
 * would otherwise wait. At 10^8 places on two cores, pi itself takes 15.5 s
 * here against 16.8 s for arb.pi() on the same FLINT, and a whole task 18 s
 * against 20 to 22 s by way of python-flint (README, performance). The series
 * also reports its progress, which arb.pi() cannot.
 *
 *   1/pi = 12 sum_k (-1)^k (6k)! (13591409 + 545140134 k) / ((3k)! (k!)^3 640320^(3k + 3/2))
 *   pi   = 426880 sqrt(10005) Q(0, N) / T(0, N)
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
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
#define MAX_BLOCKS 64

enum { PI_OK = 0, PI_AMBIGUOUS = 1, PI_BAD_ARGUMENT = 2 };
enum { PHASE_SERIES = 0, PHASE_FINAL = 1, PHASE_CONVERTING = 2 };
#define REPORT_EVERY_SECONDS 1.0
/* The blocks' share of the series' time; merging them takes the rest (1.5 of
 * 14 s at 10^8 places), a few FLINT calls that cannot report. */
#define BLOCKS_SHARE 0.9

/* Called from the calling thread only, with a phase and the fraction of it done. */
typedef void (*progress_callback)(int phase, double done);

/* What the block threads share with the thread that waits for them. */
typedef struct
{
    int64_t terms_done; /* the series' progress: a depth-first split has done about that share of its work */
    int blocks_finished;
} progress_t;

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
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
    arb_mul(left->T, left->T, right->Q, prec);
    arb_addmul(left->T, left->P, right->T, prec);
    arb_mul(left->Q, left->Q, right->Q, prec);
    if (right->need_p)
        arb_mul(left->P, left->P, right->P, prec);
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

/* base^exponent by squaring with FLINT's multiplication (fmpz_pow_ui is GMP's,
 * without FLINT's FFT: three times slower at 10^8 digits). */
static void power_by_squaring(fmpz_t result, ulong base, ulong exponent)
{
    fmpz_one(result);
    for (int bit = FLINT_BIT_COUNT(exponent) - 1; bit >= 0; bit--)
    {
        fmpz_mul(result, result, result);
        if ((exponent >> bit) & 1)
            fmpz_mul_ui(result, result, base);
    }
}

typedef struct
{
    block_t *block;
    slong prec;
    progress_t *progress;
    /* work that does not depend on the series, done after the block */
    arb_struct *sqrt_out;
    fmpz *power_out;
    ulong power_exponent;
} worker_t;

static void *run_worker(void *arg)
{
    worker_t *w = arg;
    split_block(w->block, w->prec, w->progress);
    if (w->sqrt_out != NULL)
        arb_sqrt_ui(w->sqrt_out, 10005, w->prec);
    if (w->power_out != NULL)
        power_by_squaring(w->power_out, 5, w->power_exponent);
    /* FLINT keeps each thread's FFT scratch (gigabytes at 10^9 places) until
     * told to free it: without this, the blocks' buffers outlive the blocks. */
    flint_cleanup();
    __atomic_fetch_add(&w->progress->blocks_finished, 1, __ATOMIC_RELEASE);
    return NULL;
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

/* Wait for the block threads, reporting the series' progress meanwhile. */
static void wait_for_blocks(progress_t *progress, int blocks, slong terms, progress_callback on_progress)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    double last_report = seconds_now();
    while (__atomic_load_n(&progress->blocks_finished, __ATOMIC_ACQUIRE) < blocks)
    {
        nanosleep(&pause, NULL);
        if (on_progress != NULL && seconds_now() - last_report >= REPORT_EVERY_SECONDS)
        {
            on_progress(PHASE_SERIES,
                        BLOCKS_SHARE * __atomic_load_n(&progress->terms_done, __ATOMIC_RELAXED) / terms);
            last_report = seconds_now();
        }
    }
}

/* pi to prec bits, as a ball; sets *power to 5^places on the way. */
static void pi_ball(arb_t pi, fmpz_t power, slong places, slong prec, int threads, progress_callback on_progress)
{
    slong terms = (prec + 2 * BITS_PER_TERM) / BITS_PER_TERM + 1;
    int blocks = threads < 1 ? 1 : (threads > MAX_BLOCKS ? MAX_BLOCKS : threads);
    /* Milliseconds of work: no threads, no progress reports. */
    int small = terms < 4 * EXACT_BELOW;
    if (small)
        blocks = 1;
    block_t block[MAX_BLOCKS];
    worker_t work[MAX_BLOCKS];
    pthread_t thread[MAX_BLOCKS];
    arb_t root;
    progress_t progress = {0, 0};

    arb_init(root);
    for (int i = 0; i < blocks; i++)
    {
        arb_init(block[i].P);
        arb_init(block[i].Q);
        arb_init(block[i].T);
        block[i].a = i == 0 ? 0 : block[i - 1].b;
        block[i].b = i == blocks - 1 ? terms : balanced_boundary(terms, (double) (i + 1) / blocks);
        block[i].need_p = i != blocks - 1;
        work[i].block = &block[i];
        work[i].prec = prec;
        work[i].progress = &progress;
        work[i].sqrt_out = i == 0 ? root : NULL;
        work[i].power_out = i == (blocks > 1 ? 1 : 0) ? power : NULL;
        work[i].power_exponent = places;
    }
    /* Every block gets a thread of its own, which runs FLINT single-threaded
     * (what the blocks want), and this thread reports progress meanwhile. */
    int old_threads = flint_get_num_threads();
    int running = 0;
    flint_set_num_threads(1);
    while (!small && running < blocks && pthread_create(&thread[running], NULL, run_worker, &work[running]) == 0)
        running++;
    for (int i = running; i < blocks; i++)
        run_worker(&work[i]); /* no thread to spare: do it here */
    wait_for_blocks(&progress, blocks, terms, on_progress);
    for (int i = 0; i < running; i++)
        pthread_join(thread[i], NULL);

    flint_set_num_threads(blocks);
    for (int step = 1; step < blocks; step *= 2)
        for (int i = 0; i + step < blocks; i += 2 * step)
            merge_blocks(&block[i], &block[i + step], prec);
    if (on_progress != NULL)
        on_progress(PHASE_FINAL, 0.0);

    /* The terms left out: T/Q is off by less than the tail, so widen T by tail * Q. */
    mag_t tail, q;
    mag_init(tail);
    mag_init(q);
    mag_set_ui(tail, TERM_A + TERM_B * (ulong) terms);
    mag_mul_2exp_si(tail, tail, 1 - BITS_PER_TERM * terms);
    arb_get_mag(q, block[0].Q);
    mag_mul(tail, tail, q);
    arb_add_error_mag(block[0].T, tail);

    arb_mul(pi, root, block[0].Q, prec);
    arb_mul_ui(pi, pi, 426880, prec);
    arb_div(pi, pi, block[0].T, prec);

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
 * terms summed at the start and then every second, and with PHASE_FINAL and
 * PHASE_CONVERTING as those steps start.
 *
 * Returns PI_OK, or PI_AMBIGUOUS if the ball straddles an integer (nothing
 * written: retry with a higher prec). */
int pi_native_digits(int64_t places, int64_t prec, int threads, int64_t hex_position, int hex_count,
                     char *digits_out, char *hex_out, progress_callback on_progress)
{
    arb_t pi, scaled;
    fmpz_t power, digits;
    int status = PI_OK;

    if (places < 1 || prec < 64 || hex_count < 1 || hex_count > 15 || hex_position < 0)
        return PI_BAD_ARGUMENT;
    if (on_progress != NULL)
        on_progress(PHASE_SERIES, 0.0);
    arb_init(pi);
    arb_init(scaled);
    fmpz_init(power);
    fmpz_init(digits);
    pi_ball(pi, power, places, prec, threads, on_progress);

    int old_threads = flint_get_num_threads();
    flint_set_num_threads(threads < 1 ? 1 : threads);
    hex_out[0] = '\0';
    arb_mul_2exp_si(scaled, pi, 4 * (hex_position + hex_count));
    if (unique_floor(digits, scaled))
    {
        fmpz_t modulus;
        fmpz_init(modulus);
        fmpz_set_ui(modulus, UWORD(1) << (4 * hex_count));
        fmpz_fdiv_r(digits, digits, modulus);
        ulong value = fmpz_get_ui(digits);
        for (int i = hex_count - 1; i >= 0; i--, value >>= 4)
            hex_out[i] = "0123456789abcdef"[value & 15];
        hex_out[hex_count] = '\0';
        fmpz_clear(modulus);
    }
    /* 10^n = 5^n 2^n: the power of two is free. */
    arb_mul_fmpz(scaled, pi, power, prec);
    arb_mul_2exp_si(scaled, scaled, places);
    arb_clear(pi); /* the largest numbers left: free them before the conversion */
    fmpz_clear(power);
    if (!unique_floor(digits, scaled))
        status = PI_AMBIGUOUS;
    arb_clear(scaled);

    if (status == PI_OK)
    {
        if (on_progress != NULL)
            on_progress(PHASE_CONVERTING, 0.0);
        if (fmpz_sizeinbase(digits, 10) > (size_t) places + 2)
            status = PI_AMBIGUOUS; /* cannot happen for pi; never overrun the buffer */
        else
            fmpz_get_str(digits_out, 10, digits);
    }
    flint_set_num_threads(old_threads);
    fmpz_clear(digits);
    flint_cleanup(); /* this thread's FFT scratch too: the caller goes on with gigabytes of digits */
    return status;
}
