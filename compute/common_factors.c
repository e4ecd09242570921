/* The series' exact leaves without the factors their numbers share
 * (included by compute/pi_native.c).
 *
 * A merge makes T = T1 Q2 + P1 T2, Q = Q1 Q2 and P = P1 P2. Whatever d divides
 * both P1 and Q2 can be taken out of both first: T/Q and P/Q, all the series
 * needs, stay the same. P1 holds the terms' (6k-5)(2k-1)(6k-1) and Q2 their
 * k^3 640320^3/24, and much of the one divides the other. Taken out in the
 * merges of 512 terms and more, the Q leaving a leaf of 4,096 terms is 20 to 30%
 * shorter, and every merge above the leaves smaller (as in Hanhong Xue's
 * gmp-chudnovsky, which takes them out in every merge): at 10^8 places the
 * whole computation took 9% less time (tests/leaf_check.c checks the numbers).
 *
 * d is found from the numbers' factorizations, kept over the primes below
 * FACTOR_PRIMES_BELOW: a prime that divides a left term's p and a right term's
 * q divides 6(k-j)+1, 2(k-j)+1, 6(k-j)+5 or their q constant's primes, all
 * below 6 EXACT_BELOW + 6 within a leaf. (Missing a prime would only leave a
 * factor in; the factorizations are exact for the primes they keep.)
 */
#include "flint/fmpz_vec.h"
#include "flint/ulong_extras.h"

#define FACTOR_PRIMES_BELOW (6 * EXACT_BELOW + 8)

typedef struct
{
    uint32_t prime, exponent;
} prime_power_t;

/* Prime powers in increasing order of prime. */
typedef struct
{
    prime_power_t *powers;
    slong length;
} factored_t;

static uint32_t factor_primes[FACTOR_PRIMES_BELOW];
static uint32_t inverse_of_2[FACTOR_PRIMES_BELOW], inverse_of_6[FACTOR_PRIMES_BELOW]; /* mod each prime */
static slong factor_prime_count;
static pthread_once_t factor_primes_made = PTHREAD_ONCE_INIT;

static void make_factor_primes(void)
{
    char *composite = calloc(FACTOR_PRIMES_BELOW, 1);
    for (ulong n = 2; n < FACTOR_PRIMES_BELOW; n++)
    {
        if (composite[n])
            continue;
        for (ulong m = n * n; m < FACTOR_PRIMES_BELOW; m += n)
            composite[m] = 1;
        slong i = factor_prime_count++;
        factor_primes[i] = (uint32_t) n;
        inverse_of_2[i] = n > 2 ? (uint32_t) n_invmod(2, n) : 0;
        inverse_of_6[i] = n > 3 ? (uint32_t) n_invmod(6 % n, n) : 0; /* (n_invmod wants 6 reduced, for n = 5) */
    }
    free(composite);
}

/* Below this many terms a merge takes nothing out: the numbers leaving a leaf
 * of 4,096 terms are 23.5% smaller with every merge of 512 terms and more
 * taking out their common factors, 24.0% with every merge (simulated, terms
 * from 3.5 x 10^6); the bookkeeping of the small ones would cost more. */
#ifndef REMOVE_FROM_TERMS
#define REMOVE_FROM_TERMS 512
#endif
#define MAX_BASE_NODES (2 * EXACT_BELOW / REMOVE_FROM_TERMS)

/* A range split_reduced does not split further, with the factorizations of its P and Q. */
typedef struct
{
    slong a, b;
    factored_t p, q;
} base_node_t;

typedef struct
{
    base_node_t node[MAX_BASE_NODES];
    slong count, next; /* next: the node split_reduced reaches next, as it goes left to right */
} leaf_factors_t;

static void collect_base_nodes(leaf_factors_t *leaf, slong a, slong b)
{
    if (b - a < REMOVE_FROM_TERMS)
    {
        leaf->node[leaf->count++] = (base_node_t) {a, b, {NULL, 0}, {NULL, 0}};
        return;
    }
    slong m = a + (b - a) / 2;
    collect_base_nodes(leaf, a, m);
    collect_base_nodes(leaf, m, b);
}

static void append_power(factored_t *x, uint32_t prime, uint32_t exponent)
{
    if (exponent > 0)
        x->powers[x->length++] = (prime_power_t) {prime, exponent};
}

/* The exponent of prime in c k - r, added to its base node's sum, for every k of
 * the leaf that prime divides at c k - r (an arithmetic progression, from k0 = r / c mod prime). */
static void sieve_progression(uint32_t *sums, const uint8_t *node_of, slong a, slong b, uint32_t prime, ulong k0,
                              ulong c, ulong r, uint32_t multiplicity)
{
    ulong first = a + (k0 + prime - (ulong) a % prime) % prime;
    for (ulong k = first; k < (ulong) b; k += prime)
    {
        ulong value = c * k - r;
        uint32_t exponent = 0;
        do
        {
            value /= prime;
            exponent++;
        } while (value % prime == 0);
        sums[node_of[k - a]] += multiplicity * exponent;
    }
}

/* q's constant 640320^3 / 24 = 2^15 3^2 5^3 23^3 29^3 */
static uint32_t q_constant_exponent(uint32_t prime)
{
    switch (prime)
    {
    case 2: return 15;
    case 3: return 2;
    case 5: return 3;
    case 23: return 3;
    case 29: return 3;
    default: return 0;
    }
}

