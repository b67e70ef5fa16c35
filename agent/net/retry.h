/* retry.h - deadline and backoff arithmetic (pure) plus the clock and sleep
 * they are used with. IMDS and S3 retries share it: bounded attempts,
 * exponential backoff with jitter, never past a monotonic deadline. */
#ifndef HOIST_RETRY_H
#define HOIST_RETRY_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t retry_now_ms(void);
/* Pure: ms left until deadline, 0 once it has passed. */
uint64_t retry_remaining_ms(uint64_t now_ms, uint64_t deadline_ms);
/* Pure: delay before attempt+1: an exponential step base*2^attempt capped
 * at cap_ms, of which the upper half is jitter drawn from rnd ("equal
 * jitter": never less than half the step, so retries do spread out). */
unsigned retry_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms, uint32_t rnd);
/* Pure: timeout for one request: per_request_ms, shortened to what is left
 * of the deadline; 0 when nothing is left. */
unsigned retry_request_timeout_ms(unsigned per_request_ms, uint64_t remaining_ms);
/* Pure: 1 when another attempt may start: attempts used < max_attempts and
 * after sleeping delay_ms at least min_request_ms of the deadline remains. */
int retry_should_retry(unsigned attempts_done, unsigned max_attempts, uint64_t remaining_ms,
                       unsigned delay_ms, unsigned min_request_ms);
/* Sleeps ms (EINTR resumed). */
void retry_sleep_ms(unsigned ms);
/* A random 32-bit value for jitter (getrandom; falls back to the clock). */
uint32_t retry_random(void);

#endif
