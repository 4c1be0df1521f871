// Everything in engine/data: datasets, readers, transforms, the loader.
#pragma once

#include "engine/data/cifar.h"
#include "engine/data/dataset.h"
#include "engine/data/idx.h"
#include "engine/data/image_folder.h"
#include "engine/data/loader.h"
#include "engine/data/mixing.h"
#include "engine/data/sampling.h"
#include "engine/data/transforms.h"