/* The base nodes of the leaf [a, b) and the factorizations of their P and Q,
 * prime by prime, so that each list comes out in order. */
static void factor_leaf(leaf_factors_t *leaf, slong a, slong b)
{
    pthread_once(&factor_primes_made, make_factor_primes);
    leaf->count = leaf->next = 0;
    collect_base_nodes(leaf, a, b);
    slong first_term = FLINT_MAX(a, 1); /* term 0 has P = Q = 1 */
    uint8_t *node_of = flint_malloc(FLINT_MAX(b - first_term, 1));
    for (slong i = 0; i < leaf->count; i++)
    {
        base_node_t *node = &leaf->node[i];
        for (slong k = FLINT_MAX(node->a, first_term); k < node->b; k++)
            node_of[k - first_term] = (uint8_t) i;
        node->p.powers = flint_malloc(factor_prime_count * sizeof(prime_power_t));
        node->q.powers = flint_malloc(factor_prime_count * sizeof(prime_power_t));
    }
    uint32_t p_sums[MAX_BASE_NODES], q_sums[MAX_BASE_NODES];
    for (slong i = 0; i < factor_prime_count; i++)
    {
        uint32_t prime = factor_primes[i];
        memset(p_sums, 0, sizeof(p_sums));
        memset(q_sums, 0, sizeof(q_sums));
        uint32_t constant = q_constant_exponent(prime);
        for (slong j = 0; j < leaf->count; j++)
            q_sums[j] = constant * (leaf->node[j].b - FLINT_MAX(leaf->node[j].a, first_term));
        sieve_progression(q_sums, node_of, first_term, b, prime, 0, 1, 0, 3); /* k^3 */
        /* p = (6k-5)(2k-1)(6k-1): 2k - 1 is odd, 6k -+ 1 prime to 6 */
        if (prime > 2)
            sieve_progression(p_sums, node_of, first_term, b, prime, inverse_of_2[i], 2, 1, 1);
        if (prime > 3)
        {
            sieve_progression(p_sums, node_of, first_term, b, prime, (5 * (ulong) inverse_of_6[i]) % prime, 6, 5, 1);
            sieve_progression(p_sums, node_of, first_term, b, prime, inverse_of_6[i], 6, 1, 1);
        }
        for (slong j = 0; j < leaf->count; j++)
        {
            append_power(&leaf->node[j].p, prime, p_sums[j]);
            append_power(&leaf->node[j].q, prime, q_sums[j]);
        }
    }
    flint_free(node_of);
}

static void clear_factored(factored_t *x)
{
    flint_free(x->powers);
    x->powers = NULL;
    x->length = 0;
}

/* x = x y, y cleared. */
static void multiply_factored(factored_t *x, factored_t *y)
{
    prime_power_t *out = flint_malloc(FLINT_MAX(x->length + y->length, 1) * sizeof(prime_power_t));
    slong i = 0, j = 0, n = 0;
    while (i < x->length || j < y->length)
    {
        if (j == y->length || (i < x->length && x->powers[i].prime < y->powers[j].prime))
            out[n++] = x->powers[i++];
        else if (i == x->length || y->powers[j].prime < x->powers[i].prime)
            out[n++] = y->powers[j++];
        else
        {
            out[n] = x->powers[i++];
            out[n++].exponent += y->powers[j++].exponent;
        }
    }
    flint_free(x->powers);
    x->powers = out;
    x->length = n;
    clear_factored(y);
}

/* d = gcd of the factored parts of x and y, taken out of both lists. */
static void take_out_common(fmpz_t d, factored_t *x, factored_t *y)
{
    slong n = 0, room = 64;
    ulong *words = flint_malloc(room * sizeof(ulong));
    ulong word = 1;
    slong i = 0, j = 0, nx = 0, ny = 0;
    while (i < x->length && j < y->length)
    {
        if (x->powers[i].prime < y->powers[j].prime)
            x->powers[nx++] = x->powers[i++];
        else if (y->powers[j].prime < x->powers[i].prime)
            y->powers[ny++] = y->powers[j++];
        else
        {
            uint32_t prime = x->powers[i].prime;
            uint32_t common = FLINT_MIN(x->powers[i].exponent, y->powers[j].exponent);
            for (uint32_t e = 0; e < common; e++)
            {
                if (word > UWORD_MAX / prime)
                {
                    if (n + 1 == room)
                        words = flint_realloc(words, (room *= 2) * sizeof(ulong));
                    words[n++] = word;
                    word = 1;
                }
                word *= prime;
            }
            x->powers[i].exponent -= common;
            y->powers[j].exponent -= common;
            if (x->powers[i].exponent > 0)
                x->powers[nx++] = x->powers[i];
            if (y->powers[j].exponent > 0)
                y->powers[ny++] = y->powers[j];
            i++;
            j++;
        }
    }
    while (i < x->length)
        x->powers[nx++] = x->powers[i++];
    while (j < y->length)
        y->powers[ny++] = y->powers[j++];
    x->length = nx;
    y->length = ny;
    words[n++] = word;
    _fmpz_ui_vec_prod(d, words, n); /* balanced: one by one would cost the square of d's length */
    flint_free(words);
}
