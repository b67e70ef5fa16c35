/* awsprofile.h - reads one value of one profile from the AWS shared config
 * files (~/.aws/credentials, ~/.aws/config): pure, text in, value out.
 *
 * INI as the AWS CLI writes it: "[NAME]" sections in the credentials file,
 * "[default]" and "[profile NAME]" in the config file; "key = value";
 * '#' and ';' comments; indented lines (nested settings such as "s3 =")
 * are skipped. */
#ifndef HOIST_AWSPROFILE_H
#define HOIST_AWSPROFILE_H

#include <stddef.h>

/* config_style: 1 for the config file ([profile NAME], [default]), 0 for
 * the credentials file ([NAME]). Returns 1 and copies the trimmed value
 * when found, 0 when absent, -1 when the value does not fit outsz. */
int awsprofile_get(const char *text, size_t len, int config_style, const char *profile, const char *key,
                   char *out, size_t outsz);

#endif
