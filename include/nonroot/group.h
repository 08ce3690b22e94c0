/*
 * group.h: group files (lossless).
 */
#ifndef NONROOT_GROUP_H
#define NONROOT_GROUP_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif
