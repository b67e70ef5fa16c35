/* yamlnode.h - reading the libyaml document of a bundle's YAML file
 * (appspec.yml, hoist.yml) once yamlguard has passed it: the document built
 * with a parser of its own, node lookups, the null and kind of a node, a
 * scalar's checked text, and errors worded "FILE:LINE:COL: KEY: reason" at a
 * node's position. Pure: what a key means is each parser's own business. */
#ifndef HOIST_YAMLNODE_H
#define HOIST_YAMLNODE_H

#include <stddef.h>
#include <yaml.h>

#include "herr.h"
#include "yamlguard.h"

/* The document being read, the file name its messages show, the error to fill. */
struct yamlnode_doc {
	yaml_document_t *doc;
	const char *file;
	struct herr *err;
};

/* Builds *d->doc from text with a parser of its own. 0: built (the caller
 * deletes it); 1: the text does not parse, v says where and why (the caller
 * words it; d->err untouched); -1: libyaml cannot start (d->err set). */
int yamlnode_load(const struct yamlnode_doc *d, const char *text, size_t len, struct yaml_verdict *v);

/* Sets d->err to "FILE:LINE:COL: KEY: reason" (key may be NULL), exit code
 * HOIST_EXIT_BAD_BUNDLE, LINE and COL counted from 1; returns -1. */
int yamlnode_fail(const struct yamlnode_doc *d, yaml_mark_t m, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sets d->err to "out of memory parsing FILE" (HOIST_EXIT_INTERNAL); returns -1. */
int yamlnode_oom(const struct yamlnode_doc *d);

/* The node with index idx, NULL if none. */
yaml_node_t *yamlnode_get(const struct yamlnode_doc *d, int idx);

/* A scalar node's text (NUL-terminated by libyaml). */
const char *yamlnode_text(const yaml_node_t *n);

/* 1 for a YAML 1.1 null: a plain "", "~" or null. */
int yamlnode_is_null(const yaml_node_t *n);

/* "a mapping", "a list", "nothing" (null) or "a scalar", for messages. */
const char *yamlnode_kind(const yaml_node_t *n);

/* A scalar's text in *out; refused (d->err set, -1) when n is not a scalar,
 * is null, or holds a NUL or a control character. */
int yamlnode_scalar(const struct yamlnode_doc *d, const yaml_node_t *n, const char *key, const char **out);

/* strdup that sets d->err (yamlnode_oom) when memory runs out. */
int yamlnode_strdup(const struct yamlnode_doc *d, const char *s, char **out);

#endif
