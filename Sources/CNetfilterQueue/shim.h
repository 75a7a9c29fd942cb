#ifndef CTHULHU_CNETFILTERQUEUE_SHIM_H
#define CTHULHU_CNETFILTERQUEUE_SHIM_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <netinet/in.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* From <linux/netfilter.h>, which clashes with <netinet/in.h> in one module. */
enum { CTHULHU_NF_DROP = 0, CTHULHU_NF_ACCEPT = 1 };

/* setns(2) without relying on _GNU_SOURCE in the C library's module. */
static inline int cthulhu_setns_net(int fd) {
  return (int)syscall(SYS_setns, fd, 0x40000000 /* CLONE_NEWNET */);
}
#endif
