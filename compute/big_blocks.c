/* FLINT's memory functions, for the engine's large blocks (included by compute/pi_native.c).
 *
 * A computation of pi allocates and frees numbers of megabytes by the
 * thousand: each product's result, each FFT's scratch. glibc maps every block
 * over 32 MB afresh and unmaps it when freed, so that its pages fault in again,
 * zeroed by the kernel: 2.06 million page faults at 10^8 places, an eighth of
 * the samples in a profile. Here a freed block of BIG_BLOCK_BYTES and more is
 * kept, up to a limit the caller sets, for the next request it can serve: its
 * pages are already there. Smaller blocks go to the functions installed before
 * (glibc's), which keep them already.
 *
 * Blocks of HUGE_FROM_BYTES and more are mapped in transparent huge pages
 * (madvise: the kernel's default policy gives them to whoever asks). At 10^9
 * places, whose numbers are 415 MB, the FFTs' steps then take 15 to 25% less
 * time (fewer TLB misses). Not the smaller blocks: from 16 MB, huge pages made
 * the series at 10^8 places 0.6 to 1.1 s slower while the Bellard check's
 * helpers ran beside it. A huge page is zeroed whole at its first touch, used
 * or not, and zeroing 2 MB at once sweeps a core's whole 2 MB L2 cache.
 *
 * The functions are installed once and never taken back, because a block may
 * outlive a call (FLINT's FFT contexts keep their scratch): a block is ours if
 * the registry holds its address, whoever frees it, and a block allocated
 * before is glibc's. */
#include <sys/mman.h>

#define BIG_BLOCK_BYTES ((size_t) 1 << 20)
#define PAGE_BYTES ((size_t) 4096)
#define HUGE_PAGE_BYTES ((size_t) 2 << 20)
/* Blocks of this size and more get huge pages (rounded up to them: under 2%). */
#define HUGE_FROM_BYTES (64 * HUGE_PAGE_BYTES)
/* Live blocks of a megabyte and more number in the hundreds, at most. */
#define REGISTRY_SLOTS 16384
#define CACHE_SLOTS 1024

typedef struct
{
    void *start;
    size_t bytes; /* as mapped, rounded up to pages */
} big_block_t;

static big_block_t registry[REGISTRY_SLOTS]; /* open addressing, by address */
static size_t blocks_registered; /* at most half the slots: a search always meets an empty one */
static big_block_t cache[CACHE_SLOTS]; /* the kept blocks, the first cache_count of them */
static int cache_count;
static size_t cached_bytes, cache_limit_bytes;
static pthread_mutex_t big_blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t big_blocks_installed = PTHREAD_ONCE_INIT;

static void *(*small_malloc)(size_t);
static void *(*small_calloc)(size_t, size_t);
static void *(*small_realloc)(void *, size_t);
static void (*small_free)(void *);
static void *(*small_aligned_alloc)(size_t, size_t);
static void (*small_aligned_free)(void *);

static size_t registry_home(const void *start)
{
    return ((uintptr_t) start / PAGE_BYTES * UWORD(0x9E3779B97F4A7C15)) >> 50 & (REGISTRY_SLOTS - 1);
}

/* Registers a block; 0 if the registry is full (the caller unmaps it and asks glibc). Under the lock. */
static int register_block(big_block_t block)
{
    if (blocks_registered >= REGISTRY_SLOTS / 2)
        return 0;
    size_t i = registry_home(block.start);
    while (registry[i].start != NULL)
        i = (i + 1) & (REGISTRY_SLOTS - 1);
    registry[i] = block;
    blocks_registered++;
    return 1;
}

/* The registry's slot for start, or an empty slot where it is not ours. Under the lock. */
static size_t registry_slot(const void *start)
{
    size_t i = registry_home(start);
    while (registry[i].start != NULL && registry[i].start != start)
        i = (i + 1) & (REGISTRY_SLOTS - 1);
    return i;
}

/* Takes start out of the registry and returns its block, or a block of NULL where it is not ours. Under the lock.
 * Linear probing's deletion: later entries of the same run move back into the hole. */
