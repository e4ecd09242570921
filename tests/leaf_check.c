/* Checks compute/pi_native.c's split_plain on small ranges (in limbs on the
 * stack, split_small) against the series' own definition, and its split_exact,
 * whose merges take out the factors P1 and Q2 share, found from factorizations
 * (compute/common_factors.c); built by tests/test_engine_builds.py. Each small
 * range's P, Q and T must be those of the definition:
 *   P = p_a ... p_(b-1), Q = q_a ... q_(b-1),
 *   T = sum over k of (A + B k) p_a ... p_k q_(k+1) ... q_(b-1).
 * Each leaf's P, Q and T must be
 * - the plain ones (split_plain, which takes out nothing) divided by one
 *   integer, so that T/Q and P/Q, all the series needs, are the same;
 * - the same as those of the same merges taking out gcd(P1, Q2) computed
 *   from the numbers themselves (below): the factorizations miss nothing.
 * Prints one line per failure and "checked N" at the end. */
#include "../compute/pi_native.c"

static int failures = 0, checked = 0;

/* split_plain, where merges of REMOVE_FROM_TERMS terms and more take out gcd(P1, Q2). */
static void split_by_gcd(fmpz_t P, fmpz_t Q, fmpz_t T, slong a, slong b)
{
    if (b - a < REMOVE_FROM_TERMS)
    {
        split_plain(P, Q, T, a, b, 1);
        return;
    }
    slong m = a + (b - a) / 2;
    fmpz_t P2, Q2, T2, common;
    fmpz_init(P2);
    fmpz_init(Q2);
    fmpz_init(T2);
    fmpz_init(common);
    split_by_gcd(P, Q, T, a, m);
    split_by_gcd(P2, Q2, T2, m, b);
    fmpz_gcd(common, P, Q2);
    fmpz_divexact(P, P, common);
    fmpz_divexact(Q2, Q2, common);
    fmpz_mul(T, T, Q2);
    fmpz_addmul(T, P, T2);
    fmpz_mul(Q, Q, Q2);
    fmpz_mul(P, P, P2);
    fmpz_clear(P2);
    fmpz_clear(Q2);
    fmpz_clear(T2);
    fmpz_clear(common);
}

/* p_k, q_k as the series defines them (term 0: p = q = 1) */
static void term(fmpz_t p, fmpz_t q, slong k)
{
    if (k == 0)
    {
        fmpz_one(p);
        fmpz_one(q);
        return;
    }
    fmpz_set_si(p, -(6 * k - 5));
    fmpz_mul_si(p, p, 2 * k - 1);
    fmpz_mul_si(p, p, 6 * k - 1);
    fmpz_set_si(q, k);
    fmpz_pow_ui(q, q, 3);
    fmpz_mul_ui(q, q, Q_CONSTANT);
}

static void check_small_range(slong a, slong b, int need_p)
{
    fmpz_t P, Q, T, p, q, product, expected_P, expected_Q, expected_T;
    fmpz_init(P);
    fmpz_init(Q);
    fmpz_init(T);
    fmpz_init(p);
    fmpz_init(q);
    fmpz_init(product);
    fmpz_init(expected_P);
    fmpz_init(expected_Q);
    fmpz_init(expected_T);
    split_plain(P, Q, T, a, b, need_p);
    fmpz_one(expected_P);
    fmpz_one(expected_Q);
    for (slong k = a; k < b; k++)
    {
        term(p, q, k);
        fmpz_mul(expected_P, expected_P, p);
        fmpz_mul(expected_Q, expected_Q, q);
        fmpz_set(product, expected_P); /* p_a ... p_k */
        for (slong j = k + 1; j < b; j++)
        {
            term(p, q, j);
            fmpz_mul(product, product, q);
        }
        fmpz_mul_ui(product, product, TERM_A + TERM_B * (ulong) k);
        fmpz_add(expected_T, expected_T, product);
    }
    if (!fmpz_equal(Q, expected_Q) || !fmpz_equal(T, expected_T) || (need_p && !fmpz_equal(P, expected_P)))
    {
        printf("small range [%ld, %ld) need_p %d: P %s, Q %s, T %s\n", a, b, need_p,
               fmpz_equal(P, expected_P) ? "same" : "WRONG", fmpz_equal(Q, expected_Q) ? "same" : "WRONG",
               fmpz_equal(T, expected_T) ? "same" : "WRONG");
        failures++;
    }
    checked++;
    fmpz_clear(P);
    fmpz_clear(Q);
    fmpz_clear(T);
    fmpz_clear(p);
    fmpz_clear(q);
    fmpz_clear(product);
    fmpz_clear(expected_P);
    fmpz_clear(expected_Q);
    fmpz_clear(expected_T);
}

/* small_add on signed numbers of either size and sign (the series itself only
 * ever adds the smaller magnitude), against fmpz_add */
