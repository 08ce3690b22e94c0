/*
 * urls.h: ASPNETCORE_URLS and HTTP(S)_PORTS (as Kestrel).
 */
#ifndef NONROOT_URLS_H
#define NONROOT_URLS_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif
