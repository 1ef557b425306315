#ifndef FLIGHTLOG_CMALLOC_SHIM_H
#define FLIGHTLOG_CMALLOC_SHIM_H
#include <elf.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

/// Limits glibc's malloc to `count` arenas (M_ARENA_MAX); 0 on failure.
static inline int flightlog_set_malloc_arenas(int count) {
    return mallopt(M_ARENA_MAX, count);
}

/// Unmaps the pages of the program's read-only segments (code, constants, relocation and symbol tables). They are
/// file pages that were never written, so nothing is lost: whatever the program runs afterwards is mapped again
/// from the page cache on its next access. Called once after start-up, it drops the pages only start-up used (and
/// those the kernel mapped around them) from the resident set. Only the executable itself is treated (with the
/// Swift runtime linked statically, that is nearly all the code). Returns the bytes unmapped.
static inline long flightlog_release_read_only_pages(void) {
    const Elf64_Phdr *headers = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long count = getauxval(AT_PHNUM);
    long page = sysconf(_SC_PAGESIZE);
    if (headers == 0 || count == 0 || page <= 0 || getauxval(AT_PHENT) != sizeof(Elf64_Phdr)) return 0;
    uintptr_t bias = 0;
    int found = 0;
    for (unsigned long i = 0; i < count; i++) {
        if (headers[i].p_type == PT_PHDR) {
            bias = (uintptr_t)headers - headers[i].p_vaddr;
            found = 1;
        }
    }
    if (!found) return 0;
    for (unsigned long i = 0; i < count; i++) {
        if (headers[i].p_type != PT_DYNAMIC) continue;
        // Text relocations would mean the read-only segments were written to: leave everything alone.
        for (const Elf64_Dyn *dyn = (const Elf64_Dyn *)(bias + headers[i].p_vaddr); dyn->d_tag != DT_NULL; dyn++) {
            if (dyn->d_tag == DT_TEXTREL) return 0;
            if (dyn->d_tag == DT_FLAGS && (dyn->d_un.d_val & DF_TEXTREL)) return 0;
        }
    }
    long released = 0;
    for (unsigned long i = 0; i < count; i++) {
        const Elf64_Phdr *segment = &headers[i];
        // Only segments that are never written: their pages are exactly the file's.
        if (segment->p_type != PT_LOAD || (segment->p_flags & PF_W) || segment->p_filesz != segment->p_memsz) continue;
        uintptr_t start = bias + segment->p_vaddr;
        uintptr_t end = start + segment->p_memsz;
        // Whole pages only: a page shared with a neighbouring (writable) segment is left alone.
        start = (start + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
        end &= ~((uintptr_t)page - 1);
        if (end > start && madvise((void *)start, end - start, MADV_DONTNEED) == 0) released += (long)(end - start);
    }
    return released;
}
#endif