static void check_small_add(flint_rand_t state)
{
    fmpz_t x, y, sum, found, magnitude;
    fmpz_init(x);
    fmpz_init(y);
    fmpz_init(sum);
    fmpz_init(found);
    fmpz_init(magnitude);
    for (int i = 0; i < 200; i++)
    {
        small_t a, b;
        fmpz_randtest(x, state, 64 * (1 + i % 5));
        fmpz_randtest(y, state, 64 * (1 + i / 5 % 5));
        if (i % 7 == 0)
            fmpz_neg(y, x); /* a sum of zero */
        const fmpz *both[2] = {x, y};
        small_t *into[2] = {&a, &b};
        for (int j = 0; j < 2; j++)
        {
            into[j]->n = fmpz_size(both[j]);
            into[j]->negative = fmpz_sgn(both[j]) < 0;
            fmpz_abs(magnitude, both[j]);
            fmpz_get_ui_array(into[j]->limbs, FLINT_MAX(into[j]->n, 1), magnitude);
        }
        small_add(&a, &b);
        set_small(found, &a);
        fmpz_add(sum, x, y);
        /* (the sum's size must count no zero limb on top: small_add compares sizes) */
        if (!fmpz_equal(found, sum) || (a.n > 0 && a.limbs[a.n - 1] == 0))
        {
            printf("small_add: wrong for sizes %ld and %ld\n", (long) fmpz_size(x), (long) fmpz_size(y));
            failures++;
        }
        checked++;
    }
    fmpz_clear(x);
    fmpz_clear(y);
    fmpz_clear(sum);
    fmpz_clear(found);
    fmpz_clear(magnitude);
}

static void check_leaf(slong a, slong b, int need_p)
{
    fmpz_t P, Q, T, reduced_P, reduced_Q, reduced_T, scale, scaled, gcd_P, gcd_Q, gcd_T;
    fmpz_init(gcd_P);
    fmpz_init(gcd_Q);
    fmpz_init(gcd_T);
    fmpz_init(P);
    fmpz_init(Q);
    fmpz_init(T);
    fmpz_init(reduced_P);
    fmpz_init(reduced_Q);
    fmpz_init(reduced_T);
    fmpz_init(scale);
    fmpz_init(scaled);
    split_plain(P, Q, T, a, b, need_p);
    split_exact(reduced_P, reduced_Q, reduced_T, a, b, need_p);
    int divides = fmpz_divisible(Q, reduced_Q);
    fmpz_divexact(scale, Q, reduced_Q);
    fmpz_mul(scaled, reduced_T, scale);
    int same_t = divides && fmpz_equal(scaled, T);
    fmpz_mul(scaled, reduced_P, scale);
    int same_p = !need_p || (divides && fmpz_equal(scaled, P));
    split_by_gcd(gcd_P, gcd_Q, gcd_T, a, b);
    int as_gcd = fmpz_equal(gcd_Q, reduced_Q) && fmpz_equal(gcd_T, reduced_T) && (!need_p || fmpz_equal(gcd_P, reduced_P));
    if (!(same_t && same_p && as_gcd))
    {
        printf("[%ld, %ld) need_p %d: Q divisible %d, T %s, P %s, %s by gcd (Q %.1f%% shorter, %.1f%% by gcd)\n", a, b,
               need_p, divides, same_t ? "same" : "WRONG", same_p ? "same" : "WRONG", as_gcd ? "as" : "NOT as",
               100 * (1.0 - (double) fmpz_bits(reduced_Q) / fmpz_bits(Q)),
               100 * (1.0 - (double) fmpz_bits(gcd_Q) / fmpz_bits(Q)));
        failures++;
    }
    checked++;
    fmpz_clear(P);
    fmpz_clear(Q);
    fmpz_clear(T);
    fmpz_clear(reduced_P);
    fmpz_clear(reduced_Q);
    fmpz_clear(reduced_T);
    fmpz_clear(scale);
    fmpz_clear(scaled);
    fmpz_clear(gcd_P);
    fmpz_clear(gcd_Q);
    fmpz_clear(gcd_T);
}

int main(void)
{
    /* every size split_small takes and one more, from the first term, from small
     * k, from 10^8 places and on both sides of SMALL_BELOW (above it, FLINT's integers) */
    flint_rand_t state;
    flint_rand_init(state);
    check_small_add(state);
    flint_rand_clear(state);
    slong starts[] = {0, 1, 7, 3500000, SMALL_BELOW - 2 * SMALL_TERMS, SMALL_BELOW - 5, SMALL_BELOW};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
        for (slong size = 1; size <= SMALL_TERMS + 1; size++)
            for (int need_p = 0; need_p <= 1; need_p++)
                check_small_range(starts[i], starts[i] + size, need_p);
    /* the first leaf (term 0 has P = Q = 1), leaves too small to take anything
     * out, uneven splits, and leaves from 10^8 and 3 x 10^9 places (6k - 1 near 2^30) */
    slong leaves[][2] = {{0, EXACT_BELOW}, {1, EXACT_BELOW + 1}, {0, REMOVE_FROM_TERMS - 1}, {0, REMOVE_FROM_TERMS},
                         {100, 1200}, {5, 3005}, {4095, 4095 + EXACT_BELOW}, {3500000, 3500000 + EXACT_BELOW},
                         {7000000, 7002049}, {212000000, 212000000 + EXACT_BELOW}};
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
        for (int need_p = 0; need_p <= 1; need_p++)
            check_leaf(leaves[i][0], leaves[i][1], need_p);
    printf("checked %d\n", checked);
    flint_cleanup();
    return failures != 0;
}
