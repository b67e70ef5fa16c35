/* release_main.c - hoist-release: the build side of hoist. Packs a bundle
 * reproducibly (after the checks of hoist validate), makes signify keys,
 * publishes a release to S3 with a signed manifest, promotes it to a
 * channel that hosts follow, and shows a channel. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcodes.h"
#include "herr.h"
#include "log.h"
#include "relcmd.h"

static const char SYNOPSIS[] =
    "usage: hoist-release bundle DIR -o FILE.tgz\n"
    "       hoist-release key generate NAME\n"
    "       hoist-release publish FILE --to s3://BUCKET/PREFIX --app A --version V [--sign-key K.sec]\n"
    "       hoist-release promote --channel s3://BUCKET/PREFIX/A/channels/ENV\n"
    "                             (--version V | --from-channel URL) [--sign-key K.sec]\n"
    "                             [--expires DURATION] [--trusted-keys DIR]\n"
    "       hoist-release channel show URL [--json] [--trusted-keys DIR]\n"
    "       hoist-release version\n";

static void usage(FILE *f)
{
	fputs(SYNOPSIS, f);
	fprintf(
	    f,
	    "\n"
	    "  bundle         run every check of 'hoist validate' on DIR, then pack it reproducibly\n"
	    "                 (sorted, owner 0:0, mtime SOURCE_DATE_EPOCH or 0, gzip without timestamp);\n"
	    "                 prints sha256= and size=\n"
	    "  key generate   NAME.sec (mode 0600, unencrypted) and NAME.pub, signify format\n"
	    "  publish        upload FILE to PREFIX/A/V/ (SHA-256 checksum; multipart with per-part\n"
	    "                 checksums from --part-size, default 64 MiB), then the release manifest\n"
	    "                 PREFIX/A/V/release (signed with --sign-key); a version is never replaced\n"
	    "  promote        write the channel manifest: the release's fields, seq = previous + 1,\n"
	    "                 optional expires (90m, 12h, 7d); a conditional write, so of two concurrent\n"
	    "                 promotions one fails (exit 15). A signed promotion's source must verify\n"
	    "                 with --sign-key's own key or one in --trusted-keys DIR\n"
	    "  channel show   print a channel (--json: one object); with --trusted-keys, verify it as a\n"
	    "                 host would (exit 18 when no key there signed it)\n"
	    "\n"
	    "  --endpoint URL   S3 endpoint (else $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL; default AWS)\n"
	    "  --region R       region (else $AWS_REGION, $AWS_DEFAULT_REGION, the profile, IMDS)\n"
	    "  credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, then AWS_PROFILE\n"
	    "  (default \"default\") in ~/.aws/credentials and ~/.aws/config, then the instance role\n"
	    "  -v, --verbose    debug messages;  -q, --quiet  warnings and errors only\n"
	    "\n"
	    "Exit codes: 0 ok, 1 internal, 2 usage, 3 config (key file, settings), 6 no credentials,\n"
	    "  7 S3 access denied, 8 not found, 9 integrity, 11 local I/O, 12 (17: policy) bundle refused,\n"
	    "  15 conflict (version already published, or a concurrent promotion won), 18 untrusted\n"
	    "  source signature, 75 temporary (network, S3 5xx): run again. docs/releases.md\n");
}

enum {
	O_TO = 256,
	O_APP,
	O_VERSION,
	O_SIGN_KEY,
	O_CHANNEL,
	O_FROM_CHANNEL,
	O_EXPIRES,
	O_JSON,
	O_ENDPOINT,
	O_REGION,
	O_TRUSTED,
	O_PART_SIZE,
	O_HELP
};

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"to", required_argument, NULL, O_TO},
	    {"app", required_argument, NULL, O_APP},
	    {"version", required_argument, NULL, O_VERSION},
	    {"sign-key", required_argument, NULL, O_SIGN_KEY},
	    {"channel", required_argument, NULL, O_CHANNEL},
	    {"from-channel", required_argument, NULL, O_FROM_CHANNEL},
	    {"expires", required_argument, NULL, O_EXPIRES},
	    {"json", no_argument, NULL, O_JSON},
	    {"endpoint", required_argument, NULL, O_ENDPOINT},
	    {"region", required_argument, NULL, O_REGION},
	    {"trusted-keys", required_argument, NULL, O_TRUSTED},
	    {"part-size", required_argument, NULL, O_PART_SIZE},
	    {"output", required_argument, NULL, 'o'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct relcmd_opts o;
	struct herr err = {0, ""};
	const char *out = NULL;
	int c, verbose = 0, quiet = 0, rc;
	char **args;
	int nargs;

	(void)signal(SIGPIPE, SIG_IGN);
	umask(022);
	memset(&o, 0, sizeof(o));
	log_init("hoist-release", LOG_LEVEL_INFO);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:vq", lo, NULL)) != -1) {
		switch (c) {
		case O_TO:
			o.to = optarg;
			break;
		case O_APP:
			o.app = optarg;
			break;
		case O_VERSION:
			o.version = optarg;
			break;
		case O_SIGN_KEY:
			o.sign_key = optarg;
			break;
		case O_CHANNEL:
			o.channel = optarg;
			break;
		case O_FROM_CHANNEL:
			o.from_channel = optarg;
			break;
		case O_EXPIRES:
			o.expires = optarg;
			break;
		case O_JSON:
			o.json = true;
			break;
		case O_ENDPOINT:
			o.endpoint = optarg;
			break;
		case O_REGION:
			o.region = optarg;
			break;
		case O_TRUSTED:
			o.trusted_keys_dir = optarg;
			break;
		case O_PART_SIZE: {
			char *end;
			o.part_size = strtoull(optarg, &end, 10);
			if (*end == 'M' && end[1] == '\0')
				o.part_size <<= 20;
			else if (*end != '\0' || optarg[0] == '-') {
				fprintf(stderr, "hoist-release: --part-size: expected bytes or NM (MiB)\n");
				return HOIST_EXIT_USAGE;
			}
			break;
		}
		case 'o':
			out = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "hoist-release: unknown option or missing value: %s\n%s",
			        argv[optind - 1], SYNOPSIS);
			return HOIST_EXIT_USAGE;
		}
	}
	log_set_level(verbose ? LOG_LEVEL_DEBUG : quiet ? LOG_LEVEL_WARN : LOG_LEVEL_INFO);
	args = argv + optind;
	nargs = argc - optind;
	if (nargs == 0) {
		fputs(SYNOPSIS, stderr);
		return HOIST_EXIT_USAGE;
	}
	if (strcmp(args[0], "version") == 0 && nargs == 1) {
		printf("hoist-release %s\n", HOIST_VERSION);
		return 0;
	}
	if (strcmp(args[0], "bundle") == 0 && nargs == 2 && out != NULL)
		rc = relcmd_bundle(args[1], out, &err);
	else if (strcmp(args[0], "key") == 0 && nargs == 3 && strcmp(args[1], "generate") == 0)
		rc = relcmd_key_generate(args[2], &err);
	else if (strcmp(args[0], "publish") == 0 && nargs == 2)
		rc = relcmd_publish(args[1], &o, &err);
	else if (strcmp(args[0], "promote") == 0 && nargs == 1)
		rc = relcmd_promote(&o, &err);
	else if (strcmp(args[0], "channel") == 0 && nargs == 3 && strcmp(args[1], "show") == 0)
		rc = relcmd_channel_show(args[2], &o, &err);
	else {
		fprintf(stderr, "hoist-release: unknown command or wrong arguments (--help explains)\n%s",
		        SYNOPSIS);
		return HOIST_EXIT_USAGE;
	}
	if (rc != 0) {
		log_error("%s", err.msg[0] != '\0' ? err.msg : "failed");
		return err.code != 0 ? err.code : rc;
	}
	if (fflush(stdout) != 0)
		return HOIST_EXIT_IO;
	return 0;
}
