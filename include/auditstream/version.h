/* The library's version, in one place: the Makefile, the pkg-config and CMake files
 * and `bootstrap --version` all read it from here. */
#ifndef AUDITSTREAM_VERSION_H
#define AUDITSTREAM_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/* Semantic versioning; while MAJOR is 0, a MINOR release may change the API. */
#define AS_VERSION_MAJOR 0
#define AS_VERSION_MINOR 2
#define AS_VERSION_PATCH 0

#define AS_VERSION_STR_(x) #x
#define AS_VERSION_STR(x)  AS_VERSION_STR_(x)
/* "MAJOR.MINOR.PATCH" of the headers compiled against. */
#define AS_VERSION_STRING                                                                          \
    AS_VERSION_STR(AS_VERSION_MAJOR) "." AS_VERSION_STR(AS_VERSION_MINOR) "." AS_VERSION_STR(      \
        AS_VERSION_PATCH)
/* One number that compares in version order: 0x00MMmmpp, as curl's LIBCURL_VERSION_NUM. */
#define AS_VERSION_NUM ((AS_VERSION_MAJOR << 16) | (AS_VERSION_MINOR << 8) | AS_VERSION_PATCH)

/* The version of the library linked at run time, "MAJOR.MINOR.PATCH" (static storage):
 * with a shared library it may differ from AS_VERSION_STRING, the headers' version. */
const char *as_version(void);

#ifdef __cplusplus
}
#endif

#endif
