/*
 * driver.c: a main for the fuzz targets without libFuzzer, so that their
 * seed and regression inputs run in plain make check with any compiler.
 * Each file named is read whole and given to LLVMFuzzerTestOneInput once;
 * a crash or a failed invariant aborts, naming the file.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"

static int
driver_run(const char *path)
{
	uint8_t *buf = NULL, *nbuf;
	size_t len = 0, cap = 0, n;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "fuzz driver: cannot read %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "fuzz driver: %s: out of "
				    "memory\n", path);
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "fuzz driver: reading %s: %s\n", path,
		    strerror(errno));
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	fprintf(stderr, "fuzz driver: %s (%zu bytes)\n", path, len);
	/* An exact-size copy, so ASan catches a read one past the input. */
	if ((nbuf = malloc(len > 0 ? len : 1)) == NULL) {
		free(buf);
		return -1;
	}
	if (len > 0)
		memcpy(nbuf, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(nbuf, len);
	free(nbuf);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (driver_run(argv[i]) < 0)
			rc = 1;
	return rc;
}
