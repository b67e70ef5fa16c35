/* trust.h - the trusted keys and the check of a signed manifest against
 * them: the *.pub files of a directory (signify public keys, e.g.
 * /etc/hoist/trusted-keys), matched by key number, then verified.
 *
 * Shared by hoist-boot (the trust policy) and hoist-release (a promotion
 * re-signs only what a trusted key signed). */
#ifndef HOIST_TRUST_H
#define HOIST_TRUST_H

#include <stddef.h>

#include "herr.h"
#include "signify.h"

#define TRUST_MAX_KEYS 32
#define TRUST_NAME_MAX 128

struct trust {
	struct signify_pubkey keys[TRUST_MAX_KEYS];
	char names[TRUST_MAX_KEYS][TRUST_NAME_MAX]; /* file names, for messages */
	size_t n;
};

/* Adds every *.pub file of dir (sorted; a missing directory adds none; an
 * unreadable or malformed key file is an error HOIST_EXIT_CONFIG naming it). */
int trust_load_dir(struct trust *t, const char *dir, struct herr *err);
int trust_add(struct trust *t, const struct signify_pubkey *k, const char *name, struct herr *err);

enum trust_result {
	TRUST_UNSIGNED = 0, /* no signature block: *msg is the whole text */
	TRUST_VERIFIED = 1, /* signed by keys[*key_index] and verified */
};

/* Splits text into signature and message and verifies the signature.
 * Returns TRUST_UNSIGNED or TRUST_VERIFIED, or -1 with
 * HOIST_EXIT_UNTRUSTED: a malformed signature block, a key number no
 * trusted key has (named in hex), or a signature that does not verify. */
int trust_check(const struct trust *t, const char *text, size_t len, const char **msg, size_t *msglen,
                size_t *key_index, struct herr *err);

#endif
