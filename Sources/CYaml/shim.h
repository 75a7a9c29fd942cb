#ifndef CTHULHU_CYAML_SHIM_H
#define CTHULHU_CYAML_SHIM_H
#include <yaml.h>
#endif
