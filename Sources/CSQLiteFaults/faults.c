// A pass-through VFS whose only difference is that xSync can be made to fail (see CSQLiteFaults.h). It follows the
// shape of SQLite's own shims (ext/misc/vfstrace.c): each file is the shim's header followed by the real file.
#include "CSQLiteFaults.h"

#include <sqlite3.h>
#include <stddef.h>

typedef struct FaultFile {
    sqlite3_file base;
    sqlite3_file *real;
    // Valid until xClose: SQLite keeps the name it passes to xOpen alive as long as the file is open.
    const char *path;
} FaultFile;

static sqlite3_vfs *realVFS;
static flightlog_sqlite_sync_fails syncFails;
static sqlite3_vfs faultVFS;

#define REAL(file) (((FaultFile *)(file))->real)

static int faultClose(sqlite3_file *file) { return REAL(file)->pMethods->xClose(REAL(file)); }
static int faultRead(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset) {
    return REAL(file)->pMethods->xRead(REAL(file), buffer, amount, offset);
}
static int faultWrite(sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset) {
    return REAL(file)->pMethods->xWrite(REAL(file), buffer, amount, offset);
}
static int faultTruncate(sqlite3_file *file, sqlite3_int64 size) {
    return REAL(file)->pMethods->xTruncate(REAL(file), size);
}
static int faultSync(sqlite3_file *file, int flags) {
    if (syncFails != NULL && syncFails(((FaultFile *)file)->path)) return SQLITE_IOERR_FSYNC;
    return REAL(file)->pMethods->xSync(REAL(file), flags);
}
static int faultFileSize(sqlite3_file *file, sqlite3_int64 *size) {
    return REAL(file)->pMethods->xFileSize(REAL(file), size);
}
static int faultLock(sqlite3_file *file, int lock) { return REAL(file)->pMethods->xLock(REAL(file), lock); }
static int faultUnlock(sqlite3_file *file, int lock) { return REAL(file)->pMethods->xUnlock(REAL(file), lock); }
static int faultCheckReservedLock(sqlite3_file *file, int *out) {
    return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}
static int faultFileControl(sqlite3_file *file, int op, void *argument) {
    return REAL(file)->pMethods->xFileControl(REAL(file), op, argument);
}
static int faultSectorSize(sqlite3_file *file) { return REAL(file)->pMethods->xSectorSize(REAL(file)); }
static int faultDeviceCharacteristics(sqlite3_file *file) {
    return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}
static int faultShmMap(sqlite3_file *file, int region, int size, int extend, void volatile **out) {
    return REAL(file)->pMethods->xShmMap(REAL(file), region, size, extend, out);
}
static int faultShmLock(sqlite3_file *file, int offset, int n, int flags) {
    return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}
static void faultShmBarrier(sqlite3_file *file) { REAL(file)->pMethods->xShmBarrier(REAL(file)); }
static int faultShmUnmap(sqlite3_file *file, int deleteFlag) {
    return REAL(file)->pMethods->xShmUnmap(REAL(file), deleteFlag);
}
static int faultFetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out) {
    return REAL(file)->pMethods->xFetch(REAL(file), offset, amount, out);
}
static int faultUnfetch(sqlite3_file *file, sqlite3_int64 offset, void *pointer) {
    return REAL(file)->pMethods->xUnfetch(REAL(file), offset, pointer);
}

// Version 3, as the unix VFS's own methods: WAL needs the shared-memory methods, and memory-mapped reads the fetches.
static const sqlite3_io_methods faultMethods = {
    3,
    faultClose,
    faultRead,
    faultWrite,
    faultTruncate,
    faultSync,
    faultFileSize,
    faultLock,
    faultUnlock,
    faultCheckReservedLock,
    faultFileControl,
    faultSectorSize,
    faultDeviceCharacteristics,
    faultShmMap,
    faultShmLock,
    faultShmBarrier,
    faultShmUnmap,
    faultFetch,
    faultUnfetch,
};

static int faultOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *outFlags) {
    (void)vfs;
    FaultFile *fault = (FaultFile *)file;
    fault->real = (sqlite3_file *)&fault[1];
    fault->path = name;
    int rc = realVFS->xOpen(realVFS, name, fault->real, flags, outFlags);
    // SQLite calls xClose only when pMethods is set: mirror the real file.
    fault->base.pMethods = fault->real->pMethods != NULL ? &faultMethods : NULL;
    return rc;
}

int flightlog_sqlite_register_fault_vfs(flightlog_sqlite_sync_fails fails) {
    if (realVFS != NULL) {
        syncFails = fails;
        return SQLITE_OK;
    }
    int rc = sqlite3_initialize();
    if (rc != SQLITE_OK) return rc;
    sqlite3_vfs *found = sqlite3_vfs_find(NULL);
    if (found == NULL || found->iVersion < 1) return SQLITE_ERROR;
    realVFS = found;
    syncFails = fails;
    faultVFS = *found;
    faultVFS.szOsFile = (int)sizeof(FaultFile) + found->szOsFile;
    faultVFS.zName = "flightlog-faults";
    faultVFS.pNext = NULL;
    faultVFS.xOpen = faultOpen;
    return sqlite3_vfs_register(&faultVFS, 1);
}
