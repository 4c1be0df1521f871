// Every op, for users: #include "engine/ops/ops.h" (or tutor/tutor.h).
#pragma once

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/core/random.h"
#include "engine/core/tensor.h"
#include "engine/ops/activations.h"
#include "engine/ops/attention.h"
#include "engine/ops/conv_pool.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/indexing.h"
#include "engine/ops/linalg.h"
#include "engine/ops/losses.h"
#include "engine/ops/normalization.h"
#include "engine/ops/reductions.h"
#include "engine/ops/resampling.h"
#include "engine/ops/shaping.h"
#include "engine/ops/views.h"
