/* yamlguard.h - what every YAML file of a bundle (appspec.yml, hoist.yml)
 * goes through before its document is built: an event pass that refuses
 * aliases (billion laughs), explicit tags, more than one document and
 * nesting past a limit, and libyaml's errors turned into a position (a
 * reader error carries only a byte offset). Pure: text in, verdict out;
 * each parser words the verdict into its own FILE:LINE:COL message. */
#ifndef HOIST_YAMLGUARD_H
#define HOIST_YAMLGUARD_H

#include <stddef.h>
#include <yaml.h>

struct yaml_verdict {
	int out_of_memory; /* libyaml ran out of memory: not the file's fault */
	yaml_mark_t mark;  /* where (line and column from 0) */
	char msg[256];     /* what, e.g. "YAML aliases (*a) are not supported" */
};

/* 0 when the text passes; -1 with v filled when it does not. */
int yaml_guard(const char *text, size_t len, int max_depth, struct yaml_verdict *v);

/* Fills v from a parser that failed (yaml_parser_parse or _load) on text. */
void yaml_parser_verdict(const yaml_parser_t *p, const char *text, size_t len, struct yaml_verdict *v);

#endif
