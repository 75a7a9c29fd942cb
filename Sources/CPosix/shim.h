#ifndef CTHULHU_CPOSIX_SHIM_H
#define CTHULHU_CPOSIX_SHIM_H
#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* sem_open with O_CREAT is variadic, which Swift cannot call: a named POSIX
   semaphore (/dev/shm/sem.NAME) with `value`, unless one is there already. */
static inline int cthulhu_sem_create(const char *name, unsigned int mode, unsigned int value) {
  sem_t *s = sem_open(name, O_CREAT, (mode_t)mode, value);
  if (s == SEM_FAILED) return -1;
  sem_close(s);
  return 0;
}

static inline int cthulhu_sem_unlink(const char *name) { return sem_unlink(name); }

/* A POSIX shared memory object (/dev/shm/NAME) of `size` bytes. */
static inline int cthulhu_shm_create(const char *name, unsigned int mode, off_t size) {
  int fd = shm_open(name, O_CREAT | O_RDWR | O_CLOEXEC, (mode_t)mode);
  if (fd < 0) return -1;
  int rc = ftruncate(fd, size);
  close(fd);
  return rc;
}

static inline int cthulhu_shm_unlink(const char *name) { return shm_unlink(name); }
#endif
