/* retry.c - deadline and backoff arithmetic. */
#include "retry.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>

uint64_t retry_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t retry_remaining_ms(uint64_t now_ms, uint64_t deadline_ms)
{
	return now_ms >= deadline_ms ? 0 : deadline_ms - now_ms;
}

unsigned retry_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms, uint32_t rnd)
{
	uint64_t step = base_ms;
	unsigned half;
	for (unsigned i = 0; i < attempt && step < cap_ms; i++)
		step *= 2;
	if (step > cap_ms)
		step = cap_ms;
	half = (unsigned)(step / 2);
	return (unsigned)(step - half) + (half > 0 ? rnd % (half + 1) : 0);
}

unsigned retry_request_timeout_ms(unsigned per_request_ms, uint64_t remaining_ms)
{
	if (remaining_ms == 0)
		return 0;
	return remaining_ms < per_request_ms ? (unsigned)remaining_ms : per_request_ms;
}

int retry_should_retry(unsigned attempts_done, unsigned max_attempts, uint64_t remaining_ms,
                       unsigned delay_ms, unsigned min_request_ms)
{
	if (attempts_done >= max_attempts)
		return 0;
	return remaining_ms >= (uint64_t)delay_ms + min_request_ms;
}

void retry_sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

uint32_t retry_random(void)
{
	uint32_t r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	return (uint32_t)retry_now_ms() * 2654435761u;
}
