// CQuiverSystem: the Linux system headers the event loops need and Swift's Glibc module leaves
// out (epoll, eventfd), plus constants that are macros or enums in C, and thread naming.
#ifndef CQUIVER_SYSTEM_H
#define CQUIVER_SYSTEM_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <stdint.h>

static const uint32_t cq_epollin = EPOLLIN;
static const uint32_t cq_epollout = EPOLLOUT;
static const uint32_t cq_epollrdhup = EPOLLRDHUP;
static const uint32_t cq_epollerr = EPOLLERR;
static const uint32_t cq_epollhup = EPOLLHUP;
static const int cq_epoll_cloexec = EPOLL_CLOEXEC;
static const int cq_efd_nonblock = EFD_NONBLOCK;
static const int cq_efd_cloexec = EFD_CLOEXEC;


/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC).
int cq_accept_nonblocking(int fd);

/// Names the calling thread in the operating system (`top -H`, `perf`, /proc/PID/task/TID/comm),
/// which Foundation's `Thread.name` does not do on Linux; names are cut to Linux's 15 bytes.
void cq_set_thread_name(const char *name);

#endif
