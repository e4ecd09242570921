/* Checks compute/big_blocks.c, the engine's memory functions for FLINT, through
 * FLINT's own flint_malloc, flint_calloc, flint_realloc and flint_free, as FLINT
 * calls them: on two threads at once, blocks of 1 KB to 24 MB are allocated,
 * grown, shrunk and freed at random, each filled with its own pattern, with
 * freed blocks kept for reuse. Every block must keep its contents until freed
 * (a block handed out twice, or a kept block given back while in use, would
 * show as another's pattern), calloc's must be zero even when reused, every
 * block allocated at a megabyte or more must be in the registry until freed
 * (reallocated: ours while it fits, glibc's stay glibc's) and none after, and
 * blocks not ours (glibc's, page-aligned) must go back to glibc.
 * Prints "checked N" with the number of blocks checked. */
#include "../compute/pi_native.c"

#define SLOTS 96
#define ROUNDS 1500
#define STRIDE 4096 /* bytes between the pattern's marks: every page of a block */

typedef struct
{
    unsigned char *start;
    size_t size;
    unsigned char mark; /* 0 for a calloc'd block, not yet written */
    int ours;           /* allocated at BIG_BLOCK_BYTES or more, so in the registry */
} slot_t;

typedef struct
{
    unsigned seed;
    long checked;
    int failed;
} run_t;

static unsigned next_random(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static void fail(run_t *run, const char *what, size_t size)
{
    if (!run->failed)
        printf("FAILED: %s (block of %zu bytes)\n", what, size);
    run->failed = 1;
}

static void write_marks(slot_t *s)
{
    for (size_t i = 0; i < s->size; i += STRIDE)
        s->start[i] = s->mark;
    s->start[s->size - 1] = s->mark;
}

/* The marks of the first `size` bytes are the slot's own. */
static void check_marks(run_t *run, const slot_t *s, size_t size, const char *what)
{
    for (size_t i = 0; i < size; i += STRIDE)
        if (s->start[i] != s->mark)
        {
            fail(run, what, s->size);
            return;
        }
    if (size == s->size && s->start[size - 1] != s->mark)
        fail(run, what, s->size);
    run->checked++;
}

static size_t random_size(unsigned *seed)
{
    switch (next_random(seed) % 4)
    {
    case 0:
        return 1 + next_random(seed) % (64 << 10); /* glibc's */
    case 1:
        return (1 << 20) + next_random(seed) % (3 << 20); /* ours, in small pages */
    default:
        return (1 << 20) + next_random(seed) % (23 << 20); /* ours, larger */
    }
}

static void *exercise(void *arg)
{
    run_t *run = arg;
    slot_t slot[SLOTS] = {{NULL, 0, 0, 0}};
    for (int round = 0; round < ROUNDS && !run->failed; round++)
    {
        slot_t *s = &slot[next_random(&run->seed) % SLOTS];
        unsigned action = next_random(&run->seed) % 5;
        if (s->start == NULL)
        {
            s->size = random_size(&run->seed);
            s->mark = (unsigned char) (1 + next_random(&run->seed) % 255);
            s->ours = s->size >= BIG_BLOCK_BYTES;
            if (action < 2)
            {
                s->start = flint_calloc(1, s->size);
                unsigned char wanted = s->mark;
                s->mark = 0;
                check_marks(run, s, s->size, "calloc's block is not zero");
                s->mark = wanted;
            }
            else
                s->start = flint_malloc(s->size);
            write_marks(s);
        }
        else if (action < 2)
        {
            /* grow or shrink, with the contents up to the smaller size kept */
            size_t size = random_size(&run->seed);
            size_t capacity = big_block_bytes(s->start);
            s->start = flint_realloc(s->start, size);
            /* ours stays ours where it fits, else moves to a block of the new size's kind */
            s->ours = s->ours && (size <= capacity || size >= BIG_BLOCK_BYTES);
            size_t kept = size < s->size ? size : s->size;
            check_marks(run, s, kept, "realloc lost the contents");
            s->size = size;
            write_marks(s);
        }
        else
        {
            check_marks(run, s, s->size, "a block changed before it was freed");
            if (s->ours != (big_block_bytes(s->start) != 0))
                fail(run, "a big block is missing from the registry, or a small one is in it", s->size);
            void *start = s->start;
            flint_free(start);
            s->start = NULL;
            if (s->ours && big_block_bytes(start) != 0)
                fail(run, "a freed block is still registered", s->size);
        }
    }
    for (int i = 0; i < SLOTS; i++)
        if (slot[i].start != NULL)
        {
            check_marks(run, &slot[i], slot[i].size, "a block changed before it was freed");
            flint_free(slot[i].start);
        }
    return NULL;
}

static int registered_blocks(void)
{
    int count = 0;
    for (int i = 0; i < REGISTRY_SLOTS; i++)
        count += registry[i].start != NULL;
    return count;
}

int main(void)
{
    run_t run[2] = {{12345, 0, 0}, {67890, 0, 0}};
    int failed = 0;

    keep_freed_blocks((size_t) 64 << 20);

    /* A freed block is handed out again for a request of about its size; not with nothing kept. */
    void *first = flint_malloc(10 << 20);
    flint_free(first);
    void *again = flint_malloc(9 << 20);
    if (again != first)
        failed = printf("FAILED: a kept block was not reused\n");
    flint_free(again);
    keep_freed_blocks(0);
    if (cached_bytes != 0)
        failed = printf("FAILED: blocks still kept after keep_freed_blocks(0)\n");
    keep_freed_blocks((size_t) 64 << 20);

    /* Blocks not ours, even page-aligned, go back to glibc (it would abort on a bad free). */
    void *glibc_block = small_aligned_alloc(4096, 4 << 20);
    flint_aligned_free(glibc_block);
    void *aligned = flint_aligned_alloc(4096, 4 << 20);
    if ((uintptr_t) aligned % 4096 != 0 || big_block_bytes(aligned) == 0)
        failed = printf("FAILED: a big aligned block is not ours, or not aligned\n");
    flint_aligned_free(aligned);

    pthread_t other;
    pthread_create(&other, NULL, exercise, &run[1]);
    exercise(&run[0]);
    pthread_join(other, NULL);
    failed |= run[0].failed | run[1].failed;

    if (registered_blocks() != 0 || blocks_registered != 0)
        failed = printf("FAILED: %d blocks still registered after all were freed\n", registered_blocks());
    if (cached_bytes > (size_t) 64 << 20)
        failed = printf("FAILED: %zu bytes kept, over the limit\n", cached_bytes);
    give_back_kept_blocks();
    if (cached_bytes != 0)
        failed = printf("FAILED: blocks still kept after give_back_kept_blocks\n");
    if (failed)
        return 1;
    printf("checked %ld\n", run[0].checked + run[1].checked);
    return 0;
}
