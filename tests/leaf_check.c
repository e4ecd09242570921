/* Checks compute/pi_native.c's split_exact, whose merges take out the factors
 * P1 and Q2 share, found from factorizations (compute/common_factors.c); built
 * by tests/test_engine_builds.py. Each leaf's P, Q and T must be
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
