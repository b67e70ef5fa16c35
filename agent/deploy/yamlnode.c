/* yamlnode.c - reading a bundle's YAML document (see yamlnode.h). */
#include "yamlnode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "strutil.h"

int yamlnode_load(const struct yamlnode_doc *d, const char *text, size_t len, struct yaml_verdict *v)
{
	yaml_parser_t p;
	int rc = 0;
	if (!yaml_parser_initialize(&p))
		return herr_set(d->err, HOIST_EXIT_INTERNAL, "cannot initialise libyaml");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	/* the document owns its nodes: the parser can go once it is built */
	if (!yaml_parser_load(&p, d->doc)) {
		yaml_parser_verdict(&p, text, len, v);
		rc = 1;
	}
	yaml_parser_delete(&p);
	return rc;
}

int yamlnode_fail(const struct yamlnode_doc *d, yaml_mark_t m, const char *key, const char *fmt, ...)
{
	char reason[HERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(reason, sizeof(reason), fmt, ap) < 0)
		reason[0] = '\0';
	va_end(ap);
	if (key != NULL)
		return herr_set(d->err, HOIST_EXIT_BAD_BUNDLE, "%s:%zu:%zu: %s: %s", d->file, m.line + 1,
		                m.column + 1, key, reason);
	return herr_set(d->err, HOIST_EXIT_BAD_BUNDLE, "%s:%zu:%zu: %s", d->file, m.line + 1, m.column + 1,
	                reason);
}

int yamlnode_oom(const struct yamlnode_doc *d)
{
	return herr_set(d->err, HOIST_EXIT_INTERNAL, "out of memory parsing %s", d->file);
}

yaml_node_t *yamlnode_get(const struct yamlnode_doc *d, int idx)
{
	return yaml_document_get_node(d->doc, idx);
}

const char *yamlnode_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

int yamlnode_is_null(const yaml_node_t *n)
{
	const char *t = NULL;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	t = yamlnode_text(n);
	return t[0] == '\0' || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 || strcmp(t, "Null") == 0 ||
	       strcmp(t, "NULL") == 0;
}

const char *yamlnode_kind(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	return yamlnode_is_null(n) ? "nothing" : "a scalar";
}

int yamlnode_scalar(const struct yamlnode_doc *d, const yaml_node_t *n, const char *key, const char **out)
{
	const char *t = NULL;
	if (n->type != YAML_SCALAR_NODE || yamlnode_is_null(n))
		return yamlnode_fail(d, n->start_mark, key, "expected a value, got %s", yamlnode_kind(n));
	t = yamlnode_text(n);
	if (strlen(t) != n->data.scalar.length)
		return yamlnode_fail(d, n->start_mark, key, "contains a NUL character");
	if (!str_printable(t))
		return yamlnode_fail(d, n->start_mark, key, "contains a control character");
	*out = t;
	return 0;
}

int yamlnode_strdup(const struct yamlnode_doc *d, const char *s, char **out)
{
	*out = strdup(s);
	if (*out == NULL)
		return yamlnode_oom(d);
	return 0;
}
