/* partial.c - a bundle download kept for the next run (see partial.h). */
#include "partial.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "exitcodes.h"
#include "fsutil.h"
#include "record.h"

#define PREFIX "partial-"

int partial_names(const char *tmp_dir, const char *bucket, const char *key, struct partial *p)
{
	uint8_t h[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1], name[64];
	struct sha256_ctx *c = sha256_new();
	int rc = -1;
	if (c == NULL)
		return -1;
	/* '/' cannot occur in a bucket name, so bucket "/" key is unambiguous */
	if (sha256_update(c, bucket, strlen(bucket)) != 0 || sha256_update(c, "/", 1) != 0 ||
	    sha256_update(c, key, strlen(key)) != 0 || sha256_final(c, h) != 0)
		goto out;
	hex_encode(h, SHA256_LEN, hex);
	memcpy(p->id, hex, 32);
	p->id[32] = '\0';
	(void)snprintf(name, sizeof(name), PREFIX "%s.data", p->id);
	if (fs_path_join(p->data, sizeof(p->data), tmp_dir, name) != 0)
		goto out;
	(void)snprintf(name, sizeof(name), PREFIX "%s.meta", p->id);
	if (fs_path_join(p->meta, sizeof(p->meta), tmp_dir, name) != 0)
		goto out;
	rc = 0;
out:
	sha256_free(c);
	return rc;
}

/* 1 when another run is downloading into the partial that name belongs to
 * (it holds an flock on its .data file for as long as it writes). */
static int in_use(int dirfd, const char *name)
{
	char data[64];
	int fd, busy;
	if (strlen(name) < strlen(PREFIX) + 32)
		return 0;
	(void)snprintf(data, sizeof(data), "%.*s.data", (int)(strlen(PREFIX) + 32), name);
	fd = openat(dirfd, data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	busy = flock(fd, LOCK_EX | LOCK_NB) != 0;
	close(fd); /* drops the lock if we took it */
	return busy;
}

void partial_prune(const char *tmp_dir, const struct partial *keep, unsigned max_age_s)
{
	DIR *d = opendir(tmp_dir);
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);
	int stale = 0;

	if (d == NULL)
		return;
	/* this object's own partial goes too once its data is too old to trust */
	if (keep != NULL && stat(keep->data, &st) == 0 && now - st.st_mtime > (time_t)max_age_s)
		stale = 1;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) != 0)
			continue;
		if (keep != NULL && !stale && strncmp(e->d_name + strlen(PREFIX), keep->id, 32) == 0)
			continue;
		if (in_use(dirfd(d), e->d_name))
			continue;
		(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int partial_load(const struct partial *p, const char *bucket, const char *key, struct partial_meta *m)
{
	struct record r;
	struct herr e = {0, ""};
	const char *b, *k, *etag, *total, *sum;
	char *end = NULL;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	record_init(&r);
	if (record_read(p->meta, &r, &e) != 0)
		goto out;
	b = record_get(&r, "bucket");
	k = record_get(&r, "key");
	etag = record_get(&r, "etag");
	total = record_get(&r, "total");
	sum = record_get(&r, "checksum");
	if (b == NULL || k == NULL || etag == NULL || total == NULL || strcmp(b, bucket) != 0 ||
	    strcmp(k, key) != 0 || etag[0] == '\0' || strlen(etag) >= sizeof(m->etag) ||
	    (sum != NULL && strlen(sum) >= sizeof(m->checksum)))
		goto out;
	m->total = strtoull(total, &end, 10);
	if (end == total || *end != '\0')
		goto out;
	memcpy(m->etag, etag, strlen(etag) + 1);
	if (sum != NULL)
		memcpy(m->checksum, sum, strlen(sum) + 1);
	rc = 0;
out:
	record_free(&r);
	return rc;
}

int partial_save(const struct partial *p, const char *bucket, const char *key, const struct partial_meta *m,
                 struct herr *err)
{
	struct record r;
	char total[32];
	int rc = -1;

	record_init(&r);
	(void)snprintf(total, sizeof(total), "%llu", (unsigned long long)m->total);
	if (record_set(&r, "bucket", bucket) != 0 || record_set(&r, "key", key) != 0 ||
	    record_set(&r, "etag", m->etag) != 0 || record_set(&r, "total", total) != 0 ||
	    record_set(&r, "checksum", m->checksum) != 0) {
		herr_set(err, HOIST_EXIT_IO, "the download's facts do not fit a record");
		goto out;
	}
	rc = record_write(p->meta, &r, err);
out:
	record_free(&r);
	return rc;
}

void partial_remove(const struct partial *p)
{
	(void)unlink(p->meta);
	(void)unlink(p->data);
}
