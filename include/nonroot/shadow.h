/*
 * shadow.h: shadow and gshadow files (lossless).
 */
#ifndef NONROOT_SHADOW_H
#define NONROOT_SHADOW_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif
