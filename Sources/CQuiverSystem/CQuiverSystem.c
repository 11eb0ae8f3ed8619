// CQuiverSystem: the calls that need _GNU_SOURCE, wrapped so Swift can reach them.
#define _GNU_SOURCE
#include <sys/socket.h>
#include "CQuiverSystem.h"

int cq_accept_nonblocking(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
