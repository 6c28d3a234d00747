/*
 * fuzz.h - what every libFuzzer target in tests/fuzz/ shares.
 *
 * A target is one file, fuzz_NAME.c, defining LLVMFuzzerTestOneInput();
 * `make fuzz` builds it with clang's -fsanitize=fuzzer,address,undefined
 * against the project's objects (build-fuzz/) and runs it over its seed
 * corpus, tests/fuzz/corpus/NAME/. Targets open no socket, start no
 * process and touch no network: they call the pure function beneath the
 * I/O. FUZZ_ASSERT states a property the code must keep for any input;
 * a broken one aborts, which libFuzzer reports as a crash.
 */
#ifndef VIPD_FUZZ_H
#define VIPD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__,        \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as a NUL-terminated string (malloc'ed; NULs inside are kept). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif
