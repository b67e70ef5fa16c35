/* exitcodes.c - names of the exit codes, for logs and --help. */
#include "exitcodes.h"

const char *hoist_exit_name(int code)
{
	switch (code) {
	case HOIST_EXIT_OK: return "ok";
	case HOIST_EXIT_INTERNAL: return "internal";
	case HOIST_EXIT_USAGE: return "usage";
	case HOIST_EXIT_CONFIG: return "config";
	case HOIST_EXIT_DIRECTIVE: return "bad-directive";
	case HOIST_EXIT_NO_DIRECTIVE: return "no-directive";
	case HOIST_EXIT_NO_CREDENTIALS: return "no-credentials";
	case HOIST_EXIT_DENIED: return "access-denied";
	case HOIST_EXIT_NOT_FOUND: return "not-found";
	case HOIST_EXIT_INTEGRITY: return "integrity";
	case HOIST_EXIT_TOO_LARGE: return "too-large";
	case HOIST_EXIT_IO: return "io";
	case HOIST_EXIT_BAD_BUNDLE: return "bad-bundle";
	case HOIST_EXIT_ROLLED_BACK: return "rolled-back";
	case HOIST_EXIT_FAILED: return "failed";
	case HOIST_EXIT_BUSY: return "busy";
	case HOIST_EXIT_NO_REVISION: return "no-revision";
	case HOIST_EXIT_POLICY: return "policy";
	case HOIST_EXIT_UNTRUSTED: return "untrusted";
	case HOIST_EXIT_STALE: return "stale";
	case HOIST_EXIT_TEMPFAIL: return "tempfail";
	default: return "unknown";
	}
}
