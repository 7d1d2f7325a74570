#ifndef ASSETDEDUP_CLINUXIO_SHIM_H
#define ASSETDEDUP_CLINUXIO_SHIM_H

/// Linux file calls that Swift's Glibc module does not export (glibc declares them only under
/// `_GNU_SOURCE`, which cannot be defined here without splitting its types from the Glibc
/// module's; their flags are macros): what a resumable upload's partial file uses to take
/// appends at page-cache speed. Each returns what the C call returns (-1 and `errno`).
#include <sys/types.h>
#include <sys/xattr.h>
#include <linux/falloc.h>

extern int fallocate(int fd, int mode, off_t offset, off_t length);
extern int sync_file_range(int fd, off_t offset, off_t length, unsigned int flags);

/// sync_file_range(2)'s flags, as <bits/fcntl-linux.h> defines them.
enum {
    CLINUXIO_SYNC_FILE_RANGE_WAIT_BEFORE = 1,
    CLINUXIO_SYNC_FILE_RANGE_WRITE = 2,
    CLINUXIO_SYNC_FILE_RANGE_WAIT_AFTER = 4,
};

/// Reserves blocks for `length` bytes from `offset` without changing the file's size
/// (`FALLOC_FL_KEEP_SIZE`): appends into them allocate nothing, and the size stays the offset.
static inline int clinuxio_reserve(int fd, off_t offset, off_t length) {
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length);
}

/// Starts writing the range's dirty pages to the disk and returns at once
/// (`SYNC_FILE_RANGE_WRITE`): a later fdatasync finds most of them written. Not durable itself.
static inline int clinuxio_start_writeback(int fd, off_t offset, off_t length) {
    return sync_file_range(fd, offset, length, CLINUXIO_SYNC_FILE_RANGE_WRITE);
}

/// Writes the range's dirty pages to the disk and waits for them (and for any writeback already
/// under way there), so they are clean and the page cache may drop them. Not durable itself
/// (no flush of the disk's cache, no metadata).
static inline int clinuxio_write_out(int fd, off_t offset, off_t length) {
    return sync_file_range(fd, offset, length,
                           CLINUXIO_SYNC_FILE_RANGE_WAIT_BEFORE | CLINUXIO_SYNC_FILE_RANGE_WRITE |
                               CLINUXIO_SYNC_FILE_RANGE_WAIT_AFTER);
}

/// `fsetxattr(2)`: sets attribute `name` of the open file to `size` bytes of `value`.
static inline int clinuxio_set_attribute(int fd, const char *name, const void *value, size_t size) {
    return fsetxattr(fd, name, value, size, 0);
}

/// `fgetxattr(2)`: the attribute's length, copied into `value` (up to `size` bytes); -1 with
/// `ENODATA` when the file has none.
static inline ssize_t clinuxio_get_attribute(int fd, const char *name, void *value, size_t size) {
    return fgetxattr(fd, name, value, size);
}

/// `removexattr(2)`: drops attribute `name` from the file at `path`; -1 with `ENODATA` when it
/// has none.
static inline int clinuxio_remove_attribute(const char *path, const char *name) {
    return removexattr(path, name);
}

#endif
