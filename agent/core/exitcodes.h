/* exitcodes.h - the exit-code contract shared by hoist-boot and hoist.
 *
 * hoist-boot execs hoist, so the init system sees one table. Exactly one
 * code, HOIST_EXIT_TEMPFAIL (75), means "temporary: retrying may help";
 * every other non-zero code is permanent. docs/exit-codes.md documents
 * the same table; keep both in step. */
#ifndef HOIST_EXITCODES_H
#define HOIST_EXITCODES_H

enum hoist_exit {
	HOIST_EXIT_OK = 0,          /* deployed, or nothing to do */
	HOIST_EXIT_INTERNAL = 1,    /* bug or out of memory */
	HOIST_EXIT_USAGE = 2,       /* bad command line */
	HOIST_EXIT_CONFIG = 3,      /* hoist.conf or environment setting invalid */
	HOIST_EXIT_DIRECTIVE = 4,   /* user data present but the directive is invalid */
	HOIST_EXIT_NO_DIRECTIVE = 5,/* no user data, or no hoist directive in it */
	HOIST_EXIT_NO_CREDENTIALS = 6, /* no instance role / credentials unusable */
	HOIST_EXIT_DENIED = 7,      /* S3 said 403 (access denied, bad signature) */
	HOIST_EXIT_NOT_FOUND = 8,   /* S3 said 404 (no such bucket or key) */
	HOIST_EXIT_INTEGRITY = 9,   /* digest mismatch, checksum sources disagree */
	HOIST_EXIT_TOO_LARGE = 10,  /* bundle larger than max_bundle_bytes */
	HOIST_EXIT_IO = 11,         /* local file system error (disk full, permissions) */
	HOIST_EXIT_BAD_BUNDLE = 12, /* unsafe or damaged archive, invalid appspec */
	HOIST_EXIT_ROLLED_BACK = 13,/* deployment failed; last good revision restored */
	HOIST_EXIT_FAILED = 14,     /* deployment failed; no rollback done or it failed */
	HOIST_EXIT_BUSY = 15,       /* another deployment holds the lock */
	HOIST_EXIT_NO_REVISION = 16,/* rollback asked for a revision that is not kept */
	HOIST_EXIT_POLICY = 17,    /* refused by the host's deploy policy (policy.conf) */
	HOIST_EXIT_UNTRUSTED = 18,  /* release manifest refused by the trust policy (signature, key, app) */
	HOIST_EXIT_STALE = 19,      /* release manifest expired, or an older channel seq than applied here */
	HOIST_EXIT_TEMPFAIL = 75,   /* network, 5xx, throttling, metadata unavailable */
};

/* Short stable name of a code, e.g. "tempfail"; "unknown" otherwise. */
const char *hoist_exit_name(int code);

#endif
