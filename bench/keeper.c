/*
 * SPDX-License-Identifier: MIT
 *
 * The warm pool. This machine is a virtual machine whose host takes back
 * guest memory that stays free for a couple of seconds (free page
 * reporting); touching such memory again costs a host fault per page, which
 * made the same run 1x to 8x slower depending on what ran before it. A
 * keeper process holds a pool of touched huge pages and lets go of it only
 * while a worker runs, so every worker starts from memory the host backs.
 * The keeper is a process of its own so that neither the driver's nor the
 * workers' peak RSS includes the pool.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static int keeper_cmd = -1, keeper_ack = -1;
static pid_t keeper_pid;
static size_t keeper_bytes; /* the pool's size from the next 'a' on */

struct keeper_msg {
	char op;      /* 'a': take and touch the pool; 'f': let go of it */
	size_t bytes; /* the pool's size, for 'a' */
};

static void keeper_main(int cmd, int ack)
{
	struct keeper_msg m;
	char *pool = NULL;
	size_t have = 0;

	while (read(cmd, &m, sizeof(m)) == (ssize_t)sizeof(m)) {
		if (m.op == 'a' && !pool && m.bytes) {
			pool = mmap(NULL, m.bytes, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (pool == MAP_FAILED) {
				pool = NULL;
			} else {
				have = m.bytes;
				madvise(pool, have, MADV_HUGEPAGE);
				for (size_t off = 0; off < have; off += 4096)
					pool[off] = 1;
			}
		} else if (m.op == 'f' && pool) {
			munmap(pool, have);
			pool = NULL;
		}
		if (write(ack, &m.op, 1) != 1)
			break;
	}
	_exit(0);
}

/* Send op and wait until the keeper has done it. */
static void keeper_send(char op)
{
	struct keeper_msg m;
	char r;

	if (keeper_cmd < 0)
		return;
	memset(&m, 0, sizeof(m));
	m.op = op;
	m.bytes = keeper_bytes;
	if (write(keeper_cmd, &m, sizeof(m)) != (ssize_t)sizeof(m) ||
	    read(keeper_ack, &r, 1) != 1) {
		close(keeper_cmd);
		close(keeper_ack);
		keeper_cmd = keeper_ack = -1;
	}
}

/* Before a worker runs: let go of the pool. */
void keeper_free(void)
{
	keeper_send('f');
}

/* After a worker ran: take the pool back. */
void keeper_take(void)
{
	keeper_send('a');
}

/* Resize the pool: let go of the old one, take one of `bytes`. */
void keeper_resize(size_t bytes)
{
	bytes &= ~(HUGE_ALIGN - 1);
	if (keeper_cmd < 0 || bytes == keeper_bytes)
		return;
	keeper_send('f');
	keeper_bytes = bytes;
	keeper_send('a');
}

void keeper_start(void)
{
	int cmd[2], ack[2];

	if (pipe2(cmd, O_CLOEXEC) || pipe2(ack, O_CLOEXEC))
		return;
	fflush(stdout);
	fflush(stderr);
	keeper_pid = fork();
	if (keeper_pid == 0) {
		close(cmd[1]);
		close(ack[0]);
		keeper_main(cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	if (keeper_pid < 0) {
		close(cmd[1]);
		close(ack[0]);
		return;
	}
	keeper_cmd = cmd[1];
	keeper_ack = ack[0];
}

void keeper_stop(void)
{
	if (keeper_cmd < 0)
		return;
	close(keeper_cmd);
	close(keeper_ack);
	keeper_cmd = keeper_ack = -1;
	waitpid(keeper_pid, NULL, 0);
}
