/* healthreport.c - health reports as JSON and text. */
#include "healthreport.h"

#include <string.h>

#include "status.h"

static const char *result_of(const struct health_report *rep)
{
	return rep->result[0] ? rep->result : "none";
}

int health_report_json(const struct health_report *rep, struct buf *o)
{
	int bad = buf_append_str(o, "{\"result\": ") | json_string(o, result_of(rep));
	bad |= buf_append_str(o, ", \"checks\": [");
	for (size_t i = 0; i < rep->n; i++) {
		const struct health_check_result *c = &rep->checks[i];
		bad |= buf_append_str(o, i ? ", {\"name\": " : "{\"name\": ") | json_string(o, c->name);
		bad |= buf_append_str(o, ", \"type\": ") | json_string(o, c->type);
		bad |= buf_append_str(o, ", \"result\": ") | json_string(o, c->result);
		bad |= buf_printf(o, ", \"attempts\": %u, \"last_error\": ", c->attempts);
		bad |= c->last_error[0] ? json_string(o, c->last_error) : buf_append_str(o, "null");
		bad |= buf_printf(o, ", \"duration_ms\": %llu}", (unsigned long long)c->duration_ms);
	}
	bad |= buf_printf(o, "], \"min_healthy_time_s\": %.3f, \"duration_ms\": %llu, \"error\": ",
	                  rep->min_healthy_ms / 1000.0, (unsigned long long)rep->duration_ms);
	bad |= rep->error[0] ? json_string(o, rep->error) : buf_append_str(o, "null");
	bad |= buf_append_str(o, "}");
	return bad ? -1 : 0;
}

int health_report_text(const struct health_report *rep, const char *ind, struct buf *o)
{
	int bad = 0;
	if (rep->result[0] == '\0' || strcmp(rep->result, "none") == 0)
		return 0;
	bad |= buf_printf(o, "%s  health checks %s in %.3f s (min_healthy_time %.3f s)\n", ind, rep->result,
	                  (double)rep->duration_ms / 1000.0, rep->min_healthy_ms / 1000.0);
	for (size_t i = 0; i < rep->n; i++) {
		const struct health_check_result *c = &rep->checks[i];
		bad |= buf_printf(o, "%s    %-20s %-7s %-7s %4u attempt%s %8.3f s%s%s\n", ind, c->name,
		                  c->type, c->result, c->attempts, c->attempts == 1 ? " " : "s",
		                  (double)c->duration_ms / 1000.0, c->last_error[0] ? "  last error: " : "",
		                  c->last_error);
	}
	return bad ? -1 : 0;
}
