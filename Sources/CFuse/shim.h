#ifndef CTHULHU_CFUSE_SHIM_H
#define CTHULHU_CFUSE_SHIM_H
/* libfuse 3's high-level (path-based) API, as of 3.14 (Debian bookworm's
   libfuse3-dev). The version must be set before the header. */
#define FUSE_USE_VERSION 314
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* fuse_new is a macro over a versioned symbol, which Swift cannot call. */
static inline struct fuse *cthulhu_fuse_new(struct fuse_args *args, const struct fuse_operations *op, void *data) {
  return fuse_new(args, op, sizeof(struct fuse_operations), data);
}

/* renameat2 (RENAME_NOREPLACE), which glibc declares only under _GNU_SOURCE. */
int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
#endif
