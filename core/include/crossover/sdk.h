// Everything a plugin needs: include this one header.
#pragma once

#include "crossover/component.h"
#include "crossover/files.h"
#include "crossover/log.h"
#include "crossover/metrics.h"
#include "crossover/options.h"
#include "crossover/plugin.h"
#include "crossover/snapshot.h"
#include "crossover/status.h"
#include "crossover/yaml_load.h"
