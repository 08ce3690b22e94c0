/*
 * userspec.h: OCI User spec resolution (as runc).
 */
#ifndef NONROOT_USERSPEC_H
#define NONROOT_USERSPEC_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif
