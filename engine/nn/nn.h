// Every layer, for users: #include "engine/nn/nn.h".
#pragma once

#include "engine/nn/activation.h"
#include "engine/nn/attention.h"
#include "engine/nn/containers.h"
#include "engine/nn/conv.h"
#include "engine/nn/dropout.h"
#include "engine/nn/embedding.h"
#include "engine/nn/fold.h"
#include "engine/nn/init.h"
#include "engine/nn/linear.h"
#include "engine/nn/module.h"
#include "engine/nn/normalization.h"
#include "engine/nn/reshaping.h"
