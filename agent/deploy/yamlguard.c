/* yamlguard.c - the event pass before a bundle's YAML is built (see yamlguard.h). */
#include "yamlguard.h"

#include <stdio.h>
#include <string.h>

#include "relpath.h"

void yaml_parser_verdict(const yaml_parser_t *p, const char *text, size_t len, struct yaml_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->mark = p->problem_mark;
	v->out_of_memory = p->error == YAML_MEMORY_ERROR;
	if (p->error == YAML_READER_ERROR) {
		/* reader errors carry a byte offset, not a mark */
		memset(&v->mark, 0, sizeof(v->mark));
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (text[i] == '\n') {
				v->mark.line++;
				v->mark.column = 0;
			} else {
				v->mark.column++;
			}
		}
	}
	(void)snprintf(v->msg, sizeof(v->msg), "YAML syntax error: %s%s%s", p->problem ? p->problem : "unknown",
	               p->context ? " " : "", p->context ? p->context : "");
}

/* -1 with v->msg when the event is refused; depth and docs are counted. */
static int refuse(const yaml_event_t *ev, int *depth, int *docs, int max_depth, struct yaml_verdict *v)
{
	const char *tag = NULL;
	char esc[160];
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1) {
			(void)snprintf(v->msg, sizeof(v->msg), "more than one YAML document");
			return -1;
		}
		break;
	case YAML_ALIAS_EVENT:
		relpath_escape((const char *)ev->data.alias.anchor, esc, sizeof(esc));
		(void)snprintf(v->msg, sizeof(v->msg), "YAML aliases (*%s) are not supported", esc);
		return -1;
	case YAML_SCALAR_EVENT:
		tag = (const char *)ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		tag = (const char *)ev->data.sequence_start.tag;
		++*depth;
		break;
	case YAML_MAPPING_START_EVENT:
		tag = (const char *)ev->data.mapping_start.tag;
		++*depth;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		break;
	default:
		break;
	}
	if (tag != NULL) {
		relpath_escape(tag, esc, sizeof(esc));
		(void)snprintf(v->msg, sizeof(v->msg), "YAML tags (%s) are not supported", esc);
		return -1;
	}
	if (*depth > max_depth) {
		(void)snprintf(v->msg, sizeof(v->msg), "nested deeper than %d levels", max_depth);
		return -1;
	}
	return 0;
}

int yaml_guard(const char *text, size_t len, int max_depth, struct yaml_verdict *v)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0, rc = -1;
	memset(v, 0, sizeof(*v));
	if (!yaml_parser_initialize(&p)) {
		v->out_of_memory = 1;
		(void)snprintf(v->msg, sizeof(v->msg), "cannot initialise libyaml");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_parser_verdict(&p, text, len, v);
			break;
		}
		if (refuse(&ev, &depth, &docs, max_depth, v) != 0) {
			v->mark = ev.start_mark;
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			rc = 0;
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}
