/* Checks compute/pi_native.c's capped_mul, capped_addmul, capped_sqrt_ui and capped_inv against FLINT's exact
 * arithmetic, built by tests/test_engine_builds.py with a tiny cap so that every
 * product is made in pieces. Prints one line per failure and "checked N" at the end. */
#include "../compute/pi_native.c"

int main(void)
{
    flint_rand_t state;
    arb_t x, y, z, exact;
    int failures = 0, checked = 0;
    flint_rand_init(state);
    arb_init(x);
    arb_init(y);
    arb_init(z);
    arb_init(exact);
    for (int i = 0; i < 300; i++)
    {
        slong xbits = 2000 + n_randint(state, 60000), ybits = 2000 + n_randint(state, 60000);
        slong prec = 1000 + n_randint(state, 80000);
        /* full-length mantissas, of either sign and any scale */
        arb_urandom(x, state, xbits);
        arb_urandom(y, state, ybits);
        arb_mul_2exp_si(x, x, (slong) n_randint(state, 200) - 100);
        if (n_randint(state, 2))
            arb_neg(y, y);
        if (n_randint(state, 2))
            mag_set_ui_2exp_si(arb_radref(x), 1, -xbits);
        if (n_randint(state, 2))
            mag_set_ui_2exp_si(arb_radref(y), 1, -ybits);
        /* the exact product of the midpoints must lie in the ball, and the ball be barely wider than arb_mul's */
        capped_mul(z, x, y, prec);
        arf_mul(arb_midref(exact), arb_midref(x), arb_midref(y), ARF_PREC_EXACT, ARF_RND_DOWN);
        mag_zero(arb_radref(exact));
        if (!arb_contains(z, exact))
        {
            printf("capped_mul: %ld x %ld bits at %ld: the exact product is outside\n", xbits, ybits, prec);
            failures++;
        }
        /* no wider than arb_mul's ball by more than a factor 16 and a few units in the last place */
        arb_mul(exact, x, y, prec);
        mag_t allowed;
        mag_init(allowed);
        mag_mul_2exp_si(allowed, arb_radref(exact), 4);
        arf_mag_add_ulp(allowed, allowed, arb_midref(exact), prec - 4);
        if (mag_cmp(arb_radref(z), allowed) > 0)
        {
            printf("capped_mul: %ld x %ld bits at %ld: the ball is far wider than arb_mul's\n", xbits, ybits, prec);
            failures++;
        }
        mag_clear(allowed);
        checked++;
    }
    /* capped_addmul: z + x y, z of either sign, far below x y (cut off), at its scale, nearly
     * cancelling it, or above its limbs (FLINT's addition then); z's radius kept */
    for (int i = 0; i < 300; i++)
    {
        slong xbits = 2000 + n_randint(state, 60000), ybits = 2000 + n_randint(state, 60000);
        slong zbits = 1000 + n_randint(state, 120000), prec = 1000 + n_randint(state, 80000);
        arb_urandom(x, state, xbits);
        arb_urandom(y, state, ybits);
        if (n_randint(state, 2))
            arb_neg(y, y);
        if (n_randint(state, 2))
            mag_set_ui_2exp_si(arb_radref(y), 1, -ybits);
        if (i % 5 == 1) /* all exact, x y kept whole: only z's bits below x y's are cut, and must be in the radius */
        {
            prec = xbits + ybits + 1000;
            zbits = xbits + ybits + 200;
            mag_zero(arb_radref(x));
            mag_zero(arb_radref(y));
            arb_urandom(z, state, zbits);
            arb_mul_2exp_si(z, z, -50);
        }
        else if (i % 5 == 0) /* -x y but for its last bits: the sum is far smaller than either */
        {
            zbits = (xbits + ybits) / 2;
            arb_mul(z, x, y, zbits);
            arb_neg(z, z);
            mag_zero(arb_radref(z));
        }
        else
        {
            arb_urandom(z, state, zbits);
            arb_mul_2exp_si(z, z, (slong) n_randint(state, prec + 300) - prec - 290);
            if (n_randint(state, 2))
                arb_neg(z, z);
        }
        if (n_randint(state, 2) && i % 5 != 1)
            mag_set_ui_2exp_si(arb_radref(z), 1, -zbits);
        arb_set(exact, z);
        mag_zero(arb_radref(exact));
        arf_addmul(arb_midref(exact), arb_midref(x), arb_midref(y), ARF_PREC_EXACT, ARF_RND_DOWN);
        /* no wider than arb_addmul's ball by more than a factor 16 and a few units in
         * prec's last place of the larger term (where the terms cancel, both are far wider than the sum) */
        arb_t expected;
        mag_t allowed, term;
        arb_init(expected);
        mag_init(allowed);
        mag_init(term);
        arb_set(expected, z);
        arb_addmul(expected, x, y, prec);
        arf_get_mag(allowed, arb_midref(x));
        arf_get_mag(term, arb_midref(y));
        mag_mul(allowed, allowed, term);
        arf_get_mag(term, arb_midref(z));
        mag_max(allowed, allowed, term);
        mag_mul_2exp_si(allowed, allowed, 4 - prec);
        mag_mul_2exp_si(term, arb_radref(expected), 4);
        mag_add(allowed, allowed, term);
        mag_clear(term);
        capped_addmul(z, x, y, prec);
        if (!arb_contains(z, exact))
        {
            printf("capped_addmul: %ld x %ld bits at %ld: the exact sum is outside\n", xbits, ybits, prec);
            failures++;
        }
        if (mag_cmp(arb_radref(z), allowed) > 0)
        {
            printf("capped_addmul: %ld x %ld bits at %ld: the ball is far wider than arb_addmul's\n", xbits, ybits,
                   prec);
            failures++;
        }
        mag_clear(allowed);
        arb_clear(expected);
        checked++;
    }
    for (slong prec = 100000; prec <= 2000000; prec *= 3)
    {
        arb_t root, square;
        arb_init(root);
        arb_init(square);
        capped_sqrt_ui(root, 10005, prec, NULL, 0.0);
        arb_sqr(square, root, 2 * prec + 64);
        if (!arb_contains_si(square, 10005) || arb_rel_accuracy_bits(root) < prec - 4)
        {
            printf("capped_sqrt_ui at %ld: the ball misses sqrt(10005) or is too wide\n", prec);
            failures++;
        }
        arb_clear(root);
        arb_clear(square);
        checked++;
    }
    /* capped_inv: 1/y in the ball, for every y of a ball with or without a radius, as accurate as arb_inv's */
    for (int i = 0; i < 12; i++)
    {
        slong prec = 100000 + n_randint(state, 1000000);
        arb_t inverse, product;
        arb_init(inverse);
        arb_init(product);
        arb_urandom(y, state, prec + 100);
        arb_add_ui(y, y, 1 + n_randint(state, 1000), prec + 100);
        if (i % 2)
            arb_neg(y, y);
        if (i % 3 == 0)
            mag_set_ui_2exp_si(arb_radref(y), 1, -prec);
        arb_mul_2exp_si(y, y, (slong) n_randint(state, 200) - 100);
        capped_inv(inverse, y, prec, NULL, 0.0, 0.0);
        /* the exact y mid times the ball must hold 1 */
        arb_set(x, y);
        mag_zero(arb_radref(x));
        arb_mul(product, x, inverse, 2 * prec + 64);
        arb_inv(exact, y, prec);
        if (!arb_contains_si(product, 1) || arb_rel_accuracy_bits(inverse) < arb_rel_accuracy_bits(exact) - 4)
        {
            printf("capped_inv at %ld: the ball misses 1/y or is too wide (%ld against %ld bits)\n", prec,
                   arb_rel_accuracy_bits(inverse), arb_rel_accuracy_bits(exact));
            failures++;
        }
        arb_clear(inverse);
        arb_clear(product);
        checked++;
    }
    printf("checked %d\n", checked);
    arb_clear(x);
    arb_clear(y);
    arb_clear(z);
    arb_clear(exact);
    flint_rand_clear(state);
    flint_cleanup_master();
    return failures != 0;
}
