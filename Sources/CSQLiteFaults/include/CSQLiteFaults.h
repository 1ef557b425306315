#ifndef FLIGHTLOG_CSQLITEFAULTS_H
#define FLIGHTLOG_CSQLITEFAULTS_H

/// Answers non-zero when the sync SQLite is about to make of the file at `path` (as SQLite named it when opening it;
/// NULL for a temporary file) must fail instead.
typedef int (*flightlog_sqlite_sync_fails)(const char *path);

/// Registers, as SQLite's default, a VFS that forwards everything to the default one except that each xSync first
/// asks `fails` and, when told to, returns SQLITE_IOERR_FSYNC without syncing: the failed fsync of a real disk, which
/// tmpfs never produces. For test builds (RELIABILITY.md, issue 21); connections opened before the call keep the VFS
/// they had. Returns SQLITE_OK, or SQLite's error when the default VFS cannot be found or registered.
int flightlog_sqlite_register_fault_vfs(flightlog_sqlite_sync_fails fails);

#endif
