/*
 * patch.h: image patch.
 */
#ifndef NONROOT_PATCH_H
#define NONROOT_PATCH_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif
