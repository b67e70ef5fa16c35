/* orphans.h - what is left of a hook whose hoist was killed.
 *
 * A hook runs in a session and process group of its own (setsid), whose id is
 * its pid. The journal records that id with the hook's start time (clock ticks
 * since boot, /proc/PID/stat field 22) and the boot id before the hook can do
 * anything. Recovery then ends the processes still in that group, TERM then
 * KILL, before it runs hooks of its own: a process counts as the hook's only
 * when the boot is the same, its process group and session are both the id,
 * and it started no earlier than the hook (so a reused id is never touched). */
#ifndef HOIST_ORPHANS_H
#define HOIST_ORPHANS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ORPHANS_BOOT_ID_LEN 36

/* The identity of a running hook: its group id, start ticks and this boot's id. */
struct hook_ident {
	long pgid;
	unsigned long long start_ticks;
	char boot_id[ORPHANS_BOOT_ID_LEN + 1];
};

/* Fills id for the process pid (not yet reaped); -1 if /proc cannot tell. */
int orphans_ident(pid_t pid, struct hook_ident *id);
/* Pure: parses the text of /proc/PID/stat: process group, session, start
 * ticks and whether it is a zombie. -1 when it is not such a line. */
int orphans_parse_stat(const char *text, size_t len, long *pgrp, long *session,
                       unsigned long long *start, bool *zombie);
/* Ends what is left of the hook id names: SIGTERM to the group, up to grace_s
 * seconds for it to go, then SIGKILL. Returns the number of processes found
 * at first (0: nothing was left, or another boot). */
unsigned orphans_end(const struct hook_ident *id, unsigned grace_s);

#endif