static big_block_t unregister_block(const void *start)
{
    size_t i = registry_slot(start);
    big_block_t found = registry[i];
    if (found.start == NULL)
        return found;
    registry[i].start = NULL;
    blocks_registered--;
    for (size_t hole = i, j = (i + 1) & (REGISTRY_SLOTS - 1); registry[j].start != NULL;
         j = (j + 1) & (REGISTRY_SLOTS - 1))
    {
        size_t home = registry_home(registry[j].start);
        /* j's entry may fill the hole if its home does not lie in (hole, j] */
        if (((j - home) & (REGISTRY_SLOTS - 1)) >= ((j - hole) & (REGISTRY_SLOTS - 1)))
        {
            registry[hole] = registry[j];
            registry[j].start = NULL;
            hole = j;
        }
    }
    return found;
}

static size_t mapped_bytes(size_t size)
{
    return size >= HUGE_FROM_BYTES ? (size + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1)
                                   : (size + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1);
}

static void *map_block(size_t bytes)
{
    if (bytes < HUGE_FROM_BYTES)
    {
        void *start = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return start == MAP_FAILED ? NULL : start;
    }
    /* huge pages need a start aligned to them: map more, and give back the ends */
    char *mapped = mmap(NULL, bytes + HUGE_PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED)
        return NULL;
    char *start = (char *) (((uintptr_t) mapped + HUGE_PAGE_BYTES - 1) & ~(uintptr_t) (HUGE_PAGE_BYTES - 1));
    if (start > mapped)
        munmap(mapped, start - mapped);
    munmap(start + bytes, mapped + HUGE_PAGE_BYTES - start);
    madvise(start, bytes, MADV_HUGEPAGE);
    return start;
}

/* A block of at least size bytes: the smallest kept one that is large enough
 * (the pages beyond, a megabyte or more, stay kept as a block of their own),
 * else the largest kept one, grown (FLINT's FFT scratch grows a sixteenth at a
 * time, freeing the old before it asks), else a new mapping. */
static void *big_malloc(size_t size, int zeroed)
{
    size_t bytes = mapped_bytes(size);
    big_block_t block = {NULL, 0};
    pthread_mutex_lock(&big_blocks_lock);
    int best = -1, largest = -1;
    for (int i = 0; i < cache_count; i++)
    {
        if (cache[i].bytes >= bytes && (best < 0 || cache[i].bytes < cache[best].bytes))
            best = i;
        if (cache[i].bytes < bytes && (largest < 0 || cache[i].bytes > cache[largest].bytes))
            largest = i;
    }
    if (best < 0)
        best = largest;
    if (best >= 0)
    {
        block = cache[best];
        if (block.bytes >= bytes + BIG_BLOCK_BYTES)
        {
            /* the pages beyond stay kept, as a block of their own */
            cache[best].start = (char *) block.start + bytes;
            cache[best].bytes = block.bytes - bytes;
            block.bytes = bytes;
        }
        else
            cache[best] = cache[--cache_count];
        cached_bytes -= block.bytes;
    }
    pthread_mutex_unlock(&big_blocks_lock);
    if (block.start != NULL && block.bytes < bytes)
    {
        void *grown = mremap(block.start, block.bytes, bytes, MREMAP_MAYMOVE);
        if (grown == MAP_FAILED)
            munmap(block.start, block.bytes), block.start = NULL;
        else
        {
            block.start = grown, block.bytes = bytes;
            if (bytes >= HUGE_FROM_BYTES)
                madvise(grown, bytes, MADV_HUGEPAGE);
        }
    }
    if (block.start == NULL)
    {
        block.start = map_block(bytes);
        block.bytes = bytes;
        zeroed = 0; /* fresh pages are zero */
        if (block.start == NULL)
            return NULL;
    }
    else if (zeroed)
        memset(block.start, 0, size);
    pthread_mutex_lock(&big_blocks_lock);
    int registered = register_block(block);
    pthread_mutex_unlock(&big_blocks_lock);
    if (!registered)
    {
        munmap(block.start, block.bytes);
        return NULL;
    }
    return block.start;
}

/* Whether start may be one of our blocks, which start on a page: the others need no lock. */
static int may_be_ours(const void *start)
{
    return start != NULL && (uintptr_t) start % PAGE_BYTES == 0;
}

/* Frees a block if it is ours (1), keeping it for reuse within the cache's limit; 0 if it is not. */
static int big_free(void *start)
{
    if (!may_be_ours(start))
        return 0;
    big_block_t unmap = {NULL, 0};
    pthread_mutex_lock(&big_blocks_lock);
    big_block_t block = unregister_block(start);
    if (block.start != NULL)
    {
        unmap = block;
        if (cached_bytes + block.bytes <= cache_limit_bytes && cache_count < CACHE_SLOTS)
        {
            cache[cache_count++] = block;
            cached_bytes += block.bytes;
            unmap.start = NULL;
        }
    }
    pthread_mutex_unlock(&big_blocks_lock);
    if (unmap.start != NULL)
        munmap(unmap.start, unmap.bytes);
    return block.start != NULL;
}

