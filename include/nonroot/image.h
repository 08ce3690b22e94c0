/*
 * image.h: container images: open, read, write.
 */
#ifndef NONROOT_IMAGE_H
#define NONROOT_IMAGE_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif
