/** @file
 * nonroot.h: the whole public API of libnonroot. Include this, or one header per concept.
 */
#ifndef NONROOT_H
#define NONROOT_H

#include "nonroot/common.h"
#include "nonroot/errors.h"
#include "nonroot/names.h"
#include "nonroot/passwd.h"
#include "nonroot/group.h"
#include "nonroot/shadow.h"
#include "nonroot/userspec.h"
#include "nonroot/rootfs.h"
#include "nonroot/urls.h"
#include "nonroot/image.h"
#include "nonroot/imgconfig.h"
#include "nonroot/audit.h"
#include "nonroot/patch.h"
#include "nonroot/bundle.h"
#include "nonroot/unpack.h"

#endif
