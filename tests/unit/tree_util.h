/* tree_util.h - unit-test helpers on a private directory tree: join two
 * paths, write a file (parents made), read one back, lstat one, find a
 * fragment in a string. Each fails the running cmocka test on an unexpected
 * error. Not a test itself (tests/CMakeLists.txt runs only test_*.c and links
 * every *_util.c into each). */
#ifndef HOIST_TEST_TREE_UTIL_H
#define HOIST_TEST_TREE_UTIL_H

#include <sys/stat.h>

/* out (PATH_MAX bytes) = a "/" b. */
void pathf(char *out, const char *a, const char *b);

/* Writes content to dir/rel with mode (rel may contain '/'; parents are created 0755). */
void put(const char *dir, const char *rel, const char *content, mode_t mode);

/* Writes dir/rel (parents made) as a file of size bytes, all holes but mark
 * written at offset at; returns 0, or 1 when the file system keeps no holes
 * (the caller skips). */
int put_sparse(const char *dir, const char *rel, off_t size, off_t at, const char *mark);

/* The content of dir/rel (of dir itself when rel is NULL or "") as a string,
 * "" if it cannot be read; the caller frees it. */
char *slurp(const char *dir, const char *rel);

/* lstat of dir/rel; st_mode 0 when there is nothing there. */
struct stat lst(const char *dir, const char *rel);

/* Fails the test unless needle occurs in hay. */
void assert_has(const char *hay, const char *needle);

#endif
