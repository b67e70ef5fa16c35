/* s3put_probe.c - drives agent/net/s3put.c against the test bed (a test
 * tool, not installed): credentials, endpoint and region from the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_ENDPOINT_URL_S3, AWS_REGION).
 *
 *   s3put_probe buffer BUCKET KEY FILE [--if-match ETAG | --if-none-match]
 *   s3put_probe file BUCKET KEY FILE PART_SIZE THRESHOLD
 * Prints "status=N etag=E [parts=P sha256=HEX]"; exits with the herr code. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fsutil.h"
#include "http.h"
#include "log.h"
#include "s3put.h"

static struct credentials creds;

static int env_creds(void *ud, const struct credentials **out, struct herr *err)
{
	(void)ud;
	(void)err;
	*out = &creds;
	return 0;
}

int main(int argc, char **argv)
{
	struct herr err = {0};
	struct http_opts ho = {NULL, 5000, 30};
	struct http *h;
	struct s3client c;
	int fd;
	struct stat st;

	log_init("s3put_probe", LOG_LEVEL_WARN);
	if (argc < 5)
		return 2;
	creds.access_key_id = getenv("AWS_ACCESS_KEY_ID");
	creds.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
	creds.session_token = getenv("AWS_SESSION_TOKEN");
	h = http_new(&ho, &err);
	if (h == NULL)
		return 1;
	c = (struct s3client){h, getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_REGION"), env_creds, NULL, 0};
	fd = open(argv[4], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		return 11;
	if (strcmp(argv[1], "buffer") == 0) {
		struct s3_put_opts o = {"application/octet-stream", NULL, 0};
		struct s3_put_result r;
		char *data = malloc((size_t)st.st_size + 1);
		if (data == NULL || read(fd, data, (size_t)st.st_size) != st.st_size)
			return 11;
		if (argc > 6 && strcmp(argv[5], "--if-match") == 0)
			o.if_match = argv[6];
		else if (argc > 5 && strcmp(argv[5], "--if-none-match") == 0)
			o.if_none_match = 1;
		int rc = s3_put_buffer(&c, argv[2], argv[3], data, (size_t)st.st_size, &o, &r, &err);
		printf("status=%ld etag=%s\n", r.status, r.etag);
		free(data);
		http_free(h);
		if (rc != 0)
			fprintf(stderr, "%s\n", err.msg);
		return rc != 0 ? err.code : 0;
	}
	if (strcmp(argv[1], "file") == 0 && argc > 6) {
		struct s3_file_opts o = {0};
		struct s3_file_result r;
		char hex[65];
		o.part_size = strtoull(argv[5], NULL, 10);
		o.multipart_threshold = strtoull(argv[6], NULL, 10);
		o.retries = 2;
		int rc = s3_put_file(&c, argv[2], argv[3], fd, (uint64_t)st.st_size, &o, &r, &err);
		hex_encode(r.sha256, 32, hex);
		printf("status=%ld etag=%s parts=%u sha256=%s\n", r.status, r.etag, r.parts, hex);
		http_free(h);
		if (rc != 0)
			fprintf(stderr, "%s\n", err.msg);
		return rc != 0 ? err.code : 0;
	}
	return 2;
}
