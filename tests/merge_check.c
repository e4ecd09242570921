/* Checks compute/pi_native.c's merge_sharing_transforms (compute/shared_transforms.c)
 * against FLINT's own products, built by tests/test_engine_builds.py. Each merge
 * must give T1 Q2 + P1 T2, Q1 Q2 and P1 P2 exactly, or, rounded, balls that hold
 * them (merge_blocks, around it, frees what is spent: the digits tests cover that).
 * Prints one line per failure and "checked N" at the end. */
#include "../compute/pi_native.c"

static int failures = 0, checked = 0;

/* The merge of left and right by FLINT's exact products. */
static void expected_merge(arb_t P, arb_t Q, arb_t T, const block_t *left, const block_t *right)
{
    arb_mul(T, left->T, right->Q, ARF_PREC_EXACT);
    arb_addmul(T, left->P, right->T, ARF_PREC_EXACT);
    arb_mul(Q, left->Q, right->Q, ARF_PREC_EXACT);
    arb_mul(P, left->P, right->P, ARF_PREC_EXACT);
}

static void init_block(block_t *x)
{
    arb_init(x->P);
    arb_init(x->Q);
    arb_init(x->T);
}

static void copy_block(block_t *to, const block_t *from)
{
    init_block(to);
    arb_set(to->P, from->P);
    arb_set(to->Q, from->Q);
    arb_set(to->T, from->T);
    to->a = from->a;
    to->b = from->b;
    to->need_p = from->need_p;
}

static void clear_block(block_t *x)
{
    arb_clear(x->P);
    arb_clear(x->Q);
    arb_clear(x->T);
}

/* Merge copies of left and right at prec (exact if prec is ARF_PREC_EXACT) and compare. */
static void check_merge(const char *what, const block_t *left, const block_t *right, slong prec)
{
    block_t l, r;
    arb_t P, Q, T;
    copy_block(&l, left);
    copy_block(&r, right);
    arb_init(P);
    arb_init(Q);
    arb_init(T);
    expected_merge(P, Q, T, left, right);
    int exact = prec == ARF_PREC_EXACT;
    if (!merge_sharing_transforms(&l, &r, prec))
    {
        printf("%s: not merged\n", what);
        failures++;
    }
    else if (exact ? !arb_equal(l.T, T) || !arb_equal(l.Q, Q) : !arb_contains(l.T, T) || !arb_contains(l.Q, Q) ||
                                                                 arb_rel_accuracy_bits(l.T) < prec - 2 ||
                                                                 arb_rel_accuracy_bits(l.Q) < prec - 2)
    {
        printf("%s%s: T or Q wrong\n", what, exact ? "" : ", rounded");
        failures++;
    }
    else if (right->need_p && (exact ? !arb_equal(l.P, P) : !arb_contains(l.P, P)))
    {
        printf("%s%s: P wrong\n", what, exact ? "" : ", rounded");
        failures++;
    }
    checked++;
    clear_block(&l);
    clear_block(&r);
    arb_clear(P);
    arb_clear(Q);
    arb_clear(T);
}

/* An exact integer of about `bits` bits, of either sign, with up to `zeros` trailing zero bits. */
static void random_integer(arb_t x, flint_rand_t state, slong bits, slong zeros, int positive)
{
    fmpz_t n;
    fmpz_init(n);
    fmpz_randbits(n, state, bits);
    if (fmpz_is_zero(n))
        fmpz_one(n);
    fmpz_mul_2exp(n, n, n_randint(state, zeros + 1));
    if (positive)
        fmpz_abs(n, n);
    arb_set_fmpz(x, n);
    fmpz_clear(n);
}

int main(void)
{
    flint_rand_t state;
    progress_t progress = {0, 0};
    flint_rand_init(state);

    /* The series' own blocks, as split_block makes them: both signs of T1 Q2
     * against P1 T2 (odd and even left blocks), the first block, and a right
     * block whose P no one needs. */
    slong starts[] = {0, 1, 12289, 40000};
    slong lengths[] = {8192, 12289, 20000};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int need_p = 0; need_p <= 1; need_p++)
            {
                block_t left = {.a = starts[i], .b = starts[i] + lengths[j], .need_p = 1};
                block_t right = {.a = left.b, .b = left.b + lengths[(j + 1) % 3], .need_p = need_p};
                init_block(&left);
                init_block(&right);
                split_block(&left, ARF_PREC_EXACT, &progress);
                split_block(&right, ARF_PREC_EXACT, &progress);
                check_merge("series blocks", &left, &right, ARF_PREC_EXACT);
                /* rounded: the balls must hold the exact values */
                check_merge("series blocks", &left, &right, arb_bits(left.Q) + arb_bits(right.Q) / 2);
                clear_block(&left);
                clear_block(&right);
            }

    /* Random integers of any sizes and signs (Q positive, as in the series), with
     * trailing zeros, so that T1 Q2 or P1 T2 is shifted and either is the larger. */
    for (int i = 0; i < 60; i++)
    {
        block_t left = {.a = 0, .b = 1, .need_p = 1}, right = {.a = 1, .b = 2, .need_p = (int) n_randint(state, 2)};
        init_block(&left);
        init_block(&right);
        slong size = 130000 + n_randint(state, 600000), zeros = n_randint(state, 3) * 20000;
        random_integer(left.P, state, size + n_randint(state, size), zeros, 0);
        random_integer(left.Q, state, size + n_randint(state, size), zeros, 1);
        random_integer(left.T, state, size + n_randint(state, size), zeros, 0);
        random_integer(right.P, state, size + n_randint(state, size), zeros, 0);
        random_integer(right.Q, state, size + n_randint(state, size), zeros, 1);
        random_integer(right.T, state, size + n_randint(state, size), zeros, 0);
        check_merge("random", &left, &right, ARF_PREC_EXACT);
        clear_block(&left);
        clear_block(&right);
    }
    flint_rand_clear(state);
    flint_cleanup();
    printf("checked %d\n", checked);
    return failures != 0;
}