/* The block's size if it is ours, else 0. */
static size_t big_block_bytes(const void *start)
{
    if (!may_be_ours(start))
        return 0;
    pthread_mutex_lock(&big_blocks_lock);
    big_block_t block = registry[registry_slot(start)];
    pthread_mutex_unlock(&big_blocks_lock);
    return block.start != NULL ? block.bytes : 0;
}

/* Gives back the pages of one of our blocks beyond its first size bytes. */
static void shrink_block(void *start, size_t bytes, size_t size)
{
    size_t kept = mapped_bytes(size);
    if (kept >= bytes)
        return;
    pthread_mutex_lock(&big_blocks_lock);
    registry[registry_slot(start)].bytes = kept;
    pthread_mutex_unlock(&big_blocks_lock);
    munmap((char *) start + kept, bytes - kept);
}

static void *engine_malloc(size_t size)
{
    void *start = size >= BIG_BLOCK_BYTES ? big_malloc(size, 0) : NULL;
    return start != NULL ? start : small_malloc(size);
}

static void *engine_calloc(size_t count, size_t size)
{
    int big = size != 0 && count <= SIZE_MAX / size && count * size >= BIG_BLOCK_BYTES;
    void *start = big ? big_malloc(count * size, 1) : NULL;
    return start != NULL ? start : small_calloc(count, size);
}

static void *engine_realloc(void *old, size_t size)
{
    size_t bytes = big_block_bytes(old);
    if (bytes == 0)
        return small_realloc(old, size);
    if (size <= bytes)
    {
        /* FLINT shrinks a product's limbs to the precision kept, here or by a copy (as glibc does, with mremap) */
        if (size <= bytes / 2)
            shrink_block(old, bytes, size);
        return old;
    }
    void *moved = engine_malloc(size);
    if (moved == NULL)
        return NULL; /* old stays, as realloc leaves it: FLINT reports the failure */
    memcpy(moved, old, size < bytes ? size : bytes);
    big_free(old);
    return moved;
}

static void engine_free(void *start)
{
    if (!big_free(start))
        small_free(start);
}

static void *engine_aligned_alloc(size_t alignment, size_t size)
{
    void *start = size >= BIG_BLOCK_BYTES && alignment <= PAGE_BYTES ? big_malloc(size, 0) : NULL;
    return start != NULL ? start : small_aligned_alloc(alignment, size);
}

static void engine_aligned_free(void *start)
{
    if (!big_free(start))
        small_aligned_free(start);
}

static void install_big_blocks(void)
{
    __flint_get_all_memory_functions(&small_malloc, &small_calloc, &small_realloc, &small_free, &small_aligned_alloc,
                                     &small_aligned_free);
    __flint_set_all_memory_functions(engine_malloc, engine_calloc, engine_realloc, engine_free, engine_aligned_alloc,
                                     engine_aligned_free);
}

/* Unmaps kept blocks until at most most_bytes remain kept. */
static void unmap_kept_blocks(size_t most_bytes)
{
    big_block_t spare[CACHE_SLOTS];
    int count = 0;
    pthread_mutex_lock(&big_blocks_lock);
    while (cache_count > 0 && cached_bytes > most_bytes)
    {
        spare[count] = cache[--cache_count];
        cached_bytes -= spare[count++].bytes;
    }
    pthread_mutex_unlock(&big_blocks_lock);
    while (count > 0)
    {
        count--;
        munmap(spare[count].start, spare[count].bytes);
    }
}

/* From now on, keeps up to limit bytes of freed blocks for reuse; 0 gives back all kept.
 * The first call installs the functions. */
static void keep_freed_blocks(size_t limit)
{
    pthread_once(&big_blocks_installed, install_big_blocks);
    pthread_mutex_lock(&big_blocks_lock);
    cache_limit_bytes = limit;
    pthread_mutex_unlock(&big_blocks_lock);
    unmap_kept_blocks(limit);
}

/* Gives back the blocks kept so far, and goes on keeping: between steps, before the next peak. */
static void give_back_kept_blocks(void)
{
    unmap_kept_blocks(0);
}
